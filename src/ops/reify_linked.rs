//! `install-strategy=linked`: put a tree's [`isolated::Layout`] on disk.
//!
//! Each package folder is cloned from the cache into
//! `node_modules/.store/<key>/node_modules/<name>` (hardlinks, as for the
//! hoisted layout; packages whose scripts may run get private copies), its
//! dependencies are symlinks beside it, `.bin` links go in each
//! `node_modules/.bin`, and the project (and each workspace) links its own
//! dependencies. What the hidden lockfile says is there already (the key
//! names the package and its whole dependency closure) is kept.
//!
//! With `global-virtual-store`, a store entry whose closure has no install
//! scripts and no linked folders is built once per machine in
//! `<cache>/links/v1/<name>@<version>-<hash>` (in a staging folder, renamed
//! into place; never written again), and the project's `.store/<key>` is a
//! symlink to it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;
use serde_json::{Map, Value};

use crate::error::{Code, Error, Result};
use crate::fetch::Fetched;
use crate::link::{self, fsops, BinJob};
use crate::lockfile::{self, package_to_entry};
use crate::scripts::pending;
use crate::tree::isolated::{self, Layout, LayoutOptions, Target};
use crate::tree::{Flags, NodeId, Tree};

use super::context::Context;
use super::early_link::{self, CloneJob, ToLink};
use super::installed::{self, Hidden};
use super::plan::Change;
use super::reify::{self, Changes, Reified, Supply};
use super::task::blocking;
use super::{lifecycle, Call, Phase};

/// The shared folders' root in the cache.
pub fn links_dir(cache: &Path) -> PathBuf {
    cache.join("links").join("v1")
}

/// Which entries may live in the global virtual store: no install scripts
/// that will run (`runs`: ones the policy allows; a package whose scripts
/// are skipped is the tarball's files, the same for every project that
/// skips them, and is made a private copy once they may run), a package
/// from a tarball with an integrity, and only such entries in its closure
/// (a shared folder's links may point only at other shared folders).
pub fn shareable(
    tree: &Tree,
    layout: &Layout,
    runs: &dyn Fn(&crate::tree::Package) -> bool,
) -> Vec<bool> {
    let own = |i: usize| {
        let p = &tree.nodes[layout.entries[i].node].pkg;
        !runs(p) && p.integrity.is_some() && !p.link
    };
    let mut ok: Vec<bool> = (0..layout.entries.len()).map(own).collect();
    loop {
        let mut changed = false;
        for (i, e) in layout.entries.iter().enumerate() {
            if !ok[i] {
                continue;
            }
            let bad = e.deps.iter().any(|(_, t)| match t {
                Target::Entry(j) => !ok[*j],
                Target::Folder(_) => true,
            });
            if bad {
                ok[i] = false;
                changed = true;
            }
        }
        if !changed {
            return ok;
        }
    }
}

/// The shared folder's name: the package and a hash of its closure with
/// each member's integrity (npm's key hashes `resolved`, which a lockfile
/// may leave out; the same `name@version` from two registries must not
/// meet in one folder).
fn shared_key(tree: &Tree, e: &isolated::Entry) -> String {
    let p = &tree.nodes[e.node].pkg;
    format!(
        "{}@{}-{}",
        p.name,
        p.version,
        e.content_hash.as_deref().unwrap_or_default()
    )
}

/// The entries from which some `marked` entry is reachable through
/// dependency links (the marked ones included).
fn reaches(layout: &Layout, marked: &[bool]) -> Vec<bool> {
    let mut out = marked.to_vec();
    loop {
        let mut changed = false;
        for (i, e) in layout.entries.iter().enumerate() {
            if !out[i]
                && e.deps
                    .iter()
                    .any(|(_, t)| matches!(t, Target::Entry(j) if out[*j]))
            {
                out[i] = true;
                changed = true;
            }
        }
        if !changed {
            return out;
        }
    }
}

/// A location the linked layout may create or remove: a plain path inside
/// the project, through a `node_modules` folder.
fn check(loc: &str) -> Result<()> {
    let plain = |p: &str| !p.is_empty() && p != "." && p != ".." && !p.contains(['\\', '\0']);
    if loc.split('/').all(plain)
        && (loc.starts_with("node_modules/") || loc.contains("/node_modules/"))
    {
        return Ok(());
    }
    Err(Error::new(
        Code::Io,
        format!("refusing to write {loc:?}: it is not a plain path inside a node_modules folder; nothing was changed"),
    ))
}

/// A relative symlink at `link` to `target` (relative to the link's
/// folder), replacing whatever was there.
fn symlink(link: &Path, target: &Path) -> Result<()> {
    let parent = link.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .and_then(|()| fsops::remove_any(link))
        .and_then(|()| std::os::unix::fs::symlink(target, link))
        .map_err(|e| {
            Error::io(
                format!("cannot link {} to {}", link.display(), target.display()),
                e,
            )
        })
}

/// What the installed hidden lockfile says is at `loc`.
fn installed_link<'a>(
    installed: Option<&'a HashMap<String, Map<String, Value>>>,
    loc: &str,
) -> Option<&'a str> {
    let e = installed?.get(loc)?;
    (e.get("link") == Some(&Value::Bool(true)))
        .then(|| e.get("resolved").and_then(Value::as_str))
        .flatten()
}

fn link_entry(target: String) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("resolved".into(), Value::String(target));
    m.insert("link".into(), Value::Bool(true));
    m
}

/// The hidden lockfile of the layout, as npm 11 writes it.
fn render_hidden(tree: &Tree, layout: &Layout, kept: &[bool]) -> String {
    let mut out: Vec<(String, Map<String, Value>)> = Vec::new();
    for e in (layout.entries.iter().zip(kept)).filter_map(|(e, k)| k.then_some(e)) {
        let n = &tree.nodes[e.node];
        out.push((e.dir(), Map::new()));
        out.push((
            e.location(),
            package_to_entry(&n.pkg, &e.name, Flags::default(), false),
        ));
        for (name, t) in &e.deps {
            if matches!(t, Target::Entry(j) if !kept[*j]) {
                continue;
            }
            out.push((
                format!("{}/node_modules/{name}", e.dir()),
                link_entry(layout.target_location(t)),
            ));
        }
    }
    for t in &layout.top {
        if matches!(t.target, Target::Entry(j) if !kept[j]) {
            continue;
        }
        out.push((t.location(), link_entry(layout.target_location(&t.target))));
    }
    let folders: HashSet<&str> = layout.top.iter().map(|t| t.folder.as_str()).collect();
    for n in &tree.nodes {
        if let Some(path) = n
            .path
            .as_deref()
            .filter(|p| n.alive && folders.contains(p) && !p.is_empty())
        {
            let folder = path.rsplit('/').next().unwrap_or(path);
            out.push((
                path.to_string(),
                package_to_entry(&n.pkg, folder, Flags::default(), false),
            ));
        }
    }
    lockfile::render_entries(out)
}

/// A store entry the install creates, and how.
struct Make {
    entry: usize,
    /// In the global virtual store: the shared folder (absolute), and
    /// whether it must be built.
    shared: Option<(PathBuf, bool)>,
}

/// What a linked install changes, decided before anything is touched.
struct Decided {
    layout: Layout,
    /// The hidden lockfile's packages (None: unknown).
    installed: Option<HashMap<String, Map<String, Value>>>,
    policy: crate::scripts::Policy,
    pending_before: pending::Pending,
    shared_dirs: Vec<Option<PathBuf>>,
    make: Vec<Make>,
    /// Locations to remove (checked).
    removals: Vec<String>,
    /// Of those, packages (the hidden lockfile gives their version).
    removed_entries: Vec<String>,
    top_make: Vec<usize>,
}

fn decide(ctx: &Context, call: &Call, tree: &Tree, included: &[bool]) -> Result<Decided> {
    let cwd = &ctx.cwd;
    let opts = LayoutOptions {
        omit: ctx.config.omit.clone(),
        legacy_peer_deps: ctx.config.legacy_peer_deps,
        content_keys: ctx.config.global_virtual_store,
    };
    let layout = isolated::layout(tree, included, &opts)?;
    let installed = match call.options.clean {
        true => Some(HashMap::new()),
        false => installed::read(cwd),
    };
    let installed_ref = installed.as_ref();
    let policy = ctx.script_policy();
    let pending_before = pending::read(cwd);
    let gvs = ctx.config.global_virtual_store;
    let shared = match gvs {
        true => shareable(tree, &layout, &|p| {
            p.has_install_script && policy.allows(&p.name)
        }),
        false => vec![false; layout.entries.len()],
    };
    let links_root = links_dir(&ctx.config.cache_dir);

    // What stays: an entry the hidden lockfile lists with its version, in
    // the same form (a folder, or a link into the cache), not waiting for
    // scripts that may run now.
    let present = |i: usize| {
        let e = &layout.entries[i];
        let pkg = &tree.nodes[e.node].pkg;
        let listed = installed_ref
            .and_then(|m| m.get(&e.location()))
            .and_then(|m| m.get("version"))
            .and_then(Value::as_str)
            == Some(pkg.version.as_str());
        let waiting =
            pending_before.get(&e.location()) == Some(&pkg.id()) && policy.allows(&pkg.name);
        if !listed || waiting {
            return false;
        }
        let dir = cwd.join(e.dir());
        let is_link = std::fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink());
        is_link == shared[i] && cwd.join(e.location()).join("package.json").exists()
    };
    let kept: Vec<bool> = (0..layout.entries.len()).map(present).collect();
    let shared_dirs: Vec<Option<PathBuf>> = (0..layout.entries.len())
        .map(|i| shared[i].then(|| links_root.join(shared_key(tree, &layout.entries[i]))))
        .collect();
    let make: Vec<Make> = (0..layout.entries.len())
        .filter(|&i| !kept[i])
        .map(|i| Make {
            entry: i,
            shared: shared_dirs[i].clone().map(|dir| {
                let pkg = dir.join("node_modules").join(&layout.entries[i].name);
                let build = !pkg.join("package.json").exists();
                (dir, build)
            }),
        })
        .collect();

    // Everything the layout has, by location; what else the hidden
    // lockfile lists goes.
    let mut wanted: HashSet<String> = HashSet::new();
    for e in &layout.entries {
        wanted.insert(e.dir());
        wanted.insert(e.location());
        for (name, _) in &e.deps {
            wanted.insert(format!("{}/node_modules/{name}", e.dir()));
        }
    }
    let top_locs: Vec<String> = layout.top.iter().map(|t| t.location()).collect();
    wanted.extend(top_locs.iter().cloned());
    let mut removals: Vec<String> = match installed_ref {
        Some(m) => m
            .keys()
            .filter(|l| crate::tree::in_node_modules(l) && !wanted.contains(*l))
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    // Packages removed: what the hidden lockfile lists with a version.
    let removed_entries: Vec<String> = removals
        .iter()
        .filter(|l| {
            installed_ref
                .and_then(|m| m.get(*l))
                .is_some_and(|e| e.get("version").is_some_and(Value::is_string))
        })
        .cloned()
        .collect();
    removals.extend(make.iter().map(|m| layout.entries[m.entry].dir()));
    // Top links to (re)make: those not installed as the same link.
    let top_make: Vec<usize> = (0..layout.top.len())
        .filter(|&i| {
            let t = &layout.top[i];
            let want = layout.target_location(&t.target);
            let same = installed_link(installed_ref, &top_locs[i]) == Some(want.as_str());
            !same || matches!(t.target, Target::Entry(j) if !kept[j])
        })
        .collect();
    for l in &removals {
        check(l)?;
    }
    for l in &top_locs {
        check(l)?;
    }

    Ok(Decided {
        layout,
        installed,
        policy,
        pending_before,
        shared_dirs,
        make,
        removals,
        removed_entries,
        top_make,
    })
}

/// `--dry-run`: what a linked install would change, changing nothing.
pub(super) fn preview(ctx: &Context, call: &Call, tree: &Tree) -> Result<Changes> {
    let (included, warnings) = reify::selected(ctx, call, tree)?;
    let d = decide(ctx, call, tree, &included)?;
    let mut changes = Changes {
        warnings,
        added: d.make.len(),
        removed: d.removed_entries.len(),
        packages: d.layout.entries.len(),
        ..Default::default()
    };
    let version_at = |loc: &str| {
        let e = d.installed.as_ref()?.get(loc)?;
        Some(e.get("version")?.as_str()?.to_string())
    };
    for m in &d.make {
        let e = &d.layout.entries[m.entry];
        let pkg = &tree.nodes[e.node].pkg;
        let location = e.location();
        changes.changes.push(Change {
            name: e.name.clone(),
            from: version_at(&location),
            to: Some(pkg.version.clone()),
            location,
        });
    }
    for loc in &d.removed_entries {
        changes.changes.push(Change {
            name: lockfile::folder_name(loc).to_string(),
            from: version_at(loc),
            to: None,
            location: loc.clone(),
        });
    }
    changes
        .changes
        .sort_by(|a, b| crate::locale::locale_cmp(&a.location, &b.location));
    Ok(changes)
}

pub(super) async fn reify_linked(
    ctx: &Context,
    call: &Call,
    tree: &Arc<Tree>,
    supply: Supply,
) -> Result<Reified> {
    let cwd = ctx.cwd.clone();
    let mut changes = Changes::default();
    let (mut included, warnings) = reify::selected(ctx, call, tree)?;
    changes.warnings.extend(warnings);
    let Decided {
        layout,
        installed,
        policy,
        pending_before,
        mut shared_dirs,
        mut make,
        removals,
        removed_entries,
        top_make,
    } = decide(ctx, call, tree, &included)?;
    let removed_entries = removed_entries.len();
    let installed = installed.as_ref();
    // Fetch what is cloned: project entries, and shared folders to build.
    let fetch_ids: Vec<NodeId> = make
        .iter()
        .filter(|m| m.shared.as_ref().is_none_or(|(_, build)| *build))
        .map(|m| layout.entries[m.entry].node)
        .collect();
    let t_fetch = Instant::now();
    let fetched = reify::fetch_packages(ctx, call, tree, &fetch_ids, supply, &|_, _| {}).await?;
    let fetched = changes.supplied(fetched, t_fetch);
    let fetched: HashMap<NodeId, Fetched> = fetch_ids
        .iter()
        .zip(fetched)
        .filter_map(|(&id, f)| Some((id, f?)))
        .collect();
    // Optional packages that could not be fetched are left out (and what
    // links to them).
    let mut gone = vec![false; layout.entries.len()];
    for m in &make {
        let e = &layout.entries[m.entry];
        let needs = m.shared.as_ref().is_none_or(|(_, build)| *build);
        if needs && !fetched.contains_key(&e.node) {
            gone[m.entry] = true;
            for (id, slot) in layout.entry_of.iter().enumerate() {
                if *slot == Some(m.entry) {
                    included[id] = false;
                }
            }
        }
    }
    // A shared folder is the same for every project: one that would be
    // built without a link to a package this install could not fetch
    // (everything that reaches one) is a folder of this project instead.
    if gone.iter().any(|g| *g) {
        let tainted = reaches(&layout, &gone);
        for m in make.iter_mut() {
            if tainted[m.entry] && !gone[m.entry] && matches!(m.shared, Some((_, true))) {
                m.shared = None;
                shared_dirs[m.entry] = None;
            }
        }
    }

    let t_link = Instant::now();
    call.report(Phase::Link, 0, make.len());
    let token = staging_token();
    let staging = |dir: &Path| staging_of(dir, &token);
    let jobs: Vec<ToLink> = make
        .iter()
        .filter(|m| !gone[m.entry])
        .filter_map(|m| {
            let e = &layout.entries[m.entry];
            let dest = match &m.shared {
                None => cwd.join(e.location()),
                Some((_, false)) => return None,
                Some((dir, true)) => staging(dir).join("node_modules").join(&e.name),
            };
            let pkg = &tree.nodes[e.node].pkg;
            Some(ToLink {
                package: fetched.get(&e.node)?.package.clone(),
                dest,
                id: e.node,
                scripted: pkg.has_install_script,
                trusted: m.shared.is_none() && policy.allows(&pkg.name),
                verify: ctx.config.verify_store_integrity,
            })
        })
        .collect();
    reify::forget_state(&cwd)?;
    let remove_paths: Vec<PathBuf> = removals
        .iter()
        .map(|l| cwd.join(l))
        .chain(
            make.iter()
                .filter_map(|m| Some(staging(&m.shared.as_ref()?.0))),
        )
        .collect();
    let cancel = call.cancel.clone();
    let (candidates, changed) = blocking(move || {
        link::pool().install(|| {
            let jobs = jobs
                .into_par_iter()
                .map(early_link::read_job)
                .collect::<Result<Vec<_>>>()?;
            let (changed, jobs): (Vec<CloneJob>, Vec<CloneJob>) =
                jobs.into_iter().partition(|p| p.changed.is_some());
            let candidates: Vec<NodeId> =
                jobs.iter().filter(|p| p.candidate).map(|p| p.id).collect();
            link::remove_dirs(&remove_paths)?;
            reify::clone_jobs(jobs, cancel)?;
            Ok((candidates, changed))
        })
    })
    .await?;
    let mut candidates = candidates;
    if !changed.is_empty() {
        let to_link = |id: NodeId, f: &Fetched| {
            let i = layout.entry_of[id].unwrap_or_default();
            let m = make.iter().find(|m| m.entry == i);
            let e = &layout.entries[i];
            let dest = match m.and_then(|m| m.shared.as_ref()) {
                Some((dir, _)) => staging(dir).join("node_modules").join(&e.name),
                None => cwd.join(e.location()),
            };
            let pkg = &tree.nodes[id].pkg;
            ToLink {
                package: f.package.clone(),
                dest,
                id,
                scripted: pkg.has_install_script,
                trusted: policy.allows(&pkg.name),
                verify: ctx.config.verify_store_integrity,
            }
        };
        let (restored, warnings) =
            reify::restore(ctx, call, tree, supply, changed, &to_link).await?;
        candidates.extend(restored);
        changes.warnings.extend(warnings);
    }
    // Scripts never run in a shared folder (one with a `binding.gyp` the
    // lockfile did not flag could get here): it stays unbuilt, said so.
    let shared_nodes: HashSet<NodeId> = make
        .iter()
        .filter(|m| m.shared.is_some())
        .map(|m| layout.entries[m.entry].node)
        .collect();
    candidates.retain(|&id| {
        let pkg = &tree.nodes[id].pkg;
        let unbuilt = shared_nodes.contains(&id) && policy.allows(&pkg.name);
        if unbuilt {
            changes.warnings.push(format!(
                "{} has a binding.gyp and is in the global virtual store, where nothing is built; \
                 install without global-virtual-store to build it",
                pkg.id()
            ));
        }
        !unbuilt
    });

    // Links and bins.
    let finish = {
        let layout = layout.clone();
        let tree = tree.clone();
        let cwd = cwd.clone();
        let made: Vec<(usize, Option<(PathBuf, bool)>)> = make
            .iter()
            .filter(|m| !gone[m.entry])
            .map(|m| (m.entry, m.shared.clone()))
            .collect();
        let top_make = top_make.clone();
        let gone = gone.clone();
        let shared_dirs = shared_dirs.clone();
        let token = token.clone();
        // Removed packages (or a hoisted layout's) may have left `.bin`
        // links at the top.
        let removed_any = !removals.is_empty();
        move || {
            let made = Made {
                token: &token,
                entries: &made,
                top: &top_make,
                gone: &gone,
                removed_any,
            };
            link_entries(&tree, &layout, &cwd, &shared_dirs, &made)
        }
    };
    blocking(move || link::pool().install(finish)).await?;
    call.report(Phase::Link, make.len(), make.len());

    // Scripts run in the package's store folder, as npm runs them.
    let kept_now: Vec<bool> = (0..layout.entries.len()).map(|i| !gone[i]).collect();
    let places: Vec<(String, NodeId)> = {
        let mut p: Vec<(String, NodeId)> = layout
            .entries
            .iter()
            .enumerate()
            .filter(|(i, _)| kept_now[*i])
            .map(|(_, e)| (e.location(), e.node))
            .collect();
        p.sort_by(|a, b| crate::locale::locale_cmp(&a.0, &b.0));
        p
    };
    // Only the representative of each entry counts as installed for
    // scripts' bookkeeping.
    let mut rep_included: Vec<bool> = vec![false; tree.nodes.len()];
    for (_, id) in &places {
        rep_included[*id] = included[*id];
    }
    let scripts = lifecycle::run_dependencies(
        ctx,
        call,
        tree,
        &places,
        &policy,
        &candidates,
        &pending_before,
        &mut rep_included,
    )
    .await?;
    let mut kept_final = kept_now;
    for (i, e) in layout.entries.iter().enumerate() {
        if kept_final[i] && !rep_included[e.node] {
            // An optional package whose script failed.
            kept_final[i] = false;
            for (id, slot) in layout.entry_of.iter().enumerate() {
                if *slot == Some(i) {
                    included[id] = false;
                }
            }
        }
    }
    changes.scripts_run = scripts.ran;
    changes.scripts_not_run = scripts.not_run;
    changes.warnings.extend(scripts.warnings);
    changes.link_ms = t_link.elapsed().as_secs_f64() * 1e3;
    changes.added = make.iter().filter(|m| kept_final[m.entry]).count();
    changes.removed = removed_entries;
    changes.packages = kept_final.iter().filter(|k| **k).count();
    changes.changes = direct_changes(tree, &layout, installed, &top_make, &kept_final);
    let hidden = render_hidden(tree, &layout, &kept_final);
    Ok(Reified {
        included,
        hidden: Hidden::Rendered(hidden, changes.packages),
        changes,
    })
}

/// The root's dependencies added or changed.
fn direct_changes(
    tree: &Tree,
    layout: &Layout,
    installed: Option<&HashMap<String, Map<String, Value>>>,
    top_make: &[usize],
    kept: &[bool],
) -> Vec<Change> {
    let version_at = |loc: &str| -> Option<String> {
        let e = installed?.get(loc)?;
        if let Some(v) = e.get("version").and_then(Value::as_str) {
            return Some(v.to_string());
        }
        let target = e.get("resolved")?.as_str()?;
        installed?
            .get(target)?
            .get("version")?
            .as_str()
            .map(str::to_string)
    };
    top_make
        .iter()
        .map(|&i| &layout.top[i])
        .filter(|t| t.folder.is_empty())
        .filter_map(|t| {
            let Target::Entry(j) = t.target else {
                return None;
            };
            if !kept[j] {
                return None;
            }
            let pkg = &tree.nodes[layout.entries[j].node].pkg;
            let location = t.location();
            let from = version_at(&location);
            (from.as_deref() != Some(pkg.version.as_str())).then(|| Change {
                name: t.name.clone(),
                from,
                to: Some(pkg.version.clone()),
                location,
            })
        })
        .collect()
}

/// Where a shared folder is built before it is renamed to `dir`: beside
/// it (the same depth, so its relative links resolve the same), named for
/// this install (`token`: two installs at once, in one process or two,
/// never build in one folder).
fn staging_of(dir: &Path, token: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.with_file_name(format!(".tmp-{token}-{name}"))
}

/// A name for this install's staging folders.
fn staging_token() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}-{n}-{nanos}", std::process::id())
}

/// What [`link_entries`] puts in place.
struct Made<'a> {
    /// This install's staging folders' name ([`staging_of`]).
    token: &'a str,
    /// Entries made, with their shared folder (and whether to build it).
    entries: &'a [(usize, Option<(PathBuf, bool)>)],
    /// Top links made (indexes into [`Layout::top`]).
    top: &'a [usize],
    /// Entries left out (an optional package that could not be fetched).
    gone: &'a [bool],
    /// Something was removed: look for dangling `.bin` links at the top.
    removed_any: bool,
}

/// Blocking: the dependency links and `.bin` links of the entries made,
/// shared folders renamed into place and linked from `.store`, the
/// project's links.
fn link_entries(
    tree: &Tree,
    layout: &Layout,
    cwd: &Path,
    shared_dirs: &[Option<PathBuf>],
    m: &Made,
) -> Result<()> {
    let (made, top_make, gone) = (m.entries, m.top, m.gone);
    let staging = |dir: &Path| staging_of(dir, m.token);
    // Where each entry's folder (the one holding `node_modules`) is being
    // built, and where it ends up.
    let building: HashMap<usize, PathBuf> = made
        .iter()
        .filter_map(|(i, s)| match s {
            Some((dir, true)) => Some((*i, staging(dir))),
            Some((_, false)) => None,
            None => Some((*i, cwd.join(layout.entries[*i].dir()))),
        })
        .collect();
    // Entry `i`'s package files as they are now (for bin checks).
    let files_of = |i: usize| -> PathBuf {
        let e = &layout.entries[i];
        match (building.get(&i), &shared_dirs[i]) {
            (Some(dir), _) | (None, Some(dir)) => dir.join("node_modules").join(&e.name),
            (None, None) => cwd.join(e.location()),
        }
    };
    let mut bins: Vec<BinJob> = Vec::new();
    let mut links: Vec<(PathBuf, PathBuf)> = Vec::new();
    for (i, dir) in &building {
        let e = &layout.entries[*i];
        let pkg = &tree.nodes[e.node].pkg;
        let own = dir.join("node_modules").join(&e.name);
        let bin_list = |p: &crate::tree::Package| -> Vec<(String, String)> {
            p.bin.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        if !pkg.bin.is_empty() {
            bins.push(BinJob {
                pkg_dir: own.clone(),
                bins: bin_list(pkg),
                chmod: false,
                files_at: None,
            });
        }
        for (name, t) in &e.deps {
            let at = dir.join("node_modules").join(name);
            let parent_rel = relative_dir_of(&e.dir(), name);
            let (target, files, dep_pkg) = match t {
                Target::Entry(j) if gone[*j] => continue,
                Target::Entry(j) => {
                    let dep = &layout.entries[*j];
                    // A shared folder links other shared folders, by their
                    // place in the cache.
                    let target = match (&shared_dirs[*i], &shared_dirs[*j]) {
                        (Some(from), Some(to)) => {
                            let from = from.join(&parent_rel[e.dir().len() + 1..]);
                            fsops::relative(&from, &to.join("node_modules").join(&dep.name))
                                .to_string_lossy()
                                .into_owned()
                        }
                        _ => isolated::relative(&parent_rel, &dep.location()),
                    };
                    (target, files_of(*j), &tree.nodes[dep.node].pkg)
                }
                Target::Folder(f) => {
                    let Some(id) = tree.target_at(f) else {
                        continue;
                    };
                    (
                        isolated::relative(&parent_rel, f),
                        cwd.join(f),
                        &tree.nodes[id].pkg,
                    )
                }
            };
            links.push((at.clone(), PathBuf::from(target)));
            if !dep_pkg.bin.is_empty() {
                bins.push(BinJob {
                    pkg_dir: at,
                    bins: bin_list(dep_pkg),
                    chmod: matches!(t, Target::Folder(_)),
                    files_at: Some(files),
                });
            }
        }
    }
    links
        .par_iter()
        .try_for_each(|(at, target)| symlink(at, target))?;
    link::link_bins(&bins)?;
    // Shared folders go into place (one rename each; a folder another
    // install put there first is taken as it is), then `.store` links them.
    made.par_iter().try_for_each(|(i, s)| {
        let Some((dir, build)) = s else {
            return Ok(());
        };
        if *build {
            let tmp = staging(dir);
            if let Some(parent) = dir.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent.display(), e))?;
            }
            if std::fs::rename(&tmp, dir).is_err() {
                let _ = fsops::remove_any(&tmp);
                if !dir.join("node_modules").exists() {
                    return Err(Error::new(
                        Code::Io,
                        format!("cannot put {} in place in the cache", dir.display()),
                    ));
                }
            }
        }
        symlink(&cwd.join(layout.entries[*i].dir()), dir)
    })?;
    // The project's links.
    let mut top_bins = Vec::new();
    let mut folders_changed: HashSet<PathBuf> = HashSet::new();
    if m.removed_any {
        folders_changed.insert(cwd.join("node_modules"));
        folders_changed.extend(
            layout
                .top
                .iter()
                .map(|t| cwd.join(&t.folder).join("node_modules")),
        );
    }
    for &i in top_make {
        let t = &layout.top[i];
        if matches!(t.target, Target::Entry(j) if gone[j]) {
            continue;
        }
        let loc = t.location();
        let at = cwd.join(&loc);
        let parent_rel = loc.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
        let to = layout.target_location(&t.target);
        symlink(&at, Path::new(&isolated::relative(parent_rel, &to)))?;
        let (pkg, chmod) = match &t.target {
            Target::Entry(j) => (&tree.nodes[layout.entries[*j].node].pkg, false),
            Target::Folder(f) => match tree.target_at(f) {
                Some(id) => (&tree.nodes[id].pkg, true),
                None => continue,
            },
        };
        folders_changed.insert(cwd.join(&t.folder).join("node_modules"));
        if !pkg.bin.is_empty() {
            top_bins.push(BinJob {
                pkg_dir: at,
                bins: pkg
                    .bin
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                chmod,
                files_at: None,
            });
        }
    }
    link::link_bins(&top_bins)?;
    // `.bin` links left pointing into removed packages.
    for nm in folders_changed {
        let Ok(entries) = std::fs::read_dir(nm.join(".bin")) else {
            continue;
        };
        for e in entries.flatten() {
            if std::fs::metadata(e.path()).is_err() {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(())
}

/// The folder (relative to the project) a dependency link `name` of the
/// entry in `entry_dir` lives in: `<entry_dir>/node_modules[/@scope]`.
fn relative_dir_of(entry_dir: &str, name: &str) -> String {
    match name.split_once('/') {
        Some((scope, _)) => format!("{entry_dir}/node_modules/{scope}"),
        None => format!("{entry_dir}/node_modules"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::Lockfile;
    use crate::tree::{EdgeOptions, Package};
    use serde_json::json;

    #[test]
    fn a_package_whose_scripts_run_and_its_dependents_are_not_shared() {
        let e = |v: &str, extra: serde_json::Value| {
            let mut m = json!({ "version": v, "resolved": format!("https://r/{v}.tgz"), "integrity": format!("sha512-{v}") });
            m.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            m
        };
        let text = json!({ "lockfileVersion": 3, "packages": {
            "": { "dependencies": { "a": "1", "c": "1" } },
            "node_modules/a": e("1.0.0", json!({ "dependencies": { "b": "1" } })),
            "node_modules/b": e("1.0.1", json!({ "hasInstallScript": true })),
            "node_modules/c": e("1.0.2", json!({})),
            "node_modules/d": { "version": "1.0.3" },
        }});
        let lock = Lockfile::parse(&text.to_string()).unwrap();
        let root = Package {
            name: "root".into(),
            dependencies: [("a", "1"), ("c", "1"), ("d", "1")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        };
        let tree = lock.to_tree(root, EdgeOptions::default()).unwrap();
        let included = vec![true; tree.nodes.len()];
        let layout = isolated::layout(&tree, &included, &LayoutOptions::default()).unwrap();
        let shared_names = |runs: &dyn Fn(&Package) -> bool| -> Vec<String> {
            let ok = shareable(&tree, &layout, runs);
            (layout.entries.iter().zip(ok))
                .filter(|(_, s)| *s)
                .map(|(e, _)| e.name.clone())
                .collect()
        };
        // b's script runs: b and a (which links b) stay in the project; d
        // has no integrity to name its content by.
        assert_eq!(shared_names(&|p| p.has_install_script), ["c"]);
        // Skipped scripts: b is the tarball's files, like any other.
        assert_eq!(shared_names(&|_| false), ["a", "b", "c"]);
    }
}
