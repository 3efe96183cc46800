//! `package-lock.json`: read v2/v3 into a tree, decide whether it is still in
//! sync with package.json, and write v3 (plus npm's hidden lockfile,
//! `node_modules/.package-lock.json`) with the fields npm writes.

mod entry;
pub mod json;
mod v1;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use rayon::prelude::*;
use serde_json::{Map, Value};

pub use entry::{entry_to_package, package_to_entry};

use crate::error::{Code, Error, Result};
use crate::project::Project;
use crate::tree::{
    edges_with_overrides, in_node_modules, Edge, EdgeOptions, NodeId, Package, Tree, ROOT,
    ROOT_RULE,
};

pub const FILE: &str = "package-lock.json";
pub const HIDDEN: &str = "node_modules/.package-lock.json";

/// Refuses a location whose package folder names are not package names
/// (`node_modules/../../x` would be a path out of the project) and an entry
/// whose dependency maps name something that is not a package.
fn check_entry(
    loc: &str,
    entry: &Map<String, Value>,
    hidden: bool,
) -> std::result::Result<(), String> {
    let bad = |why: String| Err(format!("the entry \"{loc}\" {why}"));
    if loc.starts_with('/') || loc.contains('\\') || loc.contains('\0') {
        return bad("is not a relative path".into());
    }
    // The linked strategy's store (npm's hidden lockfile lists it; a
    // package-lock.json never does):
    // `node_modules/.store/<name>@<version>-<hash>[/node_modules/<name>]`.
    let mut loc = loc;
    if let Some(rest) = loc.strip_prefix("node_modules/.store/").filter(|_| hidden) {
        let (key, inner) = match rest.split_once("/node_modules/") {
            Some((key, inner)) => (key, Some(inner)),
            None => (rest, None),
        };
        let Some((name, tail)) = key.rsplit_once('@') else {
            return bad("is not a store folder".into());
        };
        if let Err(why) = crate::name::check(name) {
            return bad(format!("installs into a folder named {name:?} ({why})"));
        }
        if tail.is_empty() || tail.contains('/') || tail == ".." {
            return bad("is not a store folder".into());
        }
        match inner {
            Some(_) => loc = &rest[key.len() + 1..],
            None => loc = "",
        }
    }
    if let Some(names) = crate::name::installed_names(loc) {
        for name in names {
            if let Err(why) = crate::name::check(name) {
                return bad(format!("installs into a folder named {name:?} ({why})"));
            }
        }
    }
    for key in [
        "dependencies",
        "optionalDependencies",
        "peerDependencies",
        "devDependencies",
    ] {
        let Some(Value::Object(deps)) = entry.get(key) else {
            continue;
        };
        for name in deps.keys() {
            if let Err(why) = crate::name::check(name) {
                return bad(format!(
                    "has {key} on {name:?}, which is not a package name ({why})"
                ));
            }
        }
    }
    Ok(())
}

/// A parsed lockfile: its `packages` section by location.
#[derive(Debug, Clone)]
pub struct Lockfile {
    pub version: u64,
    pub packages: IndexMap<String, Map<String, Value>>,
}

/// A version a previous lockfile had, with its metadata when the lockfile
/// records it (v2/v3): then no packument is needed for it, and re-resolving
/// after `add` asks the registry only about what the change brings in.
#[derive(Debug, Clone)]
pub struct Locked {
    pub version: String,
    pub package: Option<Arc<Package>>,
}

impl Lockfile {
    /// Read `<dir>/<name>`; `Ok(None)` when there is none.
    pub fn read(path: &Path) -> Result<Option<Lockfile>> {
        Self::read_as(path, false)
    }

    /// [`Lockfile::read`] for the hidden lockfile, which may also list the
    /// linked strategy's `node_modules/.store` folders.
    pub fn read_hidden(path: &Path) -> Result<Option<Lockfile>> {
        Self::read_as(path, true)
    }

    fn read_as(path: &Path, hidden: bool) -> Result<Option<Lockfile>> {
        let text = match crate::bounded::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path.display(), e)),
        };
        Self::parse_as(&text, hidden).map(Some).map_err(|msg| {
            Error::new(
                Code::Lockfile,
                format!(
                    "{} is not a usable lockfile: {msg}. Fix it, or delete it to resolve again.",
                    path.display()
                ),
            )
        })
    }

    pub fn parse(text: &str) -> std::result::Result<Lockfile, String> {
        Self::parse_as(text, false)
    }

    fn parse_as(text: &str, hidden: bool) -> std::result::Result<Lockfile, String> {
        let doc: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON ({e})"))?;
        let Value::Object(mut doc) = doc else {
            return Err("it is not a JSON object".into());
        };
        let version = doc
            .get("lockfileVersion")
            .and_then(Value::as_u64)
            .ok_or("it has no lockfileVersion")?;
        let mut packages = IndexMap::new();
        match doc.remove("packages") {
            Some(Value::Object(map)) => {
                for (loc, entry) in map {
                    match entry {
                        Value::Object(e) => {
                            packages.insert(loc, e);
                        }
                        _ => return Err(format!("the entry for \"{loc}\" is not an object")),
                    }
                }
            }
            // npm 5/6: the nested `dependencies` tree, read as locations.
            None if version == 1 => packages = v1::packages(doc.get("dependencies"))?,
            _ => return Err("it has no \"packages\" section".into()),
        }
        for (loc, entry) in &packages {
            check_entry(loc, entry, hidden)?;
        }
        Ok(Lockfile { version, packages })
    }

    /// Every locked version per package name (to prefer them when
    /// re-resolving a stale lockfile).
    /// Every version it locks, per package name, with the package as the
    /// lockfile records it (v2/v3; not bundled copies, whose package.json
    /// came from inside another tarball).
    pub fn locked(&self) -> HashMap<String, Vec<Locked>> {
        let mut out: HashMap<String, Vec<Locked>> = HashMap::new();
        for (loc, e) in &self.packages {
            let Some(version) = e.get("version").and_then(Value::as_str) else {
                continue;
            };
            if loc.is_empty() || !in_node_modules(loc) {
                continue;
            }
            let folder = folder_name(loc);
            let name = e.get("name").and_then(Value::as_str).unwrap_or(folder);
            let bundled = e.get("inBundle").and_then(Value::as_bool) == Some(true);
            let link = e.get("link").and_then(Value::as_bool) == Some(true);
            let package = (self.version >= 2 && !bundled && !link)
                .then(|| entry_to_package(folder, e).ok())
                .flatten()
                .map(std::sync::Arc::new);
            out.entry(name.to_string()).or_default().push(Locked {
                version: version.to_string(),
                package,
            });
        }
        out
    }

    pub fn locked_versions(&self) -> HashMap<String, Vec<String>> {
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for (loc, e) in &self.packages {
            if loc.is_empty() {
                continue;
            }
            let Some(version) = e.get("version").and_then(Value::as_str) else {
                continue;
            };
            let name = e
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_else(|| folder_name(loc));
            out.entry(name.to_string())
                .or_default()
                .push(version.to_string());
        }
        out
    }

    /// The packages it installs from registry tarballs, in file order:
    /// entries that are not dev, optional or peer-only, bundled or links,
    /// with an `integrity` and an http(s) `resolved` (or none: a registry
    /// tarball with `omit-lockfile-registry-resolved`). Read without
    /// building the tree (an install starts the first download from here).
    pub fn required_tarballs(&self) -> impl Iterator<Item = Package> + '_ {
        const SKIP: [&str; 5] = ["dev", "optional", "devOptional", "peer", "link"];
        self.packages.iter().filter_map(|(loc, e)| {
            let flag = |k: &str| e.get(k).and_then(Value::as_bool) == Some(true);
            // The project's own bundled packages are fetched like any other.
            let skipped =
                SKIP.iter().any(|k| flag(k)) || (flag("inBundle") && !self.in_root_bundle(loc));
            let fetched = match e.get("resolved") {
                None => true,
                Some(url) => url
                    .as_str()
                    .is_some_and(|u| u.starts_with("https://") || u.starts_with("http://")),
            };
            if !in_node_modules(loc) || skipped || !fetched || !e.contains_key("integrity") {
                return None;
            }
            entry_to_package(folder_name(loc), e).ok()
        })
    }

    /// Is the inBundle entry at `loc` in the project's own bundle (its
    /// top-level folder is bundled too) rather than in a dependency's
    /// tarball?
    fn in_root_bundle(&self, loc: &str) -> bool {
        let Some(rest) = loc.strip_prefix("node_modules/") else {
            return false;
        };
        let mut parts = rest.splitn(3, '/');
        let first = parts.next().unwrap_or("");
        let len = if first.starts_with('@') {
            first.len() + 1 + parts.next().map_or(0, str::len)
        } else {
            first.len()
        };
        let top = &loc[.."node_modules/".len() + len];
        self.packages
            .get(top)
            .is_some_and(|e| e.get("inBundle").and_then(Value::as_bool) == Some(true))
    }

    /// Build the tree the lockfile describes, rooted at the project.
    pub fn to_tree(&self, root: Package, opts: EdgeOptions) -> Result<Tree> {
        if self.version < 2 {
            return Err(Error::new(
                Code::Lockfile,
                "package-lock.json is lockfile v1 (npm 6), which lacks the package data brisk needs here: run `brisk install` to upgrade it to v3",
            ));
        }
        let mut entries: Vec<(&str, &Map<String, Value>)> =
            self.packages.iter().map(|(l, e)| (l.as_str(), e)).collect();
        entries.sort_by_cached_key(|(l, _)| l.matches("node_modules/").count());
        let bad = |loc: &str, why: &str| {
            Error::new(
                Code::Lockfile,
                format!("package-lock.json entry \"{loc}\" {why}"),
            )
        };
        // Packages in a folder, with their edges, built in parallel (the
        // bulk of the work: thousands of entries in a large tree); links and
        // linked folders need other nodes and are read in order below. They
        // come in the root override set (see `propagate_overrides`).
        let set = (!opts.overrides.is_empty()).then_some(ROOT_RULE);
        let built: Vec<Option<Result<Built>>> = entries
            .par_iter()
            .map(|&(loc, entry)| {
                if !in_node_modules(loc) || entry.get("link").and_then(Value::as_bool) == Some(true)
                {
                    return None;
                }
                let pkg = entry_to_package(folder_name(loc), entry).map_err(|why| bad(loc, &why));
                Some(pkg.map(|pkg| {
                    let edges = edges_with_overrides(&pkg, false, None, &opts, set);
                    (Arc::new(pkg), edges)
                }))
            })
            .collect();
        let mut tree = Tree::new(root, opts);
        let mut ids: HashMap<&str, NodeId> = HashMap::new();
        for ((loc, entry), built) in entries.into_iter().zip(built) {
            if loc.is_empty() {
                continue;
            }
            if !in_node_modules(loc) {
                // A linked folder (workspace, `file:` folder).
                let pkg =
                    entry_to_package(folder_name(loc), entry).map_err(|why| bad(loc, &why))?;
                let id = tree.add_target(loc, Arc::new(pkg));
                ids.insert(loc, id);
                continue;
            }
            let (parent_loc, name) = match loc.rfind("/node_modules/") {
                Some(i) => (&loc[..i], &loc[i + "/node_modules/".len()..]),
                None => ("", &loc["node_modules/".len()..]),
            };
            let parent = if parent_loc.is_empty() {
                ROOT
            } else {
                *ids.get(parent_loc)
                    .ok_or_else(|| bad(loc, "has no entry for its parent folder"))?
            };
            let id = match built {
                Some(built) => {
                    let (pkg, edges) = built?;
                    tree.add_built(parent, name, pkg, edges, set)
                }
                None => {
                    let link = entry_to_package(name, entry).map_err(|why| bad(loc, &why))?;
                    let path = link.resolved.unwrap_or_default();
                    let t = tree.target_at(&path).ok_or_else(|| {
                        bad(loc, &format!("links to \"{path}\", which has no entry"))
                    })?;
                    let pkg = tree.nodes[t].pkg.link_to(&path);
                    let id = tree.add_built(parent, name, Arc::new(pkg), Vec::new(), set);
                    tree.nodes[id].target = Some(t);
                    id
                }
            };
            ids.insert(loc, id);
        }
        tree.propagate_overrides();
        tree.compute_flags();
        // The project's own bundled packages are installed from the registry:
        // only a dependency's bundle comes with its tarball.
        for node in tree.nodes.iter_mut() {
            if node.flags.bundled && node.pkg.in_bundle {
                Arc::make_mut(&mut node.pkg).in_bundle = false;
            }
        }
        Ok(tree)
    }
}

/// A package read from its lockfile entry, with its edges.
type Built = (Arc<Package>, Vec<Edge>);

pub fn folder_name(loc: &str) -> &str {
    match loc.rfind("node_modules/") {
        Some(i) => &loc[i + "node_modules/".len()..],
        None => loc.rsplit('/').next().unwrap_or(loc),
    }
}

/// Is the tree (from a lockfile) still what package.json asks for? The root
/// entry must declare the same dependencies, and every edge that is not
/// optional must be met.
pub fn in_sync(lock: &Lockfile, tree: &Tree, project: &Project) -> std::result::Result<(), String> {
    in_sync_with(lock, tree, project, &Default::default())
}

/// [`in_sync`], with linked folders' package.json files as edited in
/// memory (`folders`) where there is one.
pub fn in_sync_with(
    lock: &Lockfile,
    tree: &Tree,
    project: &Project,
    folders: &crate::tree::Folders,
) -> std::result::Result<(), String> {
    let root = lock.packages.get("").ok_or("it has no root entry")?;
    same_dependencies(root, project, "its")?;
    // Linked folders inside the project: their package.json against their
    // entry.
    for (id, node) in tree.nodes.iter().enumerate() {
        let Some(path) = node
            .path
            .as_deref()
            .filter(|_| node.alive && !tree.is_external(id))
        else {
            continue;
        };
        let folder = match folders.get(path) {
            Some(edited) => edited.clone(),
            None => Project::load(&project.dir.join(path)).map_err(|e| e.detail())?,
        };
        same_dependencies(&lock.packages[path], &folder, &format!("{path}'s"))?;
    }
    for (id, node) in tree.nodes.iter().enumerate() {
        // Bundled packages are as their parent's tarball ships them.
        if !node.alive || tree.is_external(id) || node.pkg.in_bundle {
            continue;
        }
        for e in &node.edges {
            if e.kind.is_optional() || e.kind.is_peer() {
                continue;
            }
            let met = tree
                .resolve(id, &e.name)
                .is_some_and(|to| e.satisfied_by(&tree.nodes[to].pkg));
            if !met {
                let who = if id == ROOT {
                    "the project".to_string()
                } else {
                    tree.location(id)
                };
                return Err(format!(
                    "{who} needs {}@{}, which it does not lock",
                    e.name, e.raw
                ));
            }
        }
    }
    Ok(())
}

/// Does a lockfile entry declare the same dependencies as a package.json?
fn same_dependencies(
    entry: &Map<String, Value>,
    project: &Project,
    whose: &str,
) -> std::result::Result<(), String> {
    let root = entry;
    for (key, declared) in [
        ("dependencies", &project.dependencies),
        ("devDependencies", &project.dev_dependencies),
        ("optionalDependencies", &project.optional_dependencies),
        ("peerDependencies", &project.peer_dependencies),
    ] {
        let locked: IndexMap<String, String> = root
            .get(key)
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let names: std::collections::BTreeSet<&String> =
            locked.keys().chain(declared.keys()).collect();
        let differ: Vec<String> = names
            .into_iter()
            .filter(|n| locked.get(*n) != declared.get(*n))
            .map(|n| {
                let show =
                    |v: Option<&String>| v.map_or("none".to_string(), |s| format!("\"{s}\""));
                format!(
                    "{n} is {} in package.json but {} in the lockfile",
                    show(declared.get(n)),
                    show(locked.get(n))
                )
            })
            .collect();
        if !differ.is_empty() {
            return Err(format!(
                "{whose} {key} differ from package.json ({})",
                differ.join("; ")
            ));
        }
    }
    Ok(())
}

/// What to put in the file.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// `omit-lockfile-registry-resolved`.
    pub omit_resolved: bool,
    /// npm's hidden lockfile: no root entry.
    pub hidden: bool,
}

/// Render the lockfile for `tree`; `include` filters nodes (the hidden
/// lockfile lists only what is really in node_modules).
pub fn render(tree: &Tree, opts: RenderOptions, include: impl Fn(NodeId) -> bool) -> String {
    render_with(tree, opts, include, Vec::new())
}

/// [`render`], plus `extra` entries given as they are (by location; the
/// hidden lockfile after a `--workspace` install lists packages the tree
/// wants changed but that install left alone).
pub fn render_with(
    tree: &Tree,
    opts: RenderOptions,
    include: impl Fn(NodeId) -> bool,
    extra: Vec<(String, Map<String, Value>)>,
) -> String {
    enum Member {
        Root,
        Node(NodeId),
        Entry(Map<String, Value>),
    }
    let root = &tree.root().pkg;
    let mut head = Map::new();
    // A package.json without a name: npm names the lockfile after the folder.
    let name = match root.name.as_str() {
        "" => tree
            .edge_options()
            .root_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        name => name.to_string(),
    };
    head.insert("name".into(), Value::String(name));
    if !root.version.is_empty() {
        head.insert("version".into(), Value::String(root.version.clone()));
    }
    head.insert("lockfileVersion".into(), Value::from(3));
    head.insert("requires".into(), Value::Bool(true));
    let mut members: Vec<(String, Member)> = tree
        .sorted_locations()
        .into_iter()
        .filter(|&(_, id)| include(id))
        .map(|(loc, id)| (loc, Member::Node(id)))
        .collect();
    members.extend(extra.into_iter().map(|(loc, e)| (loc, Member::Entry(e))));
    if !opts.hidden {
        members.push((String::new(), Member::Root));
    }
    json::sort_members(&mut members);
    let entries = members.into_iter().map(|(loc, member)| {
        let entry = match member {
            Member::Root => entry::root_entry(root),
            Member::Node(id) => {
                let node = &tree.nodes[id];
                let e = package_to_entry(&node.pkg, &node.name, node.flags, opts.omit_resolved);
                Value::Object(e)
            }
            Member::Entry(e) => Value::Object(e),
        };
        (loc, entry)
    });
    json::to_string_streamed(&head, "packages", entries)
}

/// A hidden lockfile of the given entries, as npm writes it for the linked
/// strategy (no name or version at the top).
pub fn render_entries(mut entries: Vec<(String, Map<String, Value>)>) -> String {
    let mut head = Map::new();
    head.insert("lockfileVersion".into(), Value::from(3));
    head.insert("requires".into(), Value::Bool(true));
    json::sort_members(&mut entries);
    json::to_string_streamed(
        &head,
        "packages",
        entries.into_iter().map(|(l, e)| (l, Value::Object(e))),
    )
}

/// Write a file so readers see the old or the new content, never a part.
pub fn write_atomic(path: &Path, contents: &str) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.brisk-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    std::fs::write(&tmp, contents).map_err(|e| Error::io(tmp.display(), e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path.display(), e)
    })
}

#[cfg(test)]
mod tests;
