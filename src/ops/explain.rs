//! `why` / `explain`: every chain of dependents from an installed package
//! up to the root, in the shape of npm's `node.explain()` (arborist), which
//! `npm explain --json` prints and the CLI renders as npm's text.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::error::{Code, Error, Result};
use crate::spec::Spec;
use crate::tree::{locale_cmp, EdgeKind, NodeId, ROOT};

use super::actual::Actual;
use super::ls::{overridden, read};
use super::Call;

/// One explanation per installed copy matching `packages` (names,
/// `name@range`, or node_modules locations).
pub async fn explain(call: Call, packages: Vec<String>) -> Result<Vec<Value>> {
    let call = call.at_workspace_root();
    if packages.is_empty() {
        return Err(Error::new(
            Code::Config,
            "brisk why needs a package: brisk why <name>[@range] (or a node_modules/… folder)",
        ));
    }
    let actual = read(&call)?;
    let mut nodes: Vec<NodeId> = Vec::new();
    for arg in &packages {
        for id in find(&actual, arg, &call.options.cwd) {
            if !nodes.contains(&id) {
                nodes.push(id);
            }
        }
    }
    if nodes.is_empty() {
        return Err(Error::new(
            Code::NotInstalled,
            format!(
                "No dependencies found matching {}. Check the name, or run `brisk ls --all` to see what is installed.",
                packages.join(", ")
            ),
        ));
    }
    let mut x = Explainer {
        a: &actual,
        memo: HashMap::new(),
    };
    Ok(nodes
        .into_iter()
        .map(|id| {
            let mut v = x.node(id, &mut Vec::new());
            let f = actual.tree.nodes[id].flags;
            if let Value::Object(m) = &mut v {
                if actual.extraneous[id] {
                    m.insert("extraneous".into(), true.into());
                } else {
                    m.insert("dev".into(), f.dev.into());
                    m.insert("optional".into(), f.optional.into());
                    m.insert("devOptional".into(), f.dev_optional.into());
                    m.insert("peer".into(), f.peer.into());
                    let pkg = &actual.tree.nodes[id].pkg;
                    m.insert("bundled".into(), pkg.in_bundle.into());
                    m.insert("overridden".into(), overridden(&actual.tree, id).into());
                }
            }
            v
        })
        .collect())
}

/// npm explain's getNodes: by package name, by location or path, by
/// `name@range`. Links (workspaces) are found through the folder they point
/// at.
fn find(a: &Actual, arg: &str, cwd: &std::path::Path) -> Vec<NodeId> {
    let tree = &a.tree;
    let live = |id: &NodeId| *id != ROOT && tree.nodes[*id].alive;
    let mut by_location: Vec<(String, NodeId)> = (0..tree.nodes.len())
        .filter(live)
        .map(|id| (tree.location(id), id))
        .collect();
    by_location.sort_by(|x, y| locale_cmp(&x.0, &y.0));
    if crate::name::is_valid(arg) {
        return by_location
            .into_iter()
            .filter(|(_, id)| tree.nodes[*id].pkg.name == arg)
            .map(|(_, id)| id)
            .collect();
    }
    let loc = arg.replace('\\', "/");
    let loc = loc.trim_end_matches('/');
    let rel = cwd
        .join(loc)
        .strip_prefix(cwd)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default();
    for want in [loc, rel.as_str()] {
        if let Some((_, id)) = by_location.iter().find(|(l, _)| l == want) {
            return vec![*id];
        }
    }
    let Ok(req) = crate::project::request::Request::parse(arg) else {
        return Vec::new();
    };
    let Ok(spec @ Spec::Registry { .. }) = Spec::parse(&req.name, &req.raw) else {
        return Vec::new();
    };
    by_location
        .into_iter()
        .filter(|(_, id)| {
            let pkg = &tree.nodes[*id].pkg;
            pkg.name == req.name && spec.satisfied_by(&pkg.name, &pkg.version)
        })
        .map(|(_, id)| id)
        .collect()
}

struct Explainer<'a> {
    a: &'a Actual,
    /// npm caches each node's explanation (cut short where a cycle was).
    memo: HashMap<NodeId, Value>,
}

impl Explainer<'_> {
    /// arborist's node.explain(null, seen).
    fn node(&mut self, id: NodeId, seen: &mut Vec<NodeId>) -> Value {
        if let Some(v) = self.memo.get(&id) {
            return v.clone();
        }
        let v = self.compute(id, seen);
        self.memo.insert(id, v.clone());
        v
    }

    fn compute(&mut self, id: NodeId, seen: &mut Vec<NodeId>) -> Value {
        let a = self.a;
        let tree = &a.tree;
        if id == ROOT {
            return json!({ "location": a.root.display().to_string() });
        }
        let node = &tree.nodes[id];
        let top = node.parent.is_none();
        let mut why = Map::new();
        let name = if top { &node.pkg.name } else { &node.name };
        why.insert("name".into(), name.clone().into());
        why.insert("version".into(), node.pkg.version.clone().into());
        if seen.contains(&id) {
            return Value::Object(why);
        }
        why.insert("location".into(), tree.location(id).into());
        why.insert("isWorkspace".into(), a.is_workspace(id).into());
        seen.push(id);
        // Invalid edges do not hold a node in place, except the root's.
        let mut ins = tree.edges_in(id);
        ins.retain(|&(from, ei)| {
            from == ROOT || tree.nodes[from].edges[ei].satisfied_by(&node.pkg)
        });
        ins.sort_by(|x, y| locale_cmp(&tree.location(x.0), &tree.location(y.0)));
        let dependents: Vec<Value> = ins
            .into_iter()
            .map(|(from, ei)| self.edge(from, ei, id, seen))
            .collect();
        why.insert("dependents".into(), dependents.into());
        let links: Vec<NodeId> = (0..tree.nodes.len())
            .filter(|&l| tree.nodes[l].alive && tree.nodes[l].target == Some(id))
            .collect();
        if !links.is_empty() {
            let v: Vec<Value> = links.into_iter().map(|l| self.compute(l, seen)).collect();
            why.insert("linksIn".into(), v.into());
        }
        seen.pop();
        Value::Object(why)
    }

    /// arborist's edge.explain(seen).
    fn edge(&mut self, from: NodeId, ei: usize, to: NodeId, seen: &mut Vec<NodeId>) -> Value {
        let tree = &self.a.tree;
        let e = &tree.nodes[from].edges[ei];
        let mut m = Map::new();
        let kind = match e.kind {
            EdgeKind::Prod => "prod",
            EdgeKind::Dev => "dev",
            EdgeKind::Optional => "optional",
            EdgeKind::Peer => "peer",
            EdgeKind::PeerOptional => "peerOptional",
            EdgeKind::Workspace => "workspace",
        };
        m.insert("type".into(), kind.into());
        m.insert("name".into(), e.name.clone().into());
        m.insert("spec".into(), e.raw.clone().into());
        if let Some(o) = &e.overridden {
            m.insert("rawSpec".into(), o.raw.clone().into());
            m.insert("overridden".into(), true.into());
        }
        if !e.satisfied_by(&tree.nodes[to].pkg) {
            m.insert("error".into(), "INVALID".into());
        }
        let from = self.node(from, seen);
        m.insert("from".into(), from);
        Value::Object(m)
    }
}
