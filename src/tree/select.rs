//! Which nodes of the ideal tree go on disk: `--omit` and platform checks,
//! and whatever is only reachable through a skipped node.

use super::{NodeId, Tree, ROOT};
use crate::platform::Platform;

/// `--omit` choices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Omit {
    pub dev: bool,
    pub optional: bool,
    pub peer: bool,
}

impl Omit {
    pub fn from_list<S: AsRef<str>>(list: &[S]) -> Omit {
        let has = |k: &str| list.iter().any(|s| s.as_ref() == k);
        Omit {
            dev: has("dev"),
            optional: has("optional"),
            peer: has("peer"),
        }
    }
}

/// The nodes to install (indexed by NodeId), plus warnings for required
/// packages that do not support this platform.
pub fn select(tree: &Tree, omit: Omit, platform: &Platform) -> (Vec<bool>, Vec<String>) {
    let mut warnings = Vec::new();
    let allowed: Vec<bool> = tree
        .nodes
        .iter()
        .enumerate()
        .map(|(id, n)| {
            if id == ROOT {
                return true;
            }
            if !n.alive {
                return false;
            }
            let f = n.flags;
            let omitted = (omit.dev && f.dev)
                || (omit.optional && f.optional)
                || (omit.dev && omit.optional && f.dev_optional)
                || (omit.peer && f.peer);
            if omitted {
                return false;
            }
            let p = &n.pkg;
            if !platform.accepts(&p.os, &p.cpu, &p.libc) {
                if !f.optional {
                    warnings.push(format!(
                        "{} does not support this platform ({} {}); it is not installed",
                        p.id(),
                        platform.os,
                        platform.cpu
                    ));
                }
                return false;
            }
            true
        })
        .collect();
    // Only what the root reaches through allowed nodes.
    let mut included = vec![false; tree.nodes.len()];
    included[ROOT] = true;
    let mut stack: Vec<NodeId> = vec![ROOT];
    while let Some(n) = stack.pop() {
        let deps = tree.nodes[n].edges.iter().map(|e| tree.resolve(n, &e.name));
        // A link brings in the folder it points at.
        for to in deps.chain([tree.nodes[n].target]).flatten() {
            if allowed[to] && !included[to] {
                included[to] = true;
                stack.push(to);
            }
        }
    }
    // A nested node needs its folder's owner on disk.
    for (_, id) in tree.sorted_locations() {
        if let Some(p) = tree.nodes[id].parent {
            if !included[p] {
                included[id] = false;
            }
        }
    }
    (included, warnings)
}

/// Nodes reachable from `starts` through dependency edges and links (what
/// `--workspace` limits an install to).
pub fn reachable(tree: &Tree, starts: &[NodeId]) -> Vec<bool> {
    let mut seen = vec![false; tree.nodes.len()];
    let mut stack = starts.to_vec();
    for &s in starts {
        seen[s] = true;
    }
    while let Some(n) = stack.pop() {
        let deps = tree.nodes[n].edges.iter().map(|e| tree.resolve(n, &e.name));
        for to in deps.chain([tree.nodes[n].target]).flatten() {
            if !seen[to] {
                seen[to] = true;
                stack.push(to);
            }
        }
    }
    seen
}
