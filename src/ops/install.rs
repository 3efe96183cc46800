//! `install`: resolve if the lockfile is missing or stale, fetch, link, and
//! only then write package-lock.json (a failed install changes no file of
//! the user's).

use std::time::Instant;

use futures_util::future::BoxFuture;

use crate::error::Result;

use super::add::{self, Edit};
use super::context::Context;
use super::ideal::ideal_tree;
use super::reify::{self, Supply};
use super::{installed, lifecycle, scope, uptodate, Call, Options, Phase, Summary};

pub async fn install(call: Call) -> Result<Summary> {
    let t0 = Instant::now();
    let call = call.in_workspace();
    let o = &call.options;
    let config = Context::config(&call)?;
    let editing = add::requested(o);
    // `-w`/`--workspaces`: reify changes only what those workspaces use.
    let limited = Call {
        options: Options {
            workspaces: scope::limit(o)?,
            all_workspaces: false,
            include_workspace_root: false,
            ..o.clone()
        },
        ..call.clone()
    };
    let fast = !o.clean && !o.lockfile_only && !o.dry_run && !editing && o.update.is_none();
    let up_to_date = || {
        // A full install's record also answers for any workspace.
        let lo = &limited.options;
        let packages =
            uptodate::current(&lo.cwd, &uptodate::fingerprint(lo, &config)).or_else(|| {
                let full = Options {
                    workspaces: Vec::new(),
                    ..lo.clone()
                };
                (!lo.workspaces.is_empty())
                    .then(|| uptodate::current(&lo.cwd, &uptodate::fingerprint(&full, &config)))?
            })?;
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
    Context::scoped(&call, config, Some(boxed), async |ctx| {
        let edit = match editing {
            true => Some(add::edit_in_memory(ctx, o).await?),
            false => None,
        };
        run(ctx, &limited, t0, edit.as_ref()).await
    })
    .await
}

/// [`install`] as a plain function pointer, for preparing git dependencies
/// (an install in their clone).
pub(super) fn boxed(call: Call) -> BoxFuture<'static, Result<Summary>> {
    Box::pin(install(call))
}

async fn run(ctx: &Context, call: &Call, t0: Instant, edit: Option<&Edit>) -> Result<Summary> {
    let o = &call.options;
    let mut summary = Summary::default();
    let t_resolve = Instant::now();
    let early_downloads = !o.lockfile_only && !o.offline && !o.dry_run;
    let mut ideal = ideal_tree(ctx, call, early_downloads).await?;
    if let Some(edit) = edit {
        edit.apply(ctx, &mut ideal);
    }
    summary.warnings.append(&mut ideal.warnings);
    summary.timings.resolve_ms = t_resolve.elapsed().as_secs_f64() * 1e3;
    if o.dry_run {
        // Work out what would change; write nothing.
        summary.dry_run = true;
        if o.lockfile_only {
            summary.packages = ideal.tree.sorted_locations().len();
        } else {
            summary.add(reify::preview(ctx, call, &ideal.tree)?);
        }
    } else if o.lockfile_only {
        summary.packages = ideal.tree.sorted_locations().len();
        edit.map(Edit::write).transpose()?;
        summary.lockfile_written = ideal.write(ctx)?;
    } else {
        let supply = match o.offline {
            true => Supply::CacheOnly,
            false => Supply::Network,
        };
        let reified = reify::reify(ctx, call, &ideal.tree, supply).await?;
        let changed = reified.changes.added + reified.changes.removed > 0
            || !reified.changes.changes.is_empty();
        summary.add(reified.changes);
        edit.map(Edit::write).transpose()?;
        summary.lockfile_written = ideal.write(ctx)?;
        installed::record(ctx, call, &ideal.tree, &reified.included, reified.hidden).await?;
        if edit.is_some_and(|e| !e.save) {
            // node_modules no longer matches package.json: no fast path next time.
            let _ = std::fs::remove_file(ctx.cwd.join(uptodate::FILE));
        }
        // The project's scripts, after its dependencies' (npm's order): the
        // workspaces' install scripts (arborist's rebuild), `dependencies`
        // when node_modules changed (the end of arborist's reify), then the
        // root's install scripts, only for an install without package
        // arguments (npm's install and ci; not add, remove, update). If one
        // fails, the next install must not answer "up to date".
        use crate::scripts::root::{DEPENDENCIES_EVENTS, ROOT_EVENTS};
        let scripts = async {
            let mut ran = lifecycle::run_workspaces(ctx, call, &ideal.tree).await?;
            if changed {
                let foreground = ctx.config.foreground_scripts;
                ran.extend(lifecycle::run_root(ctx, call, &DEPENDENCIES_EVENTS, foreground).await?);
            }
            if edit.is_none() && o.update.is_none() {
                ran.extend(lifecycle::run_root(ctx, call, &ROOT_EVENTS, true).await?);
            }
            Ok::<_, crate::error::Error>(ran)
        };
        match scripts.await {
            Ok(ran) => summary.scripts_run.extend(ran),
            Err(e) => {
                let _ = std::fs::remove_file(ctx.cwd.join(uptodate::FILE));
                return Err(e);
            }
        }
    }
    crate::free::later(ideal);
    summary.timings.total_ms = t0.elapsed().as_secs_f64() * 1e3;
    call.report(Phase::Done, 1, 1);
    Ok(summary)
}
