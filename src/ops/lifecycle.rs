//! Where lifecycle scripts meet reify: running the trusted ones after
//! linking, dropping failed optional packages, remembering the skipped
//! ones, keeping the cache safe from them, and the root project's scripts.

use std::collections::HashSet;
use std::path::Path;

use serde_json::Value;

use rayon::prelude::*;

use crate::error::Result;
use crate::fetch::Tarball;
use crate::link;
use crate::scripts::{self, pending, DepPackage, Policy};
use crate::store::{Check, Sri};
use crate::tree::{NodeId, Tree};

use super::context::Context;
use super::task::blocking;
use super::{Call, Phase};

/// What the dependencies' install scripts did.
#[derive(Debug, Default)]
pub struct DepScripts {
    /// `name@version event` of each script that ran.
    pub ran: Vec<String>,
    /// `name@version` of installed packages whose scripts have not run.
    pub not_run: Vec<String>,
    pub warnings: Vec<String>,
}

/// After linking: run the install scripts of the `candidates` (packages
/// linked this run that have scripts or a `binding.gyp`) the policy allows,
/// leave out optional packages whose script failed (`included` is updated,
/// their folders removed) and record what stays pending. `places` are the
/// installed packages' folders (locations relative to the project, sorted):
/// the hoisted tree's locations, or the linked layout's store folders.
#[allow(clippy::too_many_arguments)]
pub async fn run_dependencies(
    ctx: &Context,
    call: &Call,
    tree: &Tree,
    places: &[(String, NodeId)],
    policy: &Policy,
    candidates: &[NodeId],
    before: &pending::Pending,
    included: &mut [bool],
) -> Result<DepScripts> {
    let cwd = &ctx.cwd;
    let location: std::collections::HashMap<NodeId, &str> =
        places.iter().map(|(l, id)| (*id, l.as_str())).collect();
    let location = |id: NodeId| {
        location
            .get(&id)
            .map_or_else(|| tree.location(id), |l| l.to_string())
    };
    let (allowed, skipped): (Vec<NodeId>, Vec<NodeId>) = candidates
        .iter()
        .partition(|id| policy.allows(&tree.nodes[**id].pkg.name));
    let pkgs: Vec<DepPackage> = allowed
        .iter()
        .map(|&id| dep_package(cwd, tree, id, location(id)))
        .collect();
    let mut done = DepScripts::default();
    let outcome = if pkgs.is_empty() {
        scripts::DepOutcome::default()
    } else {
        let since = ctx.fetcher.store().clock()?;
        call.report(Phase::Scripts, 0, pkgs.len());
        let outcome = scripts::run_dependency_scripts(&ctx.script_runner(call), &pkgs).await;
        call.report(Phase::Scripts, pkgs.len(), pkgs.len());
        done.warnings = protect_cache(ctx, tree, included, since).await?;
        outcome?
    };
    done.ran = outcome.ran;
    done.warnings.extend(outcome.warnings);
    let dropped: Vec<String> = outcome
        .dropped
        .iter()
        .map(|&i| pkgs[i].location.clone())
        .collect();
    if !dropped.is_empty() {
        super::plan::leave_out(places, included, &dropped);
        remove_dangling_bins(cwd, &dropped);
    }

    // Still pending: skipped now, or skipped before and not linked again.
    let linked: HashSet<NodeId> = candidates.iter().copied().collect();
    let mut still = pending::Pending::new();
    for (loc, id) in places {
        let id = *id;
        if !included[id] {
            continue;
        }
        let pkg = &tree.nodes[id].pkg;
        let was = before.get(loc) == Some(&pkg.id()) && !linked.contains(&id);
        if was || skipped.contains(&id) {
            still.insert(loc.clone(), pkg.id());
        }
    }
    done.not_run = still.values().cloned().collect();
    pending::write(cwd, &still)?;
    Ok(done)
}

/// After dependency scripts ran: a cache entry of this project's packages
/// with a file changed since `since` (a script wrote into a hardlinked
/// sibling, or changed its mode or times) is moved out of the cache and
/// extracted again, so no other project sees the change; this project
/// keeps the changed files, now its own.
async fn protect_cache(
    ctx: &Context,
    tree: &Tree,
    included: &[bool],
    since: i128,
) -> Result<Vec<String>> {
    let store = ctx.fetcher.store().clone();
    let mut seen = HashSet::new();
    let entries: Vec<(Sri, Tarball)> = (tree.nodes.iter().enumerate())
        .filter(|(id, n)| included.get(*id) == Some(&true) && !n.pkg.link && n.path.is_none())
        .filter_map(|(_, n)| {
            let integrity = n.pkg.integrity.as_deref()?;
            let sri = Sri::parse(integrity).ok()?;
            seen.insert(integrity).then(|| (sri, ctx.tarball(&n.pkg)))
        })
        .collect();
    let changed = blocking(move || {
        Ok(link::pool().install(|| {
            entries
                .into_par_iter()
                .filter_map(|(sri, t)| {
                    let p = store.get_sri(&sri)?;
                    let Ok(Check::Changed(file)) = p.check(Some(since)) else {
                        return None;
                    };
                    store.set_aside(&p);
                    Some((t, file))
                })
                .collect::<Vec<_>>()
        }))
    })
    .await?;
    let mut warnings = Vec::with_capacity(changed.len());
    for (t, file) in changed {
        let label = format!("{}@{}", t.name, t.version);
        let done = match ctx.fetcher.ensure(t).await {
            Ok(_) => "it was restored from its tarball".to_string(),
            Err(e) => format!("it was removed from the cache ({})", e.detail()),
        };
        warnings.push(format!(
            "a dependency script modified the cached copy of {label} ({}); {done}, \
             and this project keeps the modified files as its own",
            file.display()
        ));
    }
    Ok(warnings)
}

fn dep_package(cwd: &Path, tree: &Tree, id: NodeId, location: String) -> DepPackage {
    let node = &tree.nodes[id];
    let b = |x: bool| scripts_bool(x).to_string();
    let f = node.flags;
    let mut env = vec![
        ("npm_package_optional".to_string(), b(f.optional)),
        ("npm_package_dev".to_string(), b(f.dev)),
        ("npm_package_peer".to_string(), b(f.peer)),
        (
            "npm_package_dev_optional".to_string(),
            b(f.dev_optional && !f.dev && !f.optional),
        ),
    ];
    if let Some(r) = &node.pkg.resolved {
        env.push(("npm_package_resolved".into(), r.clone()));
    }
    if let Some(i) = &node.pkg.integrity {
        env.push(("npm_package_integrity".into(), i.clone()));
    }
    DepPackage {
        dir: cwd.join(&location),
        depth: location.matches("node_modules/").count(),
        location,
        id: node.pkg.id(),
        optional: f.optional,
        env,
    }
}

fn scripts_bool(b: bool) -> &'static str {
    if b {
        "1"
    } else {
        ""
    }
}

/// `.bin` links that pointed into removed packages.
fn remove_dangling_bins(cwd: &Path, dropped: &[String]) {
    let mut dirs: Vec<std::path::PathBuf> = dropped
        .iter()
        .filter_map(|loc| {
            let i = loc.rfind("node_modules/")?;
            Some(cwd.join(&loc[..i + "node_modules".len()]).join(".bin"))
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            if std::fs::metadata(e.path()).is_err() {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// The project's own `events` scripts (in the foreground, or quietly as
/// npm's reify runs `dependencies`), unless `ignore-scripts`: the events
/// that ran.
pub async fn run_root(
    ctx: &Context,
    call: &Call,
    events: &[&str],
    foreground: bool,
) -> Result<Vec<String>> {
    if ctx.config.ignore_scripts {
        return Ok(Vec::new());
    }
    let manifest = Value::Object(ctx.project.raw.clone());
    let count = (events.iter())
        .filter(|e| manifest.get("scripts").and_then(|s| s.get(**e)).is_some())
        .count();
    if count > 0 {
        call.report(Phase::Scripts, 0, count);
    }
    let runner = ctx.script_runner(call);
    scripts::root::run_root_scripts(&runner, &ctx.cwd, &manifest, events, foreground).await
}

/// The workspaces' own install scripts (those in the install's
/// `--workspace` scope, and the workspaces they use), unless
/// `ignore-scripts`: the `name@version event`s that ran.
pub async fn run_workspaces(ctx: &Context, call: &Call, tree: &Tree) -> Result<Vec<String>> {
    if ctx.config.ignore_scripts || ctx.workspaces.is_empty() {
        return Ok(Vec::new());
    }
    let scope = super::plan::workspace_scope(tree, &call.options.workspaces)?;
    let pkgs: Vec<DepPackage> = (tree.root().children.values())
        .filter(|&&id| scope.as_ref().is_none_or(|s| s[id]))
        .filter_map(|&id| {
            let link = &tree.nodes[id];
            let folder = link.pkg.resolved.as_deref().filter(|_| link.pkg.link)?;
            // Only the project's workspaces: a `file:` folder is a dependency.
            ctx.workspaces.iter().find(|(_, f)| f == folder)?;
            crate::link::check_location(&tree.location(id)).ok()?;
            Some(DepPackage {
                location: tree.location(id),
                dir: ctx.cwd.join(folder),
                id: link.pkg.id(),
                depth: 1,
                optional: false,
                env: Vec::new(),
            })
        })
        .collect();
    if pkgs.is_empty() {
        return Ok(Vec::new());
    }
    call.report(Phase::Scripts, 0, pkgs.len());
    scripts::workspaces::run_workspace_scripts(&ctx.script_runner(call), &pkgs).await
}
