//! JSON output the way npm writes lockfiles: two-space indent, trailing
//! newline, keys ordered by json-stringify-nice (preferred keys first, then
//! scalars before objects, each group in locale order).

use serde_json::{Map, Value};

use crate::locale::locale_cmp;

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

/// Pretty JSON with a trailing newline, every object's keys in npm's order:
/// what `serde_json::to_string_pretty` writes for the value with each
/// object reordered, in one pass that sorts references instead of
/// rebuilding the maps (the hidden lockfile is written on every install, so
/// this cost is paid every time).
pub fn to_string(v: &Value) -> String {
    let mut out = Vec::with_capacity(1 << 16);
    write_nice(&mut out, v, 0);
    out.push(b'\n');
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// [`to_string`] of the object made of `head`'s members (scalars) and
/// then `key`, an object of the members `members` yields in
/// [`sort_members`] order. Each member is written as it comes and dropped,
/// so a lockfile's entries are never all in memory at once (held as values,
/// a large tree's entries add to a warm install's peak memory).
pub fn to_string_streamed(
    head: &Map<String, Value>,
    key: &str,
    members: impl Iterator<Item = (String, Value)>,
) -> String {
    let mut fields: Vec<(&String, &Value)> = head.iter().collect();
    debug_assert!(fields.iter().all(|(_, v)| !v.is_object()));
    fields.sort_by(|a, b| key_cmp(a.0, b.0));
    let mut out = Vec::with_capacity(1 << 16);
    out.push(b'{');
    for (k, v) in fields {
        out.extend_from_slice(b"\n  ");
        write_scalar(&mut out, k);
        out.extend_from_slice(b": ");
        write_nice(&mut out, v, 1);
        out.push(b',');
    }
    out.extend_from_slice(b"\n  ");
    write_scalar(&mut out, key);
    out.extend_from_slice(b": ");
    write_object(&mut out, members, 1);
    out.extend_from_slice(b"\n}\n");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// `text` as written here (two-space indent, `\n`) with `indent` and
/// `newline` instead: npm writes a lockfile formatted like the one it
/// replaces, or else like package.json. No string holds a raw newline, so
/// every line starts with its indentation.
pub fn reformat(text: String, indent: &str, newline: &str) -> String {
    if indent == "  " && newline == "\n" {
        return text;
    }
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for line in text.split_inclusive('\n') {
        let body = line.trim_start_matches(' ');
        for _ in 0..(line.len() - body.len()) / 2 {
            out.push_str(indent);
        }
        match body.strip_suffix('\n') {
            Some(body) => {
                out.push_str(body);
                out.push_str(newline);
            }
            None => out.push_str(body),
        }
    }
    out
}

/// Orders an object's members whose values are all objects the way
/// [`to_string`] writes them (stable, so an already sorted list costs one
/// pass).
pub fn sort_members<T>(members: &mut [(String, T)]) {
    members.sort_by(|a, b| key_cmp(&a.0, &b.0));
}

fn write_nice(out: &mut Vec<u8>, v: &Value, depth: usize) {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            // Scalars before objects, each group by key; stable, so an
            // already ordered map (the lockfile's packages) costs one pass.
            entries.sort_by(|a, b| {
                a.1.is_object()
                    .cmp(&b.1.is_object())
                    .then_with(|| key_cmp(a.0, b.0))
            });
            write_object(out, entries.into_iter(), depth);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                out.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
                indent(out, depth + 1);
                write_nice(out, item, depth + 1);
            }
            out.push(b'\n');
            indent(out, depth);
            out.push(b']');
        }
        other => write_scalar(out, other),
    }
}

/// An object of `members` in the order given, each written as it comes;
/// `{}` when there are none.
fn write_object<K, V>(out: &mut Vec<u8>, members: impl Iterator<Item = (K, V)>, depth: usize)
where
    K: serde::Serialize,
    V: std::borrow::Borrow<Value>,
{
    out.push(b'{');
    let mut empty = true;
    for (k, v) in members {
        out.extend_from_slice(if empty { b"\n" } else { b",\n" });
        empty = false;
        indent(out, depth + 1);
        write_scalar(out, &k);
        out.extend_from_slice(b": ");
        write_nice(out, v.borrow(), depth + 1);
    }
    if !empty {
        out.push(b'\n');
        indent(out, depth);
    }
    out.push(b'}');
}

/// A key, string, number, boolean, null or `[]`, as serde_json
/// writes it.
fn write_scalar<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    serde_json::to_writer(out, v).expect("JSON values always serialize");
}

fn indent(out: &mut Vec<u8>, depth: usize) {
    for _ in 0..depth {
        out.extend_from_slice(b"  ");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_json_style_is_detected_and_reapplied() {
        use super::reformat;
        use crate::project::edit::json_style;
        assert_eq!(
            json_style("{\n\t\"a\": 1\n}\n"),
            Some(("\t".into(), "\n".into()))
        );
        assert_eq!(
            json_style("{\r\n    \"a\": 1\r\n}"),
            Some(("    ".into(), "\r\n".into()))
        );
        assert_eq!(json_style("{\"a\":1}"), None);
        let text = "{\n  \"a\": {\n    \"b\": \"  x\"\n  }\n}\n".to_string();
        assert_eq!(
            reformat(text.clone(), "\t", "\r\n"),
            "{\r\n\t\"a\": {\r\n\t\t\"b\": \"  x\"\r\n\t}\r\n}\r\n"
        );
        assert_eq!(reformat(text.clone(), "  ", "\n"), text);
    }

    use super::*;

    /// What the one-pass writer must equal: every object reordered, then
    /// serde_json's pretty printer.
    fn reordered_then_pretty(v: &Value) -> String {
        fn sort(v: Value) -> Value {
            match v {
                Value::Object(map) => {
                    let mut entries: Vec<_> = map.into_iter().collect();
                    entries.sort_by(|a, b| {
                        a.1.is_object()
                            .cmp(&b.1.is_object())
                            .then_with(|| key_cmp(&a.0, &b.0))
                    });
                    Value::Object(entries.into_iter().map(|(k, v)| (k, sort(v))).collect())
                }
                Value::Array(items) => Value::Array(items.into_iter().map(sort).collect()),
                other => other,
            }
        }
        serde_json::to_string_pretty(&sort(v.clone())).unwrap() + "\n"
    }

    #[test]
    fn one_pass_writer_matches_reorder_then_pretty_print() {
        let v = serde_json::json!({
            "packages": {
                "node_modules/b": {"version": "1.0.0", "dev": true},
                "": {"name": "x", "dependencies": {"b": "^1"}, "devDependencies": {}},
                "node_modules/A": {"bin": {"z": "z.js", "a": "a.js"}, "version": "2.0.0"}
            },
            "requires": true,
            "lockfileVersion": 3,
            "name": "q\"uote\u{1}\u{e9}\\",
            "funding": [{"url": "u", "type": "t"}, "s", [], {}, [1, 2.5, -3e40, null]],
            "empty": {},
            "license": "MIT",
            "engines": {"node": ">=18", "npm": {"nested": {"b": 1, "a": false}}}
        });
        let got = to_string(&v);
        assert_eq!(got, reordered_then_pretty(&v));
        let order: Vec<usize> = [
            "\"name\"",
            "\"lockfileVersion\"",
            "\"requires\"",
            "\"license\"",
            "\"packages\"",
        ]
        .iter()
        .map(|k| got.find(k).unwrap())
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{got}");
        assert!(got.find("\"\": {").unwrap() < got.find("\"node_modules/A\"").unwrap());
        assert_eq!(to_string(&serde_json::json!({})), "{}\n");
    }

    /// The streamed writer writes what [`to_string`] writes for the whole
    /// document, members in any order and with none.
    #[test]
    fn streamed_writer_matches_the_whole_document() {
        let head = serde_json::json!({"requires": true, "name": "x", "lockfileVersion": 3});
        let head = head.as_object().unwrap();
        let members = serde_json::json!({
            "node_modules/b": {"version": "1.0.0", "dev": true},
            "": {"name": "x", "dependencies": {"b": "^1"}, "devDependencies": {}},
            "packages": {"version": "1.0.0"},
            "node_modules/A": {"bin": {"z": "z.js", "a": "a.js"}, "version": "2.0.0"},
            "node_modules/e": {}
        });
        let mut list: Vec<(String, Value)> = members
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        sort_members(&mut list);
        for (members, listed) in [(members, list), (serde_json::json!({}), Vec::new())] {
            let mut whole = head.clone();
            whole.insert("packages".into(), members);
            let expected = to_string(&Value::Object(whole));
            let got = to_string_streamed(head, "packages", listed.into_iter());
            assert_eq!(got, expected);
        }
    }
}
