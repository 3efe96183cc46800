//! Peer dependency conflicts, reported the way npm reports ERESOLVE: what
//! is installed and who needs it, and which package wants which peer range.
//!
//! npm 7+ (arborist's place-dep.js): a conflict is an error when it involves
//! the project's own dependencies (`isMine`) or with `--strict-peer-deps`,
//! unless `--force`; otherwise npm warns ("overriding peer dependency") and
//! installs without the conflicting peer.

use super::{Resolver, Source};
use crate::error::{Code, Error};
use crate::tree::{EdgeKind, NodeId, Package, Tree, ROOT};

/// How a dependent is named in messages.
fn who(tree: &Tree, id: NodeId) -> String {
    if id == ROOT {
        "the root project".to_string()
    } else {
        tree.nodes[id].pkg.id()
    }
}

fn kind_prefix(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::Prod | EdgeKind::Workspace => "",
        EdgeKind::Dev => "dev ",
        EdgeKind::Optional => "optional ",
        EdgeKind::Peer => "peer ",
        EdgeKind::PeerOptional => "peerOptional ",
    }
}

/// `react@17.0.2`, its folder, and each dependency on it (npm's explain).
fn explain_node(tree: &Tree, id: NodeId, out: &mut Vec<String>) {
    out.push(tree.nodes[id].pkg.id());
    out.push(tree.location(id));
    // Like npm, leave out dependents the node does not satisfy (the
    // conflicting peer itself), except the root's.
    let mut dependents: Vec<(bool, String)> = tree
        .edges_in(id)
        .into_iter()
        .filter(|&(from, ei)| {
            from == ROOT || tree.nodes[from].edges[ei].satisfied_by(&tree.nodes[id].pkg)
        })
        .map(|(from, ei)| {
            let e = &tree.nodes[from].edges[ei];
            let line = format!(
                "  {}{}@\"{}\" from {}",
                kind_prefix(e.kind),
                e.name,
                e.raw,
                who(tree, from)
            );
            (from != ROOT, line)
        })
        .collect();
    // The root project first, then the others in a stable order.
    dependents.sort();
    out.extend(dependents.into_iter().map(|(_, line)| line));
}

/// Who depends on node `id`, or nothing for the root.
fn explain_dependent(tree: &Tree, id: NodeId, out: &mut Vec<String>) {
    if id == ROOT {
        return;
    }
    out.push(tree.location(id));
    for (from, ei) in tree.edges_in(id) {
        let e = &tree.nodes[from].edges[ei];
        out.push(format!(
            "  {}{}@\"{}\" from {}",
            kind_prefix(e.kind),
            e.name,
            e.raw,
            who(tree, from)
        ));
    }
}

/// The lines after "ERESOLVE …": what was found, and the dependency that
/// could not be met. `dep` is what was being placed for edge `ei` of `from`.
pub(super) fn explain(tree: &Tree, from: NodeId, ei: usize, dep: &Package) -> Vec<String> {
    let edge = &tree.nodes[from].edges[ei];
    let mut out = Vec::new();
    // The peer that does not fit: the edge itself, or one of dep's peers.
    let (peer_from, peer_name, peer_raw, current) = if edge.kind.is_peer() {
        let current = tree.resolve(from, &edge.name);
        (
            who(tree, from),
            edge.name.clone(),
            edge.raw.clone(),
            current,
        )
    } else {
        // An optional peer blocks too when the version it meets is wrong.
        let blocking = dep.peer_dependencies.iter().find_map(|(name, raw)| {
            let spec = crate::spec::Spec::parse(name, raw).ok()?;
            let c = tree.resolve(from, name)?;
            let p = &tree.nodes[c].pkg;
            (!spec.satisfied_by(&p.name, &p.version)).then(|| (name.clone(), raw.clone(), c))
        });
        // Or a peer the dependent itself wants another version of.
        let wanted = || {
            dep.peer_dependencies
                .iter()
                .find(|(name, _)| tree.nodes[from].edge(name).is_some())
                .map(|(name, raw)| (dep.id(), name.clone(), raw.clone(), None))
        };
        match blocking {
            Some((name, raw, c)) => (dep.id(), name, raw, Some(c)),
            None => wanted().unwrap_or((dep.id(), edge.name.clone(), edge.raw.clone(), None)),
        }
    };
    let resolving = if from == ROOT && !tree.nodes[ROOT].pkg.name.is_empty() {
        tree.nodes[ROOT].pkg.id()
    } else {
        who(tree, from)
    };
    out.push(format!("While resolving: {resolving}"));
    match current {
        Some(c) => {
            out.push(format!("Found: {}", tree.nodes[c].pkg.id()));
            let mut lines = Vec::new();
            explain_node(tree, c, &mut lines);
            out.extend(lines.into_iter().skip(1));
        }
        None => {
            // Nothing installed under that name is visible: an ancestor's
            // own dependency on it blocks every folder.
            let mut cur = if edge.kind.is_peer() {
                tree.nodes[from].parent
            } else {
                Some(from)
            };
            while let Some(a) = cur {
                if let Some(e) = tree.nodes[a].edge(&peer_name) {
                    if !e.kind.is_peer() && (!e.satisfied_by(dep) || e.name != dep.name) {
                        out.push(format!(
                            "Found: {}@\"{}\" wanted by {} at {}",
                            e.name,
                            e.raw,
                            who(tree, a),
                            tree.location(a)
                        ));
                        break;
                    }
                }
                cur = tree.nodes[a].parent;
            }
        }
    }
    out.push(String::new());
    out.push("Could not resolve dependency:".to_string());
    let optional = if edge.kind.is_peer() {
        edge.kind == EdgeKind::PeerOptional
    } else {
        dep.peer_is_optional(&peer_name)
    };
    let kind = if optional { "peerOptional" } else { "peer" };
    out.push(format!(
        "{kind} {peer_name}@\"{peer_raw}\" from {peer_from}"
    ));
    if edge.kind.is_peer() {
        explain_dependent(tree, from, &mut out);
    } else {
        let at = tree.location(from);
        let sep = if at.is_empty() { "" } else { "/" };
        out.push(format!("{at}{sep}node_modules/{}", edge.name));
        out.push(format!(
            "  {}{}@\"{}\" from {}",
            kind_prefix(edge.kind),
            edge.name,
            edge.raw,
            who(tree, from)
        ));
    }
    out
}

impl<S: Source, F: FnMut(&Package)> Resolver<'_, S, F> {
    pub(super) fn peer_conflict_error(&self, from: NodeId, ei: usize, pkg: &Package) -> Error {
        let lines = explain(&self.tree, from, ei, pkg).join("\n");
        let flags = if self.opts.strict_peer_deps {
            "--no-strict-peer-deps, --force, or --legacy-peer-deps"
        } else {
            "--force or --legacy-peer-deps"
        };
        Error::new(
            Code::PeerConflict,
            format!("ERESOLVE unable to resolve dependency tree\n\n{lines}\n\nFix the upstream dependency conflict, or retry this command with {flags} to accept an incorrect (and potentially broken) dependency resolution."),
        )
    }

    /// npm's "overriding peer dependency": the peer edge stays unmet.
    pub(super) fn warn_peer_conflict(&mut self, from: NodeId, ei: usize, pkg: &Package) {
        let lines = explain(&self.tree, from, ei, pkg).join("\n");
        self.warnings
            .push(format!("ERESOLVE overriding peer dependency\n{lines}"));
        self.peer_conflicted.insert((from, ei));
    }
}
