//! npm workspaces: the `workspaces` globs of package.json expanded to the
//! folders that hold a package.json (as @npmcli/map-workspaces does).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::Project;
use crate::error::{Code, Error, Result};

/// One workspace: its package name and folder (relative to the root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub name: String,
    pub path: String,
}

/// When `dir` is one of the workspaces of a project above it, that
/// project's folder (npm acts on the workspace root from inside one).
pub fn workspace_root(dir: &Path) -> Option<PathBuf> {
    for up in dir.ancestors().skip(1) {
        let Ok(text) = std::fs::read_to_string(up.join("package.json")) else {
            continue;
        };
        if !text.contains("\"workspaces\"") {
            continue;
        }
        let Ok(project) = Project::parse(up, &text) else {
            continue;
        };
        let rel = dir
            .strip_prefix(up)
            .ok()?
            .to_string_lossy()
            .replace('\\', "/");
        if project
            .workspaces()
            .is_ok_and(|ws| ws.iter().any(|w| w.path == rel))
        {
            return Some(up.to_path_buf());
        }
    }
    None
}

impl Project {
    /// The `workspaces` patterns: an array, or `{ "packages": [...] }`.
    pub fn workspace_patterns(&self) -> Vec<String> {
        let list = match self.raw.get("workspaces") {
            Some(Value::Array(a)) => a,
            Some(Value::Object(o)) => match o.get("packages") {
                Some(Value::Array(a)) => a,
                _ => return Vec::new(),
            },
            _ => return Vec::new(),
        };
        list.iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    }

    /// The project's workspaces, sorted by path. `!pattern` excludes. Two
    /// workspaces with the same name are an `E_MANIFEST` error.
    pub fn workspaces(&self) -> Result<Vec<Workspace>> {
        let mut include = Vec::new();
        let mut exclude = Vec::new();
        for pattern in self.workspace_patterns() {
            let (list, p) = match pattern.strip_prefix('!') {
                Some(p) => (&mut exclude, p.to_string()),
                None => (&mut include, pattern),
            };
            list.extend(self.match_folders(&p)?);
        }
        include.retain(|p| !exclude.contains(p));
        include.sort();
        include.dedup();
        let mut out: Vec<Workspace> = Vec::new();
        for path in include {
            let dir = self.dir.join(&path);
            let folder = Project::load(&dir)?;
            folder.check_specs()?;
            let name = folder
                .name
                .clone()
                .unwrap_or_else(|| path.rsplit('/').next().unwrap_or(&path).to_string());
            if let Some(other) = out.iter().find(|w| w.name == name) {
                return Err(Error::new(
                    Code::Manifest,
                    format!(
                        "two workspaces are named \"{name}\": {} and {path}. Rename one of them.",
                        other.path
                    ),
                ));
            }
            out.push(Workspace { name, path });
        }
        Ok(out)
    }

    /// Folders (relative, `/`-separated) matching `pattern` that hold a
    /// package.json.
    fn match_folders(&self, pattern: &str) -> Result<Vec<String>> {
        let pattern = pattern.trim_start_matches("./").trim_end_matches('/');
        let base = glob::Pattern::escape(&self.dir.to_string_lossy());
        let full = format!("{base}/{pattern}/package.json");
        let paths = glob::glob(&full).map_err(|e| {
            Error::new(
                Code::Manifest,
                format!("package.json workspaces: invalid pattern \"{pattern}\": {e}"),
            )
        })?;
        let mut out = Vec::new();
        for entry in paths.flatten() {
            let Some(folder) = entry.parent() else {
                continue;
            };
            let Ok(rel) = folder.strip_prefix(&self.dir) else {
                continue;
            };
            if rel.components().any(|c| c.as_os_str() == "node_modules") {
                continue;
            }
            let rel = rel.to_string_lossy().replace('\\', "/");
            if !rel.is_empty() {
                out.push(rel);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &std::path::Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn globs_negation_and_names() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(
            d,
            "package.json",
            r#"{"workspaces":["packages/*","tools/cli","!packages/skip"]}"#,
        );
        write(d, "packages/a/package.json", r#"{"name":"@s/a"}"#);
        write(d, "packages/b/package.json", r#"{"version":"1.0.0"}"#);
        write(d, "packages/skip/package.json", r#"{"name":"skip"}"#);
        write(d, "packages/nopkg/readme", "");
        write(d, "tools/cli/package.json", r#"{"name":"cli"}"#);
        let p = Project::load(d).unwrap();
        let ws: Vec<(String, String)> = p
            .workspaces()
            .unwrap()
            .into_iter()
            .map(|w| (w.name, w.path))
            .collect();
        let want = [
            ("@s/a", "packages/a"),
            ("b", "packages/b"),
            ("cli", "tools/cli"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(ws, want);

        write(d, "packages/c/package.json", r#"{"name":"cli"}"#);
        let e = Project::load(d).unwrap().workspaces().unwrap_err();
        assert_eq!(e.code, Code::Manifest);
        assert!(e.message.contains("cli"), "{}", e.message);
    }

    #[test]
    fn root_from_inside_a_workspace() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(d, "package.json", r#"{"workspaces":["packages/*"]}"#);
        write(d, "packages/a/package.json", r#"{"name":"a"}"#);
        write(d, "other/package.json", r#"{"name":"o"}"#);
        assert_eq!(workspace_root(&d.join("packages/a")).as_deref(), Some(d));
        assert_eq!(workspace_root(&d.join("other")), None);
        assert_eq!(workspace_root(d), None);
    }

    #[test]
    fn object_form() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "package.json",
            r#"{"workspaces":{"packages":["p/*"]}}"#,
        );
        write(tmp.path(), "p/x/package.json", r#"{"name":"x"}"#);
        let ws = Project::load(tmp.path()).unwrap().workspaces().unwrap();
        assert_eq!(
            ws,
            vec![Workspace {
                name: "x".into(),
                path: "p/x".into()
            }]
        );
    }
}
