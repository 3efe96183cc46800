//! The actual tree: what node_modules holds, read from the package.json in
//! each package folder (npm's loadActual), for `ls`, `why` and `outdated`.
//! `resolved` comes from the hidden lockfile when its entry names the same
//! package and version (a package.json in node_modules does not record it).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::Result;
use crate::lockfile::{self, Lockfile};
use crate::project::Project;
use crate::tree::{EdgeOptions, NodeId, Package, Tree, ROOT};

/// The tree on disk, with npm's `extraneous` (no edge from the root reaches
/// the node) per node.
pub struct Actual {
    pub tree: Tree,
    pub extraneous: Vec<bool>,
    /// The project folder, canonical (link targets are relative to it).
    pub root: PathBuf,
}

impl Actual {
    /// Is `id` a link to one of the root's workspaces (or the workspace
    /// folder itself)?
    pub fn is_workspace(&self, id: NodeId) -> bool {
        let tree = &self.tree;
        let folder = tree.nodes[id].target.unwrap_or(id);
        tree.nodes[folder].path.is_some()
            && tree.root().edges.iter().any(|e| {
                e.kind == crate::tree::EdgeKind::Workspace
                    && tree
                        .resolve(ROOT, &e.name)
                        .and_then(|l| tree.nodes[l].target)
                        == Some(folder)
            })
    }

    /// `path` of a node as npm prints it: the folder, absolute.
    pub fn path(&self, id: NodeId) -> PathBuf {
        match self.tree.location(id) {
            loc if loc.is_empty() => self.root.clone(),
            loc => self.root.join(loc),
        }
    }
}

/// Reads `cwd`'s node_modules (and the node_modules of linked folders
/// inside the project) into a tree rooted at the project's package.
pub fn read(cwd: &Path, root: Package, opts: EdgeOptions) -> Result<Actual> {
    let real_root = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let hidden: HashMap<String, Map<String, Value>> =
        Lockfile::read_hidden(&cwd.join(lockfile::HIDDEN))
            .ok()
            .flatten()
            .map(|l| l.packages.into_iter().collect())
            .unwrap_or_default();
    let mut walk = Walk {
        tree: Tree::new(root, opts),
        hidden,
        stores: shared_stores(&real_root),
        root: real_root.clone(),
        walked: Vec::new(),
    };
    walk.folder(ROOT, &real_root);
    walk.tree.propagate_overrides();
    walk.tree.compute_flags();
    let seen = walk.tree.reachable(&[ROOT], |_| true);
    let extraneous = walk
        .tree
        .nodes
        .iter()
        .enumerate()
        .map(|(id, n)| n.alive && !seen[id] && n.parent.is_some())
        .collect();
    Ok(Actual {
        tree: walk.tree,
        extraneous,
        root: real_root,
    })
}

struct Walk {
    tree: Tree,
    hidden: HashMap<String, Map<String, Value>>,
    root: PathBuf,
    /// Linked folders already read (links may point at one folder twice).
    walked: Vec<PathBuf>,
    /// The linked strategy's store entries that are links into brisk's
    /// global virtual store: (the folder they point at, canonical; the
    /// entry, relative to the project).
    stores: Vec<(PathBuf, String)>,
}

/// `node_modules/.store/<key>` entries that are symlinks (the global
/// virtual store), by the folder they resolve to.
fn shared_stores(root: &Path) -> Vec<(PathBuf, String)> {
    let store = root.join(crate::tree::isolated::STORE);
    let mut out = Vec::new();
    let visit = |dir: &Path, prefix: &str, out: &mut Vec<(PathBuf, String)>| {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut scopes = Vec::new();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let is_link = e.file_type().is_ok_and(|t| t.is_symlink());
            if is_link {
                if let Ok(real) = std::fs::canonicalize(e.path()) {
                    out.push((
                        real,
                        format!("{}/{prefix}{name}", crate::tree::isolated::STORE),
                    ));
                }
            } else if name.starts_with('@') {
                scopes.push(name);
            }
        }
        scopes
    };
    for scope in visit(&store, "", &mut out) {
        visit(&store.join(&scope), &format!("{scope}/"), &mut out);
    }
    out
}

impl Walk {
    /// Adds the packages in `<dir>/node_modules` as children of `parent`.
    fn folder(&mut self, parent: NodeId, dir: &Path) {
        let nm = dir.join("node_modules");
        for name in package_folders(&nm) {
            self.package(parent, &name, &nm.join(&name));
        }
    }

    fn package(&mut self, parent: NodeId, name: &str, path: &Path) {
        // A folder name that is not a package name never becomes a node.
        if crate::name::check(name).is_err() {
            return;
        }
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return;
        };
        if meta.file_type().is_symlink() {
            return self.link(parent, name, path);
        }
        if !meta.is_dir() {
            return;
        }
        let mut pkg = read_package(path, name);
        let id = self.tree.add(parent, name, Arc::new(pkg.clone()));
        let loc = self.tree.location(id);
        if let Some(e) = self.hidden.get(&loc) {
            let same = e.get("version").and_then(Value::as_str) == Some(pkg.version.as_str())
                && e.get("name").and_then(Value::as_str).unwrap_or(name) == pkg.name;
            if same {
                pkg.resolved = e
                    .get("resolved")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                pkg.integrity = e
                    .get("integrity")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                pkg.in_bundle = e.get("inBundle").and_then(Value::as_bool) == Some(true);
                self.tree.nodes[id].pkg = Arc::new(pkg);
            }
        }
        self.folder(id, path);
    }

    /// A symlink: a link node pointing at its folder's node (a workspace,
    /// a `file:` folder). Folders outside the project are not read further.
    fn link(&mut self, parent: NodeId, name: &str, path: &Path) {
        let Ok(real) = std::fs::canonicalize(path) else {
            return; // dangling: npm shows the dependency as missing
        };
        let shared = self.stores.iter().find(|(dir, _)| real.starts_with(dir));
        let rel = match shared {
            Some((dir, entry)) => match relative(dir, &real) {
                r if r.is_empty() => entry.clone(),
                r => format!("{entry}/{r}"),
            },
            None => relative(&self.root, &real),
        };
        let pkg = Arc::new(read_package(&real, name));
        if let Some(target) = self.in_store(&rel) {
            let id = self.tree.add(parent, name, Arc::new(pkg.link_to(&rel)));
            self.tree.nodes[id].target = Some(target);
            return;
        }
        let target = self.tree.add_target(&rel, pkg.clone());
        let id = self.tree.add(parent, name, Arc::new(pkg.link_to(&rel)));
        self.tree.nodes[id].target = Some(target);
        let inside = real.starts_with(&self.root) && real != self.root;
        if inside && !self.walked.contains(&real) {
            self.walked.push(real.clone());
            self.folder(target, &real);
        }
    }
}

impl Walk {
    /// A link into the linked strategy's store
    /// (`node_modules/.store/<key>/node_modules/<name>`): the store entry
    /// is read as a folder whose node_modules holds the package and its
    /// dependencies' links (so lookups from the package find them, as
    /// Node's do), and the package's node is the link's target.
    fn in_store(&mut self, rel: &str) -> Option<NodeId> {
        let rest = rel.strip_prefix("node_modules/.store/")?;
        let (key, name) = rest.split_once("/node_modules/")?;
        let dir = format!("node_modules/.store/{key}");
        let entry = match self.tree.target_at(&dir) {
            Some(id) => id,
            None => {
                let pkg = Package {
                    name: key.to_string(),
                    ..Default::default()
                };
                let id = self.tree.add_target(&dir, Arc::new(pkg));
                self.folder(id, &self.root.join(&dir));
                id
            }
        };
        self.tree.nodes[entry].children.get(name).copied()
    }
}

/// Package folder names in a node_modules (`a`, `@s/b`), sorted; dot
/// entries (`.bin`, `.package-lock.json`) are not packages.
fn package_folders(nm: &Path) -> Vec<String> {
    let list = |dir: &Path| -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names
    };
    let mut out = Vec::new();
    for name in list(nm) {
        if name.starts_with('@') {
            out.extend(
                list(&nm.join(&name))
                    .into_iter()
                    .map(|n| format!("{name}/{n}")),
            );
        } else {
            out.push(name);
        }
    }
    out
}

/// The package in `dir` (a folder without a usable package.json: its
/// folder name and no version, which no range accepts).
fn read_package(dir: &Path, folder: &str) -> Package {
    match Project::load(dir) {
        Ok(p) => Package::from_dependency(&p),
        Err(_) => Package {
            name: folder.to_string(),
            ..Default::default()
        },
    }
}

/// `to` relative to `from`, with `/` separators (`packages/a`, `../x`).
pub(super) fn relative(from: &Path, to: &Path) -> String {
    let a: Vec<_> = from.components().collect();
    let b: Vec<_> = to.components().collect();
    let same = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".to_string(); a.len() - same];
    parts.extend(
        b[same..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative(Path::new("/p"), Path::new("/p/packages/a")),
            "packages/a"
        );
        assert_eq!(relative(Path::new("/p/q"), Path::new("/p/x")), "../x");
    }

    #[test]
    fn reads_folders_marks_extraneous_and_takes_resolved_from_the_hidden_lockfile() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let write = |p: &str, s: &str| {
            let p = d.join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, s).unwrap();
        };
        write("package.json", r#"{"name":"p","dependencies":{"a":"^1"}}"#);
        write(
            "node_modules/a/package.json",
            r#"{"name":"a","version":"1.0.0","dependencies":{"b":"^2"}}"#,
        );
        write(
            "node_modules/b/package.json",
            r#"{"name":"b","version":"1.0.0"}"#,
        );
        write(
            "node_modules/x/package.json",
            r#"{"name":"x","version":"1.0.0"}"#,
        );
        write(
            "node_modules/..evil/package.json",
            r#"{"name":"e","version":"1.0.0"}"#,
        );
        write(
            "node_modules/.package-lock.json",
            r#"{"lockfileVersion":3,"packages":{"node_modules/a":{"version":"1.0.0","resolved":"https://r/a.tgz"}}}"#,
        );
        let project = Project::load(d).unwrap();
        let a = read(d, Package::from_project(&project), EdgeOptions::default()).unwrap();
        let t = &a.tree;
        let names: Vec<&str> = t.root().children.keys().map(String::as_str).collect();
        assert_eq!(names, ["a", "b", "x"]);
        let id = |n: &str| t.root().children[n];
        assert_eq!(
            t.nodes[id("a")].pkg.resolved.as_deref(),
            Some("https://r/a.tgz")
        );
        assert!(a.extraneous[id("x")] && !a.extraneous[id("a")] && !a.extraneous[id("b")]);
        assert!(t.is_problem(id("a"), 0), "b@1.0.0 does not satisfy ^2");
    }
}
