//! `outdated`: for each dependency edge (the root's and its workspaces' by
//! default, every node's with `--all`, the edges into named packages), the
//! installed version, the newest version its range allows (`wanted`, picked
//! as install picks: engines, `before`/`min-release-age`) and the `latest`
//! dist-tag, as npm's lib/commands/outdated.js computes them. Packuments
//! are fetched concurrently.

use futures_util::future::join_all;
use serde::Serialize;

use crate::error::{Code, Result};
use crate::registry::{pick_version_with, PickOptions};
use crate::spec::Spec;
use crate::tree::select::Omit;
use crate::tree::{locale_cmp, EdgeKind, NodeId, ROOT};

use super::context::Context;
use super::ls::{read, Query};
use super::Call;

/// One outdated dependency (npm's list entry).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outdated {
    /// The dependency name (`alias@npm:real` spelled as npm does).
    pub name: String,
    /// Installed version; None when it is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    pub wanted: String,
    pub latest: String,
    /// The folder it is (or would be) in, absolute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Its location (`node_modules/a`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The dependent's name (the root's: its folder's name, as npm).
    pub dependent: String,
    /// The dependent's location ("" for the root).
    pub depended_by_location: String,
    /// `name@version` of a workspace that depends on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace_dependent: Option<String>,
    /// `dependencies`, `devDependencies`, `optionalDependencies`,
    /// `peerDependencies`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// The checks to run: (dependent, edge index).
fn edges(a: &super::actual::Actual, query: &Query) -> Vec<(NodeId, usize)> {
    let tree = &a.tree;
    let mut out: Vec<(NodeId, usize)> = Vec::new();
    let all_of = |id: NodeId, out: &mut Vec<(NodeId, usize)>| {
        for i in 0..tree.nodes[id].edges.len() {
            if !out.contains(&(id, i)) {
                out.push((id, i));
            }
        }
    };
    if !query.packages.is_empty() {
        for name in &query.packages {
            for (id, n) in tree.nodes.iter().enumerate() {
                if id != ROOT && n.alive && &n.name == name {
                    for e in tree.edges_in(id) {
                        if !out.contains(&e) {
                            out.push(e);
                        }
                    }
                }
            }
        }
        return out;
    }
    if query.all {
        for (id, n) in tree.nodes.iter().enumerate() {
            if n.alive && !n.pkg.link {
                all_of(id, &mut out);
            }
        }
    }
    all_of(ROOT, &mut out);
    // The workspaces' own dependencies.
    for e in &tree.root().edges {
        if e.kind == EdgeKind::Workspace {
            if let Some(t) = tree
                .resolve(ROOT, &e.name)
                .and_then(|l| tree.nodes[l].target)
            {
                all_of(t, &mut out);
            }
        }
    }
    out
}

pub async fn outdated(call: Call, query: Query) -> Result<Vec<Outdated>> {
    let call = call.at_workspace_root();
    let actual = read(&call)?;
    let config = Context::config(&call)?;
    let omit = Omit::from_list(&config.omit);
    let checks = edges(&actual, &query);
    let actual = &actual;
    Context::scoped(&call, config, None, async |ctx| {
        let client = ctx.registry();
        let pick = PickOptions {
            node_version: call.options.node_version.clone(),
            before: ctx.config.before,
        };
        let tree = &actual.tree;
        let jobs = checks.into_iter().filter_map(|(from, ei)| {
            let e = &tree.nodes[from].edges[ei];
            let to = tree.resolve(from, &e.name);
            let kind = match e.kind {
                k if k.is_optional() => "optionalDependencies",
                k if k.is_peer() => "peerDependencies",
                EdgeKind::Dev => "devDependencies",
                _ => "dependencies",
            };
            if let Some(to) = to {
                let f = tree.nodes[to].flags;
                let omitted =
                    (omit.dev && f.dev) || (omit.optional && f.optional) || (omit.peer && f.peer);
                if omitted {
                    return None;
                }
            } else if kind != "dependencies" {
                // Only missing prod dependencies are reported.
                return None;
            }
            let Spec::Registry {
                name: real, wanted, ..
            } = &*e.spec
            else {
                return None;
            };
            let (client, pick) = (&client, &pick);
            Some(async move {
                let packument = match client.packument(real).await {
                    Ok(p) => p,
                    // npm skips what the registry does not have.
                    Err(err) if err.code == Code::NotFound => return Ok(None),
                    Err(err) => return Err(err),
                };
                let wanted = match pick_version_with(&packument, wanted, pick) {
                    Ok(m) => m.version.clone(),
                    Err(_) => return Ok(None),
                };
                let latest = match pick_version_with(&packument, "*", pick) {
                    Ok(m) => m.version.clone(),
                    Err(_) => return Ok(None),
                };
                let current = to.map(|t| tree.nodes[t].pkg.version.clone());
                if current.as_deref() == Some(wanted.as_str()) && wanted == latest {
                    return Ok(None);
                }
                let dependent = &tree.nodes[from];
                let workspace = dependent.parent.is_none() && from != ROOT;
                Ok(Some(Outdated {
                    // npm's own spelling for an alias (`alias:real@^1`).
                    name: if &e.name == real {
                        e.name.clone()
                    } else {
                        e.raw.replacen("npm", &e.name, 1)
                    },
                    current,
                    wanted,
                    latest,
                    path: to.map(|t| actual.path(t).display().to_string()),
                    location: to.map(|t| tree.location(t)),
                    dependent: if from == ROOT {
                        // npm names the root by its folder.
                        actual
                            .root
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    } else {
                        dependent.pkg.name.clone()
                    },
                    depended_by_location: tree.location(from),
                    workspace_dependent: workspace.then(|| dependent.pkg.id()),
                    kind: kind.to_string(),
                }))
            })
        });
        let results: Vec<Result<Option<Outdated>>> =
            call.cancel.run(async { Ok(join_all(jobs).await) }).await?;
        let mut list = Vec::new();
        for r in results {
            if let Some(o) = r? {
                list.push(o);
            }
        }
        list.sort_by(|a, b| {
            locale_cmp(&a.name, &b.name).then_with(|| locale_cmp(&a.dependent, &b.dependent))
        });
        Ok(list)
    })
    .await
}
