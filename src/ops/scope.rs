//! Which workspaces an operation is limited to, as npm reads its flags:
//! `-w <name|folder>` (repeatable), `--workspaces` (every workspace) and
//! `--include-workspace-root` (the root project too).

use std::path::Path;

use crate::error::{Code, Error, Result};
use crate::project::Project;

use super::Options;

/// The workspaces `o` names, as (name, folder), in the order given
/// (`--workspaces`: folder order); None when it names none. `workspaces`
/// are the project's (name, folder); `root` its folder.
pub(super) fn chosen(
    o: &Options,
    workspaces: &[(String, String)],
    root: &Path,
) -> Result<Option<Vec<(String, String)>>> {
    if o.all_workspaces {
        if workspaces.is_empty() {
            return Err(Error::new(
                Code::Config,
                format!(
                    "--workspaces: the project in {} has no workspaces",
                    root.display()
                ),
            ));
        }
        return Ok(Some(workspaces.to_vec()));
    }
    if o.workspaces.is_empty() {
        return Ok(None);
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for want in &o.workspaces {
        let found = find(workspaces, root, want)?;
        if !out.contains(&found) {
            out.push(found);
        }
    }
    Ok(Some(out))
}

/// The workspace named `want`: by name, or by folder (relative to the root,
/// `./` and a final `/` allowed, or absolute).
fn find(workspaces: &[(String, String)], root: &Path, want: &str) -> Result<(String, String)> {
    let trimmed = want.trim_start_matches("./").trim_end_matches('/');
    let abs = root.join(trimmed);
    workspaces
        .iter()
        .find(|(name, folder)| name == want || folder == trimmed || root.join(folder) == abs)
        .cloned()
        .ok_or_else(|| {
            let known: Vec<&str> = workspaces.iter().map(|(n, _)| n.as_str()).collect();
            Error::new(
                Code::NotFound,
                format!(
                    "--workspace {want}: the project in {} has no workspace with that name or folder (workspaces: {})",
                    root.display(),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            )
        })
}

/// The workspace names an install limits node_modules changes to, sorted
/// (empty: the whole project, also with `--include-workspace-root`).
/// Reads the project's workspaces only when a workspace flag is given.
pub(super) fn limit(o: &Options) -> Result<Vec<String>> {
    if o.include_workspace_root || (o.workspaces.is_empty() && !o.all_workspaces) {
        return Ok(Vec::new());
    }
    let project = Project::load(&o.cwd)?;
    let workspaces: Vec<(String, String)> = project
        .workspaces()?
        .into_iter()
        .map(|w| (w.name, w.path))
        .collect();
    let mut names: Vec<String> = chosen(o, &workspaces, &o.cwd)?
        .unwrap_or_default()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws() -> Vec<(String, String)> {
        vec![
            ("@s/web".into(), "apps/web".into()),
            ("lib".into(), "packages/lib".into()),
        ]
    }

    #[test]
    fn names_folders_all_and_unknown() {
        let root = Path::new("/p");
        let mut o = Options {
            workspaces: vec!["./packages/lib/".into(), "@s/web".into(), "lib".into()],
            ..Default::default()
        };
        let got = chosen(&o, &ws(), root).unwrap().unwrap();
        assert_eq!(got, vec![ws()[1].clone(), ws()[0].clone()]);
        o.workspaces = vec!["/p/apps/web".into()];
        assert_eq!(
            chosen(&o, &ws(), root).unwrap().unwrap(),
            vec![ws()[0].clone()]
        );
        o.workspaces = vec!["nope".into()];
        assert_eq!(chosen(&o, &ws(), root).unwrap_err().code, Code::NotFound);
        o.workspaces = vec!["../p/packages/lib".into()];
        assert!(chosen(&o, &ws(), root).is_err(), "no path tricks");
        o.all_workspaces = true;
        assert_eq!(chosen(&o, &ws(), root).unwrap().unwrap(), ws());
        assert_eq!(chosen(&o, &[], root).unwrap_err().code, Code::Config);
        o.all_workspaces = false;
        o.workspaces.clear();
        assert_eq!(chosen(&o, &ws(), root).unwrap(), None);
    }
}
