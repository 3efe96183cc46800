//! Lockfile v1 (npm 5/6): a nested `dependencies` object instead of the flat
//! `packages` map. brisk reads it into `packages`-style entries (location →
//! entry), so the versions it pins are kept when the project is resolved
//! again and written back as v3, which is what npm does on upgrade.
//!
//! v1 entries carry no package metadata (bins, engines, peers, os/cpu), so
//! they are only used as locked versions, never as an installable tree.

use indexmap::IndexMap;
use serde_json::{Map, Value};

/// The `packages`-style entries for a v1 `dependencies` object: locations
/// `node_modules/a`, `node_modules/a/node_modules/b`, each with `version`
/// (and `name` for `npm:` aliases), `resolved`, `integrity`,
/// `dependencies` (from `requires`), `dev` and `optional`. Bundled entries
/// come from their parent's tarball and are skipped; so are entries whose
/// version is not a registry version (git, file, URL).
pub fn packages(
    dependencies: Option<&Value>,
) -> Result<IndexMap<String, Map<String, Value>>, String> {
    let mut out = IndexMap::new();
    if let Some(deps) = dependencies {
        walk(deps, "", &mut out)?;
    }
    Ok(out)
}

fn walk(
    deps: &Value,
    parent: &str,
    out: &mut IndexMap<String, Map<String, Value>>,
) -> Result<(), String> {
    let Value::Object(deps) = deps else {
        return Err(format!(
            "\"dependencies\" of \"{}\" is not an object",
            if parent.is_empty() {
                "the root"
            } else {
                parent
            }
        ));
    };
    for (name, entry) in deps {
        let loc = if parent.is_empty() {
            format!("node_modules/{name}")
        } else {
            format!("{parent}/node_modules/{name}")
        };
        let Value::Object(e) = entry else {
            return Err(format!("the entry for \"{loc}\" is not an object"));
        };
        if let Some(nested) = e.get("dependencies") {
            walk(nested, &loc, out)?;
        }
        if e.get("bundled").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let Some(version) = e.get("version").and_then(Value::as_str) else {
            return Err(format!("the entry for \"{loc}\" has no version"));
        };
        let (real, version) = match version.strip_prefix("npm:") {
            Some(alias) => {
                let at = alias[1..].find('@').map(|i| i + 1);
                match at {
                    Some(i) => (Some(&alias[..i]), &alias[i + 1..]),
                    None => continue,
                }
            }
            None => (None, version),
        };
        if nodejs_semver::Version::parse(version).is_err() {
            continue;
        }
        let mut p = Map::new();
        p.insert("version".into(), Value::String(version.to_string()));
        if let Some(real) = real {
            p.insert("name".into(), Value::String(real.to_string()));
        }
        for key in ["resolved", "integrity"] {
            if let Some(Value::String(s)) = e.get(key) {
                p.insert(key.into(), Value::String(s.clone()));
            }
        }
        if let Some(Value::Object(req)) = e.get("requires") {
            p.insert("dependencies".into(), Value::Object(req.clone()));
        }
        for key in ["dev", "optional"] {
            if e.get(key).and_then(Value::as_bool) == Some(true) {
                p.insert(key.into(), Value::Bool(true));
            }
        }
        out.insert(loc, p);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattens_nested_dependencies() {
        let deps = json!({
            "leaf": { "version": "1.0.0", "resolved": "http://r/leaf-1.0.0.tgz", "integrity": "sha512-a" },
            "mid": {
                "version": "1.0.0", "dev": true,
                "requires": { "leaf": "^2.0.0" },
                "dependencies": {
                    "leaf": { "version": "2.0.0", "dev": true, "integrity": "sha1-b" },
                    "inner": { "version": "1.0.0", "bundled": true }
                }
            },
            "al": { "version": "npm:@scope/pkg@1.1.0", "optional": true },
            "gitdep": { "version": "github:a/b#abc" }
        });
        let p = packages(Some(&deps)).unwrap();
        let keys: Vec<&str> = p.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "node_modules/leaf",
                "node_modules/mid/node_modules/leaf",
                "node_modules/mid",
                "node_modules/al"
            ]
        );
        assert_eq!(
            p["node_modules/leaf"]["resolved"],
            "http://r/leaf-1.0.0.tgz"
        );
        assert_eq!(
            p["node_modules/mid"]["dependencies"],
            json!({ "leaf": "^2.0.0" })
        );
        assert_eq!(p["node_modules/mid"]["dev"], true);
        assert_eq!(p["node_modules/mid/node_modules/leaf"]["version"], "2.0.0");
        assert_eq!(p["node_modules/al"]["name"], "@scope/pkg");
        assert_eq!(p["node_modules/al"]["version"], "1.1.0");
        assert!(packages(Some(&json!({ "x": {} }))).is_err());
        assert!(packages(Some(&json!([]))).is_err());
    }
}
