//! `install`: resolve if the lockfile is missing or stale, fetch, link, and
//! only then write package-lock.json (a failed install changes no file of
//! the user's).

use std::sync::Arc;
use std::time::Instant;

use crate::error::{Code, Error, Result};
use crate::lockfile::{self, in_sync, RenderOptions};
use crate::platform::Platform;
use crate::resolve::{self, ResolveOptions};
use crate::tree::{Package, Tree};

use super::add::{self, Edit};
use super::background::RegistrySource;
use super::context::Context;
use super::reify::{self, Source};
use super::{state, Call, Phase, Summary};

pub async fn install(call: Call) -> Result<Summary> {
    let t0 = Instant::now();
    let call = call.at_workspace_root();
    let o = &call.options;
    let config = Context::config(&call)?;
    let editing = add::requested(o);
    let fast = !o.clean && !o.lockfile_only && !editing && o.workspaces.is_empty();
    let up_to_date = || {
        let packages = state::current(&o.cwd, &state::fingerprint(o, &config))?;
        Some(Summary {
            up_to_date: true,
            packages,
            timings: super::Timings {
                total_ms: t0.elapsed().as_secs_f64() * 1e3,
                ..Default::default()
            },
            ..Default::default()
        })
    };
    if let Some(summary) = up_to_date().filter(|_| fast) {
        return Ok(summary);
    }
    // One writer at a time; whoever held the lock may have just made the
    // project up to date.
    let _lock = call.lock_project().await?;
    if let Some(summary) = up_to_date().filter(|_| fast) {
        return Ok(summary);
    }
    Context::scoped(&call, config, async |ctx| {
        let edit = match editing {
            true => Some(add::prepare(ctx, o).await?),
            false => None,
        };
        run(ctx, &call, t0, edit.as_ref()).await
    })
    .await
}

async fn run(ctx: &Context, call: &Call, t0: Instant, edit: Option<&Edit>) -> Result<Summary> {
    let o = &call.options;
    let mut summary = Summary::default();
    let t_resolve = Instant::now();
    let mut ideal = ideal_tree(ctx, call, !o.lockfile_only, &mut summary).await?;
    if let Some(edit) = edit {
        edit.apply(ctx, &mut ideal, &mut summary);
    }
    summary.timings.resolve_ms = t_resolve.elapsed().as_secs_f64() * 1e3;
    if o.lockfile_only {
        summary.packages = ideal.tree.sorted_locations().len();
        edit.map(Edit::write).transpose()?;
        ideal.write(ctx, &mut summary)?;
    } else {
        let reified = reify::reify(ctx, call, &ideal.tree, Source::Network, &mut summary).await?;
        edit.map(Edit::write).transpose()?;
        ideal.write(ctx, &mut summary)?;
        reify::record(ctx, call, &ideal.tree, reified).await?;
        if edit.is_some_and(|e| !e.save) {
            // node_modules no longer matches package.json: no fast path next time.
            let _ = std::fs::remove_file(ctx.cwd.join(state::FILE));
        }
        // The project's own scripts, after its dependencies (npm's order).
        // If one fails, the next install must not answer "up to date".
        if let Err(e) = super::scripts::run_root(ctx, call, &mut summary).await {
            let _ = std::fs::remove_file(ctx.cwd.join(state::FILE));
            return Err(e);
        }
    }
    crate::free::later(ideal);
    summary.timings.total_ms = t0.elapsed().as_secs_f64() * 1e3;
    call.report(Phase::Done, 1, 1);
    Ok(summary)
}

/// The tree to install, and the lockfile text to write once it is on disk
/// (None when package-lock.json already says exactly this).
pub(super) struct Ideal {
    pub tree: Arc<Tree>,
    pub lockfile: Option<String>,
}

impl Ideal {
    pub fn write(&self, ctx: &Context, summary: &mut Summary) -> Result<()> {
        if let Some(text) = &self.lockfile {
            lockfile::write_atomic(&ctx.lock_path(), text)?;
            summary.lockfile_written = true;
        }
        Ok(())
    }
}

/// The lockfile's tree when it is in sync with package.json, else a fresh
/// resolution. With `prefetch`, downloads start as soon as packages are
/// known.
pub(super) async fn ideal_tree(
    ctx: &Context,
    call: &Call,
    prefetch: bool,
    summary: &mut Summary,
) -> Result<Ideal> {
    let o = &call.options;
    ctx.edge_options()
        .overrides
        .check_root(&ctx.root_package(), ctx.config.legacy_peer_deps)?;
    let (lock, built) = match ctx.read_lockfile()? {
        None => (None, None),
        Some(lock) => {
            if prefetch {
                fetch_first(ctx, &lock);
            }
            // On the blocking pool: a task spawned from a worker that then
            // stays busy waits in that worker's LIFO slot, which no other
            // worker steals, so the download just started would wait too.
            let (root, edges) = (ctx.root_package(), ctx.edge_options());
            let (lock, tree) = reify::blocking(move || {
                let tree = lock.to_tree(root, edges);
                Ok((lock, tree))
            })
            .await?;
            (Some(lock), Some(tree))
        }
    };
    let mut stale = "there is no package-lock.json".to_string();
    // A v1 lockfile (npm 6) lacks package metadata: resolve again, keeping
    // the versions it locks, and write v3 (npm upgrades it the same way).
    let mut v1 = false;
    if let (Some(lock), Some(built)) = (&lock, built) {
        match built {
            // reify starts every download at once for this tree.
            Ok(tree) => match in_sync(lock, &tree, &ctx.project) {
                Ok(()) => {
                    return Ok(Ideal {
                        tree: Arc::new(tree),
                        lockfile: None,
                    })
                }
                Err(why) => stale = format!("package-lock.json is out of date: {why}"),
            },
            Err(e) if e.code == Code::Lockfile && lock.version < 2 => {
                v1 = true;
                if !o.frozen_lockfile {
                    summary.warnings.push(
                        "package-lock.json is lockfile v1 (npm 6): resolving with the versions it locks and upgrading it to v3".into(),
                    );
                }
            }
            Err(e) => return Err(e),
        }
    }
    if o.frozen_lockfile && !v1 {
        return Err(Error::new(
            Code::FrozenLockfile,
            format!("{stale}, and --frozen-lockfile (or `ci`) forbids changing it. Run `brisk install` to update the lockfile."),
        ));
    }
    let pick = crate::registry::PickOptions {
        node_version: o.node_version.clone(),
        before: ctx.config.before,
    };
    let source = RegistrySource {
        client: ctx.registry(o.prefer_offline),
        background: &ctx.background,
        pick: pick.clone(),
        seen: Default::default(),
        peers: !ctx.config.legacy_peer_deps,
        fetcher: ctx.fetcher.clone(),
        cwd: ctx.cwd.clone(),
    };
    let platform = Platform::current();
    let mut placed = 0usize;
    let options = ResolveOptions {
        edges: ctx.edge_options(),
        strict_peer_deps: ctx.config.strict_peer_deps,
        force: ctx.config.force,
        cancel: call.cancel.clone(),
        pick,
        locked: lock
            .as_ref()
            .map(|l| l.locked_versions())
            .unwrap_or_default(),
    };
    let resolving = resolve::resolve(ctx.root_package(), &source, options, |pkg| {
        placed += 1;
        call.report(Phase::Resolve, placed, 0);
        if prefetch && !pkg.link && platform.accepts(&pkg.os, &pkg.cpu, &pkg.libc) {
            fetch_early(ctx, pkg);
        }
    });
    let resolution = call.cancel.run(resolving).await?;
    summary.warnings.extend(resolution.warnings);
    if let (true, Some(lock)) = (v1 && o.frozen_lockfile, &lock) {
        // `ci` with a v1 lockfile: install exactly what it locks, and leave
        // the file as it is.
        frozen_v1_check(lock, &resolution.tree)?;
        return Ok(Ideal {
            tree: Arc::new(resolution.tree),
            lockfile: None,
        });
    }
    let text = lockfile::render(
        &resolution.tree,
        RenderOptions {
            omit_resolved: ctx.config.omit_lockfile_registry_resolved,
            hidden: false,
        },
        |_| true,
    );
    let unchanged = std::fs::read_to_string(ctx.lock_path()).ok().as_deref() == Some(text.as_str());
    Ok(Ideal {
        tree: Arc::new(resolution.tree),
        lockfile: (!unchanged).then_some(text),
    })
}

/// Starts downloading the lockfile's first required tarball (unless it is
/// cached) while the tree is built: the HTTP client (its CA certificates),
/// the TLS handshake and the first answer, which every other request waits
/// for (see `Http::send`), are then under way when reify asks for the rest
/// (bench/README, "The first download during set-up").
fn fetch_first(ctx: &Context, lock: &lockfile::Lockfile) {
    let platform = Platform::current();
    let Some(pkg) = lock
        .required_tarballs()
        .find(|p| platform.accepts(&p.os, &p.cpu, &p.libc))
    else {
        return;
    };
    fetch_early(ctx, &pkg);
}

/// Downloads `pkg` into the cache in the background.
fn fetch_early(ctx: &Context, pkg: &Package) {
    let f = ctx.fetcher.clone();
    let t = ctx.tarball(pkg);
    ctx.background.spawn(async move {
        // Errors surface when reify asks for the same package.
        let _ = f.ensure(t).await;
    });
}

/// With `--frozen-lockfile`, every package the resolved tree holds must be
/// one the v1 lockfile locks (by name and version: v1 layouts can nest
/// differently from today's hoisting).
fn frozen_v1_check(lock: &lockfile::Lockfile, tree: &Tree) -> Result<()> {
    let locked = lock.locked_versions();
    let mut missing: Vec<String> = tree
        .nodes
        .iter()
        .skip(1)
        .filter(|n| n.alive)
        .filter(|n| {
            !locked
                .get(&n.pkg.name)
                .is_some_and(|v| v.contains(&n.pkg.version))
        })
        .map(|n| n.pkg.id())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    missing.sort();
    missing.dedup();
    let more = missing.len().saturating_sub(5);
    missing.truncate(5);
    Err(Error::new(
        Code::FrozenLockfile,
        format!(
            "package-lock.json (lockfile v1) does not lock {}{}, which package.json needs, and --frozen-lockfile (or `ci`) forbids changing it. Run `brisk install` to update the lockfile.",
            missing.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        ),
    ))
}
