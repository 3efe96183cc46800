//! Put a tree on disk: carry out the [`ReifyPlan`] (make sure every package
//! is in the cache, remove, clone, link folders and bins, run dependency
//! scripts) and report what changed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use crate::error::{Code, Error, Result};
use crate::fetch::{Fetched, Want};
use crate::link::{self, BinJob, LinkJob, LinkOptions};
use crate::lockfile;
use crate::platform::Platform;
use crate::scripts::pending;
use crate::tree::select::{self, Omit};
use crate::tree::{isolated, NodeId, Tree};

use super::context::Context;
use super::early_link::{self, CloneJob, EarlyLinker, ToLink};
use super::installed::{self, Hidden};
use super::plan::{self, Change, PlanInput, ReifyPlan};
use super::task::blocking;
use super::{aside, engines, lifecycle, provenance, uptodate, Call, Phase};

/// Where the package files come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Supply {
    /// Download what the cache lacks.
    Network,
    /// The cache only (`link`): a missing package is `E_NOT_CACHED`.
    CacheOnly,
}

/// What reify put in node_modules.
pub struct Reified {
    /// The nodes installed.
    pub included: Vec<bool>,
    /// What to record as installed, for [`installed::record`].
    pub hidden: Hidden,
    pub changes: Changes,
}

/// What changed, for the summary.
#[derive(Debug, Default)]
pub struct Changes {
    /// Packages materialized into node_modules.
    pub added: usize,
    /// Package folders removed.
    pub removed: usize,
    /// Packages in the installed tree.
    pub packages: usize,
    /// Distinct tarballs downloaded, their bytes, and those found cached.
    pub downloaded: usize,
    pub bytes: u64,
    pub reused: usize,
    pub scripts_run: Vec<String>,
    pub scripts_not_run: Vec<String>,
    pub warnings: Vec<String>,
    pub fetch_ms: f64,
    pub link_ms: f64,
    /// Packages added, removed or changed, by location.
    pub changes: Vec<Change>,
}

impl super::Summary {
    /// Adds what reify changed.
    pub(super) fn add(&mut self, c: Changes) {
        self.added = c.added;
        self.removed = c.removed;
        self.packages = c.packages;
        self.downloaded = c.downloaded;
        self.bytes = c.bytes;
        self.reused = c.reused;
        self.scripts_run.extend(c.scripts_run);
        self.scripts_not_run = c.scripts_not_run;
        self.warnings.extend(c.warnings);
        self.timings.fetch_ms = c.fetch_ms;
        self.timings.link_ms = c.link_ms;
        self.changes = c.changes;
    }
}

/// Everything that happens after the tree is known. `ci` (`clean`) sets
/// the old node_modules aside first, puts it back if the install fails and
/// removes it once the install succeeds (see `aside`).
pub async fn reify(
    ctx: &Context,
    call: &Call,
    tree: &Arc<Tree>,
    supply: Supply,
) -> Result<Reified> {
    let cwd = ctx.cwd.clone();
    let linked = ctx.config.install_strategy == crate::config::InstallStrategy::Linked;
    let old = if call.options.clean {
        blocking(move || aside::set_aside(&cwd)).await?
    } else {
        None
    };
    let result = match linked {
        true => super::reify_linked::reify_linked(ctx, call, tree, supply).await,
        false => reify_into(ctx, call, tree, supply).await,
    };
    let Some(old) = old else {
        return result;
    };
    let cwd = ctx.cwd.clone();
    match result {
        Ok(mut reified) => {
            let shown = old.display().to_string();
            if let Err(e) = blocking(move || aside::remove(&old)).await {
                reified.changes.warnings.push(format!(
                    "the previous node_modules, moved to {shown}, could not be removed: {}",
                    e.detail()
                ));
            }
            Ok(reified)
        }
        Err(e) => {
            if let Err(back) = blocking(move || aside::put_back(&old, &cwd)).await {
                return Err(Error::new(
                    e.code,
                    format!(
                        "{} (and the previous node_modules could not be put back: {})",
                        e.detail(),
                        back.detail()
                    ),
                ));
            }
            Err(e)
        }
    }
}

/// The nodes to install (omit, platform; linked folders are the user's
/// own: never written, only linked to), with the warnings of the engine
/// check, which fails under `engine-strict`.
pub(super) fn selected(
    ctx: &Context,
    call: &Call,
    tree: &Tree,
) -> Result<(Vec<bool>, Vec<String>)> {
    let omit = Omit::from_list(&ctx.config.omit);
    let (mut included, mut warnings) = select::select(tree, omit, &Platform::current());
    for (id, n) in tree.nodes.iter().enumerate() {
        if n.path.is_some() {
            included[id] = false;
        }
    }
    warnings.extend(engines::check(
        tree,
        &included,
        call.options.node_version.as_deref(),
        ctx.config.engine_strict && !ctx.config.force,
    )?);
    Ok((included, warnings))
}

/// What is installed, and the plan to change it into `tree`; no writes.
fn planned(
    ctx: &Context,
    call: &Call,
    tree: &Tree,
    included: &[bool],
    pending: &pending::Pending,
    policy: &crate::scripts::Policy,
) -> Result<ReifyPlan> {
    // `ci` starts from an empty node_modules.
    let before = match call.options.clean {
        true => Some(Default::default()),
        false => installed::read(&ctx.cwd),
    };
    plan::plan(&PlanInput {
        tree,
        included,
        installed: before.as_ref(),
        workspaces: &call.options.workspaces,
        pending,
        trusted: &|name| policy.allows(name),
    })
}

/// `--dry-run`: what reify would change, changing nothing.
pub fn preview(ctx: &Context, call: &Call, tree: &Tree) -> Result<Changes> {
    if ctx.config.install_strategy == crate::config::InstallStrategy::Linked {
        return super::reify_linked::preview(ctx, call, tree);
    }
    let (included, warnings) = selected(ctx, call, tree)?;
    let pending = pending::read(&ctx.cwd);
    let plan = planned(ctx, call, tree, &included, &pending, &ctx.script_policy())?;
    let mut changes = Changes {
        warnings,
        ..Default::default()
    };
    count(&plan, &included, &mut changes);
    changes.changes = plan.changes;
    Ok(changes)
}

async fn reify_into(
    ctx: &Context,
    call: &Call,
    tree: &Arc<Tree>,
    supply: Supply,
) -> Result<Reified> {
    let cwd = ctx.cwd.clone();
    let mut changes = Changes::default();
    let (mut included, warnings) = selected(ctx, call, tree)?;
    changes.warnings.extend(warnings);
    // What it will most likely record; checked against the final set.
    let hidden = call.options.workspaces.is_empty().then(|| {
        let (tree, guess) = (tree.clone(), included.clone());
        tokio::task::spawn_blocking(move || {
            let text = installed::render_hidden(&tree, &guess);
            Ok((guess, text))
        })
    });
    let policy = ctx.script_policy();
    let pending_before = pending::read(&cwd);
    let mut plan = planned(ctx, call, tree, &included, &pending_before, &policy)?;
    let hidden = match (hidden, plan.outside.take()) {
        (Some(rendering), _) => Hidden::Full(rendering),
        (None, Some(outside)) => Hidden::Scoped(outside),
        (None, None) => Hidden::Unknown,
    };
    let plan = plan;
    let to_link = |id: NodeId, f: &Fetched| {
        let pkg = &tree.nodes[id].pkg;
        ToLink {
            package: f.package.clone(),
            dest: cwd.join(tree.location(id)),
            id,
            scripted: pkg.has_install_script,
            trusted: policy.allows(&pkg.name),
            verify: ctx.config.verify_store_integrity,
        }
    };

    // Fetch (or find) every package to materialize. Into a fresh
    // node_modules, each is cloned as soon as it is in the cache.
    let nm = cwd.join("node_modules");
    let fresh =
        supply == Supply::Network && plan.remove.is_empty() && !plan.remove_store && !nm.exists();
    let early = fresh.then(|| EarlyLinker::start(call.cancel.clone()));
    let send_early = |i: usize, f: &Fetched| {
        let id = plan.clone[i];
        if let Some(early) = early.as_ref() {
            if tree.location(id).starts_with("node_modules/") {
                early.send(to_link(id, f));
            }
        }
    };
    let t_fetch = Instant::now();
    let fetched = fetch_packages(ctx, call, tree, &plan.clone, supply, &send_early).await;
    let early = match early {
        Some(linker) => Some(linker.finish().await),
        None => None,
    };
    let (fetched, early) = match (fetched, early.transpose()) {
        (Ok(f), Ok(e)) => (f, e.unwrap_or_default()),
        (Err(e), _) | (_, Err(e)) => {
            if fresh {
                // There was no node_modules: leave none behind.
                let _ = blocking(move || link::remove_dirs(&[nm])).await;
            }
            return Err(e);
        }
    };
    let fetched = changes.supplied(fetched, t_fetch);
    // Optional packages that could not be fetched are left out, with what
    // lives in their folder.
    let failed: Vec<String> = plan
        .clone
        .iter()
        .zip(&fetched)
        .filter(|(_, f)| f.is_none())
        .map(|(id, _)| tree.location(*id))
        .collect();
    plan::leave_out(&plan.wanted, &mut included, &failed);

    // Clone into node_modules, off the async workers.
    let t_link = Instant::now();
    call.report(Phase::Link, 0, plan.clone.len());
    let jobs: Vec<ToLink> = plan
        .clone
        .iter()
        .zip(&fetched)
        .filter_map(|(&id, f)| {
            let f = f
                .as_ref()
                .filter(|_| included[id] && !early.linked.contains(&id))?;
            Some(to_link(id, f))
        })
        .collect();
    let (bins, folders) = links(tree, &cwd, &plan, &included);
    forget_state(&cwd)?;
    let stale_bins: Vec<PathBuf> = plan.stale_bins.iter().map(|b| cwd.join(b)).collect();
    let mut removals: Vec<PathBuf> = plan.remove.iter().map(|l| cwd.join(l)).collect();
    if plan.remove_store {
        removals.push(cwd.join(isolated::STORE));
    }
    if fresh {
        // What was cloned early under optional packages that then failed.
        removals.extend(failed.iter().map(|l| cwd.join(l)));
    }
    let cancel = call.cancel.clone();
    let (mut candidates, changed) = blocking(move || {
        link::pool().install(|| {
            let jobs = jobs
                .into_par_iter()
                .map(early_link::read_job)
                .collect::<Result<Vec<_>>>()?;
            let (changed, jobs): (Vec<_>, Vec<_>) =
                jobs.into_iter().partition(|p| p.changed.is_some());
            let mut candidates = early.candidates;
            candidates.extend(jobs.iter().filter(|p| p.candidate).map(|p| p.id));
            link::remove_dirs(&removals)?;
            for b in stale_bins {
                let _ = std::fs::remove_file(b);
            }
            link::link_folders(&folders)?;
            clone_jobs(jobs, cancel)?;
            link::link_bins(&bins)?;
            Ok((candidates, changed))
        })
    })
    .await?;
    if !changed.is_empty() {
        let (restored, warnings) = restore(ctx, call, tree, supply, changed, &to_link).await?;
        candidates.extend(restored);
        changes.warnings.extend(warnings);
    }
    call.report(Phase::Link, plan.clone.len(), plan.clone.len());
    let scripts = lifecycle::run_dependencies(
        ctx,
        call,
        tree,
        &tree.sorted_locations(),
        &policy,
        &candidates,
        &pending_before,
        &mut included,
    )
    .await?;
    changes.scripts_run = scripts.ran;
    changes.scripts_not_run = scripts.not_run;
    changes.warnings.extend(scripts.warnings);
    changes.link_ms = t_link.elapsed().as_secs_f64() * 1e3;
    count(&plan, &included, &mut changes);
    changes.changes = direct_changes(tree, &plan, &included);
    Ok(Reified {
        included,
        hidden,
        changes,
    })
}

/// The `.bin` links and folder links of the plan's packages still
/// installed.
fn links(
    tree: &Tree,
    cwd: &Path,
    plan: &ReifyPlan,
    included: &[bool],
) -> (Vec<BinJob>, Vec<(PathBuf, PathBuf)>) {
    let bins = (plan.bins.iter())
        .filter(|&&id| included[id])
        .map(|&id| {
            let pkg = &tree.nodes[id].pkg;
            BinJob {
                pkg_dir: cwd.join(tree.location(id)),
                bins: (pkg.bin.iter())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                chmod: pkg.link,
                files_at: None,
            }
        })
        .collect();
    let folders = (plan.folder_links.iter())
        .map(|&id| {
            let path = tree.nodes[id].pkg.resolved.as_deref().unwrap_or_default();
            (cwd.join(tree.location(id)), cwd.join(path))
        })
        .collect();
    (bins, folders)
}

/// Before node_modules changes: until it is done, nothing may claim to
/// describe it (an interrupted run then relinks everything next time).
pub(super) fn forget_state(cwd: &Path) -> Result<()> {
    for f in [lockfile::HIDDEN, uptodate::FILE] {
        match std::fs::remove_file(cwd.join(f)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io(cwd.join(f).display(), e))
            }
            _ => {}
        }
    }
    Ok(())
}

/// The top-level packages that changed: the project's direct dependencies
/// still installed, and those removed.
fn direct_changes(tree: &Tree, plan: &ReifyPlan, included: &[bool]) -> Vec<Change> {
    let direct: HashSet<&str> = tree.root().edges.iter().map(|e| e.name.as_str()).collect();
    let left_out: HashSet<&str> = (plan.wanted.iter())
        .filter(|(_, id)| !included[*id])
        .map(|(l, _)| l.as_str())
        .collect();
    (plan.changes.iter())
        .filter(|c| {
            let top = c.location.strip_prefix("node_modules/") == Some(c.name.as_str());
            top && match c.to {
                Some(_) => {
                    direct.contains(c.name.as_str()) && !left_out.contains(c.location.as_str())
                }
                None => true,
            }
        })
        .cloned()
        .collect()
}

/// The plan's packages still installed at the end (an optional package
/// may have failed to fetch or build), and the folders it removed.
fn count(plan: &ReifyPlan, included: &[bool], changes: &mut Changes) {
    let relinked: HashSet<NodeId> = plan.relink.iter().copied().collect();
    changes.added = (plan.clone.iter().chain(&plan.folder_links))
        .filter(|id| included[**id] && !relinked.contains(id))
        .count();
    changes.packages = plan.wanted.iter().filter(|(_, id)| included[*id]).count();
    let wanted: HashSet<&str> = plan.wanted.iter().map(|(l, _)| l.as_str()).collect();
    changes.removed = (plan.remove.iter())
        .filter(|l| !wanted.contains(l.as_str()))
        .count();
}

/// What [`fetch_packages`] found or fetched, in its order (`None`: an
/// optional package that could not be fetched), with the counts for the
/// summary.
pub(super) struct Supplied {
    pub packages: Vec<Option<Fetched>>,
    pub downloaded: usize,
    pub bytes: u64,
    pub reused: usize,
    pub warnings: Vec<String>,
}

impl Changes {
    /// Count what fetching supplied (started at `started`); its packages.
    pub(super) fn supplied(&mut self, s: Supplied, started: Instant) -> Vec<Option<Fetched>> {
        (self.downloaded, self.bytes, self.reused) = (s.downloaded, s.bytes, s.reused);
        self.warnings.extend(s.warnings);
        self.fetch_ms = started.elapsed().as_secs_f64() * 1e3;
        s.packages
    }
}

/// Every node's package, from the cache or the network, in `ids` order.
/// `on_fetched(i, …)` is called for `ids[i]` as its package lands.
pub(super) async fn fetch_packages(
    ctx: &Context,
    call: &Call,
    tree: &Tree,
    ids: &[NodeId],
    supply: Supply,
    on_fetched: &(dyn Fn(usize, &Fetched) + Sync),
) -> Result<Supplied> {
    let total = ids.len();
    call.report(Phase::Fetch, 0, total);
    let tarballs = ids.iter().map(|&id| ctx.tarball(&tree.nodes[id].pkg));
    if supply == Supply::CacheOnly {
        let tarballs: Vec<_> = tarballs.collect();
        let (found, distinct) = ctx.fetcher.find_cached(&tarballs)?;
        call.report(Phase::Fetch, total, total);
        return Ok(Supplied {
            packages: found.into_iter().map(Some).collect(),
            downloaded: 0,
            bytes: 0,
            reused: distinct,
            warnings: ctx.fetcher.take_warnings(),
        });
    }
    let registries = provenance::Registries::new(&ctx.config);
    let mut foreign = Vec::new();
    let mut registry = None;
    let wants: Vec<Want> = ids
        .iter()
        .zip(tarballs)
        .map(|(&id, tarball)| {
            foreign.extend(registries.foreign(tree, id, &tarball));
            // A registry package locked without integrity is checked
            // against what its registry says.
            let integrity_from = (tarball.integrity.is_none()
                && provenance::from_registry(tree, id, &tarball))
            .then(|| {
                let client = registry.get_or_insert_with(|| ctx.registry()).clone();
                let t = tarball.clone();
                Box::pin(async move { provenance::registry_integrity(&client, &t).await }) as _
            });
            Want {
                tarball,
                optional: tree.nodes[id].flags.optional,
                integrity_from,
            }
        })
        .collect();
    let mut warnings: Vec<String> = provenance::foreign_warning(&foreign).into_iter().collect();
    let (packages, distinct) = ctx
        .fetcher
        .ensure_many(wants, on_fetched, &|done, total| {
            call.report(Phase::Fetch, done, total)
        })
        .await?;
    warnings.extend(ctx.fetcher.take_warnings());
    // Counted per distinct tarball, like prefetch.
    let stats = ctx.fetcher.stats();
    Ok(Supplied {
        packages,
        downloaded: stats.downloaded as usize,
        bytes: stats.bytes,
        reused: distinct.saturating_sub(stats.downloaded as usize),
        warnings,
    })
}

/// Clones packages: private copies for those whose scripts may run, links
/// into the cache for the rest. Blocking.
pub(super) fn clone_jobs(jobs: Vec<CloneJob>, cancel: crate::cancel::CancelToken) -> Result<()> {
    let (private, jobs): (Vec<_>, Vec<_>) = jobs.into_iter().partition(|p| p.private);
    let private: Vec<LinkJob> = private.into_iter().map(|p| p.job).collect();
    let jobs: Vec<LinkJob> = jobs.into_iter().map(|p| p.job).collect();
    link::clone_private(&private, &cancel)?;
    link::clone_packages(
        &jobs,
        &LinkOptions {
            method: None,
            cancel,
        },
    )?;
    Ok(())
}

/// Cache entries found changed as they were about to be linked (a file
/// written through a hardlink in some project): each is set aside, fetched
/// again from its tarball (verified against its integrity), and linked.
/// Returns the script candidates among them and a warning for each.
pub(super) async fn restore(
    ctx: &Context,
    call: &Call,
    tree: &Tree,
    supply: Supply,
    changed: Vec<CloneJob>,
    to_link: &(dyn Fn(NodeId, &Fetched) -> ToLink + Sync),
) -> Result<(Vec<NodeId>, Vec<String>)> {
    let store = ctx.fetcher.store();
    let mut again = Vec::with_capacity(changed.len());
    let mut warnings = Vec::with_capacity(changed.len());
    for p in changed {
        let pkg = &tree.nodes[p.id].pkg;
        let file = p.changed.unwrap_or_default();
        store.set_aside(&p.package);
        if supply == Supply::CacheOnly {
            return Err(Error::new(
                Code::NotCached,
                format!(
                    "the cached copy of {} was modified ({}) and was removed from the cache; \
                     run `brisk prefetch` (it needs the network) to restore it, then `brisk link`",
                    pkg.id(),
                    file.display()
                ),
            ));
        }
        let fetched = ctx.fetcher.ensure(ctx.tarball(pkg)).await?;
        warnings.push(crate::fetch::restored(&pkg.id(), &file));
        again.push(ToLink {
            verify: true,
            ..to_link(p.id, &fetched)
        });
    }
    let cancel = call.cancel.clone();
    let candidates = blocking(move || {
        link::pool().install(|| {
            let jobs = again
                .into_par_iter()
                .map(early_link::read_job)
                .collect::<Result<Vec<_>>>()?;
            if let Some(file) = jobs.iter().find_map(|p| p.changed.as_ref()) {
                return Err(Error::new(
                    Code::Io,
                    format!(
                        "{} changed again right after it was restored into the cache; is another program writing there?",
                        file.display()
                    ),
                ));
            }
            let candidates = jobs.iter().filter(|p| p.candidate).map(|p| p.id).collect();
            clone_jobs(jobs, cancel)?;
            Ok(candidates)
        })
    })
    .await?;
    Ok((candidates, warnings))
}
