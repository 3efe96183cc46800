//! `brisk rebuild [pkg...]`: run the install scripts (and `node-gyp
//! rebuild` for a `binding.gyp`) of installed packages again, as npm
//! rebuild does. Named packages run whatever the trust list says (naming a
//! package is trusting it, as with npm and pnpm); without names, only the
//! packages the project trusts (or all with `allow-scripts`). Each package
//! gets a private copy of its files first, never writing through hardlinks
//! into the cache, and the record of skipped scripts is updated.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;

use crate::error::{Code, Error, Result};
use crate::lockfile::{self, Lockfile};
use crate::project::request::Request;
use crate::scripts::{self, pending};
use crate::tree::{isolated, NodeId, Tree, ROOT};

use super::context::Context;
use super::task::blocking;
use super::{lifecycle, uptodate, Call, Phase, Summary};

pub async fn rebuild(call: Call) -> Result<Summary> {
    let t0 = Instant::now();
    let call = call.at_workspace_root();
    let config = Context::config(&call)?;
    let _lock = call.lock_project().await?;
    Context::scoped(&call, config, None, async |ctx| run(ctx, &call, t0).await).await
}

async fn run(ctx: &Context, call: &Call, t0: Instant) -> Result<Summary> {
    let cwd = ctx.cwd.clone();
    let mut summary = Summary::default();
    let fingerprint = uptodate::fingerprint(&call.options, &ctx.config);
    let was_current = uptodate::current(&cwd, &fingerprint);
    let (tree, linked) = installed_tree(ctx)?;
    let tree = Arc::new(tree);
    let included: Vec<bool> = (tree.nodes.iter())
        .map(|n| n.alive && n.path.is_none() && !n.pkg.link)
        .collect();
    // Where each package is: its hoisted location, or its `.store` folder.
    let places = match linked {
        false => tree.sorted_locations(),
        true => store_places(ctx, &tree, &included, &mut summary.warnings)?,
    };
    let location: std::collections::HashMap<NodeId, &str> =
        places.iter().map(|(l, id)| (*id, l.as_str())).collect();
    let named: Vec<String> = (call.options.packages.iter())
        .map(|p| Request::parse(p).map(|r| r.name))
        .collect::<Result<_>>()?;
    let mut candidates = Vec::new();
    let mut found = vec![false; named.len()];
    for (loc, id) in places.iter().cloned() {
        if id == ROOT || !included[id] {
            continue;
        }
        let node = &tree.nodes[id];
        let folder = lockfile::folder_name(&loc);
        if !named.is_empty() {
            let hit: Vec<usize> = (0..named.len())
                .filter(|&i| named[i] == node.pkg.name || named[i] == folder)
                .collect();
            if hit.is_empty() {
                continue;
            }
            hit.into_iter().for_each(|i| found[i] = true);
        }
        if has_scripts(&cwd.join(&loc)) {
            candidates.push(id);
        }
    }
    for (name, _) in named.iter().zip(&found).filter(|(_, f)| !**f) {
        summary.warnings.push(format!(
            "{name} is not installed in {}; nothing to rebuild for it",
            cwd.display()
        ));
    }
    let mut policy = ctx.script_policy();
    policy.trusted.extend(named.iter().cloned());
    let allowed: Vec<NodeId> = (candidates.iter().copied())
        .filter(|&id| policy.allows(&tree.nodes[id].pkg.name))
        .collect();
    let dirs: Vec<std::path::PathBuf> = allowed.iter().map(|&id| cwd.join(location[&id])).collect();
    call.report(Phase::Link, 0, dirs.len());
    blocking(move || dirs.iter().try_for_each(|d| unshare(d))).await?;
    let before = pending::read(&cwd);
    let mut included = included;
    // Only the allowed ones: a package skipped now keeps its record (its
    // scripts may have run before), where install would mark it pending.
    let done = lifecycle::run_dependencies(
        ctx,
        call,
        &tree,
        &places,
        &policy,
        &allowed,
        &before,
        &mut included,
    )
    .await?;
    summary.scripts_run = done.ran;
    summary.scripts_not_run = done.not_run;
    summary.warnings.extend(done.warnings);
    summary.packages = included.iter().skip(1).filter(|i| **i).count();
    if let Some(packages) = was_current {
        // Only files inside packages changed: still up to date.
        super::installed::stamp(ctx, call, &tree, packages)?;
    }
    summary.timings.total_ms = t0.elapsed().as_secs_f64() * 1e3;
    call.report(Phase::Done, 1, 1);
    Ok(summary)
}

/// The linked layout's store folders of an installed tree (from
/// package-lock.json, which is the same whatever the strategy). Folders in
/// the global virtual store are left out: nothing runs in them.
fn store_places(
    ctx: &Context,
    tree: &Tree,
    included: &[bool],
    warnings: &mut Vec<String>,
) -> Result<Vec<(String, NodeId)>> {
    let opts = isolated::LayoutOptions {
        omit: ctx.config.omit.clone(),
        legacy_peer_deps: ctx.config.legacy_peer_deps,
        content_keys: false,
    };
    let layout = isolated::layout(tree, included, &opts)?;
    let mut places = Vec::new();
    for e in &layout.entries {
        let dir = ctx.cwd.join(e.dir());
        if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink()) {
            if has_scripts(&ctx.cwd.join(e.location())) {
                warnings.push(format!(
                    "{} is in the global virtual store, where nothing runs; install with its scripts allowed to give it a folder of its own and run them",
                    tree.nodes[e.node].pkg.id()
                ));
            }
            continue;
        }
        places.push((e.location(), e.node));
    }
    places.sort_by(|a, b| crate::locale::locale_cmp(&a.0, &b.0));
    Ok(places)
}

/// What node_modules holds: the hidden lockfile, else package-lock.json;
/// for the linked layout (its hidden lockfile lists `.store` folders),
/// package-lock.json's tree, and true.
fn installed_tree(ctx: &Context) -> Result<(Tree, bool)> {
    let hidden = Lockfile::read_hidden(&ctx.cwd.join(lockfile::HIDDEN))?;
    let linked = hidden.as_ref().is_some_and(|l| {
        l.packages
            .keys()
            .any(|k| k.starts_with("node_modules/.store/"))
    });
    let hidden = match linked {
        true => ctx.read_lockfile()?,
        false => hidden,
    };
    let lock = match hidden {
        Some(l) => l,
        None => ctx
            .read_lockfile()?
            .filter(|_| ctx.cwd.join("node_modules").is_dir())
            .ok_or_else(|| {
                Error::new(
                    Code::NotFound,
                    format!(
                        "nothing is installed in {}; run `brisk install` first",
                        ctx.cwd.display()
                    ),
                )
            })?,
    };
    Ok((
        lock.to_tree(ctx.root_package(), ctx.edge_options())?,
        linked,
    ))
}

/// Does the package in `dir` have install scripts (or a `binding.gyp`)?
fn has_scripts(dir: &Path) -> bool {
    let manifest: Value = std::fs::read_to_string(dir.join("package.json"))
        .ok()
        .and_then(|t| serde_json::from_str(t.trim_start_matches('\u{feff}')).ok())
        .unwrap_or(Value::Null);
    scripts::install_scripts(&manifest, dir.join("binding.gyp").is_file())
        .iter()
        .any(Option::is_some)
}

/// Make every file of the package in `dir` its own (its nested
/// node_modules excepted: those are other packages): a file with other
/// hard links (into the cache) is copied and the copy renamed over it.
fn unshare(dir: &Path) -> Result<()> {
    crate::link::unshare_files(dir, &[dir.join("node_modules")])
}
