//! The hoisted `node_modules` tree: nodes placed by npm arborist's rules,
//! dependency edges resolved by node's module lookup (walk up the folders),
//! and the dev/optional/peer flags npm writes into the lockfile.

mod dep_valid;
pub mod diff;
pub mod isolated;

mod overrides;
mod package;
mod place;
pub mod select;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dashmap::DashMap;

pub use crate::locale::locale_cmp;
pub use dep_valid::dep_valid;
pub use overrides::{Overridden, Overrides, RuleId, ROOT_RULE};
pub use package::{normalize_funding, Package};
pub use place::{PeerSet, PlaceOptions, Placed, Unplaceable};

use crate::spec::Spec;

pub type NodeId = usize;
pub const ROOT: NodeId = 0;

/// Is lockfile location `loc` a folder inside a `node_modules` (rather
/// than the root, a workspace or a linked folder)?
pub fn in_node_modules(loc: &str) -> bool {
    loc.starts_with("node_modules/") || loc.contains("/node_modules/")
}

/// The kind of a dependency edge (arborist's edge types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    Prod,
    Dev,
    Optional,
    Peer,
    PeerOptional,
    /// The root's edge on each of its workspaces.
    Workspace,
}

impl EdgeKind {
    pub fn is_peer(self) -> bool {
        matches!(self, EdgeKind::Peer | EdgeKind::PeerOptional)
    }
    pub fn is_optional(self) -> bool {
        matches!(self, EdgeKind::Optional | EdgeKind::PeerOptional)
    }
}

/// A dependency of a node on a name.
#[derive(Debug, Clone)]
pub struct Edge {
    pub name: String,
    pub raw: String,
    pub spec: Arc<Spec>,
    pub kind: EdgeKind,
    /// The override rule set this edge passes on to its target (`None`
    /// when the project has no overrides).
    pub overrides: Option<RuleId>,
    /// Set when an override replaced the package's own spec (`raw`/`spec`
    /// then hold the override's).
    pub overridden: Option<Arc<Overridden>>,
}

impl Edge {
    pub fn satisfied_by(&self, pkg: &Package) -> bool {
        dep_valid::dep_valid(&self.spec, pkg)
            || self
                .overridden
                .as_ref()
                .is_some_and(|o| o.still_satisfied_by(&pkg.name, &pkg.version))
    }
}

/// Lockfile flags, computed by [`Tree::compute_flags`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub dev: bool,
    pub optional: bool,
    pub dev_optional: bool,
    pub peer: bool,
    /// In the project's own `bundleDependencies` (npm's inBundle with the
    /// root as bundler): installed from the registry like any dependency.
    pub bundled: bool,
}

#[derive(Debug, Clone)]
pub struct Node {
    /// The folder name under `node_modules` (the alias for `npm:` deps).
    pub name: String,
    pub pkg: Arc<Package>,
    pub parent: Option<NodeId>,
    pub children: BTreeMap<String, NodeId>,
    /// Sorted by name.
    pub edges: Vec<Edge>,
    pub alive: bool,
    pub depth: usize,
    pub flags: Flags,
    /// For a link (`pkg.link`): the node of the folder it points at.
    pub target: Option<NodeId>,
    /// For a linked folder (a workspace, a `file:` folder): its path
    /// relative to the root. Such a node has no parent; the root is its
    /// `fs_parent` when the folder is inside the project.
    pub path: Option<String>,
    pub fs_parent: Option<NodeId>,
    /// The override rule set that applies to this node and below.
    pub overrides: Option<RuleId>,
}

impl Node {
    pub fn edge(&self, name: &str) -> Option<&Edge> {
        self.edges
            .binary_search_by(|e| e.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.edges[i])
    }
}

/// Options that change which edges exist.
#[derive(Debug, Clone, Default)]
pub struct EdgeOptions {
    pub legacy_peer_deps: bool,
    /// npm's `prefer-dedupe` (placement, not edges; carried with the tree).
    pub prefer_dedupe: bool,
    /// package.json `overrides`, applied per node through its rule set.
    pub overrides: Arc<Overrides>,
    /// The project folder (absolute), for `file:` paths.
    pub root_dir: Arc<PathBuf>,
    /// The root's workspaces: (package name, folder relative to the root).
    pub workspaces: Arc<Vec<(String, String)>>,
    /// Specs parsed so far (shared by clones).
    pub specs: SpecCache,
    /// package.json files of linked folders (workspaces) as edited in
    /// memory by `brisk add -w`, by folder (relative to the root): read
    /// instead of the file on disk, which is written only once the install
    /// succeeded.
    pub folders: Folders,
}

/// Folder package.json files edited in memory (see [`EdgeOptions::folders`]).
pub type Folders = Arc<HashMap<String, crate::project::Project>>;

/// Registry specs by package name and raw spec. A tree parses the same
/// `"^1.0.0"` of the same name thousands of times (on every edge, and again
/// when override sets are applied), and parsing semver ranges was a large
/// share of building a tree from a lockfile. Sharded: a lockfile's entries
/// are read on two threads at once, and with one lock around the cache they
/// waited on each other.
#[derive(Clone, Default)]
pub struct SpecCache(Arc<DashMap<String, HashMap<String, Arc<Spec>>>>);

impl SpecCache {
    /// `Spec::parse` (an invalid spec is `Spec::Other`), with `file:` and
    /// folder paths rebased from `base`; those are never shared.
    fn parse(&self, name: &str, raw: &str, base: Option<&str>, root: &Path) -> Arc<Spec> {
        if let Some(spec) = self.0.get(name).and_then(|m| m.get(raw).cloned()) {
            return spec;
        }
        let spec = Spec::parse(name, raw).unwrap_or(Spec::Other { kind: "invalid" });
        if matches!(spec, Spec::Directory { .. } | Spec::File { .. }) {
            return Arc::new(spec.rebase(base.unwrap_or(""), root));
        }
        let spec = Arc::new(spec);
        self.0
            .entry(name.to_string())
            .or_default()
            .insert(raw.to_string(), spec.clone());
        spec
    }
}

impl std::fmt::Debug for SpecCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n: usize = self.0.iter().map(|m| m.len()).sum();
        write!(f, "SpecCache({n} specs)")
    }
}

/// Build the edges of a package as arborist does: peers, then prod, then
/// optional, then (root and linked folders: `base` is Some) dev, then the
/// root's workspaces; a later kind replaces an earlier one. `base` is the
/// folder `file:` paths are relative to. The root gets the root override
/// set; other nodes none (see [`edges_with_overrides`]).
pub fn edges_of(pkg: &Package, is_root: bool, base: Option<&str>, opts: &EdgeOptions) -> Vec<Edge> {
    let set = (is_root && !opts.overrides.is_empty()).then_some(ROOT_RULE);
    edges_with_overrides(pkg, is_root, base, opts, set)
}

/// [`edges_of`] for a node in override set `set`.
pub fn edges_with_overrides(
    pkg: &Package,
    is_root: bool,
    base: Option<&str>,
    opts: &EdgeOptions,
    set: Option<RuleId>,
) -> Vec<Edge> {
    let mut map: BTreeMap<String, (String, EdgeKind)> = BTreeMap::new();
    if pkg.link {
        return Vec::new();
    }
    if !opts.legacy_peer_deps {
        for (name, raw) in &pkg.peer_dependencies {
            let kind = if pkg.peer_is_optional(name) {
                EdgeKind::PeerOptional
            } else {
                EdgeKind::Peer
            };
            map.insert(name.clone(), (raw.clone(), kind));
        }
    }
    for (name, raw) in &pkg.dependencies {
        map.insert(name.clone(), (raw.clone(), EdgeKind::Prod));
    }
    for (name, raw) in &pkg.optional_dependencies {
        map.insert(name.clone(), (raw.clone(), EdgeKind::Optional));
    }
    if base.is_some() {
        for (name, raw) in &pkg.dev_dependencies {
            map.insert(name.clone(), (raw.clone(), EdgeKind::Dev));
        }
    }
    if is_root {
        for (name, path) in opts.workspaces.iter() {
            map.insert(name.clone(), (format!("file:{path}"), EdgeKind::Workspace));
        }
    }
    map.into_iter()
        .map(|(name, (mut raw, kind))| {
            let (mut overrides, mut overridden) = (None, None);
            if let Some(set) = set {
                let (rule, replaced) = opts.overrides.apply(set, &name, &raw);
                overrides = Some(rule);
                if let Some((value, over)) = replaced {
                    raw = value;
                    overridden = Some(Arc::new(over));
                }
            }
            let spec = opts.specs.parse(&name, &raw, base, &opts.root_dir);
            Edge {
                name,
                raw,
                spec,
                kind,
                overrides,
                overridden,
            }
        })
        .collect()
}

/// The tree: an arena of nodes, the root at index 0.
#[derive(Debug, Clone)]
pub struct Tree {
    pub nodes: Vec<Node>,
    opts: EdgeOptions,
    /// name → nodes that have an edge on that name (for `edges_in`).
    dependents: HashMap<String, Vec<NodeId>>,
    /// Linked folders by path.
    targets: HashMap<String, NodeId>,
}

impl Tree {
    pub fn new(root: Package, opts: EdgeOptions) -> Tree {
        let mut tree = Tree {
            nodes: Vec::new(),
            opts,
            dependents: HashMap::new(),
            targets: HashMap::new(),
        };
        tree.push(String::new(), Arc::new(root), None, Some(""));
        // `file:.` links the project to itself: the root is that folder.
        tree.targets.insert(String::new(), ROOT);
        tree.init_overrides();
        tree
    }

    pub fn edge_options(&self) -> &EdgeOptions {
        &self.opts
    }

    pub fn root(&self) -> &Node {
        &self.nodes[ROOT]
    }

    fn push(
        &mut self,
        name: String,
        pkg: Arc<Package>,
        parent: Option<NodeId>,
        base: Option<&str>,
    ) -> NodeId {
        let edges = edges_of(&pkg, self.nodes.is_empty(), base, &self.opts);
        self.push_node(name, pkg, parent, edges)
    }

    fn push_node(
        &mut self,
        name: String,
        pkg: Arc<Package>,
        parent: Option<NodeId>,
        edges: Vec<Edge>,
    ) -> NodeId {
        let id = self.nodes.len();
        for e in &edges {
            self.dependents.entry(e.name.clone()).or_default().push(id);
        }
        let depth = parent.map_or(0, |p| self.nodes[p].depth + 1);
        self.nodes.push(Node {
            name,
            pkg,
            parent,
            children: BTreeMap::new(),
            edges,
            alive: true,
            depth,
            flags: Flags::default(),
            target: None,
            path: None,
            fs_parent: None,
            overrides: None,
        });
        id
    }

    /// The node for the linked folder at `path` (relative to the root),
    /// added on first use. A folder inside the project resolves modules
    /// (and gets its dependencies hoisted) up to the root's node_modules.
    pub fn add_target(&mut self, path: &str, pkg: Arc<Package>) -> NodeId {
        if let Some(&id) = self.targets.get(path) {
            if self.nodes[id].alive {
                return id;
            }
        }
        let id = self.push(String::new(), pkg, None, Some(path));
        let node = &mut self.nodes[id];
        node.path = Some(path.to_string());
        if path != ".." && !path.starts_with("../") {
            node.fs_parent = Some(ROOT);
            node.depth = 1;
        }
        node.name = path.rsplit('/').next().unwrap_or(path).to_string();
        self.targets.insert(path.to_string(), id);
        // A linked folder is under the project's own overrides, like the root.
        if !self.opts.overrides.is_empty() {
            self.set_overrides(id, Some(ROOT_RULE));
        }
        id
    }

    /// The folder a node's `file:` dependencies are relative to: the root's
    /// and linked folders' own (None for packages in node_modules).
    pub fn edge_base(&self, id: NodeId) -> Option<&str> {
        if id == ROOT {
            return Some("");
        }
        self.nodes[id].path.as_deref()
    }

    /// The linked folder at `path`, if the tree has it.
    pub fn target_at(&self, path: &str) -> Option<NodeId> {
        self.targets
            .get(path)
            .copied()
            .filter(|&id| self.nodes[id].alive)
    }

    /// A linked folder outside the project: npm leaves its dependencies
    /// alone.
    pub fn is_external(&self, id: NodeId) -> bool {
        let n = &self.nodes[id];
        n.path.is_some() && n.fs_parent.is_none()
    }

    /// Where module lookup goes after `id`'s own node_modules.
    pub fn resolve_parent(&self, id: NodeId) -> Option<NodeId> {
        let n = &self.nodes[id];
        n.parent.or(n.fs_parent)
    }

    /// Add a new node in `parent`'s node_modules.
    pub fn add(&mut self, parent: NodeId, name: &str, pkg: Arc<Package>) -> NodeId {
        let id = self.push(name.to_string(), pkg, Some(parent), None);
        self.nodes[parent].children.insert(name.to_string(), id);
        id
    }

    /// [`Tree::add`] with the edges built already, in override set `set`
    /// (a lockfile's entries are read in parallel).
    pub fn add_built(
        &mut self,
        parent: NodeId,
        name: &str,
        pkg: Arc<Package>,
        edges: Vec<Edge>,
        set: Option<RuleId>,
    ) -> NodeId {
        let id = self.push_node(name.to_string(), pkg, Some(parent), edges);
        self.nodes[id].overrides = set;
        self.nodes[parent].children.insert(name.to_string(), id);
        id
    }

    /// Put `pkg` in place of the existing node `old` (arborist's replace:
    /// the new node takes over the old one's children).
    pub fn replace(&mut self, old: NodeId, pkg: Arc<Package>) -> NodeId {
        let parent = self.nodes[old].parent.expect("the root is never replaced");
        let name = self.nodes[old].name.clone();
        let id = self.push(name.clone(), pkg, Some(parent), None);
        let children = std::mem::take(&mut self.nodes[old].children);
        for &c in children.values() {
            self.nodes[c].parent = Some(id);
        }
        self.nodes[id].children = children;
        self.nodes[old].alive = false;
        self.nodes[parent].children.insert(name, id);
        id
    }

    /// Remove a node and everything below it.
    pub fn remove(&mut self, id: NodeId) {
        if let Some(p) = self.nodes[id].parent {
            if self.nodes[p].children.get(&self.nodes[id].name) == Some(&id) {
                let name = self.nodes[id].name.clone();
                self.nodes[p].children.remove(&name);
            }
        }
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            self.nodes[n].alive = false;
            stack.extend(self.nodes[n].children.values().copied());
        }
    }

    /// Node's module resolution: `name` from inside `from`'s folder.
    pub fn resolve(&self, from: NodeId, name: &str) -> Option<NodeId> {
        let mut cur = Some(from);
        while let Some(n) = cur {
            if let Some(&c) = self.nodes[n].children.get(name) {
                return Some(c);
            }
            cur = self.resolve_parent(n);
        }
        None
    }

    /// Is `node` inside `ancestor`'s folder (or the same)?
    pub fn is_descendant_of(&self, node: NodeId, ancestor: NodeId) -> bool {
        let mut cur = Some(node);
        while let Some(n) = cur {
            if n == ancestor {
                return true;
            }
            cur = self.resolve_parent(n);
        }
        false
    }

    /// Edges that currently resolve to `id`: (dependent, edge index).
    pub fn edges_in(&self, id: NodeId) -> Vec<(NodeId, usize)> {
        let node = &self.nodes[id];
        let mut out = Vec::new();
        let Some(deps) = self.dependents.get(&node.name) else {
            return out;
        };
        for &from in deps {
            let f = &self.nodes[from];
            if !f.alive {
                continue;
            }
            // Only nodes under the parent folder can see this node.
            if let Some(p) = node.parent {
                if !self.is_descendant_of(from, p) {
                    continue;
                }
            }
            if self.resolve(from, &node.name) == Some(id) {
                if let Ok(i) = f
                    .edges
                    .binary_search_by(|e| e.name.as_str().cmp(&node.name))
                {
                    out.push((from, i));
                }
            }
        }
        out
    }

    /// Does edge `ei` of `id` need work: missing (unless an optional peer)
    /// or not satisfied by what it resolves to?
    pub fn is_problem(&self, id: NodeId, ei: usize) -> bool {
        let e = &self.nodes[id].edges[ei];
        match self.resolve(id, &e.name) {
            None => e.kind != EdgeKind::PeerOptional,
            Some(to) => !e.satisfied_by(&self.nodes[to].pkg),
        }
    }

    /// Does `id` have an edge npm calls invalid: missing (a required one),
    /// or not satisfied by what it resolves to?
    pub fn has_invalid_edge(&self, id: NodeId) -> bool {
        self.nodes[id]
            .edges
            .iter()
            .any(|e| match self.resolve(id, &e.name) {
                None => !e.kind.is_optional(),
                Some(to) => !e.satisfied_by(&self.nodes[to].pkg),
            })
    }

    /// Every edge of `id` that needs work.
    pub fn problem_edges(&self, id: NodeId) -> Vec<usize> {
        (0..self.nodes[id].edges.len())
            .filter(|&i| self.is_problem(id, i))
            .collect()
    }

    /// The lockfile location of a node: `node_modules/a/node_modules/b`.
    /// (A linked folder's own location is its path: `packages/a`.)
    pub fn location(&self, id: NodeId) -> String {
        let mut parts = Vec::new();
        let mut cur = id;
        while let Some(p) = self.nodes[cur].parent {
            parts.push(self.nodes[cur].name.as_str());
            cur = p;
        }
        parts.reverse();
        let mut s = self.nodes[cur].path.clone().unwrap_or_default();
        for part in parts {
            if !s.is_empty() {
                s.push('/');
            }
            s.push_str("node_modules/");
            s.push_str(part);
        }
        s
    }

    /// Live non-root nodes with their locations, sorted as npm sorts them.
    pub fn sorted_locations(&self) -> Vec<(String, NodeId)> {
        let mut out: Vec<(String, NodeId)> = self
            .nodes
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, n)| n.alive)
            .map(|(id, _)| (self.location(id), id))
            .collect();
        out.sort_by(|a, b| locale_cmp(&a.0, &b.0));
        out
    }

    /// Nodes reachable from `starts` through dependency edges and links (a
    /// link brings in the folder it points at), entering only nodes that
    /// `allow` accepts.
    pub fn reachable(&self, starts: &[NodeId], allow: impl Fn(NodeId) -> bool) -> Vec<bool> {
        let mut seen = vec![false; self.nodes.len()];
        for &s in starts {
            seen[s] = true;
        }
        let mut stack = starts.to_vec();
        while let Some(n) = stack.pop() {
            let deps = self.nodes[n].edges.iter().map(|e| self.resolve(n, &e.name));
            for to in deps.chain([self.nodes[n].target]).flatten() {
                if !seen[to] && allow(to) {
                    seen[to] = true;
                    stack.push(to);
                }
            }
        }
        seen
    }

    /// Remove nodes that no edge reaches from the root (extraneous).
    pub fn prune_unreachable(&mut self) {
        let seen = self.reachable(&[ROOT], |_| true);
        let dead: Vec<NodeId> = (1..self.nodes.len())
            .filter(|&i| self.nodes[i].alive && !seen[i])
            .collect();
        for id in dead {
            if self.nodes[id].alive {
                self.remove(id);
            }
        }
    }

    /// The nodes the project's own `bundleDependencies` bundle, by npm's
    /// `getBundler`: the named top-level packages, what they contain, and
    /// every top-level package a bundled one depends on.
    pub fn root_bundle(&self) -> Vec<bool> {
        let mut marked = vec![false; self.nodes.len()];
        let root = &self.nodes[ROOT];
        let names: Vec<&str> = match &root.pkg.bundle_dependencies {
            Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str()).collect(),
            // `true` bundles every dependency (read-package-json's normalization).
            Some(serde_json::Value::Bool(true)) => {
                root.pkg.dependencies.keys().map(String::as_str).collect()
            }
            _ => return marked,
        };
        let mut stack: Vec<NodeId> = names
            .iter()
            .filter_map(|n| root.children.get(*n).copied())
            .collect();
        while let Some(n) = stack.pop() {
            if marked[n] || !self.nodes[n].alive || self.nodes[n].pkg.link {
                continue;
            }
            marked[n] = true;
            stack.extend(self.nodes[n].children.values().copied());
            for e in &self.nodes[n].edges {
                if let Some(to) = self.resolve(n, &e.name) {
                    if self.nodes[to].parent == Some(ROOT) {
                        stack.push(to);
                    }
                }
            }
        }
        marked
    }

    /// npm's calcDepFlags: every node starts dev+optional+devOptional+peer;
    /// walking edges from the root unsets what a non-dev / non-optional /
    /// non-peer path reaches.
    pub fn compute_flags(&mut self) {
        let all = Flags {
            dev: true,
            optional: true,
            dev_optional: true,
            peer: true,
            bundled: false,
        };
        for n in self.nodes.iter_mut() {
            n.flags = all;
        }
        self.nodes[ROOT].flags = Flags::default();
        let mut stack = vec![ROOT];
        while let Some(n) = stack.pop() {
            let from = self.nodes[n].flags;
            for i in 0..self.nodes[n].edges.len() {
                let e = &self.nodes[n].edges[i];
                let Some(to) = self.resolve(n, &e.name) else {
                    continue;
                };
                let (dev, optional, peer) = (
                    e.kind == EdgeKind::Dev,
                    e.kind.is_optional(),
                    e.kind.is_peer(),
                );
                let unset_dev_opt = !from.dev_optional && !dev && !optional;
                let unset_dev = unset_dev_opt || (!from.dev && !dev);
                let unset_opt = unset_dev_opt || (!from.optional && !optional);
                let unset_peer = !from.peer && !peer;
                let t = &mut self.nodes[to].flags;
                let before = *t;
                if unset_peer {
                    t.peer = false;
                }
                if unset_dev_opt {
                    t.dev_optional = false;
                }
                if unset_dev {
                    t.dev = false;
                }
                if unset_opt {
                    t.optional = false;
                }
                if *t != before {
                    stack.push(to);
                }
            }
            // A linked folder is what its link is.
            if let Some(t) = self.nodes[n].target {
                let flags = self.nodes[n].flags;
                if self.nodes[t].flags != flags {
                    self.nodes[t].flags = flags;
                    stack.push(t);
                }
            }
        }
        for (id, bundled) in self.root_bundle().into_iter().enumerate() {
            self.nodes[id].flags.bundled = bundled;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_cache_shares_registry_specs_and_rebases_paths_per_folder() {
        let cache = SpecCache::default();
        let root = Path::new("/project");
        let a = cache.parse("a", "^1.0.0", None, root);
        assert!(a.satisfied_by("a", "1.2.0") && !a.satisfied_by("a", "2.0.0"));
        assert!(Arc::ptr_eq(
            &a,
            &cache.parse("a", "^1.0.0", Some("packages/x"), root)
        ));
        let b = cache.parse("b", "^1.0.0", None, root);
        assert!(!Arc::ptr_eq(&a, &b) && b.satisfied_by("b", "1.0.0"));
        let from_root = cache.parse("f", "file:../f", None, root);
        let from_workspace = cache.parse("f", "file:../f", Some("packages/x"), root);
        let path = |s: &Spec| match s {
            Spec::Directory { path } => path.clone(),
            other => panic!("not a folder spec: {other:?}"),
        };
        assert_eq!(path(&from_root), "../f");
        assert_eq!(path(&from_workspace), "packages/f");
    }
}
