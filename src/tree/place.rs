//! Placement: where a dependency goes in the hoisted tree. A port of the
//! decisions in npm arborist's `place-dep.js` and `can-place-dep.js` (without
//! its peer-set replacement machinery): walk up from the dependent and take the
//! highest folder where the package does not conflict.
//!
//! For each candidate folder (`target`), `can_place` answers, in
//! this order (the first rule that applies wins):
//!
//! 1. CONFLICT: `target` declares a peer dependency on the name (below the
//!    root), or declares a dependency the package does not satisfy while
//!    nothing of that name sits there yet.
//! 2. The folder has no package of that name: OK, unless something below
//!    `target` that now sees a same-named package higher up would lose it
//!    to one that does not satisfy it (CONFLICT).
//! 3. KEEP: the same name and version already there serves the edge.
//! 4. REPLACE: the package is at least as new as the one there, and every
//!    dependent of that one (outside the set of packages only it needs) is
//!    satisfied by the new one.
//! 5. KEEP: the one there serves the edge. Failing that, a peer edge
//!    (which prefers deduping) tries rule 4 for an older package too.
//! 6. CONFLICT: `target` is above the deepest folder the dependent may nest
//!    the name in.
//! 7. REPLACE: `target` is the dependent's own folder (a regular edge), or
//!    every other dependent of the one there can get its own copy deeper
//!    (a peer edge). Otherwise CONFLICT.
//!
//! OK and REPLACE also require the package's own peers to fit in `target`.
//!
//! Checking never changes the tree: every check takes `&self`; only
//! [`Tree::place_dep`] mutates, once a folder has been chosen.

use std::collections::HashSet;
use std::sync::Arc;

use nodejs_semver::Version;

use super::{Edge, NodeId, Package, Tree, ROOT};

/// What `can_place` decided for one target folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Can {
    Ok,
    Keep,
    Replace,
    Conflict,
}

/// The outcome of placing a dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// An existing node already serves the edge.
    Kept(NodeId),
    /// A new node was added (or replaced an older one).
    Placed(NodeId),
    /// No folder can take it (a peer conflict); the edge stays unmet.
    Conflict,
}

fn version_gte(a: &str, b: &str) -> bool {
    match (Version::parse(a), Version::parse(b)) {
        (Ok(a), Ok(b)) => a >= b,
        _ => false,
    }
}

impl Tree {
    fn ancestry(&self, start: NodeId) -> Vec<NodeId> {
        let mut out = vec![start];
        let mut cur = start;
        while let Some(p) = self.resolve_parent(cur) {
            out.push(p);
            cur = p;
        }
        out
    }

    /// The deepest folder where `name` could go for a dependent at `start`:
    /// not inside a node that has a peer dependency on it.
    fn deepest_nesting_target(&self, start: NodeId, name: &str) -> NodeId {
        for t in self.ancestry(start) {
            if t == ROOT {
                return t;
            }
            match self.nodes[t].edge(name) {
                Some(e) if e.kind.is_peer() => continue,
                _ => return t,
            }
        }
        ROOT
    }

    fn edge_valid(&self, from: NodeId, edge: &Edge) -> bool {
        self.resolve(from, &edge.name)
            .is_some_and(|to| edge.satisfied_by(&self.nodes[to].pkg))
    }

    /// arborist's gatherDepSet for `node`: it and the deps only it needs.
    fn exclusive_dep_set(&self, node: NodeId) -> HashSet<NodeId> {
        let mut set: Vec<NodeId> = vec![node];
        let mut members: HashSet<NodeId> = HashSet::from([node]);
        let mut i = 0;
        while i < set.len() {
            let n = set[i];
            i += 1;
            for e in &self.nodes[n].edges {
                if let Some(to) = self.resolve(n, &e.name) {
                    if to != node && e.satisfied_by(&self.nodes[to].pkg) && members.insert(to) {
                        set.push(to);
                    }
                }
            }
        }
        let mut changed = true;
        while changed && !members.is_empty() {
            changed = false;
            let snapshot: Vec<NodeId> = members.iter().copied().collect();
            for dep in snapshot {
                let outside = self.edges_in(dep).into_iter().any(|(from, ei)| {
                    !members.contains(&from)
                        && dep != node
                        && self.edge_valid(from, &self.nodes[from].edges[ei])
                });
                if outside {
                    members.remove(&dep);
                    changed = true;
                }
            }
        }
        members
    }

    /// Could `dep` take the place of `current` for everything that uses it?
    fn can_replace(&self, current: NodeId, dep: &Package) -> bool {
        if self.nodes[current].pkg.name != dep.name {
            return false;
        }
        let exclusive = self.exclusive_dep_set(current);
        self.edges_in(current).into_iter().all(|(from, ei)| {
            exclusive.contains(&from) || self.nodes[from].edges[ei].satisfied_by(dep)
        })
    }

    /// Peers of `dep` that would be blocked by a non-satisfying package
    /// already in `target`'s folder.
    fn peers_fit(&self, dep: &Package, target: NodeId) -> bool {
        if self.edge_options().legacy_peer_deps {
            return true;
        }
        dep.peer_dependencies.iter().all(|(name, raw)| {
            if dep.peer_is_optional(name) || name == &dep.name {
                return true;
            }
            match self.nodes[target].children.get(name) {
                Some(&existing) => {
                    crate::spec::Spec::parse(name, raw)
                        .map(|s| {
                            let p = &self.nodes[existing].pkg;
                            s.satisfied_by(&p.name, &p.version)
                        })
                        .unwrap_or(true)
                        || self.can_nest_away(existing, target, None, None)
                }
                None => true,
            }
        })
    }

    /// arborist's peer-group check in `checkCanPlaceCurrent`: a peer may
    /// take `current`'s place in `target` when every other dependent on
    /// `current` is served by `dep` or can get its own copy deeper (its
    /// deepest nesting target is below `target`). `skip` is the dependent
    /// whose edge is being placed.
    fn can_nest_away(
        &self,
        current: NodeId,
        target: NodeId,
        dep: Option<&Package>,
        skip: Option<NodeId>,
    ) -> bool {
        let name = &self.nodes[current].name;
        self.edges_in(current).into_iter().all(|(d, ei)| {
            if Some(d) == skip || dep.is_some_and(|p| self.nodes[d].edges[ei].satisfied_by(p)) {
                return true;
            }
            let deepest = self.deepest_nesting_target(d, name);
            deepest != target && !self.is_descendant_of(target, deepest)
        })
    }

    fn can_place(
        &self,
        dep: &Package,
        edge: &Edge,
        from: NodeId,
        target: NodeId,
        prefer_dedupe: bool,
        check_peers: bool,
    ) -> Can {
        let name = edge.name.as_str();
        let current = self.nodes[target].children.get(name).copied();
        let target_edge = self.nodes[target].edge(name);
        if let Some(te) = target_edge {
            if te.kind.is_peer() && target != ROOT {
                return Can::Conflict;
            }
            if current.is_none() && target != from && !te.satisfied_by(dep) {
                return Can::Conflict;
            }
        }
        let peers_ok = |c: Can| {
            if !check_peers || self.peers_fit(dep, target) {
                c
            } else {
                Can::Conflict
            }
        };
        let Some(current) = current else {
            // Who below the target sees a same-named package further up?
            if target != from {
                if let Some(higher) = self.resolve(target, name) {
                    for (d, ei) in self.edges_in(higher) {
                        let e = &self.nodes[d].edges[ei];
                        if self.is_descendant_of(d, target)
                            && e.satisfied_by(&self.nodes[higher].pkg)
                            && !e.satisfied_by(dep)
                        {
                            return Can::Conflict;
                        }
                    }
                }
            }
            return peers_ok(Can::Ok);
        };
        let cur = &self.nodes[current].pkg;
        if cur.name == dep.name && cur.version == dep.version && edge.satisfied_by(cur) {
            return Can::Keep;
        }
        let try_replace = version_gte(&dep.version, &cur.version);
        if try_replace && self.can_replace(current, dep) && peers_ok(Can::Replace) != Can::Conflict
        {
            return Can::Replace;
        }
        if edge.satisfied_by(cur) {
            return Can::Keep;
        }
        if prefer_dedupe
            && !try_replace
            && self.can_replace(current, dep)
            && peers_ok(Can::Replace) != Can::Conflict
        {
            return Can::Replace;
        }
        if target != self.deepest_nesting_target(from, name) {
            return Can::Conflict;
        }
        if !edge.kind.is_peer() && target == from {
            return peers_ok(Can::Replace);
        }
        if edge.kind.is_peer() && self.can_nest_away(current, target, Some(dep), Some(from)) {
            return peers_ok(Can::Replace);
        }
        Can::Conflict
    }

    /// Place `dep` for edge `edge_idx` of node `from`. Peers of the placed
    /// node are the caller's business (they need manifests).
    pub fn place_dep(&mut self, from: NodeId, edge_idx: usize, dep: Arc<Package>) -> Placement {
        self.place_dep_with(from, edge_idx, dep, true)
    }

    /// [`Self::place_dep`] where `dep`'s own peers do not block a folder
    /// (arborist's `canPlaceSelf`, used when a peer conflict is overridden:
    /// the package goes in and its conflicting peer is left unmet).
    pub fn place_dep_ignoring_peers(
        &mut self,
        from: NodeId,
        edge_idx: usize,
        dep: Arc<Package>,
    ) -> Placement {
        self.place_dep_with(from, edge_idx, dep, false)
    }

    fn place_dep_with(
        &mut self,
        from: NodeId,
        edge_idx: usize,
        dep: Arc<Package>,
        check_peers: bool,
    ) -> Placement {
        let edge = self.nodes[from].edges[edge_idx].clone();
        let peer = edge.kind.is_peer();
        let start = if peer {
            self.nodes[from].parent.unwrap_or(ROOT)
        } else {
            from
        };
        let mut chosen: Option<(NodeId, Can)> = None;
        for target in self.ancestry(start) {
            if target != ROOT
                && self.nodes[target]
                    .edge(&edge.name)
                    .is_some_and(|e| e.kind.is_peer())
            {
                continue;
            }
            let dedupe = peer || self.edge_options().prefer_dedupe;
            match self.can_place(&dep, &edge, from, target, dedupe, check_peers) {
                Can::Conflict => break,
                c => chosen = Some((target, c)),
            }
        }
        let Some((target, can)) = chosen else {
            return Placement::Conflict;
        };
        let placed = match can {
            Can::Keep => {
                let kept = self.nodes[target].children[&edge.name];
                return Placement::Kept(kept);
            }
            Can::Replace => {
                let old = self.nodes[target].children[&edge.name];
                self.replace(old, dep)
            }
            _ => self.add(target, &edge.name, dep),
        };
        // The placed node inherits the override set of the edge it serves.
        self.set_overrides(placed, edge.overrides);
        self.prune_dedupable_below(target, &edge.name, placed);
        Placement::Placed(placed)
    }

    /// After placing `placed` in `target`, deeper copies of the same name
    /// whose dependents would be served by what they see above can go.
    fn prune_dedupable_below(&mut self, target: NodeId, name: &str, placed: NodeId) {
        let candidates: Vec<NodeId> = (1..self.nodes.len())
            .filter(|&i| {
                let n = &self.nodes[i];
                // A dependency's bundle is as its tarball ships it (npm's canDedupe).
                n.alive
                    && i != placed
                    && n.name == name
                    && !n.pkg.in_bundle
                    && self.is_descendant_of(i, target)
            })
            .collect();
        for id in candidates {
            if !self.nodes[id].alive {
                continue;
            }
            let Some(parent) = self.nodes[id].parent else {
                continue;
            };
            let Some(grand) = self.nodes[parent].parent else {
                continue;
            };
            let Some(other) = self.resolve(grand, name) else {
                continue;
            };
            let other_pkg = self.nodes[other].pkg.clone();
            let mine = self.nodes[id].pkg.clone();
            let same = other_pkg.name == mine.name && other_pkg.version == mine.version;
            let serves = self
                .edges_in(id)
                .into_iter()
                .all(|(d, ei)| self.nodes[d].edges[ei].satisfied_by(&other_pkg));
            if same || (serves && version_gte(&other_pkg.version, &mine.version)) {
                self.remove(id);
            }
        }
    }
}
