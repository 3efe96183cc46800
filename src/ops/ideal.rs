//! The ideal tree: the lockfile's when it is in sync with package.json,
//! else a fresh resolution (downloads start as packages are placed). Used by
//! install, prefetch and add.

use std::sync::Arc;

use crate::error::{Code, Error, Result};
use crate::lockfile::{self, in_sync_with, RenderOptions};
use crate::platform::Platform;
use crate::resolve::{self, ResolveOptions};
use crate::tree::{Package, Tree};

use super::context::Context;
use super::lookahead::{Locks, RegistrySource};
use super::task::blocking;
use super::{Call, Phase};

/// The tree to install, and the lockfile text to write once it is on disk
/// (None when package-lock.json already says exactly this).
pub(super) struct Ideal {
    pub tree: Arc<Tree>,
    pub lockfile: Option<String>,
    /// What resolution warned about (peer conflicts under `--force`, an
    /// old lockfile upgraded, …).
    pub warnings: Vec<String>,
}

impl Ideal {
    /// Writes package-lock.json if it changes; says whether it did.
    pub fn write(&self, ctx: &Context) -> Result<bool> {
        let Some(text) = &self.lockfile else {
            return Ok(false);
        };
        lockfile::write_atomic(&ctx.lock_path(), text)?;
        Ok(true)
    }
}

/// The lockfile's tree when it is in sync with package.json, else a fresh
/// resolution. With `prefetch`, downloads start as soon as packages are
/// known.
pub(super) async fn ideal_tree(ctx: &Context, call: &Call, prefetch: bool) -> Result<Ideal> {
    let o = &call.options;
    ctx.overrides
        .check_root(&ctx.root_package(), ctx.config.legacy_peer_deps)?;
    let mut warnings = Vec::new();
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
            let (lock, tree) = blocking(move || {
                let tree = lock.to_tree(root, edges);
                Ok((lock, tree))
            })
            .await?;
            (Some(lock), Some(tree))
        }
    };
    // `update -w <ws>` with no names: what those workspaces use (npm
    // updates only inside the workspaces named).
    let mut update = o.update.clone();
    if let (Some(names), Some(Ok(tree))) = (&mut update, &built) {
        if names.is_empty() && !o.workspaces.is_empty() {
            if let Some(scope) = super::plan::workspace_scope(tree, &o.workspaces)? {
                let mut used: Vec<String> = (tree.nodes.iter().enumerate())
                    .filter(|(id, n)| scope[*id] && n.alive && !n.pkg.link && n.path.is_none())
                    .map(|(_, n)| n.pkg.name.clone())
                    .collect();
                used.sort();
                used.dedup();
                // Nothing to update: keep every locked version.
                *names = if used.is_empty() {
                    vec![String::new()]
                } else {
                    used
                };
            }
        }
    }
    let mut stale = "there is no package-lock.json".to_string();
    // A v1 lockfile (npm 6) lacks package metadata: resolve again, keeping
    // the versions it locks, and write v3 (npm upgrades it the same way).
    let mut v1 = false;
    // A stale lockfile's tree: resolution starts from it.
    let mut previous = None;
    if let (Some(lock), Some(built)) = (&lock, built) {
        match built {
            // reify starts every download at once for this tree.
            // `update` resolves again even when the lockfile is in sync.
            Ok(_) if o.update.is_some() => stale = "updating".into(),
            Ok(tree) => match in_sync_with(lock, &tree, &ctx.project, &ctx.folders) {
                Ok(()) => {
                    return Ok(Ideal {
                        tree: Arc::new(tree),
                        lockfile: None,
                        warnings,
                    })
                }
                Err(why) => {
                    stale = format!("package-lock.json is out of date: {why}");
                    // Linked folders (workspaces, `file:` folders) come from
                    // the lockfile in its tree, not as package.json now says.
                    previous = tree.nodes.iter().all(|n| n.path.is_none()).then_some(tree);
                }
            },
            Err(e) if e.code == Code::Lockfile && lock.version < 2 => {
                v1 = true;
                if !o.frozen_lockfile {
                    warnings.push(
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
    let locked: Locks = Arc::new(match (&lock, &update) {
        (None, _) => Default::default(),
        (Some(l), None) => l.locked(),
        // `update`: the named packages (or all) are picked afresh.
        (Some(_), Some(names)) if names.is_empty() => Default::default(),
        (Some(l), Some(names)) => {
            let mut locked = l.locked();
            locked.retain(|name, _| !names.contains(name));
            locked
        }
    });
    let source = RegistrySource {
        client: ctx.registry(),
        background: &ctx.background,
        pick: pick.clone(),
        seen: Default::default(),
        peers: !ctx.config.legacy_peer_deps,
        fetcher: ctx.fetcher.clone(),
        cwd: ctx.cwd.clone(),
        locked: locked.clone(),
    };
    let platform = Platform::current();
    let mut placed = 0usize;
    let options = ResolveOptions {
        edges: ctx.edge_options(),
        strict_peer_deps: ctx.config.strict_peer_deps,
        force: ctx.config.force,
        cancel: call.cancel.clone(),
        pick,
        locked: locked.clone(),
    };
    let on_placed = |pkg: &Package| {
        placed += 1;
        call.report(Phase::Resolve, placed, 0);
        if prefetch && !pkg.link && platform.accepts(&pkg.os, &pkg.cpu, &pkg.libc) {
            fetch_early(ctx, pkg);
        }
    };
    let resolution = match previous {
        Some(tree) => {
            let resolving = resolve::resolve_from(tree, &source, options, on_placed);
            call.cancel.run(resolving).await?
        }
        None => {
            let resolving = resolve::resolve(ctx.root_package(), &source, options, on_placed);
            call.cancel.run(resolving).await?
        }
    };
    warnings.extend(resolution.warnings);
    if let (true, Some(lock)) = (v1 && o.frozen_lockfile, &lock) {
        // `ci` with a v1 lockfile: install exactly what it locks, and leave
        // the file as it is.
        frozen_v1_check(lock, &resolution.tree)?;
        return Ok(Ideal {
            tree: Arc::new(resolution.tree),
            lockfile: None,
            warnings,
        });
    }
    Ok(Ideal {
        lockfile: lockfile_text(ctx, &resolution.tree),
        tree: Arc::new(resolution.tree),
        warnings,
    })
}

/// package-lock.json's text for `tree`; None when the file already says
/// exactly that.
pub(super) fn lockfile_text(ctx: &Context, tree: &Tree) -> Option<String> {
    if !ctx.config.package_lock {
        return None;
    }
    let text = lockfile::render(
        tree,
        RenderOptions {
            omit_resolved: ctx.config.omit_lockfile_registry_resolved,
            hidden: false,
        },
        |_| true,
    );
    // Formatted like the lockfile it replaces, or else like package.json.
    let existing = std::fs::read_to_string(ctx.lock_path()).ok();
    let style = existing
        .as_deref()
        .and_then(crate::project::edit::json_style)
        .or_else(|| ctx.project.style.clone());
    let text = match style {
        Some((indent, newline)) => lockfile::json::reformat(text, &indent, &newline),
        None => text,
    };
    let unchanged = existing.as_deref() == Some(text.as_str());
    (!unchanged).then_some(text)
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
