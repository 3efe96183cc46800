//! npm's `install-strategy=linked` (arborist's isolated reifier): the
//! hoisted tree mapped onto a store. Each package lives once in
//! `node_modules/.store/<name>@<version>-<hash>/node_modules/<name>`, its
//! dependencies are symlinks beside it in that `node_modules`, and the
//! project (and each workspace) gets symlinks for its own dependencies.
//!
//! The `<hash>` is npm's: shake256 (16 bytes, base64url without padding)
//! over the package's dependency closure, each member written as the chain
//! of `name@version` that reaches it first in a depth-first walk, then
//! `::` and its `resolved` (`null` when the lockfile has none), sorted and
//! joined with `,`. The walk takes a package's dependencies in arborist's
//! edge order: non-optional ones on packages, then on linked folders, then
//! optional ones. Pure: no I/O.

use std::collections::{HashMap, HashSet};

use base64::Engine;
use indexmap::IndexMap;
use rayon::prelude::*;
use sha3::digest::{ExtendableOutput, Update, XofReader};

use super::{EdgeKind, NodeId, Tree, ROOT};
use crate::error::{Code, Error, Result};

/// The store folder, relative to the project.
pub const STORE: &str = "node_modules/.store";

/// What a dependency link points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A store entry (index into [`Layout::entries`]).
    Entry(usize),
    /// A linked folder (a workspace, a `file:` folder), relative to the
    /// project.
    Folder(String),
}

/// One package folder of the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `<name>@<version>-<hash>` (`@scope/name@…` for scoped packages).
    pub key: String,
    /// The node it is made from (the first in location order).
    pub node: NodeId,
    /// The package's real name (its folder in the entry's node_modules).
    pub name: String,
    /// Its dependencies: (link name, target), by link name.
    pub deps: Vec<(String, Target)>,
    /// With [`LayoutOptions::content_keys`]: a hash of the key and every
    /// closure member's integrity (a lockfile may leave `resolved` out, and
    /// then the key does not say where a package came from; what a folder
    /// shared between projects holds must be named by its content).
    pub content_hash: Option<String>,
}

impl Entry {
    /// `node_modules/.store/<key>`.
    pub fn dir(&self) -> String {
        format!("{STORE}/{}", self.key)
    }
    /// `node_modules/.store/<key>/node_modules/<name>`.
    pub fn location(&self) -> String {
        format!("{STORE}/{}/node_modules/{}", self.key, self.name)
    }
}

/// A symlink the project itself holds: `<folder>/node_modules/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopLink {
    /// `""` for the root, else the linked folder (`packages/a`).
    pub folder: String,
    pub name: String,
    pub target: Target,
}

impl TopLink {
    pub fn location(&self) -> String {
        match self.folder.as_str() {
            "" => format!("node_modules/{}", self.name),
            f => format!("{f}/node_modules/{}", self.name),
        }
    }
}

/// The linked layout of a tree.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Sorted by key.
    pub entries: Vec<Entry>,
    /// Each node's entry (None: not in the store).
    pub entry_of: Vec<Option<usize>>,
    /// The project's and its folders' links, sorted by location.
    pub top: Vec<TopLink>,
}

impl Layout {
    /// Where `target` is, relative to the project.
    pub fn target_location(&self, target: &Target) -> String {
        match target {
            Target::Entry(i) => self.entries[*i].location(),
            Target::Folder(f) => f.clone(),
        }
    }
}

/// What decides which dependencies a folder links.
#[derive(Debug, Clone, Default)]
pub struct LayoutOptions {
    /// Dependency types the root and its folders leave out (`omit`).
    pub omit: Vec<String>,
    pub legacy_peer_deps: bool,
    /// Also compute each entry's [`Entry::content_hash`].
    pub content_keys: bool,
}

/// Is node `id` a package that goes into the store?
fn in_store(tree: &Tree, included: &[bool], id: NodeId) -> bool {
    let n = &tree.nodes[id];
    id != ROOT
        && n.alive
        && included[id]
        && !n.pkg.link
        && n.path.is_none()
        && !n.pkg.in_bundle
        && !tree.location(id).starts_with("../")
}

/// A folder node (the root, a workspace, a `file:` folder) whose
/// dependencies the install links.
fn is_folder(tree: &Tree, id: NodeId) -> bool {
    id == ROOT || (tree.nodes[id].path.is_some() && tree.nodes[id].alive && !tree.is_external(id))
}

/// The names of a package's dependencies in arborist's edge order: peers,
/// optional peers, prod, optional, then (folders) dev; a name given again
/// by a later type moves to the end.
fn edge_order(tree: &Tree, id: NodeId, legacy_peer_deps: bool) -> Vec<String> {
    let pkg = &tree.nodes[id].pkg;
    let mut order: IndexMap<&str, ()> = IndexMap::new();
    let mut names: Vec<&str> = Vec::new();
    if !legacy_peer_deps {
        names.extend(
            pkg.peer_dependencies
                .keys()
                .filter(|n| !pkg.peer_is_optional(n))
                .map(String::as_str),
        );
        names.extend(
            pkg.peer_dependencies
                .keys()
                .filter(|n| pkg.peer_is_optional(n))
                .map(String::as_str),
        );
    }
    names.extend(pkg.dependencies.keys().map(String::as_str));
    names.extend(pkg.optional_dependencies.keys().map(String::as_str));
    if is_folder(tree, id) {
        names.extend(pkg.dev_dependencies.keys().map(String::as_str));
    }
    for n in names {
        order.shift_remove(n);
        order.insert(n, ());
    }
    let mut out: Vec<String> = order.into_keys().map(str::to_string).collect();
    // The root's workspaces (edges no package.json map names) come last.
    for e in &tree.nodes[id].edges {
        if e.kind == EdgeKind::Workspace && !out.contains(&e.name) {
            out.push(e.name.clone());
        }
    }
    out
}

/// A node's dependencies as arborist's isolated reifier takes them:
/// (link name, target node, optional), non-optional first.
fn deps_of(
    tree: &Tree,
    included: &[bool],
    id: NodeId,
    opts: &LayoutOptions,
) -> Vec<(String, NodeId, bool)> {
    let node = &tree.nodes[id];
    let folder = is_folder(tree, id);
    let declared = |name: &str| {
        let p = &node.pkg;
        p.dependencies.contains_key(name)
            || p.optional_dependencies.contains_key(name)
            || p.dev_dependencies.contains_key(name)
            || p.peer_dependencies.contains_key(name)
    };
    let omitted = |kind: EdgeKind| {
        let has = |t: &str| opts.omit.iter().any(|o| o == t);
        folder
            && ((kind == EdgeKind::Dev && has("dev"))
                || (kind.is_optional() && has("optional"))
                || (kind.is_peer() && has("peer")))
    };
    let resolved = |name: &str| -> Option<NodeId> {
        let mut to = tree.resolve(id, name)?;
        if to == id {
            return None;
        }
        if tree.nodes[to].pkg.link {
            to = tree.nodes[to].target?;
        }
        let t = &tree.nodes[to];
        (t.alive && !t.pkg.in_bundle && (t.path.is_some() || included[to])).then_some(to)
    };
    let mut nonopt = Vec::new();
    let mut opt = Vec::new();
    for name in edge_order(tree, id, opts.legacy_peer_deps) {
        let Some(edge) = node.edge(&name) else {
            continue;
        };
        if omitted(edge.kind) {
            continue;
        }
        // The root links only the workspaces it declares.
        if edge.kind == EdgeKind::Workspace && !declared(&name) {
            continue;
        }
        let Some(to) = resolved(&name) else { continue };
        if edge.kind.is_optional() {
            opt.push((name, to, true));
        } else {
            nonopt.push((name, to, false));
        }
    }
    // legacy-peer-deps: peers have no edges; arborist links what the tree
    // resolves them to.
    if opts.legacy_peer_deps {
        for name in node.pkg.peer_dependencies.keys() {
            if node.edge(name).is_some() {
                continue;
            }
            if let Some(to) = resolved(name) {
                nonopt.push((name.clone(), to, false));
            }
        }
    }
    // External before local (linked folders), then optional.
    let (mut external, local): (Vec<_>, Vec<_>) = nonopt
        .into_iter()
        .partition(|(_, to, _)| tree.nodes[*to].path.is_none());
    external.extend(local);
    external.extend(opt);
    external
}

/// npm's store key hash of a closure listing.
pub fn hash_lines(lines: &mut [String]) -> String {
    lines.sort();
    let mut h = sha3::Shake256::default();
    h.update(lines.join(",").as_bytes());
    let mut out = [0u8; 16];
    h.finalize_xof().read(&mut out);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
}

/// npm's key for `start` (and with `content`, the content hash): its
/// closure as npm's getKey walks it, depth first, each member once, written
/// as the chain of `name@version` that reached it first.
fn keys(
    tree: &Tree,
    start: NodeId,
    children: &HashMap<NodeId, Vec<NodeId>>,
    content: bool,
) -> (String, Option<String>) {
    struct Walk<'a> {
        tree: &'a Tree,
        children: &'a HashMap<NodeId, Vec<NodeId>>,
        content: bool,
        branch: String,
        seen: HashSet<NodeId>,
        lines: Vec<String>,
        content_lines: Vec<String>,
    }
    impl Walk<'_> {
        fn visit(&mut self, id: NodeId) {
            if !self.seen.insert(id) {
                return;
            }
            let p = &self.tree.nodes[id].pkg;
            let len = self.branch.len();
            if len > 0 {
                self.branch.push_str("->");
            }
            self.branch.push_str(&p.name);
            self.branch.push('@');
            self.branch.push_str(&p.version);
            let resolved = p.resolved.as_deref().unwrap_or("null");
            self.lines.push(format!("{}::{resolved}", self.branch));
            if self.content {
                let integrity = p.integrity.as_deref().unwrap_or("null");
                self.content_lines
                    .push(format!("{}::{integrity}", self.branch));
            }
            let children = self.children;
            for &c in children.get(&id).map(Vec::as_slice).unwrap_or_default() {
                self.visit(c);
            }
            self.branch.truncate(len);
        }
    }
    let mut w = Walk {
        tree,
        children,
        content,
        branch: String::new(),
        seen: HashSet::new(),
        lines: Vec::new(),
        content_lines: Vec::new(),
    };
    w.visit(start);
    let p = &tree.nodes[start].pkg;
    let key = format!("{}@{}-{}", p.name, p.version, hash_lines(&mut w.lines));
    // The key names the closure's shape (chains of name@version); the
    // members' integrities pin what each of them holds.
    let content_hash = content.then(|| {
        w.content_lines.push(key.clone());
        hash_lines(&mut w.content_lines)
    });
    (key, content_hash)
}

/// A store key must be a plain path below `.store`: a valid package name,
/// then `@<version>-<hash>` without separators.
fn check_key(name: &str, version: &str) -> Result<()> {
    let plain = !version.is_empty() && !version.contains(['/', '\\', '\0']) && version != "..";
    if let Err(why) = crate::name::check(name) {
        return Err(Error::new(
            Code::Io,
            format!("refusing to write {STORE}/{name}@{version}: {name:?} is not a package name ({why}); nothing was changed"),
        ));
    }
    if !plain {
        return Err(Error::new(
            Code::Io,
            format!("refusing to write {STORE}/{name}@{version}: the version is not a plain folder name; nothing was changed"),
        ));
    }
    Ok(())
}

/// The linked layout of the `included` nodes of `tree`.
pub fn layout(tree: &Tree, included: &[bool], opts: &LayoutOptions) -> Result<Layout> {
    let stored: Vec<NodeId> = (0..tree.nodes.len())
        .filter(|&id| in_store(tree, included, id))
        .collect();
    let mut deps: HashMap<NodeId, Vec<(String, NodeId, bool)>> = HashMap::new();
    let folders: Vec<NodeId> = (0..tree.nodes.len())
        .filter(|&id| is_folder(tree, id) && (id == ROOT || tree.nodes[id].path.is_some()))
        .collect();
    for &id in stored.iter().chain(&folders) {
        deps.insert(id, deps_of(tree, included, id, opts));
    }
    // A folder reached from a package (rare) walks its own dependencies too.
    let children: HashMap<NodeId, Vec<NodeId>> = deps
        .iter()
        .map(|(&id, d)| (id, d.iter().map(|(_, to, _)| *to).collect()))
        .collect();
    // Keys, in location order so that the first node of a key represents it.
    let mut by_key: HashMap<String, usize> = HashMap::new();
    let mut entries: Vec<Entry> = Vec::new();
    let mut entry_of = vec![None; tree.nodes.len()];
    let mut located: Vec<(String, NodeId)> =
        stored.iter().map(|&id| (tree.location(id), id)).collect();
    located.sort_by(|a, b| super::locale_cmp(&a.0, &b.0));
    for (_, id) in &located {
        let p = &tree.nodes[*id].pkg;
        check_key(&p.name, &p.version)?;
    }
    // Each key walks a closure (thousands of nodes for a large tree's
    // top packages): in parallel.
    let keyed: Vec<(String, Option<String>)> = located
        .par_iter()
        .map(|(_, id)| keys(tree, *id, &children, opts.content_keys))
        .collect();
    for ((_, id), (key, content_hash)) in located.into_iter().zip(keyed) {
        let p = &tree.nodes[id].pkg;
        let i = *by_key.entry(key.clone()).or_insert_with(|| {
            entries.push(Entry {
                key,
                node: id,
                name: p.name.clone(),
                deps: Vec::new(),
                content_hash,
            });
            entries.len() - 1
        });
        entry_of[id] = Some(i);
    }
    let target = |to: NodeId| match entry_of[to] {
        Some(i) => Some(Target::Entry(i)),
        None => tree.nodes[to].path.clone().map(Target::Folder),
    };
    for e in entries.iter_mut() {
        let mut links: Vec<(String, Target)> = deps[&e.node]
            .iter()
            .filter_map(|(name, to, _)| Some((name.clone(), target(*to)?)))
            .collect();
        links.sort_by(|a, b| a.0.cmp(&b.0));
        links.dedup_by(|a, b| a.0 == b.0);
        // A package's own name is its folder; a dependency of that name
        // cannot be linked beside it.
        links.retain(|(n, _)| *n != e.name);
        e.deps = links;
    }
    let mut top = Vec::new();
    for &f in &folders {
        let folder = tree.nodes[f].path.clone().unwrap_or_default();
        for (name, to, _) in &deps[&f] {
            if let Some(target) = target(*to) {
                top.push(TopLink {
                    folder: folder.clone(),
                    name: name.clone(),
                    target,
                });
            }
        }
    }
    // Sort entries by key, renumbering the targets.
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| entries[a].key.cmp(&entries[b].key));
    let mut new_index = vec![0; entries.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    let renumber = |t: &mut Target| {
        if let Target::Entry(i) = t {
            *i = new_index[*i];
        }
    };
    let mut sorted: Vec<Entry> = order.iter().map(|&i| entries[i].clone()).collect();
    for e in sorted.iter_mut() {
        e.deps.iter_mut().for_each(|(_, t)| renumber(t));
    }
    for t in top.iter_mut() {
        renumber(&mut t.target);
    }
    for slot in entry_of.iter_mut().flatten() {
        *slot = new_index[*slot];
    }
    top.sort_by(|a, b| super::locale_cmp(&a.location(), &b.location()));
    top.dedup_by(|a, b| a.location() == b.location());
    Ok(Layout {
        entries: sorted,
        entry_of,
        top,
    })
}

/// Relative path from the folder `from_dir` to `to` (both relative to the
/// project, `/`-separated).
pub fn relative(from_dir: &str, to: &str) -> String {
    let f: Vec<&str> = from_dir.split('/').filter(|s| !s.is_empty()).collect();
    let t: Vec<&str> = to.split('/').filter(|s| !s.is_empty()).collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out: Vec<&str> = vec![".."; f.len() - common];
    out.extend(&t[common..]);
    out.join("/")
}

#[cfg(test)]
mod tests;
