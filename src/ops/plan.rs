//! What reify will do to node_modules, decided before anything is touched:
//! a pure function of the tree, what is installed and the options, with no
//! I/O. The executor ([`super::reify`]) carries it out.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::error::{Code, Error, Result};
use crate::link;
use crate::lockfile::package_to_entry;
use crate::scripts::pending::Pending;
use crate::tree::{diff, NodeId, Tree, ROOT};

/// What the plan is made from.
pub struct PlanInput<'a> {
    pub tree: &'a Tree,
    /// The nodes to install (after `omit` and platform filtering).
    pub included: &'a [bool],
    /// The hidden lockfile's packages: what is installed now (None:
    /// unknown, so every folder is replaced).
    pub installed: Option<&'a HashMap<String, Map<String, Value>>>,
    /// `--workspace`: change only what these workspaces (names or folders)
    /// use.
    pub workspaces: &'a [String],
    /// Installed packages whose install scripts were skipped.
    pub pending: &'a Pending,
    /// Whether a package's install scripts may run.
    pub trusted: &'a dyn Fn(&str) -> bool,
}

/// The changes to node_modules, in the order the executor makes them.
#[derive(Debug, Default, PartialEq)]
pub struct ReifyPlan {
    /// Every package the install leaves in node_modules: (location, node),
    /// sorted by location.
    pub wanted: Vec<(String, NodeId)>,
    /// Folders to delete first (locations).
    pub remove: Vec<String>,
    /// `.bin` links of removed packages (relative to the project).
    pub stale_bins: Vec<String>,
    /// Packages to fetch and clone, in location order.
    pub clone: Vec<NodeId>,
    /// Of `clone`: installed, unchanged packages cloned again because their
    /// skipped scripts may run now (they get a private copy).
    pub relink: Vec<NodeId>,
    /// Symlinks to folders (workspaces, `file:` folders): no download.
    pub folder_links: Vec<NodeId>,
    /// Packages whose `bin` entries get `.bin` links (from `clone` and
    /// `folder_links`).
    pub bins: Vec<NodeId>,
    /// What a person would call a change, by location: added, removed, or
    /// another version (relinks are not changes).
    pub changes: Vec<Change>,
    /// The linked strategy's `node_modules/.store` is installed and goes
    /// (the hoisted layout has none).
    pub remove_store: bool,
    /// Under `--workspace`: what node_modules holds outside the scope
    /// once the plan is carried out (None without `--workspace`, or when
    /// what is installed there is not known).
    pub outside: Option<Outside>,
}

/// What a `--workspace` install leaves in node_modules, for the hidden
/// lockfile: it must describe what is on disk, not what the tree wants.
#[derive(Debug, Default, PartialEq)]
pub struct Outside {
    /// Per node: inside the scope (installed as the tree says).
    pub scope: Vec<bool>,
    /// Per node: outside the scope, and already installed as the tree
    /// says.
    pub in_place: Vec<bool>,
    /// Installed packages outside the scope that the tree wants changed or
    /// gone and this install leaves as they are: their installed entries.
    pub kept_entries: Vec<(String, Map<String, Value>)>,
}

/// One package added, removed or changed in node_modules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub location: String,
    pub name: String,
    /// The version installed before (None: added).
    pub from: Option<String>,
    /// The version installed after (None: removed).
    pub to: Option<String>,
}

/// Decides what reify changes. Fails (changing nothing) for a folder it
/// would write outside a node_modules or below a symlinked folder, and for
/// an unknown `--workspace`.
pub fn plan(input: &PlanInput) -> Result<ReifyPlan> {
    let tree = input.tree;
    let node = |id: NodeId| &tree.nodes[id];
    // Packages under a folder outside the project are that folder's own
    // business: npm leaves them alone, and so does brisk.
    let wanted: Vec<(String, NodeId)> = tree
        .sorted_locations()
        .into_iter()
        .filter(|(loc, id)| input.included[*id] && !loc.starts_with("../"))
        .collect();
    let mut diff = diff::plan(&wanted, input.installed, |id| {
        let n = node(id);
        package_to_entry(&n.pkg, &n.name, n.flags, false)
    });
    let mut outside = None;
    if let Some(scope) = workspace_scope(tree, input.workspaces)? {
        let locs: HashSet<&str> = wanted
            .iter()
            .filter(|(_, id)| scope[*id])
            .map(|(l, _)| l.as_str())
            .collect();
        let full_link: HashSet<NodeId> = diff.link.iter().copied().collect();
        let full_remove = diff.remove.clone();
        // Outside the scope, only folders the tree no longer has at all go
        // (npm removes what a `-w` uninstall leaves unused).
        let all: HashSet<&str> = wanted.iter().map(|(l, _)| l.as_str()).collect();
        diff.link.retain(|id| scope[*id]);
        diff.remove
            .retain(|l| locs.contains(l.as_str()) || !all.contains(l.as_str()));
        outside = input.installed.and_then(|installed| {
            outside_scope(
                tree,
                &wanted,
                installed,
                scope,
                &full_link,
                &full_remove,
                &diff.remove,
            )
        });
    }
    // Skipped scripts that may run now: those packages are cloned again.
    let linking: HashSet<NodeId> = diff.link.iter().copied().collect();
    let relink: Vec<NodeId> = wanted
        .iter()
        .filter(|(loc, id)| {
            let pkg = &node(*id).pkg;
            !linking.contains(id)
                && input.pending.get(loc) == Some(&pkg.id())
                && (input.trusted)(&pkg.name)
        })
        .map(|(_, id)| *id)
        .collect();
    diff.link.extend(&relink);
    // Bundled packages come with their parent's files (and go with them).
    diff.link.retain(|&id| !node(id).pkg.in_bundle);
    let bundled: HashSet<&str> = wanted
        .iter()
        .filter(|(_, id)| node(*id).pkg.in_bundle)
        .map(|(l, _)| l.as_str())
        .collect();
    diff.remove.retain(|l| !bundled.contains(l.as_str()));
    // What the linked strategy left: its store goes as a whole.
    let in_store = |l: &str| l.starts_with("node_modules/.store/");
    let remove_store = diff.remove.iter().any(|l| in_store(l));
    diff.remove.retain(|l| !in_store(l));
    check_targets(tree, &diff)?;
    let (folder_links, clone): (Vec<NodeId>, Vec<NodeId>) =
        diff.link.iter().partition(|&&id| node(id).pkg.link);
    // A bundled package's bins are linked when its bundler is put in place.
    let cloned: HashSet<NodeId> = clone.iter().copied().collect();
    let bundler_cloned = |mut id: NodeId| {
        while node(id).pkg.in_bundle {
            match node(id).parent {
                Some(p) => id = p,
                None => return false,
            }
        }
        cloned.contains(&id)
    };
    let bundled_bins = wanted
        .iter()
        .map(|(_, id)| *id)
        .filter(|&id| node(id).pkg.in_bundle && bundler_cloned(id));
    let bins = clone
        .iter()
        .chain(&folder_links)
        .copied()
        .chain(bundled_bins)
        .filter(|&id| !node(id).pkg.bin.is_empty())
        .collect();
    let changes = changes(tree, input.installed, &diff.remove, &diff.link, &relink);
    Ok(ReifyPlan {
        remove_store,
        outside,
        changes,
        stale_bins: stale_bin_links(input.installed, &diff.remove),
        remove: diff.remove,
        wanted,
        clone,
        relink,
        folder_links,
        bins,
    })
}

/// What stays outside a `--workspace` scope ([`Outside`]); None when an
/// installed entry there is in doubt (its folder changed by hand).
fn outside_scope(
    tree: &Tree,
    wanted: &[(String, NodeId)],
    installed: &HashMap<String, Map<String, Value>>,
    scope: Vec<bool>,
    full_link: &HashSet<NodeId>,
    full_remove: &[String],
    removed: &[String],
) -> Option<Outside> {
    let mut in_place = vec![false; tree.nodes.len()];
    let mut left: Vec<&str> = Vec::new();
    for (loc, id) in wanted {
        if scope[*id] {
            continue;
        }
        if full_link.contains(id) {
            left.push(loc);
        } else {
            in_place[*id] = true;
        }
    }
    let scoped: HashSet<&str> = wanted
        .iter()
        .filter(|(_, id)| scope[*id])
        .map(|(l, _)| l.as_str())
        .collect();
    left.extend(full_remove.iter().map(String::as_str));
    left.sort();
    left.dedup();
    let gone = |loc: &str| {
        scoped.contains(loc)
            || removed
                .iter()
                .any(|r| loc == r || loc.starts_with(&format!("{r}/node_modules/")))
    };
    let mut kept_entries = Vec::new();
    for loc in left {
        if gone(loc) {
            continue;
        }
        let Some(entry) = installed.get(loc) else {
            continue;
        };
        // `installed::read` nulls the version of a folder changed by hand.
        if entry.get("version") == Some(&Value::Null) {
            return None;
        }
        kept_entries.push((loc.to_string(), entry.clone()));
    }
    Some(Outside {
        scope,
        in_place,
        kept_entries,
    })
}

/// The packages `link` puts in place (minus `relink`, which stay as they
/// are) and the folders `remove` deletes for good, as changes by location.
fn changes(
    tree: &Tree,
    installed: Option<&HashMap<String, Map<String, Value>>>,
    remove: &[String],
    link: &[NodeId],
    relink: &[NodeId],
) -> Vec<Change> {
    let before = |loc: &str| {
        let entry = installed?.get(loc)?;
        let version = entry.get("version")?.as_str()?.to_string();
        let name = entry
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_else(|| crate::lockfile::folder_name(loc))
            .to_string();
        Some((name, version))
    };
    let relinked: HashSet<NodeId> = relink.iter().copied().collect();
    let mut out: Vec<Change> = link
        .iter()
        .filter(|id| !relinked.contains(id))
        .map(|&id| {
            let location = tree.location(id);
            let from = before(&location).map(|(_, v)| v);
            let pkg = &tree.nodes[id].pkg;
            Change {
                name: tree.nodes[id].name.clone(),
                to: Some(pkg.version.clone()).filter(|v| !pkg.link || !v.is_empty()),
                from,
                location,
            }
        })
        .collect();
    let placed: HashSet<&str> = out.iter().map(|c| c.location.as_str()).collect();
    let gone: Vec<Change> = remove
        .iter()
        .filter(|loc| !placed.contains(loc.as_str()))
        .filter_map(|loc| {
            let (name, version) = before(loc)?;
            Some(Change {
                location: loc.clone(),
                name,
                from: Some(version),
                to: None,
            })
        })
        .collect();
    out.extend(gone);
    out.sort_by(|a, b| crate::locale::locale_cmp(&a.location, &b.location));
    out
}

/// Every folder the plan creates or removes is inside the project's (or a
/// workspace's) node_modules, and none lies below a symlinked folder, whose
/// files are not the install's to change.
fn check_targets(tree: &Tree, plan: &diff::Plan) -> Result<()> {
    for &id in &plan.link {
        let loc = tree.location(id);
        link::check_location(&loc)?;
        let mut up = tree.nodes[id].parent;
        while let Some(p) = up.filter(|&p| p != ROOT) {
            if tree.nodes[p].pkg.link {
                return Err(Error::new(
                    Code::Io,
                    format!(
                        "refusing to write {loc:?}: {:?} is a link to a folder; nothing was changed",
                        tree.location(p)
                    ),
                ));
            }
            up = tree.nodes[p].parent;
        }
    }
    plan.remove
        .iter()
        .try_for_each(|loc| link::check_location(loc))
}

/// The nodes `--workspace <name or folder>` limits an install to (None:
/// no limit).
pub(super) fn workspace_scope(tree: &Tree, names: &[String]) -> Result<Option<Vec<bool>>> {
    if names.is_empty() {
        return Ok(None);
    }
    let links: Vec<(NodeId, &str, &str)> = tree
        .root()
        .children
        .values()
        .filter_map(|&id| {
            let n = &tree.nodes[id];
            let path = n.pkg.resolved.as_deref().filter(|_| n.pkg.link)?;
            Some((id, n.name.as_str(), path))
        })
        .collect();
    let mut starts = Vec::new();
    for want in names {
        let want = want.trim_start_matches("./").trim_end_matches('/');
        let found = links
            .iter()
            .find(|(_, name, path)| *name == want || *path == want)
            .ok_or_else(|| {
                Error::new(
                    Code::NotFound,
                    format!(
                        "--workspace {want}: the project has no workspace with that name or folder"
                    ),
                )
            })?;
        starts.push(found.0);
    }
    Ok(Some(tree.reachable(&starts, |_| true)))
}

/// `.bin` links of packages about to be removed.
fn stale_bin_links(
    installed: Option<&HashMap<String, Map<String, Value>>>,
    remove: &[String],
) -> Vec<String> {
    let Some(installed) = installed else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for loc in remove {
        let Some(bin) = installed
            .get(loc)
            .and_then(|e| e.get("bin"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        let Some(i) = loc.rfind("node_modules/") else {
            continue;
        };
        let parent_nm = &loc[..i + "node_modules".len()];
        for name in bin.keys() {
            if !name.contains('/') && !name.contains("..") {
                out.push(format!("{parent_nm}/.bin/{name}"));
            }
        }
    }
    out
}

/// Leaves out the packages at `locations` and everything nested in their
/// folders.
pub fn leave_out(wanted: &[(String, NodeId)], included: &mut [bool], locations: &[String]) {
    if locations.is_empty() {
        return;
    }
    for (loc, id) in wanted {
        let gone = locations.iter().any(|f| {
            loc == f
                || loc
                    .strip_prefix(f.as_str())
                    .is_some_and(|rest| rest.starts_with("/node_modules/"))
        });
        if gone {
            included[*id] = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::Lockfile;
    use crate::tree::{EdgeOptions, Package};
    use serde_json::json;

    /// A tree from lockfile `packages`, with a root depending on `deps`.
    fn tree(packages: Value, deps: Value) -> Tree {
        let mut all = json!({ "": { "name": "root", "dependencies": deps } });
        all.as_object_mut()
            .unwrap()
            .extend(packages.as_object().unwrap().clone());
        let text =
            json!({ "name": "root", "lockfileVersion": 3, "requires": true, "packages": all });
        let lock = Lockfile::parse(&text.to_string()).unwrap();
        let root = Package {
            name: "root".into(),
            ..Default::default()
        };
        lock.to_tree(root, EdgeOptions::default()).unwrap()
    }

    fn pkg(version: &str) -> Value {
        json!({ "version": version, "resolved": format!("https://r/x-{version}.tgz"),
                "integrity": format!("sha512-{version}") })
    }

    /// What is installed: the hidden lockfile's entries for `tree`.
    fn installed_as(tree: &Tree) -> HashMap<String, Map<String, Value>> {
        tree.sorted_locations()
            .into_iter()
            .map(|(loc, id)| {
                let n = &tree.nodes[id];
                (loc, package_to_entry(&n.pkg, &n.name, n.flags, false))
            })
            .collect()
    }

    fn make(
        tree: &Tree,
        installed: Option<&HashMap<String, Map<String, Value>>>,
        workspaces: &[String],
        pending: &Pending,
    ) -> Result<ReifyPlan> {
        let included = vec![true; tree.nodes.len()];
        plan(&PlanInput {
            tree,
            included: &included,
            installed,
            workspaces,
            pending,
            trusted: &|name| name == "b",
        })
    }

    fn locations(tree: &Tree, ids: &[NodeId]) -> Vec<String> {
        ids.iter().map(|&id| tree.location(id)).collect()
    }

    #[test]
    fn into_an_empty_node_modules_everything_is_cloned_and_bins_linked() {
        let mut a = pkg("1.0.0");
        a["bin"] = json!({ "a": "cli.js" });
        let t = tree(
            json!({ "node_modules/a": a, "node_modules/b": pkg("2.0.0") }),
            json!({ "a": "1", "b": "2" }),
        );
        let p = make(&t, Some(&HashMap::new()), &[], &Pending::new()).unwrap();
        assert_eq!(
            locations(&t, &p.clone),
            ["node_modules/a", "node_modules/b"]
        );
        assert_eq!(locations(&t, &p.bins), ["node_modules/a"]);
        assert!(p.remove.is_empty() && p.relink.is_empty() && p.folder_links.is_empty());
    }

    #[test]
    fn an_unchanged_tree_plans_nothing_and_a_changed_package_is_replaced() {
        let before = tree(
            json!({ "node_modules/a": pkg("1.0.0"), "node_modules/b": pkg("2.0.0") }),
            json!({ "a": "1", "b": "2" }),
        );
        let installed = installed_as(&before);
        let same = make(&before, Some(&installed), &[], &Pending::new()).unwrap();
        assert!(same.clone.is_empty() && same.remove.is_empty(), "{same:?}");

        let mut old = installed.clone();
        old.get_mut("node_modules/b")
            .unwrap()
            .insert("bin".into(), json!({ "b": "b.js" }));
        old.insert(
            "node_modules/gone".into(),
            pkg("1.0.0").as_object().unwrap().clone(),
        );
        let after = tree(
            json!({ "node_modules/a": pkg("1.0.0"), "node_modules/b": pkg("3.0.0") }),
            json!({ "a": "1", "b": "3" }),
        );
        let p = make(&after, Some(&old), &[], &Pending::new()).unwrap();
        assert_eq!(locations(&after, &p.clone), ["node_modules/b"]);
        assert_eq!(p.remove, ["node_modules/b", "node_modules/gone"]);
        assert_eq!(p.stale_bins, ["node_modules/.bin/b"]);
    }

    #[test]
    fn a_trusted_package_with_skipped_scripts_is_cloned_again() {
        let t = tree(
            json!({ "node_modules/a": pkg("1.0.0"), "node_modules/b": pkg("2.0.0") }),
            json!({ "a": "1", "b": "2" }),
        );
        let installed = installed_as(&t);
        let mut pending = Pending::new();
        pending.insert("node_modules/a".into(), "a@1.0.0".into());
        pending.insert("node_modules/b".into(), "b@2.0.0".into());
        let p = make(&t, Some(&installed), &[], &pending).unwrap();
        // Only b is trusted.
        assert_eq!(locations(&t, &p.clone), ["node_modules/b"]);
        assert_eq!(p.relink, p.clone);
    }

    #[test]
    fn folder_links_are_linked_not_fetched_and_bundled_packages_come_with_their_parent() {
        let mut parent = pkg("1.0.0");
        parent["bundleDependencies"] = json!(["inner"]);
        let t = tree(
            json!({
                "node_modules/ws": { "resolved": "packages/ws", "link": true },
                "packages/ws": { "name": "ws", "version": "0.0.1" },
                "node_modules/p": parent,
                "node_modules/p/node_modules/inner": { "version": "1.0.0", "inBundle": true },
            }),
            json!({ "ws": "file:packages/ws", "p": "1" }),
        );
        let mut included = vec![true; t.nodes.len()];
        for (id, n) in t.nodes.iter().enumerate() {
            if n.path.is_some() {
                included[id] = false;
            }
        }
        let p = plan(&PlanInput {
            tree: &t,
            included: &included,
            installed: Some(&HashMap::new()),
            workspaces: &[],
            pending: &Pending::new(),
            trusted: &|_| false,
        })
        .unwrap();
        assert_eq!(locations(&t, &p.clone), ["node_modules/p"]);
        assert_eq!(locations(&t, &p.folder_links), ["node_modules/ws"]);
    }

    #[test]
    fn an_unknown_workspace_is_an_error_and_nothing_is_planned() {
        let t = tree(
            json!({ "node_modules/a": pkg("1.0.0") }),
            json!({ "a": "1" }),
        );
        let err = make(&t, None, &["nope".into()], &Pending::new()).unwrap_err();
        assert_eq!(err.code, Code::NotFound);
        assert!(err.message.contains("--workspace nope"), "{}", err.message);
    }

    #[test]
    fn a_location_outside_node_modules_is_refused() {
        let mut installed = HashMap::new();
        installed.insert(
            "node_modules/../../escape".to_string(),
            pkg("1.0.0").as_object().unwrap().clone(),
        );
        let t = tree(json!({}), json!({}));
        let err = make(&t, Some(&installed), &[], &Pending::new()).unwrap_err();
        assert_eq!(err.code, Code::Io, "{err}");
    }

    #[test]
    fn leaving_out_a_package_leaves_out_what_is_nested_in_it() {
        let wanted: Vec<(String, NodeId)> = [
            "node_modules/a",
            "node_modules/a/node_modules/b",
            "node_modules/ab",
        ]
        .iter()
        .enumerate()
        .map(|(i, l)| (l.to_string(), i))
        .collect();
        let mut included = vec![true; 3];
        leave_out(&wanted, &mut included, &["node_modules/a".into()]);
        assert_eq!(included, [false, false, true]);
    }
}
