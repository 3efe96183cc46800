//! Placement: where a dependency and the peers that come with it go in the
//! hoisted tree. A port of npm arborist's `place-dep.js` and
//! `can-place-dep.js`, so that brisk nests and hoists exactly where npm does.
//!
//! A dependency is placed together with its peer set ([`PeerSet`]: the
//! package and the peers it brings, chosen by the resolver beforehand).
//! Walking up from the dependent, each folder (`target`) is checked; the
//! highest one before the first CONFLICT wins. A check answers, in order:
//!
//! 1. CONFLICT: `target` (below a top) has a peer dependency on the name, or
//!    nothing of that name is there and `target`'s own dependency on it is
//!    not satisfied by the package.
//! 2. No package of that name there: CONFLICT if something below `target`
//!    that now sees one further up would lose it to one that does not
//!    satisfy it; else OK.
//! 3. The same package already there serves the edge: KEEP.
//! 4. REPLACE when the package is at least as new and every dependent of the
//!    one there (outside the set only it needs) accepts it.
//! 5. KEEP when the one there serves the edge; with prefer-dedupe (always
//!    for peers), rule 4 for an older package too.
//! 6. CONFLICT when `target` is not the deepest folder the dependent may
//!    nest the name in; REPLACE when it is and `target` is the dependent
//!    itself; for a peer, REPLACE when each peer group using the one there
//!    can be replaced by the new set or nested deeper.
//!
//! OK and REPLACE then also require every peer in the set to pass the same
//! check at the deepest folder it may go (recursively, npm's
//! `canPlacePeers`); when only the peers fail, the package goes to the last
//! folder where it fit by itself and the conflicting peer is reported.
//!
//! Checking never changes the tree (every check takes `&self`); only
//! [`Tree::place_dep`] mutates, once a folder has been chosen.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use nodejs_semver::Version;

use super::{edges_with_overrides, Edge, NodeId, Package, RuleId, Tree, ROOT};

/// What a check decided for one target folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Can {
    Ok,
    Keep,
    Replace,
    Conflict,
}

/// A package with the peers that come with it, as the resolver chose them
/// (arborist's virtual root): folder name → package and its peer edges.
#[derive(Debug, Clone)]
pub struct PeerSet {
    members: BTreeMap<String, Member>,
    overrides: Option<RuleId>,
}

#[derive(Debug, Clone)]
struct Member {
    pkg: Arc<Package>,
    /// The member's peer dependencies (peer and peerOptional), by name.
    peers: Vec<Edge>,
}

impl PeerSet {
    /// A set holding just `pkg` under `name`; its members' edges get the
    /// override set `overrides` (the one of the edge being placed).
    pub fn new(tree: &Tree, name: &str, pkg: Arc<Package>, overrides: Option<RuleId>) -> PeerSet {
        let mut set = PeerSet {
            members: BTreeMap::new(),
            overrides,
        };
        set.insert(tree, name, pkg);
        set
    }

    pub fn insert(&mut self, tree: &Tree, name: &str, pkg: Arc<Package>) {
        let peers = edges_with_overrides(&pkg, false, None, tree.edge_options(), self.overrides)
            .into_iter()
            .filter(|e| e.kind.is_peer())
            .collect();
        self.members.insert(name.to_string(), Member { pkg, peers });
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Package>> {
        self.members.get(name).map(|m| &m.pkg)
    }

    /// The peer edges of member `name`.
    pub fn peers_of(&self, name: &str) -> &[Edge] {
        self.members.get(name).map_or(&[], |m| &m.peers)
    }

    /// Does the set meet `edge` (a member's peer edge)?
    pub fn serves(&self, edge: &Edge) -> bool {
        self.get(&edge.name).is_some_and(|p| edge.satisfied_by(p))
    }

    /// Could `dep` take member `name`'s place for every other member that
    /// peers on it and for `guide` (the source's own dependency on it)?
    pub fn can_replace(&self, name: &str, dep: &Package, guide: Option<&Edge>) -> bool {
        let others = self
            .members
            .iter()
            .filter(|(n, _)| n.as_str() != name)
            .flat_map(|(_, m)| m.peers.iter());
        guide
            .into_iter()
            .chain(others)
            .filter(|e| e.name == name && self.serves(e))
            .all(|e| e.satisfied_by(dep))
    }
}

/// What placing a peer set did, for the resolver to follow up.
#[derive(Debug, Clone)]
pub enum Placed {
    /// A node was added (or replaced one) for edge `ei` of `from`; `ok`
    /// when its folder had no package of that name (npm's canPlaceSelf OK).
    Added {
        node: NodeId,
        from: NodeId,
        ei: usize,
        ok: bool,
    },
    /// The node already there serves edge `ei` of `from`.
    Kept {
        node: NodeId,
        from: NodeId,
        ei: usize,
    },
    /// Peer edge `ei` of `from` stays unmet: npm's "overriding peer
    /// dependency" warning (`dep` is what it wanted).
    Conflicted {
        from: NodeId,
        ei: usize,
        dep: Arc<Package>,
    },
    /// A node whose dependencies must be looked at again (a peer group was
    /// pruned from under it).
    Evaluate(NodeId),
}

/// A peer conflict npm fails on (ERESOLVE): the edge that started the
/// placement and the package it wanted.
#[derive(Debug)]
pub struct Unplaceable {
    pub from: NodeId,
    pub ei: usize,
    pub dep: Arc<Package>,
}

/// How to place: npm's `--force`, `--strict-peer-deps`, and the peer edges
/// already reported as conflicted.
pub struct PlaceOptions<'a> {
    pub force: bool,
    pub strict_peer_deps: bool,
    pub peer_conflicted: &'a HashSet<(NodeId, usize)>,
}

/// One check (arborist's CanPlaceDep): can `dep` serve `edge` from `target`?
struct Check<'s> {
    dep: &'s Member,
    edge: &'s Edge,
    /// The dependent, when it is in the tree (a peer inside the set being
    /// checked has none yet).
    from: Option<(NodeId, usize)>,
    target: NodeId,
    prefer_dedupe: bool,
    /// The deepest folder of the check this one serves, if any.
    parent_deepest: Option<NodeId>,
    /// The edge that started the whole placement (npm's peerEntryEdge).
    top: (NodeId, usize),
    /// Members already on this chain of peer checks.
    peer_path: Vec<&'s str>,
}

/// The check's result: `can` and npm's `canPlaceSelf` (what it would be if
/// the peers did not matter).
#[derive(Default)]
struct Outcome {
    can_self: Option<Can>,
    peers_conflict: Option<bool>,
}

/// Where a peer placement continues from (arborist's parent PlaceDep).
#[derive(Clone, Copy)]
struct Parent {
    start: NodeId,
    deepest: NodeId,
    top: (NodeId, usize),
}

fn version_gte(a: &str, b: &str) -> bool {
    match (Version::parse(a), Version::parse(b)) {
        (Ok(a), Ok(b)) => a >= b,
        _ => false,
    }
}

/// arborist's Node.matches: the same package (by integrity, else resolved,
/// else version).
fn same_package(a: &Package, b: &Package) -> bool {
    if a.name != b.name {
        return false;
    }
    if let (Some(x), Some(y)) = (&a.integrity, &b.integrity) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (&a.resolved, &b.resolved) {
        return x == y;
    }
    a.version == b.version
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

    /// A folder with no parent folder: the root, or a linked folder.
    fn is_top(&self, id: NodeId) -> bool {
        self.nodes[id].parent.is_none()
    }

    /// The root or one of its workspaces (npm's isProjectRoot/isWorkspace).
    pub fn is_project(&self, id: NodeId) -> bool {
        id == ROOT || (self.nodes[id].path.is_some() && !self.is_external(id))
    }

    /// The deepest folder where `name` could go for a dependent at `start`:
    /// not inside a node that has a peer dependency on it.
    fn deepest_nesting_target(&self, start: NodeId, name: &str) -> NodeId {
        for t in self.ancestry(start) {
            if t == ROOT || self.resolve_parent(t).is_none() {
                return t;
            }
            match self.nodes[t].edge(name) {
                Some(e) if e.kind.is_peer() => continue,
                _ => return t,
            }
        }
        ROOT
    }

    /// What edge `ei` of `from` resolves to, when that satisfies it.
    fn valid_to(&self, from: NodeId, ei: usize) -> Option<NodeId> {
        let e = &self.nodes[from].edges[ei];
        self.resolve(from, &e.name)
            .filter(|&to| e.satisfied_by(&self.nodes[to].pkg))
    }

    /// arborist's gatherDepSet: `starts` and what they depend on through
    /// edges `keep` accepts, less every node something outside the set
    /// depends on that way.
    fn gather_dep_set(
        &self,
        starts: &[NodeId],
        keep: impl Fn(NodeId, usize, NodeId) -> bool,
    ) -> Vec<NodeId> {
        let mut deps: Vec<NodeId> = Vec::new();
        let mut members: HashSet<NodeId> = HashSet::new();
        for &s in starts {
            if members.insert(s) {
                deps.push(s);
            }
        }
        let mut i = 0;
        while i < deps.len() {
            let n = deps[i];
            i += 1;
            for (ei, e) in self.nodes[n].edges.iter().enumerate() {
                if let Some(to) = self.resolve(n, &e.name) {
                    if keep(n, ei, to) && members.insert(to) {
                        deps.push(to);
                    }
                }
            }
        }
        let mut changed = true;
        while changed && !members.is_empty() {
            changed = false;
            for &dep in &deps {
                if !members.contains(&dep) {
                    continue;
                }
                let outside = self
                    .edges_in(dep)
                    .into_iter()
                    .any(|(from, ei)| !members.contains(&from) && keep(from, ei, dep));
                if outside {
                    members.remove(&dep);
                    changed = true;
                }
            }
        }
        deps.retain(|d| members.contains(d));
        deps
    }

    /// Could `dep` take the place of `current` for everything that uses it?
    /// Peers named in `ignore` beside `current` do not count (they are
    /// replaced along with it).
    fn can_replace(&self, current: NodeId, dep: &Package, ignore: &[&str]) -> bool {
        if self.nodes[current].pkg.name != dep.name {
            return false;
        }
        let exclusive = self.gather_dep_set(&[current], |from, ei, to| {
            to != current && self.valid_to(from, ei) == Some(to)
        });
        let parent = self.nodes[current].parent;
        self.edges_in(current).into_iter().all(|(from, ei)| {
            let e = &self.nodes[from].edges[ei];
            if parent.is_some()
                && self.nodes[from].parent == parent
                && e.kind.is_peer()
                && ignore.contains(&self.nodes[from].name.as_str())
            {
                return true;
            }
            exclusive.contains(&from) || e.satisfied_by(dep)
        })
    }

    /// arborist's peerEntrySets: the peer groups `node` belongs to, each by
    /// the edge entering it from outside (a regular edge, or a top's peer).
    fn peer_entry_sets(&self, node: NodeId) -> Vec<((NodeId, usize), Vec<NodeId>)> {
        let peers_out = |n: NodeId| -> Vec<NodeId> {
            (0..self.nodes[n].edges.len())
                .filter(|&ei| self.nodes[n].edges[ei].kind.is_peer())
                .filter_map(|ei| self.valid_to(n, ei))
                .collect()
        };
        let mut union = vec![node];
        let mut i = 0;
        while i < union.len() {
            let n = union[i];
            i += 1;
            let mut next = peers_out(n);
            next.extend(
                self.edges_in(n)
                    .into_iter()
                    .filter(|&(f, ei)| {
                        self.nodes[f].edges[ei].kind.is_peer() && self.valid_to(f, ei) == Some(n)
                    })
                    .map(|(f, _)| f),
            );
            for m in next {
                if !union.contains(&m) {
                    union.push(m);
                }
            }
        }
        let mut out = Vec::new();
        for &peer in &union {
            for (f, ei) in self.edges_in(peer) {
                if self.valid_to(f, ei) != Some(peer) {
                    continue;
                }
                if self.nodes[f].edges[ei].kind.is_peer() && !self.is_top(f) {
                    continue;
                }
                let mut sub = vec![peer];
                let mut j = 0;
                while j < sub.len() {
                    for m in peers_out(sub[j]) {
                        if !sub.contains(&m) {
                            sub.push(m);
                        }
                    }
                    j += 1;
                }
                if sub.contains(&node) {
                    out.push(((f, ei), sub));
                }
            }
        }
        out
    }

    fn deepest_of(&self, c: &Check) -> NodeId {
        let start = c
            .parent_deepest
            .or(c.from.map(|(f, _)| f))
            .unwrap_or(c.target);
        self.deepest_nesting_target(start, &c.edge.name)
    }

    fn check(&self, c: &Check, set: &PeerSet) -> (Can, Can) {
        let mut out = Outcome::default();
        let can = self.check_can_place(c, set, &mut out);
        (can, out.can_self.unwrap_or(can))
    }

    fn check_can_place(&self, c: &Check, set: &PeerSet, out: &mut Outcome) -> Can {
        let name = c.edge.name.as_str();
        let current = self.nodes[c.target].children.get(name).copied();
        if let Some(te) = self.nodes[c.target].edge(name) {
            if te.kind.is_peer() && !self.is_top(c.target) {
                return Can::Conflict;
            }
            if current.is_none()
                && !te.satisfied_by(&c.dep.pkg)
                && c.from.map(|(f, _)| f) != Some(c.target)
            {
                return Can::Conflict;
            }
        }
        match current {
            Some(current) => self.check_current(c, set, out, current),
            None => self.check_no_current(c, set, out),
        }
    }

    fn check_current(&self, c: &Check, set: &PeerSet, out: &mut Outcome, current: NodeId) -> Can {
        let dep = &*c.dep.pkg;
        let cur = &*self.nodes[current].pkg;
        let edge = c.edge;
        let prefer_dedupe = c.prefer_dedupe || edge.kind.is_peer();
        // The package was chosen against its own edge (a peer override).
        let edge_override = !edge.satisfied_by(dep);
        if same_package(dep, cur) && (edge.satisfied_by(cur) || edge_override) {
            return Can::Keep;
        }
        let try_replace = version_gte(&dep.version, &cur.version);
        if try_replace && self.can_replace(current, dep, &[]) {
            let r = self.can_place_peers(c, set, out, Can::Replace);
            if r != Can::Conflict {
                return r;
            }
        }
        if edge.satisfied_by(cur) {
            return Can::Keep;
        }
        if prefer_dedupe && !try_replace && self.can_replace(current, dep, &[]) {
            let r = self.can_place_peers(c, set, out, Can::Replace);
            if r != Can::Conflict {
                return r;
            }
        }
        if c.target != self.deepest_of(c) {
            return Can::Conflict;
        }
        if !edge.kind.is_peer() && c.from.map(|(f, _)| f) == Some(c.target) {
            return self.can_place_peers(c, set, out, Can::Replace);
        }
        if c.parent_deepest.is_none() && !edge.kind.is_peer() {
            return Can::Conflict;
        }
        // Each peer group using the current one must be replaceable by the
        // new set, or able to nest deeper.
        let members: Vec<&str> = set.members.keys().map(String::as_str).collect();
        let mut can_replace = true;
        for (entry, current_peers) in self.peer_entry_sets(current) {
            if Some(entry) == c.from || entry == c.top {
                continue;
            }
            let Some(entry_node) = self.valid_to(entry.0, entry.1) else {
                continue;
            };
            let entry_name = self.nodes[entry_node].name.as_str();
            let clobber = match set.get(entry_name) {
                Some(rep) => self.can_replace(entry_node, rep, &members),
                None => self.peers_accept_set(entry_node, set),
            };
            if clobber {
                continue;
            }
            for &p in &current_peers {
                let deep = self.deepest_nesting_target(entry.0, &self.nodes[p].name);
                if deep == c.target || self.is_descendant_of(c.target, deep) {
                    can_replace = false;
                    break;
                }
            }
        }
        if can_replace {
            self.can_place_peers(c, set, out, Can::Replace)
        } else {
            Can::Conflict
        }
    }

    /// Walking `entry`'s peers (through the ones the set does not have):
    /// does every peer the set has satisfy them?
    fn peers_accept_set(&self, entry: NodeId, set: &PeerSet) -> bool {
        let mut walk = vec![entry];
        let mut i = 0;
        while i < walk.len() {
            let n = walk[i];
            i += 1;
            for (ei, e) in self.nodes[n].edges.iter().enumerate() {
                if !e.kind.is_peer() {
                    continue;
                }
                let Some(to) = self.valid_to(n, ei) else {
                    continue;
                };
                match set.get(&e.name) {
                    Some(rep) if !e.satisfied_by(rep) => return false,
                    Some(_) => {}
                    None => {
                        if !walk.contains(&to) {
                            walk.push(to);
                        }
                    }
                }
            }
        }
        true
    }

    fn check_no_current(&self, c: &Check, set: &PeerSet, out: &mut Outcome) -> Can {
        // Who below the target sees a same-named package further up?
        if c.target != c.top.0 {
            if let Some(higher) = self.resolve(c.target, &c.edge.name) {
                for (d, ei) in self.edges_in(higher) {
                    if self.is_descendant_of(d, c.target)
                        && self.valid_to(d, ei) == Some(higher)
                        && !self.nodes[d].edges[ei].satisfied_by(&c.dep.pkg)
                    {
                        return Can::Conflict;
                    }
                }
            }
        }
        self.can_place_peers(c, set, out, Can::Ok)
    }

    /// arborist's canPlacePeers: `state`, unless a peer of the package in
    /// the set cannot go at or above the target.
    fn can_place_peers(&self, c: &Check, set: &PeerSet, out: &mut Outcome, state: Can) -> Can {
        out.can_self = Some(state);
        let conflict = match out.peers_conflict {
            Some(known) => known,
            None => {
                let known = self.peers_conflict(c, set);
                out.peers_conflict = Some(known);
                known
            }
        };
        if conflict {
            Can::Conflict
        } else {
            state
        }
    }

    fn peers_conflict(&self, c: &Check, set: &PeerSet) -> bool {
        let deepest = self.deepest_of(c);
        let mut path = c.peer_path.clone();
        path.push(c.edge.name.as_str());
        c.dep.peers.iter().any(|pe| {
            let Some(peer) = set.members.get(&pe.name) else {
                return false;
            };
            if path.contains(&pe.name.as_str()) {
                return false;
            }
            let child = Check {
                dep: peer,
                edge: pe,
                from: None,
                target: self.deepest_nesting_target(c.target, &pe.name),
                prefer_dedupe: true,
                parent_deepest: Some(deepest),
                top: c.top,
                peer_path: path.clone(),
            };
            self.check(&child, set).0 == Can::Conflict
        })
    }

    /// arborist's isMine: the placement started from the project's own
    /// dependency (directly, or a peer group a root dependency brought).
    fn is_mine(&self, (from, ei): (NodeId, usize)) -> bool {
        if self.is_project(from) {
            return true;
        }
        if !self.nodes[from].edges[ei].kind.is_peer() {
            return false;
        }
        let mut has_peer_edges = false;
        for (d, i) in self.edges_in(from) {
            if self.nodes[d].edges[i].kind.is_peer() {
                has_peer_edges = true;
            } else if self.is_project(d) {
                return true;
            }
        }
        has_peer_edges
            && self
                .peer_entry_sets(from)
                .iter()
                .any(|((f, _), _)| self.is_project(*f))
    }

    /// Place the set's package for edge `ei` of `from`, then the peers it
    /// needs, as npm does. `Err` is a conflict npm fails on (ERESOLVE).
    pub fn place_dep(
        &mut self,
        from: NodeId,
        ei: usize,
        set: &PeerSet,
        opts: &PlaceOptions,
    ) -> Result<Vec<Placed>, Unplaceable> {
        let mut out = Vec::new();
        self.place_one(from, ei, set, opts, None, &mut out)?;
        Ok(out)
    }

    fn place_one(
        &mut self,
        from: NodeId,
        ei: usize,
        set: &PeerSet,
        opts: &PlaceOptions,
        parent: Option<Parent>,
        out: &mut Vec<Placed>,
    ) -> Result<(), Unplaceable> {
        let edge = self.nodes[from].edges[ei].clone();
        let Some(member) = set.members.get(&edge.name) else {
            return Ok(());
        };
        if self.valid_to(from, ei).is_some() {
            return Ok(());
        }
        let start = self.deepest_nesting_target(parent.map_or(from, |p| p.start), &edge.name);
        let top = parent.map_or((from, ei), |p| p.top);
        let prefer_dedupe = self.edge_options().prefer_dedupe;
        // (target, can, can_self, deepest) of the last folder that fits.
        let mut can: Option<(NodeId, Can, Can, NodeId)> = None;
        let mut can_self: Option<(NodeId, Can, Can, NodeId)> = None;
        for target in self.ancestry(start) {
            if !self.is_top(target)
                && self.nodes[target]
                    .edge(&edge.name)
                    .is_some_and(|e| e.kind.is_peer())
            {
                continue;
            }
            let check = Check {
                dep: member,
                edge: &edge,
                from: Some((from, ei)),
                target,
                prefer_dedupe,
                parent_deepest: parent.map(|p| p.deepest),
                top,
                peer_path: Vec::new(),
            };
            let (c, cs) = self.check(&check, set);
            let found = (target, c, cs, self.deepest_of(&check));
            if cs != Can::Conflict {
                can_self = Some(found);
            }
            if c == Can::Conflict {
                break;
            }
            can = Some(found);
        }
        let chosen = match can {
            Some(c) => c,
            None => {
                if !opts.force && (opts.strict_peer_deps || self.is_mine(top)) {
                    let (f, i) = top;
                    let name = &self.nodes[f].edges[i].name;
                    let dep = set.get(name).cloned().unwrap_or_else(|| member.pkg.clone());
                    return Err(Unplaceable {
                        from: f,
                        ei: i,
                        dep,
                    });
                }
                match can_self {
                    Some(c) => c,
                    None => {
                        out.push(Placed::Conflicted {
                            from,
                            ei,
                            dep: member.pkg.clone(),
                        });
                        return Ok(());
                    }
                }
            }
        };
        let (target, c, cs, deepest) = chosen;
        let placement = if c == Can::Conflict { cs } else { c };
        if placement == Can::Keep {
            if edge.kind.is_peer() && self.valid_to(from, ei).is_none() {
                out.push(Placed::Conflicted {
                    from,
                    ei,
                    dep: member.pkg.clone(),
                });
            }
            let node = self.nodes[target].children[&edge.name];
            out.push(Placed::Kept { node, from, ei });
            return Ok(());
        }
        let dep = member.pkg.clone();
        let placed = match self.nodes[target].children.get(&edge.name).copied() {
            Some(old) => self.replace_old_dep(old, dep.clone(), target, opts, out),
            None => self.add(target, &edge.name, dep.clone()),
        };
        // The placed node inherits the override set of the edge it serves.
        self.set_overrides(placed, edge.overrides);
        if edge.kind.is_peer() && !edge.satisfied_by(&dep) {
            out.push(Placed::Conflicted {
                from,
                ei,
                dep: dep.clone(),
            });
        }
        out.push(Placed::Added {
            node: placed,
            from,
            ei,
            ok: cs == Can::Ok,
        });
        self.prune_dedupable_below(target, &edge.name);
        if !self.nodes[placed].alive || dep.link {
            return Ok(());
        }
        // Then the peers the placed package needs, from the same set.
        let me = Parent {
            start,
            deepest,
            top,
        };
        for pi in 0..self.nodes[placed].edges.len() {
            // A peer placed before may have pruned the package itself.
            if !self.nodes[placed].alive {
                break;
            }
            let pe = &self.nodes[placed].edges[pi];
            if !pe.kind.is_peer() || !self.is_problem(placed, pi) {
                continue;
            }
            if !set.serves(pe) {
                continue;
            }
            self.place_one(placed, pi, set, opts, Some(me), out)?;
        }
        Ok(())
    }

    /// Put `dep` in `old`'s place (arborist's replaceOldDep): what only the
    /// old one needed goes, and peer groups it served that the new one does
    /// not are pruned to be placed again (or reported when they cannot move).
    fn replace_old_dep(
        &mut self,
        old: NodeId,
        dep: Arc<Package>,
        target: NodeId,
        opts: &PlaceOptions,
        out: &mut Vec<Placed>,
    ) -> NodeId {
        let peers = !self.edge_options().legacy_peer_deps;
        let kept = |name: &str| {
            dep.dependencies.contains_key(name)
                || dep.optional_dependencies.contains_key(name)
                || (peers && dep.peer_dependencies.contains_key(name))
        };
        let mut old_deps = Vec::new();
        for e in &self.nodes[old].edges {
            if kept(&e.name) {
                continue;
            }
            if let Some(to) = self.resolve(old, &e.name) {
                old_deps.extend(self.gather_dep_set(&[to], |_, _, t| t != to));
            }
        }
        let mut prune = Vec::new();
        for (d, i) in self.edges_in(old) {
            let e = &self.nodes[d].edges[i];
            if e.satisfied_by(&dep)
                || !e.kind.is_peer()
                || self.nodes[d].parent != Some(target)
                || opts.peer_conflicted.contains(&(d, i))
            {
                continue;
            }
            for ((f, fi), _) in self.peer_entry_sets(d) {
                let Some(entry) = self.valid_to(f, fi) else {
                    continue;
                };
                if entry != target && !self.is_project(f) {
                    prune.extend(self.gather_dep_set(&[entry], |pf, pi, t| {
                        t != entry && !opts.peer_conflicted.contains(&(pf, pi))
                    }));
                } else {
                    out.push(Placed::Conflicted {
                        from: d,
                        ei: i,
                        dep: dep.clone(),
                    });
                }
            }
        }
        let placed = self.replace(old, dep);
        self.prune_for_replacement(placed, &old_deps);
        for p in prune {
            if !self.nodes[p].alive {
                continue;
            }
            for (f, _) in self.edges_in(p) {
                out.push(Placed::Evaluate(f));
            }
            self.remove(p);
        }
        placed
    }

    /// arborist's pruneForReplacement: drop what is now only junk (deps of
    /// the replaced node nothing else uses, targets of invalid edges).
    fn prune_for_replacement(&mut self, node: NodeId, old_deps: &[NodeId]) {
        let mut invalid: Vec<NodeId> = (0..self.nodes[node].edges.len())
            .filter_map(|ei| {
                let e = &self.nodes[node].edges[ei];
                self.resolve(node, &e.name)
                    .filter(|&to| !e.satisfied_by(&self.nodes[to].pkg))
            })
            .collect();
        for &dep in old_deps {
            if self.nodes[dep].alive {
                invalid.extend(self.gather_dep_set(&[dep], |f, ei, t| {
                    t != dep && self.valid_to(f, ei) == Some(t)
                }));
            }
        }
        invalid.retain(|&n| self.nodes[n].alive);
        let junk = self.gather_dep_set(&invalid, |f, ei, t| {
            f != node && t != node && self.valid_to(f, ei) == Some(t)
        });
        for n in junk {
            if self.nodes[n].alive {
                self.remove(n);
            }
        }
    }

    /// After placing in `target`, deeper copies of the same name (and their
    /// children) that what they see above can serve go (arborist's
    /// pruneDedupable after a placement).
    fn prune_dedupable_below(&mut self, target: NodeId, name: &str) {
        let same: Vec<NodeId> = (1..self.nodes.len())
            .filter(|&i| {
                let n = &self.nodes[i];
                n.alive && n.name == name && !self.is_top(i) && self.is_descendant_of(i, target)
            })
            .collect();
        for id in same {
            if !self.nodes[id].alive {
                continue;
            }
            self.prune_if_dedupable(id);
            if self.nodes[id].alive {
                let kids: Vec<NodeId> = self.nodes[id].children.values().copied().collect();
                for kid in kids {
                    if self.nodes[kid].alive {
                        self.prune_if_dedupable(kid);
                    }
                }
            }
        }
    }

    fn prune_if_dedupable(&mut self, id: NodeId) {
        if self.can_dedupe(id) {
            let gone =
                self.gather_dep_set(&[id], |f, ei, t| t != id && self.valid_to(f, ei) == Some(t));
            for n in gone {
                if self.nodes[n].alive {
                    self.remove(n);
                }
            }
        }
    }

    /// arborist's canDedupe: nothing uses the node, or the package its
    /// grandparent folder sees can serve in its place.
    fn can_dedupe(&self, id: NodeId) -> bool {
        // A dependency's bundle is as its tarball ships it.
        if self.nodes[id].pkg.in_bundle {
            return false;
        }
        let Some(grand) = self.resolve_parent(id).and_then(|p| self.resolve_parent(p)) else {
            return false;
        };
        if self.edges_in(id).is_empty() {
            return true;
        }
        let Some(other) = self.resolve(grand, &self.nodes[id].name) else {
            return false;
        };
        let (mine, theirs) = (&self.nodes[id].pkg, &self.nodes[other].pkg);
        if same_package(theirs, mine) {
            return true;
        }
        if !self.can_replace(id, theirs, &[]) {
            return false;
        }
        self.edge_options().prefer_dedupe || version_gte(&theirs.version, &mine.version)
    }
}
