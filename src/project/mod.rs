//! The project's `package.json`, read as npm reads it.

pub mod edit;
mod lock;
pub mod request;
mod workspaces;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::error::{Code, Error, Result};

pub use lock::ProjectLock;
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
    /// package.json's indentation and line ending ([`edit::json_style`]),
    /// which npm gives a new lockfile too.
    pub style: Option<(String, String)>,
}

impl Project {
    /// Read `<dir>/package.json`. Missing or malformed → `E_MANIFEST`.
    pub fn load(dir: &Path) -> Result<Project> {
        let path = dir.join("package.json");
        let text = crate::bounded::read_to_string(&path).map_err(|e| {
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
        let mut project = Self::from_map(dir, raw)?;
        project.style = edit::json_style(text);
        Ok(project)
    }

    /// A package.json already parsed into a JSON object.
    pub fn from_map(dir: &Path, raw: Map<String, Value>) -> Result<Project> {
        let string = |key: &str| raw.get(key).and_then(Value::as_str).map(str::to_string);
        let deps = |key: &str| dep_map(&raw, key);
        let project = Project {
            dir: dir.to_path_buf(),
            name: string("name"),
            version: string("version"),
            dependencies: deps("dependencies")?,
            dev_dependencies: deps("devDependencies")?,
            optional_dependencies: deps("optionalDependencies")?,
            peer_dependencies: deps("peerDependencies")?,
            raw,
            style: None,
        };
        let maps = [
            &project.dependencies,
            &project.dev_dependencies,
            &project.optional_dependencies,
            &project.peer_dependencies,
        ];
        if let Some(bad) = crate::name::invalid_keys(maps) {
            return Err(Error::new(
                Code::Manifest,
                format!(
                    "{}/package.json names dependencies that are not package names: {bad}. Fix or remove them.",
                    dir.display()
                ),
            ));
        }
        Ok(project)
    }

    /// Refuses a registry spec that is neither a semver range nor a
    /// dist-tag npm accepts (npa: a tag is URL-safe), whether or not a
    /// lockfile pins the package: only for the user's own package.json,
    /// whose errors the user can fix.
    pub fn check_specs(&self) -> Result<()> {
        let maps = [
            &self.dependencies,
            &self.dev_dependencies,
            &self.optional_dependencies,
            &self.peer_dependencies,
        ];
        for (name, raw) in maps.into_iter().flatten() {
            if let Ok(crate::spec::Spec::Registry {
                req: crate::spec::Req::Tag(tag),
                ..
            }) = crate::spec::Spec::parse(name, raw)
            {
                if !tag.bytes().all(crate::name::url_safe) {
                    return Err(Error::new(
                        Code::Manifest,
                        format!(
                            "{}/package.json: \"{name}\": \"{raw}\" is not a valid semver range or dist-tag. Fix it and try again.",
                            self.dir.display()
                        ),
                    ));
                }
            }
        }
        Ok(())
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
            r#"{"dependencies":{"../../evil":"npm:b@^1"}}"#,
            r#"{"optionalDependencies":{"@s/..":"1"}}"#,
        ] {
            let e = Project::parse(Path::new("/x"), bad).unwrap_err();
            assert_eq!(e.code, Code::Manifest, "{bad}");
        }
        for (raw, ok) in [
            ("^^1.x.y!!", false),
            ("lat est", false),
            ("^1.2.3", true),
            ("next", true),
            ("npm:b@^1", true),
            ("file:../x", true),
            ("", true),
        ] {
            let json = format!(r#"{{"dependencies":{{"a":"{raw}"}}}}"#);
            let p = Project::parse(Path::new("/x"), &json).unwrap();
            assert_eq!(p.check_specs().is_ok(), ok, "{raw}");
        }
    }
}
