//! JSON output the way npm writes lockfiles: two-space indent, trailing
//! newline, keys ordered by json-stringify-nice (preferred keys first, then
//! scalars before objects, each group in locale order).

use serde_json::{Map, Value};

use crate::tree::locale_cmp;

const PREFERRED: &[&str] = &[
    "name",
    "version",
    "lockfileVersion",
    "resolved",
    "integrity",
    "requires",
    "packages",
    "dependencies",
];

fn key_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let pa = PREFERRED.iter().position(|k| *k == a);
    let pb = PREFERRED.iter().position(|k| *k == b);
    match (pa, pb) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => locale_cmp(a, b),
    }
}

/// Reorder every object in `v` the way npm does.
pub fn sort_nice(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let (mut scalars, mut objects): (Vec<_>, Vec<_>) =
                map.into_iter().partition(|(_, v)| !v.is_object());
            scalars.sort_by(|a, b| key_cmp(&a.0, &b.0));
            objects.sort_by(|a, b| key_cmp(&a.0, &b.0));
            let mut out = Map::new();
            for (k, v) in scalars.into_iter().chain(objects) {
                out.insert(k, sort_nice(v));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_nice).collect()),
        other => other,
    }
}

/// Pretty JSON with a trailing newline.
pub fn to_string(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON values always serialize");
    s.push('\n');
    s
}
