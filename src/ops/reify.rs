//! Put a tree on disk: choose what to install, diff against what is there,
//! make sure every package is in the cache, clone, link bins, record state.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;
use serde_json::{Map, Value};

use crate::error::{Code, Error, Result};
use crate::fetch::Fetched;
use crate::link::{self, BinJob, LinkJob, LinkOptions};
use crate::lockfile::{self, package_to_entry, Lockfile, RenderOptions};
use crate::platform::Platform;
use crate::tree::diff::{self, Plan};
use crate::tree::select::{self, Omit};
use crate::tree::{NodeId, Tree};

use super::context::Context;
use super::overlap::{self, EarlyLinker, ToLink};
use super::{provenance, scripts, state, Call, Phase, Summary};

/// Where the package files come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Download what the cache lacks.
    Network,
    /// The cache only (`link`): a missing package is `E_NOT_CACHED`.
    CacheOnly,
}

/// Read the hidden lockfile: what is installed now (None = unknown). When
/// node_modules' folders changed since the last install, each entry is
/// checked against the package.json in its folder; one that differs (the
/// folder deleted or replaced) is marked so that the plan reinstalls it.
fn installed(cwd: &Path) -> Option<HashMap<String, Map<String, Value>>> {
    if !cwd.join("node_modules").exists() {
        return Some(HashMap::new());
    }
    let lock = Lockfile::read(&cwd.join(lockfile::HIDDEN)).ok()??;
    let mut packages: HashMap<String, Map<String, Value>> = lock.packages.into_iter().collect();
    if !state::folders_unchanged(cwd) {
        packages.par_iter_mut().for_each(|(loc, entry)| {
            if crate::tree::in_node_modules(loc) && !on_disk(cwd, loc, entry) {
                entry.insert("version".into(), Value::Null);
            }
        });
    }
    Some(packages)
}

/// Is the package the hidden lockfile lists at `loc` still there?
fn on_disk(cwd: &Path, loc: &str, entry: &Map<String, Value>) -> bool {
    let dir = cwd.join(loc);
    if entry.get("link").and_then(Value::as_bool) == Some(true) {
        return std::fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink());
    }
    let Ok(text) = std::fs::read(dir.join("package.json")) else {
        return false;
    };
    let Ok(found) = serde_json::from_slice::<Map<String, Value>>(&text) else {
        return false;
    };
    let name = entry
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_else(|| lockfile::folder_name(loc));
    found.get("version") == entry.get("version")
        && found.get("name").and_then(Value::as_str) == Some(name)
}

/// Run blocking work (filesystem calls, CPU-heavy set-up) on the blocking
/// pool, off the async workers.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    joined(tokio::task::spawn_blocking(f)).await
}

/// The result of a filesystem task started on the blocking pool.
pub(super) async fn joined<T>(task: tokio::task::JoinHandle<Result<T>>) -> Result<T> {
    task.await
        .map_err(|e| Error::new(Code::Io, format!("a filesystem task failed: {e}")))?
}

/// What [`reify`] put in node_modules, for [`record`].
pub struct Reified {
    /// The nodes installed.
    included: Vec<bool>,
    /// The nodes the hidden lockfile was rendered for, and its text:
    /// rendered on the blocking pool while packages were fetched and
    /// cloned (None under `--workspace`, which records nothing). Rendered
    /// after the last clone, it would run alone on one core, on the path to
    /// the answer.
    hidden: Option<tokio::task::JoinHandle<Result<Rendered>>>,
}

/// The nodes a hidden lockfile was rendered for, and its text.
type Rendered = (Vec<bool>, String);

/// The hidden lockfile (node_modules/.package-lock.json) for `included`.
fn render_hidden(tree: &Tree, included: &[bool]) -> String {
    lockfile::render(
        tree,
        RenderOptions {
            omit_resolved: false,
            hidden: true,
        },
        |id| included[id],
    )
}

/// Everything that happens after the tree is known. `ci` (`clean`) sets
/// the old node_modules aside first, puts it back if the install fails and
/// removes it once the install succeeds (see `aside`).
pub async fn reify(
    ctx: &Context,
    call: &Call,
    tree: &Arc<Tree>,
    source: Source,
    summary: &mut Summary,
) -> Result<Reified> {
    let cwd = ctx.cwd.clone();
    let old = if call.options.clean {
        blocking(move || super::aside::set_aside(&cwd)).await?
    } else {
        None
    };
    let result = reify_into(ctx, call, tree, source, summary).await;
    let Some(old) = old else {
        return result;
    };
    let cwd = ctx.cwd.clone();
    match result {
        Ok(reified) => {
            let shown = old.display().to_string();
            if let Err(e) = blocking(move || super::aside::remove(&old)).await {
                summary.warnings.push(format!(
                    "the previous node_modules, moved to {shown}, could not be removed: {}",
                    e.message
                ));
            }
            Ok(reified)
        }
        Err(e) => {
            if let Err(back) = blocking(move || super::aside::put_back(&old, &cwd)).await {
                return Err(Error::new(
                    e.code,
                    format!(
                        "{} (and the previous node_modules could not be put back: {})",
                        e.message, back.message
                    ),
                ));
            }
            Err(e)
        }
    }
}

async fn reify_into(
    ctx: &Context,
    call: &Call,
    tree: &Arc<Tree>,
    source: Source,
    summary: &mut Summary,
) -> Result<Reified> {
    let cwd = ctx.cwd.clone();
    let omit = Omit::from_list(&ctx.config.omit);
    let (mut included, warnings) = select::select(tree, omit, &Platform::current());
    summary.warnings.extend(warnings);

    // Linked folders are the user's own: never written, only linked to.
    for (id, n) in tree.nodes.iter().enumerate() {
        if n.path.is_some() {
            included[id] = false;
        }
    }
    // What it will most likely record; checked against the final set.
    let hidden = call.options.workspaces.is_empty().then(|| {
        let (tree, guess) = (tree.clone(), included.clone());
        tokio::task::spawn_blocking(move || {
            let text = render_hidden(&tree, &guess);
            Ok((guess, text))
        })
    });
    let before = installed(&cwd);
    // Packages under a folder outside the project are that folder's own
    // business: npm leaves them alone, and so does brisk.
    let wanted: Vec<(String, NodeId)> = tree
        .sorted_locations()
        .into_iter()
        .filter(|(loc, id)| included[*id] && !loc.starts_with("../"))
        .collect();
    let mut plan: Plan = diff::plan(&wanted, before.as_ref(), |id| {
        let n = &tree.nodes[id];
        package_to_entry(&n.pkg, &n.name, n.flags, false)
    });
    if let Some(scope) = workspace_scope(tree, &call.options.workspaces)? {
        // `--workspace`: change only what those workspaces use.
        let locs: HashSet<&str> = wanted
            .iter()
            .filter(|(_, id)| scope[*id])
            .map(|(l, _)| l.as_str())
            .collect();
        plan.link.retain(|id| scope[*id]);
        plan.remove.retain(|l| locs.contains(l.as_str()));
    }
    // Scripts: who may run them, and skipped ones that may run now.
    let policy = ctx.script_policy();
    let pending_before = crate::scripts::pending::read(&cwd);
    let relinked = scripts::relink_pending(tree, &wanted, &mut plan, &pending_before, &policy);
    // Bundled packages come with their parent's files (and go with them).
    plan.link.retain(|&id| !tree.nodes[id].pkg.in_bundle);
    let bundled: HashSet<&str> = wanted
        .iter()
        .filter(|(_, id)| tree.nodes[*id].pkg.in_bundle)
        .map(|(l, _)| l.as_str())
        .collect();
    plan.remove.retain(|l| !bundled.contains(l.as_str()));
    check_targets(tree, &plan)?;
    // Links need no download: they become symlinks.
    let (links, packages): (Vec<NodeId>, Vec<NodeId>) =
        plan.link.iter().partition(|&&id| tree.nodes[id].pkg.link);
    plan.link = packages;
    let folders: Vec<(PathBuf, PathBuf)> = links
        .iter()
        .map(|&id| {
            let path = tree.nodes[id].pkg.resolved.as_deref().unwrap_or_default();
            (cwd.join(tree.location(id)), cwd.join(path))
        })
        .collect();

    // Fetch (or find) every package to materialize. Into a fresh
    // node_modules, each is cloned as soon as it is in the cache.
    let nm = cwd.join("node_modules");
    let fresh = source == Source::Network && plan.remove.is_empty() && !nm.exists();
    let early = fresh.then(|| EarlyLinker::start(call.cancel.clone()));
    let send_early = |id: NodeId, f: &Fetched| {
        let loc = tree.location(id);
        if let Some(early) = early.as_ref().filter(|_| loc.starts_with("node_modules/")) {
            let pkg = &tree.nodes[id].pkg;
            early.send(ToLink {
                package: f.package.clone(),
                dest: cwd.join(loc),
                id,
                scripted: pkg.has_install_script,
                trusted: policy.allows(&pkg.name),
                verify: ctx.config.verify_store_integrity,
            });
        }
    };
    let t_fetch = Instant::now();
    let fetched = fetch_all(ctx, call, tree, &plan.link, source, &send_early, summary).await;
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
    summary.timings.fetch_ms = t_fetch.elapsed().as_secs_f64() * 1e3;
    // Optional packages that could not be fetched are left out, with what
    // lives in their folder.
    let failed: Vec<String> = plan
        .link
        .iter()
        .zip(&fetched)
        .filter(|(_, f)| f.is_none())
        .map(|(id, _)| tree.location(*id))
        .collect();
    if !failed.is_empty() {
        for (loc, id) in &wanted {
            if failed
                .iter()
                .any(|f| loc == f || loc.starts_with(&format!("{f}/node_modules/")))
            {
                included[*id] = false;
            }
        }
    }
    let installed_ids: Vec<NodeId> = wanted
        .iter()
        .map(|(_, id)| *id)
        .filter(|id| included[*id])
        .collect();
    summary.packages = installed_ids.len();

    // Clone into node_modules, off the async workers.
    let t_link = Instant::now();
    call.report(Phase::Link, 0, plan.link.len());
    let mut to_link = Vec::with_capacity(plan.link.len());
    let mut bins = Vec::new();
    let materialized = plan.link.iter().zip(&fetched).filter_map(|(id, f)| {
        let f = f.as_ref().filter(|_| included[*id])?;
        Some((*id, Some(f)))
    });
    for (id, f) in materialized.chain(links.iter().map(|&id| (id, None))) {
        let dest = cwd.join(tree.location(id));
        let pkg = &tree.nodes[id].pkg;
        if let Some(f) = f.filter(|_| !early.linked.contains(&id)) {
            to_link.push(ToLink {
                package: f.package.clone(),
                dest: dest.clone(),
                id,
                scripted: pkg.has_install_script,
                trusted: policy.allows(&pkg.name),
                verify: ctx.config.verify_store_integrity,
            });
        }
        if !pkg.bin.is_empty() {
            bins.push(BinJob {
                pkg_dir: dest,
                bins: pkg
                    .bin
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                chmod: pkg.link,
            });
        }
    }
    // From here node_modules changes: until it is done, nothing may claim
    // to describe it (an interrupted run then relinks everything next time).
    for f in [lockfile::HIDDEN, state::FILE] {
        match std::fs::remove_file(cwd.join(f)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io(cwd.join(f).display(), e))
            }
            _ => {}
        }
    }
    let stale_bins = stale_bin_links(&cwd, before.as_ref(), &plan.remove);
    let mut removals: Vec<PathBuf> = plan.remove.iter().map(|l| cwd.join(l)).collect();
    if fresh {
        // What was cloned early under optional packages that then failed.
        removals.extend(failed.iter().map(|l| cwd.join(l)));
    }
    let cancel = call.cancel.clone();
    let (mut candidates, changed) = blocking(move || {
        link::pool().install(|| {
            let jobs = to_link
                .into_par_iter()
                .map(overlap::prepare)
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
            clone_prepared(jobs, cancel)?;
            link::link_bins(&bins)?;
            Ok((candidates, changed))
        })
    })
    .await?;
    if !changed.is_empty() {
        candidates.extend(restore(ctx, call, tree, source, changed, &policy, summary).await?);
    }
    summary.added = (plan.link.len() + links.len() - failed.len()).saturating_sub(relinked.len());
    let wanted_locs: HashSet<&str> = wanted.iter().map(|(l, _)| l.as_str()).collect();
    summary.removed = plan
        .remove
        .iter()
        .filter(|l| !wanted_locs.contains(l.as_str()))
        .count();
    call.report(Phase::Link, plan.link.len(), plan.link.len());
    scripts::run_dependencies(
        ctx,
        call,
        tree,
        &policy,
        &candidates,
        &pending_before,
        &mut included,
        summary,
    )
    .await?;
    summary.timings.link_ms = t_link.elapsed().as_secs_f64() * 1e3;

    Ok(Reified { included, hidden })
}

/// Clones prepared packages: private copies for those whose scripts may
/// run, links into the cache for the rest. Blocking.
fn clone_prepared(jobs: Vec<overlap::Prepared>, cancel: crate::cancel::CancelToken) -> Result<()> {
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
/// again from its tarball (verified against its integrity), and linked, with
/// a warning. Returns the script candidates among them.
async fn restore(
    ctx: &Context,
    call: &Call,
    tree: &Tree,
    source: Source,
    changed: Vec<overlap::Prepared>,
    policy: &crate::scripts::Policy,
    summary: &mut Summary,
) -> Result<Vec<NodeId>> {
    let store = ctx.fetcher.store();
    let mut again = Vec::with_capacity(changed.len());
    for p in changed {
        let pkg = &tree.nodes[p.id].pkg;
        let file = p.changed.unwrap_or_default();
        store.set_aside(&p.package);
        if source == Source::CacheOnly {
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
        summary
            .warnings
            .push(crate::fetch::restored(&pkg.id(), &file));
        again.push(ToLink {
            package: fetched.package,
            dest: p.job.dest,
            id: p.id,
            scripted: pkg.has_install_script,
            trusted: policy.allows(&pkg.name),
            verify: true,
        });
    }
    let cancel = call.cancel.clone();
    blocking(move || {
        link::pool().install(|| {
            let jobs = again
                .into_par_iter()
                .map(overlap::prepare)
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
            clone_prepared(jobs, cancel)?;
            Ok(candidates)
        })
    })
    .await
}

/// Before anything is written: every folder the plan creates or removes is
/// inside the project's (or a workspace's) node_modules, and none lies
/// below a symlinked folder, whose files are not the install's to change.
fn check_targets(tree: &Tree, plan: &Plan) -> Result<()> {
    for &id in &plan.link {
        let loc = tree.location(id);
        link::check_location(&loc)?;
        let mut up = tree.nodes[id].parent;
        while let Some(p) = up.filter(|&p| p != crate::tree::ROOT) {
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
fn workspace_scope(tree: &Tree, names: &[String]) -> Result<Option<Vec<bool>>> {
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

/// Record what is installed, for npm (the hidden lockfile) and for the next
/// run's up-to-date check. Call after package-lock.json is written. After a
/// `--workspace` install node_modules is only partly known: nothing is
/// recorded, so the next install checks every folder.
pub async fn record(ctx: &Context, call: &Call, tree: &Tree, reified: Reified) -> Result<()> {
    let Reified { included, hidden } = reified;
    let Some(task) = hidden else {
        return Ok(());
    };
    let (guess, mut hidden) = joined(task).await?;
    if guess != included {
        // Optional packages that failed to fetch or build were dropped.
        hidden = render_hidden(tree, &included);
    }
    let cwd = &ctx.cwd;
    std::fs::create_dir_all(cwd.join("node_modules"))
        .map_err(|e| Error::io(cwd.join("node_modules").display(), e))?;
    lockfile::write_atomic(&cwd.join(lockfile::HIDDEN), &hidden)?;
    let packages = included.iter().skip(1).filter(|i| **i).count();
    let folders: Vec<String> = tree
        .nodes
        .iter()
        .filter(|n| n.alive)
        .filter_map(|n| n.path.clone())
        .collect();
    state::record(
        cwd,
        &state::fingerprint(&call.options, &ctx.config),
        &folders,
        packages,
    )
}

/// `.bin` links of packages about to be removed.
fn stale_bin_links(
    cwd: &Path,
    before: Option<&HashMap<String, Map<String, Value>>>,
    remove: &[String],
) -> Vec<PathBuf> {
    let Some(before) = before else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for loc in remove {
        let Some(bin) = before
            .get(loc)
            .and_then(|e| e.get("bin"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        let parent_nm = match loc.rfind("node_modules/") {
            Some(i) => &loc[..i + "node_modules".len()],
            None => continue,
        };
        for name in bin.keys() {
            if !name.contains('/') && !name.contains("..") {
                out.push(cwd.join(parent_nm).join(".bin").join(name));
            }
        }
    }
    out
}

/// Ensure each node's package is in the cache, in `ids` order.
/// `on_fetched` is called for each node as its package lands.
async fn fetch_all(
    ctx: &Context,
    call: &Call,
    tree: &Tree,
    ids: &[NodeId],
    source: Source,
    on_fetched: &(dyn Fn(NodeId, &Fetched) + Sync),
    summary: &mut Summary,
) -> Result<Vec<Option<Fetched>>> {
    let total = ids.len();
    call.report(Phase::Fetch, 0, total);
    if source == Source::CacheOnly {
        let store = ctx.fetcher.store();
        let mut out = Vec::with_capacity(total);
        let mut missing = Vec::new();
        let mut distinct = HashSet::new();
        for &id in ids {
            let p = &tree.nodes[id].pkg;
            distinct.insert(p.integrity.clone());
            // A git dependency is found by what it resolved to.
            let integrity = p.integrity.clone().or_else(|| {
                let url = p
                    .resolved
                    .as_deref()
                    .filter(|u| crate::fetch::is_git_url(u))?;
                crate::git::cache::lookup(store.root(), url)
            });
            let sri = integrity
                .as_deref()
                .and_then(|i| crate::store::Sri::parse(i).ok());
            match sri.map_or(crate::store::Found::Missing, |s| store.find(&s)) {
                crate::store::Found::Intact(package) => out.push(Some(Fetched {
                    package,
                    integrity: p.integrity.clone().unwrap_or_default(),
                    downloaded_bytes: 0,
                })),
                crate::store::Found::Changed(file) => {
                    summary.warnings.push(format!(
                        "the cached copy of {} was modified ({}); it was removed from the cache",
                        p.id(),
                        file.display()
                    ));
                    missing.push(p.id())
                }
                crate::store::Found::Missing => missing.push(p.id()),
            }
        }
        if !missing.is_empty() {
            let shown: Vec<_> = missing.iter().take(5).cloned().collect();
            return Err(Error::new(
                Code::NotCached,
                format!(
                    "{} package(s) are not in the cache ({}{}). Run `brisk prefetch` first (it needs the network), then `brisk link`.",
                    missing.len(),
                    shown.join(", "),
                    if missing.len() > 5 { ", …" } else { "" }
                ),
            ));
        }
        summary.reused = distinct.len();
        call.report(Phase::Fetch, total, total);
        return Ok(out);
    }
    // One task per distinct tarball (the fetcher bounds the concurrency), so
    // hashing and TLS spread over the runtime's workers; progress is
    // reported as each lands, and the first error aborts the rest.
    let registries = provenance::Registries::new(&ctx.config);
    let mut foreign = Vec::new();
    let mut users: HashMap<String, Vec<usize>> = HashMap::new();
    let mut distinct = Vec::new();
    let mut registry = None;
    for (i, &id) in ids.iter().enumerate() {
        let t = ctx.tarball(&tree.nodes[id].pkg);
        foreign.extend(registries.foreign(tree, id, &t));
        let key = t.integrity.clone().unwrap_or_else(|| t.url.clone());
        let entry = users.entry(key.clone()).or_default();
        entry.push(i);
        if entry.len() == 1 {
            // A registry package locked without integrity is checked
            // against what its registry says.
            let check =
                (t.integrity.is_none() && provenance::from_registry(tree, id, &t)).then(|| {
                    registry
                        .get_or_insert_with(|| ctx.registry(call.options.prefer_offline))
                        .clone()
                });
            distinct.push((key, t, check));
        }
    }
    summary
        .warnings
        .extend(provenance::foreign_warning(&foreign));
    let mut distinct = distinct.into_iter();
    let mut pending = tokio::task::JoinSet::new();
    let mut out: Vec<Option<Fetched>> = vec![None; total];
    let mut done = 0;
    loop {
        // What is done is handed on while the rest are spawned: a cached
        // package is found within microseconds, and cloning starts then
        // instead of after every fetch of a large tree was spawned.
        let joined = match distinct.next() {
            Some((key, mut t, check)) => {
                let f = ctx.fetcher.clone();
                pending.spawn(async move {
                    if let Some(client) = check {
                        t.integrity = provenance::registry_integrity(&client, &t).await;
                    }
                    (key, f.ensure(t).await)
                });
                match pending.try_join_next() {
                    Some(joined) => joined,
                    None => continue,
                }
            }
            None => match pending.join_next().await {
                Some(joined) => joined,
                None => break,
            },
        };
        let (key, r) =
            joined.map_err(|e| Error::new(Code::Io, format!("a download task failed: {e}")))?;
        let users = &users[&key];
        match r {
            Ok(f) => {
                for &i in users {
                    on_fetched(ids[i], &f);
                    out[i] = Some(f.clone());
                }
            }
            // npm drops an optional package it cannot fetch.
            Err(e)
                if e.code != Code::Cancelled
                    && users.iter().all(|&i| tree.nodes[ids[i]].flags.optional) =>
            {
                summary.warnings.push(format!(
                    "skipping optional dependency {}: {}",
                    tree.nodes[ids[users[0]]].pkg.id(),
                    e.message
                ))
            }
            Err(e) => return Err(e),
        }
        done += users.len();
        call.report(Phase::Fetch, done, total);
    }
    summary.warnings.extend(ctx.fetcher.take_warnings());
    // Counted per distinct tarball, like prefetch.
    let stats = ctx.fetcher.stats();
    summary.downloaded = stats.downloaded as usize;
    summary.bytes = stats.bytes;
    summary.reused = users.len().saturating_sub(summary.downloaded);
    Ok(out)
}
