//! `prefetch`: make sure every package of the lockfile (resolving first if
//! there is none, or it is stale) is in the cache. node_modules is untouched.

use std::time::Instant;

use crate::error::Result;
use crate::platform::Platform;

use super::context::Context;
use super::install::ideal_tree;
use super::{Call, Phase, Summary};

pub async fn prefetch(call: Call) -> Result<Summary> {
    let t0 = Instant::now();
    let ctx = Context::load(&call, Context::config(&call)?)?;
    let mut summary = Summary::default();
    let (tree, written) = ideal_tree(&ctx, &call, true, &mut summary).await?;
    summary.lockfile_written = written;
    summary.timings.resolve_ms = t0.elapsed().as_secs_f64() * 1e3;
    let platform = Platform::current();
    let tarballs: Vec<_> = tree
        .sorted_locations()
        .into_iter()
        .map(|(_, id)| &tree.nodes[id].pkg)
        .filter(|p| platform.accepts(&p.os, &p.cpu, &p.libc))
        .map(|p| ctx.tarball(p))
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
    summary.timings.total_ms = t0.elapsed().as_secs_f64() * 1e3;
    call.report(Phase::Done, 1, 1);
    Ok(summary)
}
