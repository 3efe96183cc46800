//! `install`: resolve if the lockfile is missing or stale, fetch, link, and
//! only then write package-lock.json (a failed install changes no file of
//! the user's).

use std::time::Instant;

use crate::error::{Code, Error, Result};
use crate::lockfile::{self, in_sync, RenderOptions};
use crate::platform::Platform;
use crate::resolve::{self, ResolveOptions};
use crate::tree::Tree;

use super::background::RegistrySource;
use super::context::Context;
use super::reify::{self, Source};
use super::{state, Call, Phase, Summary};

pub async fn install(call: Call) -> Result<Summary> {
    let t0 = Instant::now();
    let o = &call.options;
    let config = Context::config(&call)?;
    if !o.clean && !o.lockfile_only {
        if let Some(packages) = state::current(&o.cwd, &state::fingerprint(o, &config)) {
            return Ok(Summary {
                up_to_date: true,
                packages,
                timings: super::Timings {
                    total_ms: t0.elapsed().as_secs_f64() * 1e3,
                    ..Default::default()
                },
                ..Default::default()
            });
        }
    }
    Context::scoped(&call, config, async |ctx| run(ctx, &call, t0).await).await
}

async fn run(ctx: &Context, call: &Call, t0: Instant) -> Result<Summary> {
    let o = &call.options;
    let mut summary = Summary::default();
    let t_resolve = Instant::now();
    let ideal = ideal_tree(ctx, call, !o.lockfile_only, &mut summary).await?;
    summary.timings.resolve_ms = t_resolve.elapsed().as_secs_f64() * 1e3;
    if o.lockfile_only {
        summary.packages = ideal.tree.sorted_locations().len();
        ideal.write(ctx, &mut summary)?;
    } else {
        let included = reify::reify(ctx, call, &ideal.tree, Source::Network, &mut summary).await?;
        ideal.write(ctx, &mut summary)?;
        reify::record(ctx, call, &ideal.tree, &included)?;
    }
    summary.timings.total_ms = t0.elapsed().as_secs_f64() * 1e3;
    call.report(Phase::Done, 1, 1);
    Ok(summary)
}

/// The tree to install, and the lockfile text to write once it is on disk
/// (None when package-lock.json already says exactly this).
pub(super) struct Ideal {
    pub tree: Tree,
    lockfile: Option<String>,
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
    let lock = ctx.read_lockfile()?;
    let mut stale = "there is no package-lock.json".to_string();
    if let Some(lock) = &lock {
        match lock.to_tree(ctx.root_package(), ctx.edge_options()) {
            // reify starts every download at once for this tree.
            Ok(tree) => match in_sync(lock, &tree, &ctx.project) {
                Ok(()) => {
                    return Ok(Ideal {
                        tree,
                        lockfile: None,
                    })
                }
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
    let pick = crate::registry::PickOptions {
        node_version: o.node_version.clone(),
    };
    let source = RegistrySource {
        client: ctx.registry(o.prefer_offline),
        background: &ctx.background,
        pick: pick.clone(),
        seen: Default::default(),
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
        if prefetch && platform.accepts(&pkg.os, &pkg.cpu, &pkg.libc) {
            let f = ctx.fetcher.clone();
            let t = ctx.tarball(pkg);
            ctx.background.spawn(async move {
                // Errors surface when reify asks for the same package.
                let _ = f.ensure(t).await;
            });
        }
    });
    let resolution = call.cancel.run(resolving).await?;
    summary.warnings.extend(resolution.warnings);
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
        tree: resolution.tree,
        lockfile: (!unchanged).then_some(text),
    })
}
