//! Where lifecycle scripts meet reify: which packages get private copies,
//! running the trusted ones after linking, dropping failed optional
//! packages, remembering the skipped ones, and the root project's scripts.

use std::collections::HashSet;
use std::path::Path;

use serde_json::Value;

use rayon::prelude::*;

use crate::error::Result;
use crate::fetch::Tarball;
use crate::link;
use crate::scripts::{self, pending, DepPackage, Policy};
use crate::store::{Check, Sri};
use crate::tree::diff::Plan;
use crate::tree::{NodeId, Tree};

use super::context::Context;
use super::{Call, Summary};

/// Installed, unchanged packages whose scripts were skipped before and may
/// run now: add them to `plan.link` (they get a fresh private copy, then
/// their scripts). Returns them.
pub fn relink_pending(
    tree: &Tree,
    wanted: &[(String, NodeId)],
    plan: &mut Plan,
    before: &pending::Pending,
    policy: &Policy,
) -> Vec<NodeId> {
    let linking: HashSet<NodeId> = plan.link.iter().copied().collect();
    let relink: Vec<NodeId> = wanted
        .iter()
        .filter(|(loc, id)| {
            let pkg = &tree.nodes[*id].pkg;
            !linking.contains(id) && before.get(loc) == Some(&pkg.id()) && policy.allows(&pkg.name)
        })
        .map(|(_, id)| *id)
        .collect();
    plan.link.extend(&relink);
    relink
}

/// After linking: run the install scripts of the `candidates` (packages
/// linked this run that have scripts or a `binding.gyp`) the policy allows,
/// drop optional packages whose script failed (`included` is updated),
/// record what stays pending and fill the summary's script fields.
#[allow(clippy::too_many_arguments)]
pub async fn run_dependencies(
    ctx: &Context,
    call: &Call,
    tree: &Tree,
    policy: &Policy,
    candidates: &[NodeId],
    before: &pending::Pending,
    included: &mut [bool],
    summary: &mut Summary,
) -> Result<()> {
    let cwd = &ctx.cwd;
    let (allowed, skipped): (Vec<NodeId>, Vec<NodeId>) = candidates
        .iter()
        .partition(|id| policy.allows(&tree.nodes[**id].pkg.name));
    let pkgs: Vec<DepPackage> = allowed
        .iter()
        .map(|&id| dep_package(cwd, tree, id))
        .collect();
    let outcome = if pkgs.is_empty() {
        scripts::DepOutcome::default()
    } else {
        let since = ctx.fetcher.store().clock()?;
        let outcome = scripts::run_dependency_scripts(&ctx.script_runner(call), &pkgs).await;
        protect_cache(ctx, tree, included, since, summary).await?;
        outcome?
    };
    summary.scripts_run.extend(outcome.ran);
    summary.warnings.extend(outcome.warnings);
    let dropped: Vec<&str> = outcome
        .dropped
        .iter()
        .map(|&i| pkgs[i].location.as_str())
        .collect();
    if !dropped.is_empty() {
        for (loc, id) in tree.sorted_locations() {
            let gone = dropped
                .iter()
                .any(|d| loc == *d || loc.starts_with(&format!("{d}/node_modules/")));
            if gone && included[id] {
                included[id] = false;
                summary.added = summary.added.saturating_sub(1);
                summary.packages = summary.packages.saturating_sub(1);
            }
        }
        remove_dangling_bins(cwd, &dropped);
    }

    // Still pending: skipped now, or skipped before and not linked again.
    let linked: HashSet<NodeId> = candidates.iter().copied().collect();
    let mut still = pending::Pending::new();
    for (loc, id) in tree.sorted_locations() {
        if !included[id] {
            continue;
        }
        let pkg = &tree.nodes[id].pkg;
        let was = before.get(&loc) == Some(&pkg.id()) && !linked.contains(&id);
        if was || skipped.contains(&id) {
            still.insert(loc, pkg.id());
        }
    }
    summary.scripts_not_run = still.values().cloned().collect();
    pending::write(cwd, &still)
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
    summary: &mut Summary,
) -> Result<()> {
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
    let changed = super::reify::blocking(move || {
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
    for (t, file) in changed {
        let label = format!("{}@{}", t.name, t.version);
        let done = match ctx.fetcher.ensure(t).await {
            Ok(_) => "it was restored from its tarball".to_string(),
            Err(e) => format!("it was removed from the cache ({})", e.message),
        };
        summary.warnings.push(format!(
            "a dependency script modified the cached copy of {label} ({}); {done}, \
             and this project keeps the modified files as its own",
            file.display()
        ));
    }
    Ok(())
}

fn dep_package(cwd: &Path, tree: &Tree, id: NodeId) -> DepPackage {
    let node = &tree.nodes[id];
    let location = tree.location(id);
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
fn remove_dangling_bins(cwd: &Path, dropped: &[&str]) {
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

/// The project's own install scripts, unless `ignore-scripts`.
pub async fn run_root(ctx: &Context, call: &Call, summary: &mut Summary) -> Result<()> {
    if ctx.config.ignore_scripts {
        return Ok(());
    }
    let manifest = Value::Object(ctx.project.raw.clone());
    let ran =
        scripts::root::run_root_scripts(&ctx.script_runner(call), &ctx.cwd, &manifest).await?;
    summary.scripts_run.extend(ran);
    Ok(())
}
