//! The project's `package.json`, read as npm reads it.

mod workspaces;
pub mod edit;
pub mod request;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::error::{Code, Error, Result};

pub use workspaces::{workspace_root, Workspace};

/// A dependency map in declaration order.
pub type DepMap = IndexMap<String, String>;

/// The root package.json, with the raw document kept for later rewriting.
#[derive(Debug, Clone)]
pub struct Project {
    pub dir: PathBuf,
    pub raw: Map<String, Value>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub dependencies: DepMap,
    pub dev_dependencies: DepMap,
    pub optional_dependencies: DepMap,
    pub peer_dependencies: DepMap,
    /// Top-level `overrides` (name → spec, `$name` references resolved).
    pub overrides: DepMap,
}

impl Project {
    /// Read `<dir>/package.json`. Missing or malformed → `E_MANIFEST`.
    pub fn load(dir: &Path) -> Result<Project> {
        let path = dir.join("package.json");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::new(
                Code::Manifest,
                format!(
                    "cannot read {}: {e}. Run brisk in a folder with a package.json.",
                    path.display()
                ),
            )
        })?;
        Self::parse(dir, &text)
    }

    pub fn parse(dir: &Path, text: &str) -> Result<Project> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let raw: Map<String, Value> = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                return Err(Error::new(
                    Code::Manifest,
                    format!("{}/package.json must hold a JSON object", dir.display()),
                ))
            }
            Err(e) => {
                return Err(Error::new(
                    Code::Manifest,
                    format!(
                        "{}/package.json is not valid JSON ({e}). Fix the file and try again.",
                        dir.display()
                    ),
                ))
            }
        };
        Self::from_map(dir, raw)
    }

    /// A package.json already parsed into a JSON object.
    pub fn from_map(dir: &Path, raw: Map<String, Value>) -> Result<Project> {
        let string = |key: &str| raw.get(key).and_then(Value::as_str).map(str::to_string);
        let deps = |key: &str| dep_map(&raw, key);
        let mut project = Project {
            dir: dir.to_path_buf(),
            name: string("name"),
            version: string("version"),
            dependencies: deps("dependencies")?,
            dev_dependencies: deps("devDependencies")?,
            optional_dependencies: deps("optionalDependencies")?,
            peer_dependencies: deps("peerDependencies")?,
            overrides: DepMap::new(),
            raw,
        };
        project.overrides = project.read_overrides()?;
        Ok(project)
    }

    /// npm's top-level overrides: `"name": "spec"`, `"name": {".": "spec"}`
    /// and `$name` references to the root's own dependency specs. (Nested
    /// overrides scoped to a parent are not applied yet.)
    fn read_overrides(&self) -> Result<DepMap> {
        let mut out = DepMap::new();
        let Some(Value::Object(map)) = self.raw.get("overrides") else {
            return Ok(out);
        };
        for (key, value) in map {
            if key.is_empty() {
                continue;
            }
            let spec = match value {
                Value::String(s) => s.as_str(),
                Value::Object(o) => match o.get(".").and_then(Value::as_str) {
                    Some(s) => s,
                    None => continue,
                },
                _ => continue,
            };
            let spec = match spec.strip_prefix('$') {
                Some(reference) => self
                    .dependencies
                    .get(reference)
                    .or_else(|| self.dev_dependencies.get(reference))
                    .or_else(|| self.optional_dependencies.get(reference))
                    .or_else(|| self.peer_dependencies.get(reference))
                    .ok_or_else(|| {
                        Error::new(
                            Code::Manifest,
                            format!("override \"{key}\" refers to ${reference}, which is not a dependency of the project"),
                        )
                    })?,
                None => spec,
            };
            // `name@range` keys: the name part (the range selector is not applied yet).
            let name = match key[1..].find('@') {
                Some(i) => &key[..i + 1],
                None => key.as_str(),
            };
            out.insert(name.to_string(), spec.to_string());
        }
        Ok(out)
    }

    /// A field of the raw document.
    pub fn field(&self, key: &str) -> Option<&Value> {
        self.raw.get(key)
    }
}

/// Read a dependency map; a non-object or non-string value is a manifest error.
pub fn dep_map(raw: &Map<String, Value>, key: &str) -> Result<DepMap> {
    let mut out = DepMap::new();
    match raw.get(key) {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, spec) in map {
                match spec {
                    Value::String(s) => {
                        out.insert(name.clone(), s.clone());
                    }
                    other => {
                        return Err(Error::new(
                            Code::Manifest,
                            format!("package.json {key}.{name} must be a string, found {other}"),
                        ))
                    }
                }
            }
        }
        Some(other) => {
            return Err(Error::new(
                Code::Manifest,
                format!("package.json \"{key}\" must be an object, found {other}"),
            ))
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let p = Project::parse(
            Path::new("/x"),
            r#"{"name":"a","version":"1.0.0","dependencies":{"b":"^1"},"devDependencies":{"c":"2"}}"#,
        )
        .unwrap();
        assert_eq!(p.name.as_deref(), Some("a"));
        assert_eq!(p.dependencies["b"], "^1");
        assert_eq!(p.dev_dependencies["c"], "2");
        for bad in [
            "{",
            "[]",
            r#"{"dependencies":{"a":1}}"#,
            r#"{"dependencies":"x"}"#,
        ] {
            let e = Project::parse(Path::new("/x"), bad).unwrap_err();
            assert_eq!(e.code, Code::Manifest, "{bad}");
        }
    }
}
