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
    let mut included = tree.reachable(&[ROOT], |id| allowed[id]);
    // A nested node needs its folder's owner on disk: owners first, from
    // the root and each linked folder down.
    let mut owners: Vec<NodeId> = (0..tree.nodes.len())
        .filter(|&id| tree.nodes[id].alive && tree.nodes[id].parent.is_none())
        .collect();
    while let Some(owner) = owners.pop() {
        for &child in tree.nodes[owner].children.values() {
            if !included[owner] {
                included[child] = false;
            }
            owners.push(child);
        }
    }
    (included, warnings)
}
