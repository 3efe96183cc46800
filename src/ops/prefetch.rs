//! `prefetch`: make sure every package the lockfile installs here (resolving
//! first if there is none, or it is stale) is in the cache. node_modules is
//! untouched; a resolved lockfile is written once everything is cached.

use std::time::Instant;

use crate::error::Result;
use crate::platform::Platform;
use crate::tree::select::{self, Omit};

use super::context::Context;
use super::ideal::ideal_tree;
use super::{Call, Phase, Summary};

pub async fn prefetch(call: Call) -> Result<Summary> {
    let t0 = Instant::now();
    let call = call.at_workspace_root();
    let install = Some(super::install::boxed as super::git_prepare::Installer);
    Context::scoped(&call, Context::config(&call)?, install, async |ctx| {
        run(ctx, &call, t0).await
    })
    .await
}

async fn run(ctx: &Context, call: &Call, t0: Instant) -> Result<Summary> {
    let mut summary = Summary::default();
    let mut ideal = ideal_tree(ctx, call, true).await?;
    summary.warnings.append(&mut ideal.warnings);
    summary.timings.resolve_ms = t0.elapsed().as_secs_f64() * 1e3;
    let omit = Omit::from_list(&ctx.config.omit);
    let (included, warnings) = select::select(&ideal.tree, omit, &Platform::current());
    summary.warnings.extend(warnings);
    let mut seen = std::collections::HashSet::new();
    let tarballs: Vec<_> = ideal
        .tree
        .sorted_locations()
        .into_iter()
        .filter(|(_, id)| included[*id])
        .map(|(_, id)| ctx.tarball(&ideal.tree.nodes[id].pkg))
        // One download per distinct tarball.
        .filter(|t| seen.insert(t.integrity.clone().unwrap_or_else(|| t.url.clone())))
        .collect();
    let t_fetch = Instant::now();
    call.report(Phase::Fetch, 0, tarballs.len());
    summary.packages = tarballs.len();
    ctx.fetcher.ensure_all(tarballs).await?;
    let stats = ctx.fetcher.stats();
    summary.downloaded = stats.downloaded as usize;
    summary.bytes = stats.bytes;
    summary.reused = summary.packages.saturating_sub(summary.downloaded);
    summary.timings.fetch_ms = t_fetch.elapsed().as_secs_f64() * 1e3;
    summary.lockfile_written = ideal.write(ctx)?;
    crate::free::later(ideal);
    summary.timings.total_ms = t0.elapsed().as_secs_f64() * 1e3;
    call.report(Phase::Done, 1, 1);
    Ok(summary)
}
