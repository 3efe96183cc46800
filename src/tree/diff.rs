//! What to change in node_modules: the ideal tree against what the hidden
//! lockfile says is installed.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::NodeId;

/// The work for the cloner.
#[derive(Debug, Default)]
pub struct Plan {
    /// Folders to delete first (locations).
    pub remove: Vec<String>,
    /// Nodes to (re)materialize.
    pub link: Vec<NodeId>,
    /// Nodes already in place.
    pub kept: usize,
}

fn same(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    // A lockfile written with `omit-lockfile-registry-resolved` has no
    // `resolved` where the hidden lockfile has one: the integrity decides.
    let resolved = a.get("resolved") == b.get("resolved")
        || (a.get("integrity").is_some()
            && (a.get("resolved").is_none() || b.get("resolved").is_none()));
    resolved
        && ["version", "name", "integrity", "link"]
            .iter()
            .all(|k| a.get(*k) == b.get(*k))
}

/// `installed`: the hidden lockfile's packages (None when unknown, e.g. no
/// hidden lockfile: then every wanted folder is replaced). `wanted`:
/// (location, node) for included nodes only; `entry` gives a node's
/// lockfile entry, asked for only when there is an installed one to compare.
pub fn plan(
    wanted: &[(String, NodeId)],
    installed: Option<&HashMap<String, Map<String, Value>>>,
    entry: impl Fn(NodeId) -> Map<String, Value>,
) -> Plan {
    let Some(installed) = installed else {
        return Plan {
            remove: wanted.iter().map(|(l, _)| l.clone()).collect(),
            link: wanted.iter().map(|(_, id)| *id).collect(),
            kept: 0,
        };
    };
    // Entries only where something is installed: into an empty
    // node_modules this builds none (a warm link would otherwise build a
    // large tree's entries for nothing).
    let want: HashMap<&str, Map<String, Value>> = wanted
        .iter()
        .filter(|(l, _)| installed.contains_key(l))
        .map(|(l, id)| (l.as_str(), entry(*id)))
        .collect();
    // Only folders inside a node_modules are ours to remove (npm's hidden
    // lockfile also lists workspace folders).
    let mut remove: Vec<String> = installed
        .iter()
        .filter(|(loc, _)| super::in_node_modules(loc))
        .filter(|(loc, e)| !want.get(loc.as_str()).is_some_and(|w| same(w, e)))
        .map(|(loc, _)| loc.clone())
        .collect();
    remove.sort();
    let removed: HashSet<&str> = remove.iter().map(String::as_str).collect();
    let inside_removed = |loc: &str| {
        let mut l = loc;
        while let Some(i) = l.rfind("/node_modules/") {
            l = &l[..i];
            if removed.contains(l) {
                return true;
            }
        }
        false
    };
    let mut plan = Plan {
        remove: Vec::new(),
        link: Vec::new(),
        kept: 0,
    };
    for (loc, id) in wanted {
        let kept = want
            .get(loc.as_str())
            .zip(installed.get(loc))
            .is_some_and(|(w, i)| same(i, w))
            && !inside_removed(loc);
        if kept {
            plan.kept += 1;
        } else {
            plan.link.push(*id);
        }
    }
    plan.remove = remove;
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn e(v: &str) -> Map<String, Value> {
        json!({ "version": v, "integrity": format!("sha512-{v}") })
            .as_object()
            .unwrap()
            .clone()
    }

    /// A lockfile without `resolved` (omit-lockfile-registry-resolved)
    /// against a hidden lockfile with it: the same package, kept.
    #[test]
    fn a_missing_resolved_is_not_a_change_when_the_integrity_matches() {
        let mut with = e("1.0.0");
        with.insert("resolved".into(), json!("https://r/a-1.0.0.tgz"));
        let wanted = [("node_modules/a".to_string(), 1)];
        let installed: HashMap<String, Map<String, Value>> =
            [("node_modules/a".to_string(), with.clone())].into();
        let p = plan(&wanted, Some(&installed), |_| e("1.0.0"));
        assert!(p.link.is_empty() && p.remove.is_empty(), "{p:?}");
        let mut other = e("1.0.0");
        other.insert("integrity".into(), json!("sha512-other"));
        let p = plan(&wanted, Some(&installed), |_| other.clone());
        assert_eq!(p.link, vec![1]);
    }

    #[test]
    fn keeps_unchanged_and_relinks_inside_removed() {
        let wanted = [
            ("node_modules/a".to_string(), 1, e("2.0.0")),
            ("node_modules/a/node_modules/b".to_string(), 2, e("1.0.0")),
            ("node_modules/c".to_string(), 3, e("1.0.0")),
            ("node_modules/new".to_string(), 4, e("1.0.0")),
        ];
        let installed: HashMap<String, Map<String, Value>> = [
            ("node_modules/a", e("1.0.0")),
            ("node_modules/a/node_modules/b", e("1.0.0")),
            ("node_modules/c", e("1.0.0")),
            ("node_modules/gone", e("1.0.0")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let locations: Vec<(String, NodeId)> =
            wanted.iter().map(|(l, id, _)| (l.clone(), *id)).collect();
        let entry = |id: NodeId| wanted[id - 1].2.clone();
        let p = plan(&locations, Some(&installed), entry);
        assert_eq!(p.remove, vec!["node_modules/a", "node_modules/gone"]);
        assert_eq!(p.link, vec![1, 2, 4]);
        assert_eq!(p.kept, 1);
        let p = plan(&locations, None, |_| {
            unreachable!("nothing to compare with")
        });
        assert_eq!(p.link.len(), 4);
        assert_eq!(p.remove.len(), 4);
        // An empty node_modules: everything is linked, no entry is built.
        let p = plan(&locations, Some(&HashMap::new()), |_| {
            unreachable!("nothing installed to compare with")
        });
        assert_eq!(p.link, vec![1, 2, 3, 4]);
        assert!(p.remove.is_empty());
    }
}
