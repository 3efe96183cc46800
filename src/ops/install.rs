//! `install`: resolve if the lockfile is missing or stale, write it, fetch,
//! link.

use std::time::Instant;

use crate::error::{Code, Error, Result};
use crate::lockfile::{self, in_sync, RenderOptions};
use crate::platform::Platform;
use crate::resolve::{self, ResolveOptions};
use crate::tree::Tree;

use super::context::Context;
use super::reify::{self, Source};
use super::{state, Call, Phase, Summary};

pub async fn install(call: Call) -> Result<Summary> {
    let t0 = Instant::now();
    let o = &call.options;
    let config = Context::config(&call)?;
    if !o.clean && !o.lockfile_only && state::is_current(&o.cwd, &state::fingerprint(o, &config)) {
        return Ok(Summary {
            up_to_date: true,
            timings: super::Timings {
                total_ms: t0.elapsed().as_secs_f64() * 1e3,
                ..Default::default()
            },
            ..Default::default()
        });
    }
    let ctx = Context::load(&call, config)?;
    let mut summary = Summary::default();
    let t_resolve = Instant::now();
    let (tree, written) = ideal_tree(&ctx, &call, !o.lockfile_only, &mut summary).await?;
    summary.lockfile_written = written;
    summary.timings.resolve_ms = t_resolve.elapsed().as_secs_f64() * 1e3;
    if !o.lockfile_only {
        reify::reify(&ctx, &call, &tree, Source::Network, &mut summary).await?;
    } else {
        summary.packages = tree.sorted_locations().len();
    }
    summary.timings.total_ms = t0.elapsed().as_secs_f64() * 1e3;
    call.report(Phase::Done, 1, 1);
    Ok(summary)
}

/// The tree to install: the lockfile's when it is in sync with
/// package.json, else a fresh resolution (written to package-lock.json).
/// With `prefetch`, downloads start as soon as packages are known.
pub(super) async fn ideal_tree(
    ctx: &Context,
    call: &Call,
    prefetch: bool,
    summary: &mut Summary,
) -> Result<(Tree, bool)> {
    let o = &call.options;
    let lock = ctx.read_lockfile()?;
    let mut stale = "there is no package-lock.json".to_string();
    if let Some(lock) = &lock {
        match lock.to_tree(ctx.root_package(), ctx.edge_options()) {
            Ok(tree) => match in_sync(lock, &tree, &ctx.project) {
                // reify starts every download at once for this tree.
                Ok(()) => return Ok((tree, false)),
                Err(why) => stale = format!("package-lock.json is out of date: {why}"),
            },
            Err(e) if e.code == Code::Lockfile && lock.version < 2 && !o.frozen_lockfile => {
                summary
                    .warnings
                    .push("package-lock.json v1 is not supported yet; resolving again".into());
            }
            Err(e) => return Err(e),
        }
    }
    if o.frozen_lockfile {
        return Err(Error::new(
            Code::FrozenLockfile,
            format!("{stale}, and --frozen-lockfile (or `ci`) forbids changing it. Run `brisk install` to update the lockfile."),
        ));
    }
    let source = ctx.registry(o.prefer_offline);
    let platform = Platform::current();
    let fetcher = ctx.fetcher.clone();
    let mut placed = 0usize;
    let resolution = resolve::resolve(
        ctx.root_package(),
        &source,
        ResolveOptions {
            edges: ctx.edge_options(),
            strict_peer_deps: ctx.config.strict_peer_deps,
            cancel: call.cancel.clone(),
            pick: crate::registry::PickOptions {
                node_version: o.node_version.clone(),
            },
            locked: lock
                .as_ref()
                .map(|l| l.locked_versions())
                .unwrap_or_default(),
        },
        |pkg| {
            placed += 1;
            call.report(Phase::Resolve, placed, 0);
            if prefetch && platform.accepts(&pkg.os, &pkg.cpu, &pkg.libc) {
                let f = fetcher.clone();
                let t = ctx.tarball(pkg);
                tokio::spawn(async move { f.ensure(t).await });
            }
        },
    )
    .await?;
    summary.warnings.extend(resolution.warnings);
    let text = lockfile::render(
        &resolution.tree,
        RenderOptions {
            omit_resolved: ctx.config.omit_lockfile_registry_resolved,
            hidden: false,
        },
        |_| true,
    );
    let path = ctx.lock_path();
    let written = std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str());
    if written {
        lockfile::write_atomic(&path, &text)?;
    }
    Ok((resolution.tree, written))
}
