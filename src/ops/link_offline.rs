//! `link`: materialize node_modules from the lockfile and the cache alone,
//! with no network.

use std::sync::Arc;
use std::time::Instant;

use crate::error::{Code, Error, Result};
use crate::lockfile::in_sync;

use super::context::Context;
use super::reify::{self, Supply};
use super::{installed, Call, Phase, Summary};

pub async fn link(call: Call) -> Result<Summary> {
    let t0 = Instant::now();
    let call = call.at_workspace_root();
    let config = Context::config(&call)?;
    let _lock = call.lock_project().await?;
    Context::scoped(&call, config, None, async |ctx| run(ctx, &call, t0).await).await
}

async fn run(ctx: &Context, call: &Call, t0: Instant) -> Result<Summary> {
    let mut summary = Summary::default();
    let lock = ctx.read_lockfile()?.ok_or_else(|| {
        Error::new(
            Code::Lockfile,
            format!(
                "`link` needs a package-lock.json in {}; run `brisk prefetch` (or `brisk install`) first",
                ctx.cwd.display()
            ),
        )
    })?;
    let tree = Arc::new(lock.to_tree(ctx.root_package(), ctx.edge_options())?);
    if let Err(why) = in_sync(&lock, &tree, &ctx.project) {
        summary.warnings.push(format!(
            "package-lock.json is out of date ({why}); linking it as it is"
        ));
    }
    if call.options.dry_run {
        summary.dry_run = true;
        summary.add(reify::preview(ctx, call, &tree)?);
    } else {
        let reified = reify::reify(ctx, call, &tree, Supply::CacheOnly).await?;
        summary.add(reified.changes);
        installed::record(ctx, call, &tree, &reified.included, reified.hidden).await?;
    }
    crate::free::later((lock, tree));
    summary.timings.total_ms = t0.elapsed().as_secs_f64() * 1e3;
    call.report(Phase::Done, 1, 1);
    Ok(summary)
}
