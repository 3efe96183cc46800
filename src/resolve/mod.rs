//! Resolution: build the ideal tree from package.json and registry metadata,
//! the way npm's arborist does (breadth-first by depth, then path; each
//! node's unmet edges in name order; each package chosen with its peer set
//! and placed together with it, see `tree::place`; workspaces' own
//! dependencies once everything else is placed). The result depends only on the metadata, never on the order
//! network replies arrive: packuments are fetched concurrently and ahead of
//! time, but consumed in this fixed order.

mod conflict;
mod source;

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use futures_util::future::join_all;
use nodejs_semver::Version;
use serde_json::{json, Value};

pub use source::Source;

use crate::error::{Code, Error, Result};
pub use crate::lockfile::Locked;
use crate::registry::{pick_version_with, Manifest, PickOptions};
use crate::spec::Spec;
use crate::tree::{
    locale_cmp, Edge, EdgeKind, EdgeOptions, NodeId, Package, PeerSet, PlaceOptions, Placed, Tree,
    ROOT,
};

#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    pub edges: EdgeOptions,
    /// Every peer conflict is an error (`E_PEER_CONFLICT`), not only those
    /// of the project's own dependencies.
    pub strict_peer_deps: bool,
    /// npm's `--force`: peer conflicts only warn, even the project's own.
    pub force: bool,
    /// Versions a previous lockfile had, per package name: when one still
    /// satisfies a range it is kept, so re-resolving a stale lockfile
    /// changes only what package.json changed.
    pub locked: Arc<HashMap<String, Vec<Locked>>>,
    /// npm avoids versions whose `engines.node` excludes the running Node.
    pub pick: PickOptions,
    pub cancel: crate::cancel::CancelToken,
}

/// The ideal tree plus what went wrong without failing the install.
#[derive(Debug)]
pub struct Resolution {
    pub tree: Tree,
    pub warnings: Vec<String>,
}

/// Turn a registry manifest into the package data the tree and lockfile use.
/// A registry's tarball must be http(s): `file:` and other schemes come only
/// from the user's own package.json or lockfile, never from a packument.
pub fn package_from_manifest(m: &Manifest) -> Result<Package> {
    let url = &m.dist.tarball;
    if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
        return Err(Error::new(
            Code::Manifest,
            format!(
                "the registry says the tarball of {}@{} is at {:?}; a registry tarball must be an http(s) URL. Refusing it.",
                m.name, m.version, crate::config::redact_credentials(url)
            ),
        ));
    }
    let mut dependencies = m.dependencies.clone();
    dependencies.retain(|k, _| !m.optional_dependencies.contains_key(k));
    let integrity = m.dist.integrity.clone().or_else(|| {
        m.dist.shasum.as_ref().and_then(|hex| {
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                .collect::<Option<Vec<u8>>>()?;
            use base64::Engine;
            Some(format!(
                "sha1-{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            ))
        })
    });
    Ok(Package {
        name: m.name.clone(),
        version: m.version.clone(),
        resolved: Some(m.dist.tarball.clone()),
        integrity,
        license: m.license.clone(),
        dependencies,
        optional_dependencies: m.optional_dependencies.clone(),
        peer_dependencies: m.peer_dependencies.clone(),
        peer_dependencies_meta: m
            .peer_dependencies_meta
            .iter()
            .map(|(k, v)| (k.clone(), json!({ "optional": v.optional })))
            .collect(),
        dev_dependencies: Default::default(),
        bin: m.bin.clone(),
        engines: if m.engines.is_empty() {
            m.engines_list.clone()
        } else {
            Some(Value::Object(
                m.engines
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ))
        },
        funding: crate::tree::normalize_funding(m.funding.as_ref()),
        os: m.os.clone(),
        cpu: m.cpu.clone(),
        libc: m.libc.clone(),
        has_install_script: m.has_install_script,
        deprecated: m.deprecated.clone(),
        has_shrinkwrap: m.has_shrinkwrap,
        workspaces: m.workspaces.clone(),
        bundle_dependencies: if m.bundle_dependencies.is_empty() {
            None
        } else {
            Some(json!(m.bundle_dependencies))
        },
        has_dev_dependencies: false,
        link: false,
        in_bundle: false,
    })
}

/// Queue order: depth, then location in locale order.
#[derive(PartialEq, Eq)]
struct QueueKey {
    depth: usize,
    location: String,
    id: NodeId,
}

impl Ord for QueueKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.depth
            .cmp(&other.depth)
            .then_with(|| locale_cmp(&self.location, &other.location))
            .then_with(|| self.id.cmp(&other.id))
    }
}
impl PartialOrd for QueueKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

struct Resolver<'a, S: Source, F: FnMut(&Package)> {
    tree: Tree,
    source: &'a S,
    opts: ResolveOptions,
    queue: BTreeSet<QueueKey>,
    warnings: Vec<String>,
    /// Peer edges left unmet after a warned conflict (npm's peerConflicted).
    peer_conflicted: HashSet<(NodeId, usize)>,
    on_placed: F,
    /// Linked folders' packages by path (read once each).
    folders: HashMap<String, Arc<Package>>,
    /// Linked folders (workspaces) whose dependencies wait until the queue
    /// is empty: npm builds them after everything the root brings
    /// (arborist's #resolveLinks), so the root's tree gets the top first.
    links: Vec<NodeId>,
}

/// Build the ideal tree for `root` (the project's package data, with
/// devDependencies). `on_placed` sees every package as it is placed, so
/// downloads can start during resolution.
pub async fn resolve<S: Source, F: FnMut(&Package)>(
    root: Package,
    source: &S,
    opts: ResolveOptions,
    on_placed: F,
) -> Result<Resolution> {
    opts.edges
        .overrides
        .check_root(&root, opts.edges.legacy_peer_deps)?;
    let tree = Tree::new(root, opts.edges.clone());
    let mut r = Resolver::new(tree, source, opts, on_placed);
    r.prefetch_deps(ROOT);
    r.enqueue(ROOT);
    r.run().await
}

/// Re-resolve starting from `tree`, a previous lockfile's tree with the
/// project's current root: only the edges it does not meet (a dependency
/// added, a range changed) are resolved, and what nothing reaches any more
/// is pruned. This is npm's way (its ideal tree starts from the lockfile's
/// virtual tree), and it asks the registry only about what changed.
pub async fn resolve_from<S: Source, F: FnMut(&Package)>(
    tree: Tree,
    source: &S,
    opts: ResolveOptions,
    on_placed: F,
) -> Result<Resolution> {
    opts.edges
        .overrides
        .check_root(&tree.root().pkg, opts.edges.legacy_peer_deps)?;
    let mut r = Resolver::new(tree, source, opts, on_placed);
    // npm starts from the root and the nodes with an invalid edge; a
    // missing optional dependency (a platform package the registry lacks)
    // is valid, so it is looked at again only through the root.
    let problems: Vec<NodeId> = (0..r.tree.nodes.len())
        .filter(|&id| r.tree.nodes[id].alive && (id == ROOT || r.tree.has_invalid_edge(id)))
        .collect();
    for id in problems {
        r.prefetch_deps(id);
        r.enqueue(id);
    }
    r.run().await
}

impl<'a, S: Source, F: FnMut(&Package)> Resolver<'a, S, F> {
    fn new(tree: Tree, source: &'a S, opts: ResolveOptions, on_placed: F) -> Self {
        Resolver {
            tree,
            source,
            opts,
            queue: BTreeSet::new(),
            warnings: Vec::new(),
            peer_conflicted: HashSet::new(),
            on_placed,
            folders: HashMap::new(),
            links: Vec::new(),
        }
    }

    /// Place what the queued nodes need until nothing is left to do.
    async fn run(mut self) -> Result<Resolution> {
        loop {
            while let Some(key) = self.queue.pop_first() {
                self.opts.cancel.check()?;
                if self.tree.nodes[key.id].alive {
                    self.build_deps(key.id).await?;
                }
            }
            let links = std::mem::take(&mut self.links);
            if links.is_empty() {
                break;
            }
            for target in links {
                if self.tree.nodes[target].alive {
                    self.enqueue(target);
                }
            }
        }
        self.tree.prune_unreachable();
        self.tree.compute_flags();
        Ok(Resolution {
            tree: self.tree,
            warnings: self.warnings,
        })
    }
}

impl<S: Source, F: FnMut(&Package)> Resolver<'_, S, F> {
    fn enqueue(&mut self, id: NodeId) {
        // Depth as npm counts it: from the nearest top (the root or a
        // linked folder, which are depth 0).
        let mut depth = 0;
        let mut cur = id;
        while let Some(p) = self.tree.nodes[cur].parent {
            depth += 1;
            cur = p;
        }
        self.queue.insert(QueueKey {
            depth,
            location: self.tree.location(id),
            id,
        });
    }

    /// Ask for the packuments of a node's dependencies ahead of need (not
    /// those a lockfile entry serves).
    fn prefetch_deps(&self, id: NodeId) {
        for e in &self.tree.nodes[id].edges {
            if e.kind == EdgeKind::PeerOptional {
                continue;
            }
            if let Spec::Registry { name, wanted, .. } = &*e.spec {
                let served = self
                    .locked_for(&e.spec, name)
                    .is_some_and(|l| l.package.is_some());
                if !served {
                    self.source.prefetch(name, wanted);
                }
            }
        }
    }

    /// The newest locked version of `name` that `spec` accepts.
    fn locked_for(&self, spec: &Spec, name: &str) -> Option<&Locked> {
        let versions = self.opts.locked.get(name)?;
        versions
            .iter()
            .filter(|l| spec.satisfied_by(name, &l.version))
            .max_by(|a, b| {
                Version::parse(&a.version)
                    .ok()
                    .cmp(&Version::parse(&b.version).ok())
            })
    }

    /// Who asked for it, for messages.
    fn describe(&self, id: NodeId) -> String {
        if id == ROOT {
            "the project's package.json".to_string()
        } else {
            format!(
                "{} at {}",
                self.tree.nodes[id].pkg.id(),
                self.tree.location(id)
            )
        }
    }

    /// Pick the manifest for edge `ei` of `from`. `Ok(None)` means an
    /// optional edge failed and was skipped with a warning.
    async fn manifest_for(&mut self, from: NodeId, ei: usize) -> Result<Option<Arc<Package>>> {
        let edge = self.tree.nodes[from].edges[ei].clone();
        // The name becomes a folder: a path must never get there, not even
        // from an optional dependency.
        if let Err(why) = crate::name::check(&edge.name) {
            return Err(Error::new(
                Code::Manifest,
                format!(
                    "{} declares a dependency named {:?}, which is not a valid package name ({why}); refusing to install it",
                    self.describe(from),
                    edge.name
                ),
            ));
        }
        let result = async {
            match &*edge.spec {
                Spec::Other { kind: "invalid" } => Err(Error::new(
                    Code::Manifest,
                    format!(
                        "{}@{} is not a valid specifier (a semver range, a dist-tag, a URL or a path)",
                        edge.name, edge.raw
                    ),
                )),
                Spec::Other { kind } => Err(Error::new(
                    Code::Manifest,
                    format!("{}@{} is not a valid {kind} specifier", edge.name, edge.raw),
                )),
                Spec::Git { raw } => {
                    let spec = crate::git::parse(raw).ok_or_else(|| {
                        Error::new(
                            Code::Manifest,
                            format!("{}@{} is not a valid git specifier", edge.name, edge.raw),
                        )
                    })?;
                    let sha = crate::git::resolve(&spec).await?;
                    let resolved = spec.resolved_url(&sha);
                    let pkg = self.tarball_package(&resolved, resolved.clone()).await?;
                    // npm records no integrity for git dependencies.
                    let mut pkg = Arc::unwrap_or_clone(pkg);
                    pkg.integrity = None;
                    Ok(Arc::new(pkg))
                }
                Spec::Directory { path } => self.folder_link(path),
                Spec::Workspace { .. } => {
                    let path = self
                        .opts
                        .edges
                        .workspaces
                        .iter()
                        .find(|(name, _)| *name == edge.name)
                        .map(|(_, path)| path.clone())
                        .ok_or_else(|| {
                            Error::new(
                                Code::NotFound,
                                format!(
                                    "{}@{}: the project has no workspace named \"{}\"",
                                    edge.name, edge.raw, edge.name
                                ),
                            )
                        })?;
                    let link = self.folder_link(&path)?;
                    if !edge.satisfied_by(&link) {
                        return Err(Error::new(
                            Code::NoMatchingVersion,
                            format!(
                                "{}@{}: the workspace at {path} has version {}",
                                edge.name, edge.raw, link.version
                            ),
                        ));
                    }
                    Ok(link)
                }
                Spec::File { path } => {
                    let abs = self.opts.edges.root_dir.join(path);
                    let url = format!("file://{}", abs.display());
                    self.tarball_package(&url, format!("file:{path}")).await
                }
                Spec::Url { url } => self.tarball_package(url, url.clone()).await,
                Spec::Registry { name, wanted, .. } => {
                    self.registry_package(&edge.spec, name, wanted).await
                }
            }
        }
        .await;
        match result {
            Ok(pkg) => Ok(Some(pkg)),
            Err(e) if edge.kind.is_optional() && e.code != Code::Cancelled => {
                self.warnings.push(format!(
                    "skipping optional dependency {}@{} of {}: {}",
                    edge.name,
                    edge.raw,
                    self.describe(from),
                    e.detail()
                ));
                Ok(None)
            }
            Err(mut e) => {
                e.message = format!("{} (required by {})", e.message, self.describe(from));
                Err(e)
            }
        }
    }

    /// The package in the folder `path` (relative to the root).
    fn folder_package(&mut self, path: &str) -> Result<Arc<Package>> {
        if let Some(p) = self.folders.get(path) {
            return Ok(p.clone());
        }
        let dir = self.opts.edges.root_dir.join(path);
        let loaded = match self.opts.edges.folders.get(path) {
            Some(edited) => Ok(edited.clone()),
            None => crate::project::Project::load(&dir),
        };
        let project = loaded.map_err(|e| {
            Error::new(
                Code::NotFound,
                format!(
                    "the folder {} has no usable package.json ({})",
                    dir.display(),
                    e.detail()
                ),
            )
        })?;
        let mut pkg = Package::from_project(&project);
        if pkg.name.is_empty() {
            pkg.name = path.rsplit('/').next().unwrap_or(path).to_string();
        }
        let pkg = Arc::new(pkg);
        self.folders.insert(path.to_string(), pkg.clone());
        Ok(pkg)
    }

    /// The link to the folder `path`.
    fn folder_link(&mut self, path: &str) -> Result<Arc<Package>> {
        Ok(Arc::new(self.folder_package(path)?.link_to(path)))
    }

    /// A package from a tarball (`file:` or a URL), `resolved` as the
    /// lockfile records it.
    async fn tarball_package(&self, url: &str, resolved: String) -> Result<Arc<Package>> {
        let (manifest, integrity) = self.source.tarball_manifest(url).await?;
        let project = crate::project::Project::from_map(std::path::Path::new(url), manifest)?;
        let mut pkg = Package::from_dependency(&project);
        pkg.resolved = Some(resolved);
        pkg.integrity = Some(integrity);
        Ok(Arc::new(pkg))
    }

    /// A package that bundles dependencies ships them in its tarball: they
    /// join the tree from there (npm's inBundle), never from the registry,
    /// and are not built further.
    async fn add_bundled(&mut self, node: NodeId) -> Result<()> {
        let pkg = self.tree.nodes[node].pkg.clone();
        let bundles = match &pkg.bundle_dependencies {
            Some(Value::Array(a)) => !a.is_empty(),
            Some(Value::Bool(b)) => *b,
            _ => false,
        };
        if !bundles {
            return Ok(());
        }
        let dir = self.source.package_dir(&pkg).await?;
        let mut found = Vec::new();
        read_bundled(&dir.join("node_modules"), &mut Vec::new(), &mut found);
        for (names, bundled) in found {
            let mut parent = node;
            for name in &names[..names.len() - 1] {
                match self.tree.nodes[parent].children.get(name) {
                    Some(&c) => parent = c,
                    None => break,
                }
            }
            let name = &names[names.len() - 1];
            if !self.tree.nodes[parent].children.contains_key(name) {
                self.tree.add(parent, name, Arc::new(bundled));
            }
        }
        Ok(())
    }

    /// After a link is placed: the folder it points at joins the tree, and
    /// (inside the project) gets its dependencies built.
    fn add_link_target(&mut self, link: NodeId, path: &str) -> Result<()> {
        let pkg = self.folder_package(path)?;
        let existed = self.tree.target_at(path).is_some();
        let target = self.tree.add_target(path, pkg);
        self.tree.nodes[link].target = Some(target);
        if !existed && !self.tree.is_external(target) {
            self.prefetch_deps(target);
            self.links.push(target);
        }
        Ok(())
    }

    async fn build_deps(&mut self, id: NodeId) -> Result<()> {
        // Dependencies reached through this node inherit its override rules.
        for changed in self.tree.push_edge_overrides(id) {
            self.enqueue(changed);
        }
        let problems = self.tree.problem_edges(id);
        if problems.is_empty() {
            return Ok(());
        }
        // Make sure every packument this step needs is on its way at once
        // (none for what a lockfile entry serves).
        let names: Vec<String> = problems
            .iter()
            .filter_map(|&ei| match &*self.tree.nodes[id].edges[ei].spec {
                Spec::Registry { name, .. } => Some((ei, name.clone())),
                _ => None,
            })
            .filter(|(ei, name)| {
                let spec = &self.tree.nodes[id].edges[*ei].spec;
                self.locked_for(spec, name)
                    .is_none_or(|l| l.package.is_none())
            })
            .map(|(_, name)| name)
            .collect();
        let _ = join_all(names.iter().map(|n| self.source.packument(n))).await;
        for ei in problems {
            // An earlier placement may have met this edge already.
            if !self.tree.is_problem(id, ei) || self.peer_conflicted.contains(&(id, ei)) {
                continue;
            }
            let Some(pkg) = self.manifest_for(id, ei).await? else {
                continue;
            };
            self.place(id, ei, pkg).await?;
        }
        Ok(())
    }

    /// Place a package and then the peers it needs next to it.
    async fn place(&mut self, from: NodeId, ei: usize, pkg: Arc<Package>) -> Result<()> {
        let set = self.peer_set(from, ei, pkg).await?;
        let opts = PlaceOptions {
            force: self.opts.force,
            strict_peer_deps: self.opts.strict_peer_deps,
            peer_conflicted: &self.peer_conflicted,
        };
        let placed = match self.tree.place_dep(from, ei, &set, &opts) {
            Ok(placed) => placed,
            Err(u) => return Err(self.peer_conflict_error(u.from, u.ei, &u.dep)),
        };
        for p in placed {
            match p {
                Placed::Kept { node, from, ei } => {
                    let rule = self.tree.nodes[from].edges[ei].overrides;
                    if self.tree.merge_overrides(node, rule) {
                        self.enqueue(node);
                    }
                }
                Placed::Conflicted { from, ei, dep } => self.warn_peer_conflict(from, ei, &dep),
                Placed::Evaluate(node) => {
                    if self.tree.nodes[node].alive {
                        self.enqueue(node);
                    }
                }
                Placed::Added { node, from, ei, .. } => {
                    if !self.tree.nodes[node].alive {
                        continue;
                    }
                    let pkg = self.tree.nodes[node].pkg.clone();
                    if pkg.link {
                        let path = pkg.resolved.clone().unwrap_or_default();
                        self.add_link_target(node, &path)?;
                        continue;
                    }
                    // A replaced copy's other dependents may need their own
                    // copy now (arborist's needEvaluation).
                    for (d, i) in self.tree.edges_in(node) {
                        if (d, i) != (from, ei)
                            && self.tree.is_problem(d, i)
                            && !self.peer_conflicted.contains(&(d, i))
                        {
                            self.enqueue(d);
                        }
                    }
                    (self.on_placed)(&pkg);
                    self.add_bundled(node).await?;
                    self.prefetch_deps(node);
                    self.enqueue(node);
                }
            }
        }
        Ok(())
    }

    /// arborist's #loadPeerSet: `dep` (for edge `ei` of `from`) and the
    /// peers that come with it, each chosen as if beside `from`'s own
    /// dependencies: a peer `from` also depends on gets the version that
    /// dependency would, when both accept it. Optional peers are in the set
    /// too: they never get installed for it, but they decide where it fits.
    async fn peer_set(&mut self, from: NodeId, ei: usize, dep: Arc<Package>) -> Result<PeerSet> {
        let edge = self.tree.nodes[from].edges[ei].clone();
        let mut set = PeerSet::new(&self.tree, &edge.name, dep.clone(), edge.overrides);
        if self.opts.edges.legacy_peer_deps || dep.peer_dependencies.is_empty() {
            return Ok(set);
        }
        let mine = self.tree.is_project(from);
        let conflict_ok = self.opts.force || (!mine && !self.opts.strict_peer_deps);
        let mut required: HashSet<String> = HashSet::new();
        if edge.kind != EdgeKind::PeerOptional {
            required.insert(edge.name.clone());
        }
        let fail = |r: &Self| Err(r.peer_conflict_error(from, ei, &dep));
        // Depth first, in name order: (member, index of its next peer edge).
        let mut stack = vec![(edge.name.clone(), 0usize)];
        while let Some((member, i)) = stack.pop() {
            let Some(pe) = set.peers_of(&member).get(i).cloned() else {
                continue;
            };
            stack.push((member.clone(), i + 1));
            if set.serves(&pe) {
                continue;
            }
            let brings = required.contains(&member) && pe.kind != EdgeKind::PeerOptional;
            let guide = self.tree.nodes[from]
                .edges
                .iter()
                .position(|e| e.name == pe.name);
            if set.get(&pe.name).is_none() {
                let chosen = match guide {
                    None => self.peer_package(&pe).await?,
                    Some(gi) => {
                        let first = self.manifest_for(from, gi).await?;
                        match first {
                            Some(f) if !pe.satisfied_by(&f) => {
                                let second = self.peer_package(&pe).await?;
                                let g = &self.tree.nodes[from].edges[gi];
                                match second {
                                    Some(s) if g.satisfied_by(&s) => Some(s),
                                    _ => Some(f),
                                }
                            }
                            other => other,
                        }
                    }
                };
                let Some(chosen) = chosen else { continue };
                set.insert(&self.tree, &pe.name, chosen);
                if brings {
                    required.insert(pe.name.clone());
                }
                if guide.is_some()
                    && !set.serves(&pe)
                    && !conflict_ok
                    && required.contains(&pe.name)
                {
                    return fail(self);
                }
                stack.push((pe.name.clone(), 0));
                continue;
            }
            // A member is there that does not satisfy this peer: take the
            // peer's own choice if every other member accepts it.
            let guide_edge = guide.map(|gi| self.tree.nodes[from].edges[gi].clone());
            if let Some(p) = self.peer_package(&pe).await? {
                if set.can_replace(&pe.name, &p, guide_edge.as_ref()) {
                    set.insert(&self.tree, &pe.name, p);
                    stack.push((pe.name.clone(), 0));
                    continue;
                }
            }
            if !conflict_ok && required.contains(&member) {
                return fail(self);
            }
        }
        Ok(set)
    }

    /// The package a peer edge inside a peer set picks (registry specs; a
    /// peer on a URL or folder is left to the tree). An optional peer that
    /// cannot be had is left out.
    async fn peer_package(&mut self, pe: &Edge) -> Result<Option<Arc<Package>>> {
        let Spec::Registry { name, wanted, .. } = &*pe.spec else {
            return Ok(None);
        };
        match self.registry_package(&pe.spec, name, wanted).await {
            Ok(p) => Ok(Some(p)),
            Err(_) if pe.kind.is_optional() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A registry spec's package: the locked version when one satisfies it,
    /// else npm's pick from the packument.
    async fn registry_package(
        &self,
        spec: &Spec,
        name: &str,
        wanted: &str,
    ) -> Result<Arc<Package>> {
        let locked = self.locked_for(spec, name);
        if let Some(pkg) = locked.and_then(|l| l.package.clone()) {
            return Ok(pkg);
        }
        let packument = self.source.packument(name).await?;
        let m = match locked.and_then(|l| packument.manifest(&l.version)) {
            Some(m) => m,
            None => pick_version_with(&packument, wanted, &self.opts.pick)?,
        };
        package_from_manifest(m).map(Arc::new)
    }
}

/// The packages in a tarball's `node_modules` (scoped ones included,
/// nested ones after their parent), as `(folder names from the bundling
/// package down, package)`.
fn read_bundled(
    nm: &std::path::Path,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Package)>,
) {
    let Ok(entries) = std::fs::read_dir(nm) else {
        return;
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    for name in names {
        if name.starts_with('@') {
            let Ok(scoped) = std::fs::read_dir(nm.join(&name)) else {
                continue;
            };
            let mut subs: Vec<String> = scoped
                .flatten()
                .filter_map(|e| e.file_name().to_str().map(|s| format!("{name}/{s}")))
                .collect();
            subs.sort();
            for sub in subs {
                read_one_bundled(nm, sub, prefix, out);
            }
        } else {
            read_one_bundled(nm, name, prefix, out);
        }
    }
}

fn read_one_bundled(
    nm: &std::path::Path,
    name: String,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Package)>,
) {
    if !crate::name::is_valid(&name) {
        return; // not a package folder (and never a path out of one)
    }
    let dir = nm.join(&name);
    let Ok(project) = crate::project::Project::load(&dir) else {
        return;
    };
    let mut pkg = Package::from_dependency(&project);
    pkg.in_bundle = true;
    prefix.push(name);
    out.push((prefix.clone(), pkg));
    read_bundled(&dir.join("node_modules"), prefix, out);
    prefix.pop();
}

#[cfg(test)]
mod tests;
