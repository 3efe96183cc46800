//! The napi layer: JS option objects → `ops::Options`, progress callback →
//! `ops::Progress`, `CancelHandle` → `CancelToken`, `Summary` → result object.
//! No logic. Errors reject as JS `Error`s with `code` (`E_…`) set.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::cancel::CancelToken;
use crate::config::ConfigOverrides;
use crate::ops::{self, Call, Event, Summary};

#[napi(object)]
#[derive(Default)]
pub struct Options {
    pub cwd: Option<String>,
    pub registry: Option<String>,
    pub cache_dir: Option<String>,
    pub lockfile_only: Option<bool>,
    pub frozen_lockfile: Option<bool>,
    pub omit: Option<Vec<String>>,
    pub ignore_scripts: Option<bool>,
    /// Run every dependency's install scripts, trusted or not.
    pub allow_scripts: Option<bool>,
    /// Script output straight to the terminal, one script at a time.
    pub foreground_scripts: Option<bool>,
    pub legacy_peer_deps: Option<bool>,
    pub strict_peer_deps: Option<bool>,
    /// npm's `--force`: peer dependency conflicts only warn.
    pub force: Option<bool>,
    pub prefer_offline: Option<bool>,
    /// Revalidate metadata even while fresh (npm's `--prefer-online`).
    pub prefer_online: Option<bool>,
    /// Cached metadata and packages only (npm's `--offline`).
    pub offline: Option<bool>,
    /// Work out what would change, change nothing (npm's `--dry-run`).
    pub dry_run: Option<bool>,
    /// `false`: neither read nor write package-lock.json (npm's
    /// `--no-package-lock`).
    pub package_lock: Option<bool>,
    /// Fail on a package whose `engines.node` excludes this Node.js.
    pub engine_strict: Option<bool>,
    /// npm's `install-strategy`: `hoisted` (the default) or `linked`.
    pub install_strategy: Option<String>,
    /// With the linked strategy, share package folders between projects
    /// through the cache (brisk's extension).
    pub global_virtual_store: Option<bool>,
    /// Pick no version published after this date (npm's `--before`).
    pub before: Option<String>,
    /// Pick no version published less than this many days ago (npm's
    /// `min-release-age`).
    pub min_release_age: Option<f64>,
    /// Install into an empty node_modules (`brisk ci`); the previous one is
    /// put back if the install fails.
    pub clean: Option<bool>,
    /// Limit node_modules changes to these workspaces (names or folders).
    pub workspaces: Option<Vec<String>>,
    /// Environment for `npm_config_*`, HOME, …; defaults to `process.env`.
    pub env: Option<HashMap<String, String>>,
    /// Packages to add to package.json (`brisk add`).
    pub add: Option<Vec<String>>,
    /// Names to remove from package.json (`brisk remove`).
    pub remove: Option<Vec<String>>,
    /// `prod`, `dev`, `optional` or `peer`.
    pub save_type: Option<String>,
    pub save_exact: Option<bool>,
    /// `false`: like `--no-save`.
    pub save: Option<bool>,
    /// The packages named: `ls`, `why`, `outdated`, `update` look at them;
    /// `exec` installs them for the command; `rebuild` rebuilds them.
    pub packages: Option<Vec<String>>,
    /// `ls`, `outdated`: every level, not only the project's own dependencies.
    pub all: Option<bool>,
    /// `ls`: how many levels to show.
    pub depth: Option<f64>,
    /// `update`: move package.json's ranges to the latest versions.
    pub latest: Option<bool>,
    /// `run`: the package.json script to run (none: list them).
    pub script: Option<String>,
    /// `run`: arguments appended to the script; `exec`: the command and
    /// its arguments.
    pub args: Option<Vec<String>>,
    /// `run` in every workspace.
    pub all_workspaces: Option<bool>,
    /// With `workspaces`/`allWorkspaces`: the root project too.
    pub include_workspace_root: Option<bool>,
}

#[napi(object)]
pub struct Timings {
    pub resolve_ms: f64,
    pub fetch_ms: f64,
    pub link_ms: f64,
    pub total_ms: f64,
}

#[napi(object)]
pub struct InstallResult {
    pub added: u32,
    pub removed: u32,
    pub reused: u32,
    pub downloaded: u32,
    pub bytes: f64,
    pub packages: u32,
    pub up_to_date: bool,
    pub lockfile_written: bool,
    pub scripts_not_run: Vec<String>,
    pub scripts_run: Vec<String>,
    pub warnings: Vec<String>,
    pub timings: Timings,
    /// Packages added, removed or changed in node_modules (with `dryRun`:
    /// what would be): every one with `dryRun`, else the project's direct
    /// dependencies.
    pub changes: Vec<PackageChange>,
    /// Nothing was written (`dryRun`).
    pub dry_run: bool,
}

/// One package added (`from` absent), removed (`to` absent) or changed.
#[napi(object)]
pub struct PackageChange {
    pub name: String,
    /// Its folder, relative to the project (`node_modules/a`).
    pub location: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A command to spawn through the shell: `<shell> -c <command>` in `dir`
/// with exactly `env`.
#[napi(object)]
pub struct ScriptStep {
    /// `npm_lifecycle_event` (`npx` for exec).
    pub event: String,
    pub command: String,
    /// The command line as npm shows it.
    pub shown: String,
    pub dir: String,
    pub shell: String,
    pub env: HashMap<String, String>,
}

/// One package's part of `run`: its scripts and the steps to run.
#[napi(object)]
pub struct RunPlan {
    /// `name@version`.
    pub id: String,
    pub dir: String,
    /// `[name, command]` pairs in package.json order.
    pub scripts: Vec<Vec<String>>,
    /// The script asked for is not in package.json.
    pub missing: bool,
    pub steps: Vec<ScriptStep>,
}

/// What `exec` runs, and the packages it installed into the cache for it.
#[napi(object)]
pub struct ExecPlan {
    pub step: ScriptStep,
    pub packages: Vec<String>,
}

#[napi(object)]
#[derive(Clone)]
pub struct ProgressEvent {
    pub phase: String,
    pub done: u32,
    pub total: u32,
}

/// Cancels the operation it is passed to (the JS wrapper ties it to an
/// AbortSignal).
#[napi]
pub struct CancelHandle {
    token: CancelToken,
}

#[napi]
impl CancelHandle {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        CancelHandle {
            token: CancelToken::new(),
        }
    }

    #[napi]
    pub fn cancel(&self) {
        self.token.cancel();
    }
}

type ProgressFn = ThreadsafeFunction<ProgressEvent, (), ProgressEvent, Status, false>;

impl From<Options> for ops::Options {
    fn from(o: Options) -> ops::Options {
        ops::Options {
            cwd: o
                .cwd
                .map(PathBuf::from)
                .or_else(|| std::env::current_dir().ok())
                .unwrap_or_else(|| PathBuf::from(".")),
            config: ConfigOverrides {
                registry: o.registry,
                cache_dir: o.cache_dir.map(PathBuf::from),
                legacy_peer_deps: o.legacy_peer_deps,
                strict_peer_deps: o.strict_peer_deps,
                force: o.force,
                omit: o.omit,
                ignore_scripts: o.ignore_scripts,
                save_exact: o.save_exact,
                save: o.save,
                allow_scripts: o.allow_scripts,
                foreground_scripts: o.foreground_scripts,
                before: o.before,
                min_release_age: o.min_release_age,
                package_lock: o.package_lock,
                engine_strict: o.engine_strict,
                install_strategy: o.install_strategy,
                global_virtual_store: o.global_virtual_store,
                ..Default::default()
            },
            lockfile_only: o.lockfile_only.unwrap_or(false),
            frozen_lockfile: o.frozen_lockfile.unwrap_or(false),
            // The addon lives in a Node.js process: its executable is node.
            node_path: std::env::current_exe().ok(),
            prefer_offline: o.prefer_offline.unwrap_or(false),
            prefer_online: o.prefer_online.unwrap_or(false),
            offline: o.offline.unwrap_or(false),
            dry_run: o.dry_run.unwrap_or(false),
            clean: o.clean.unwrap_or(false),
            node_version: None,
            workspaces: o.workspaces.unwrap_or_default(),
            env: o.env.unwrap_or_else(|| std::env::vars().collect()),
            add: o.add.unwrap_or_default(),
            remove: o.remove.unwrap_or_default(),
            save_type: o.save_type,
            update: None,
            latest: o.latest.unwrap_or(false),
            script: o.script,
            args: o.args.unwrap_or_default(),
            all_workspaces: o.all_workspaces.unwrap_or(false),
            include_workspace_root: o.include_workspace_root.unwrap_or(false),
            packages: o.packages.unwrap_or_default(),
        }
    }
}

fn to_call(
    env: &Env,
    o: Option<Options>,
    progress: Option<ProgressFn>,
    cancel: Option<&CancelHandle>,
) -> Call {
    let mut options = ops::Options::from(o.unwrap_or_default());
    options.node_version = env
        .get_node_version()
        .ok()
        .map(|v| format!("{}.{}.{}", v.major, v.minor, v.patch));
    let progress = progress.map(|f| {
        let f = Arc::new(f);
        Arc::new(move |e: Event| {
            f.call(
                ProgressEvent {
                    phase: e.phase.as_str().to_string(),
                    done: e.done as u32,
                    total: e.total as u32,
                },
                ThreadsafeFunctionCallMode::NonBlocking,
            );
        }) as ops::Progress
    });
    Call {
        options,
        progress,
        cancel: cancel.map(|c| c.token.clone()).unwrap_or_default(),
    }
}

fn to_result(s: Summary) -> InstallResult {
    InstallResult {
        added: s.added as u32,
        removed: s.removed as u32,
        reused: s.reused as u32,
        downloaded: s.downloaded as u32,
        bytes: s.bytes as f64,
        packages: s.packages as u32,
        up_to_date: s.up_to_date,
        lockfile_written: s.lockfile_written,
        scripts_not_run: s.scripts_not_run,
        scripts_run: s.scripts_run,
        warnings: s.warnings,
        changes: s
            .changes
            .into_iter()
            .map(|c| PackageChange {
                name: c.name,
                location: c.location,
                from: c.from,
                to: c.to,
            })
            .collect(),
        dry_run: s.dry_run,
        timings: Timings {
            resolve_ms: s.timings.resolve_ms,
            fetch_ms: s.timings.fetch_ms,
            link_ms: s.timings.link_ms,
            total_ms: s.timings.total_ms,
        },
    }
}

fn run<F>(env: &Env, fut: F) -> napi::Result<PromiseRaw<'_, InstallResult>>
where
    F: std::future::Future<Output = crate::Result<Summary>> + Send + 'static,
{
    env.spawn_future_with_callback(async move { Ok(fut.await) }, |env, result| match result {
        Ok(summary) => Ok(to_result(summary)),
        Err(e) => Err(js_error(env, e)),
    })
}

/// The rejection: a JS `Error` whose `code` is the brisk code (set here,
/// not parsed from the message) and whose `cause` is the underlying error.
fn js_error(env: &Env, e: crate::Error) -> napi::Error {
    let mut err = napi::Error::new(e.code.as_str(), e.detail());
    if let Some(source) = &e.source {
        err.set_cause(napi::Error::from_reason(source.to_string()));
    }
    napi::Error::from(JsError::from(err).into_unknown(*env))
}

/// Resolve (when needed), write package-lock.json, fetch and link.
#[napi(ts_return_type = "Promise<InstallResult>")]
pub fn install<'e>(
    env: &'e Env,
    options: Option<Options>,
    #[napi(ts_arg_type = "((event: ProgressEvent) => void) | undefined | null")]
    on_progress: Option<ProgressFn>,
    cancel: Option<&CancelHandle>,
) -> napi::Result<PromiseRaw<'e, InstallResult>> {
    run(
        env,
        ops::install(to_call(env, options, on_progress, cancel)),
    )
}

/// Make sure every package of the lockfile is in the cache.
#[napi(ts_return_type = "Promise<InstallResult>")]
pub fn prefetch<'e>(
    env: &'e Env,
    options: Option<Options>,
    #[napi(ts_arg_type = "((event: ProgressEvent) => void) | undefined | null")]
    on_progress: Option<ProgressFn>,
    cancel: Option<&CancelHandle>,
) -> napi::Result<PromiseRaw<'e, InstallResult>> {
    run(
        env,
        ops::prefetch(to_call(env, options, on_progress, cancel)),
    )
}

/// Materialize node_modules from the lockfile and the cache, offline.
#[napi(ts_return_type = "Promise<InstallResult>")]
pub fn link<'e>(
    env: &'e Env,
    options: Option<Options>,
    #[napi(ts_arg_type = "((event: ProgressEvent) => void) | undefined | null")]
    on_progress: Option<ProgressFn>,
    cancel: Option<&CancelHandle>,
) -> napi::Result<PromiseRaw<'e, InstallResult>> {
    run(env, ops::link(to_call(env, options, on_progress, cancel)))
}

/// What `ls`, `outdated` and `why` look at: the packages named, `all`,
/// `depth`.
fn query(o: &Option<Options>) -> ops::Query {
    let o = o.as_ref();
    ops::Query {
        packages: o.and_then(|o| o.packages.clone()).unwrap_or_default(),
        all: o.and_then(|o| o.all).unwrap_or(false),
        depth: o.and_then(|o| o.depth).map(|d| d.max(0.0) as usize),
    }
}

/// Runs a read-only operation whose answer is plain data.
fn run_data<T, F>(env: &Env, fut: F) -> napi::Result<PromiseRaw<'_, serde_json::Value>>
where
    T: serde::Serialize + Send + 'static,
    F: std::future::Future<Output = crate::Result<T>> + Send + 'static,
{
    env.spawn_future_with_callback(async move { Ok(fut.await) }, |env, result| match result {
        Ok(v) => serde_json::to_value(v).map_err(|e| napi::Error::from_reason(e.to_string())),
        Err(e) => Err(js_error(env, e)),
    })
}

/// npm ls over node_modules: the tree, its problems, the folders.
#[napi(ts_return_type = "Promise<object>")]
pub fn ls<'e>(
    env: &'e Env,
    options: Option<Options>,
    cancel: Option<&CancelHandle>,
) -> napi::Result<PromiseRaw<'e, serde_json::Value>> {
    let q = query(&options);
    run_data(env, ops::ls(to_call(env, options, None, cancel), q))
}

/// npm explain: why each matching package is installed.
#[napi(ts_return_type = "Promise<Array<object>>")]
pub fn explain<'e>(
    env: &'e Env,
    options: Option<Options>,
    cancel: Option<&CancelHandle>,
) -> napi::Result<PromiseRaw<'e, serde_json::Value>> {
    let q = query(&options);
    run_data(
        env,
        ops::explain(to_call(env, options, None, cancel), q.packages),
    )
}

/// npm outdated: dependencies with a newer wanted or latest version.
#[napi(ts_return_type = "Promise<Array<object>>")]
pub fn outdated<'e>(
    env: &'e Env,
    options: Option<Options>,
    cancel: Option<&CancelHandle>,
) -> napi::Result<PromiseRaw<'e, serde_json::Value>> {
    let q = query(&options);
    run_data(env, ops::outdated(to_call(env, options, None, cancel), q))
}

/// npm update: an install that picks the named packages (or all) afresh.
#[napi(ts_return_type = "Promise<InstallResult>")]
pub fn update<'e>(
    env: &'e Env,
    options: Option<Options>,
    #[napi(ts_arg_type = "((event: ProgressEvent) => void) | undefined | null")]
    on_progress: Option<ProgressFn>,
    cancel: Option<&CancelHandle>,
) -> napi::Result<PromiseRaw<'e, InstallResult>> {
    let q = query(&options);
    run(
        env,
        ops::update(to_call(env, options, on_progress, cancel), q.packages),
    )
}

fn to_step(s: ops::Step) -> ScriptStep {
    ScriptStep {
        event: s.event,
        command: s.command,
        shown: s.shown,
        dir: s.dir.display().to_string(),
        shell: s.shell,
        env: s.env.into_iter().collect(),
    }
}

/// `brisk run`: the scripts and steps of the project (or its workspaces).
#[napi(ts_return_type = "Promise<RunPlan[]>")]
pub fn run_script<'e>(
    env: &'e Env,
    options: Option<Options>,
) -> napi::Result<PromiseRaw<'e, Vec<RunPlan>>> {
    let call = to_call(env, options, None, None);
    let fut = async move { ops::run_script(call) };
    env.spawn_future_with_callback(async move { Ok(fut.await) }, |env, result| match result {
        Ok(plans) => Ok(plans
            .into_iter()
            .map(|p| RunPlan {
                id: p.id,
                dir: p.dir.display().to_string(),
                scripts: p.scripts.into_iter().map(|(k, v)| vec![k, v]).collect(),
                missing: p.missing,
                steps: p.steps.into_iter().map(to_step).collect(),
            })
            .collect()),
        Err(e) => Err(js_error(env, e)),
    })
}

/// `brisk exec`: the step running the command, after installing its
/// package into the cache when the project does not have it.
#[napi(ts_return_type = "Promise<ExecPlan>")]
pub fn exec<'e>(
    env: &'e Env,
    options: Option<Options>,
    #[napi(ts_arg_type = "((event: ProgressEvent) => void) | undefined | null")]
    on_progress: Option<ProgressFn>,
    cancel: Option<&CancelHandle>,
) -> napi::Result<PromiseRaw<'e, ExecPlan>> {
    let call = to_call(env, options, on_progress, cancel);
    env.spawn_future_with_callback(async move { Ok(ops::exec(call).await) }, |env, result| {
        match result {
            Ok((step, packages)) => Ok(ExecPlan {
                step: to_step(step),
                packages,
            }),
            Err(e) => Err(js_error(env, e)),
        }
    })
}

/// `brisk rebuild`: run installed packages' install scripts again.
#[napi(ts_return_type = "Promise<InstallResult>")]
pub fn rebuild<'e>(
    env: &'e Env,
    options: Option<Options>,
    #[napi(ts_arg_type = "((event: ProgressEvent) => void) | undefined | null")]
    on_progress: Option<ProgressFn>,
    cancel: Option<&CancelHandle>,
) -> napi::Result<PromiseRaw<'e, InstallResult>> {
    run(
        env,
        ops::rebuild(to_call(env, options, on_progress, cancel)),
    )
}
