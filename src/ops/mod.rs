//! Orchestration: which stages run, in what order, for `install`,
//! `prefetch` and `link`. No stage logic lives here.
//!
//! - `install`, `prefetch`, `link_offline`: the three install operations;
//!   `update` is an install that re-resolves named packages.
//! - `ls`, `explain` (`why`), `outdated`: read-only views of the tree on
//!   disk (`actual`).
//! - `run_script` (the steps of `brisk run`), `exec` (a bin, installed into
//!   the cache when the project lacks it) and `rebuild` (install scripts of
//!   installed packages) serve the npm commands around them.
//! - `context`: what each sets up (config, project, cache, clients);
//!   `ideal`: the tree to install; `add`: package.json edits.
//! - `plan` decides what changes in node_modules (no I/O); `reify` carries
//!   it out with `early_link` (cloning while downloads run) and
//!   `lifecycle` (scripts); `installed` reads and records what is there;
//!   `uptodate` answers "nothing changed" from a few `stat`s.
//! - `lookahead` (the registry as the resolver's source), `background`,
//!   `git_prepare`, `provenance`, `aside` (`ci`'s old node_modules) and
//!   `task` (blocking work) serve them.

mod actual;
mod add;
mod aside;
mod background;
mod context;
mod early_link;
mod engines;
mod exec;
mod explain;
mod git_prepare;
mod ideal;
mod install;
mod installed;
mod lifecycle;
mod link_offline;
mod lookahead;
mod ls;
mod outdated;
pub mod plan;
mod prefetch;
mod provenance;
mod rebuild;
mod reify;
mod reify_linked;
mod run_script;
mod scope;
mod task;
mod update;
mod uptodate;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

pub use exec::exec;
pub use explain::explain;
pub use install::install;
pub use link_offline::link;
pub use ls::{ls, Item, Listing, Query};
pub use outdated::{outdated, Outdated};
pub use prefetch::prefetch;
pub use rebuild::rebuild;
pub use run_script::{run_script, RunPlan, Step};
pub use update::update;

use crate::cancel::CancelToken;
use crate::config::ConfigOverrides;

/// Options shared by the three operations (the JS API's option object).
/// Settings `.npmrc` can also give are in `config`, each `None` unless the
/// caller set it, so that `false` overrides `.npmrc` as `true` does.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub cwd: PathBuf,
    /// Registry, cache, scripts, peers, omit, save and release-age
    /// settings, over `.npmrc`.
    pub config: ConfigOverrides,
    pub lockfile_only: bool,
    pub frozen_lockfile: bool,
    /// The Node.js executable scripts see as `NODE` / `npm_node_execpath`.
    pub node_path: Option<PathBuf>,
    pub prefer_offline: bool,
    /// npm's `--prefer-online`: revalidate metadata even while fresh.
    pub prefer_online: bool,
    /// npm's `--offline`: cached metadata and packages only; anything
    /// missing from the cache fails with `E_NOT_CACHED`.
    pub offline: bool,
    /// npm's `--dry-run`: work out what would change and change nothing.
    pub dry_run: bool,
    /// `brisk ci`: install into an empty node_modules (the old one is set
    /// aside, and put back if the install fails).
    pub clean: bool,
    /// The running Node.js version (for `engines.node` when picking).
    pub node_version: Option<String>,
    /// `--workspace`: limit node_modules changes to these workspaces (names
    /// or folders).
    pub workspaces: Vec<String>,
    /// The environment to read `npm_config_*`, HOME, … from.
    pub env: HashMap<String, String>,
    /// `brisk add <pkg...>`: specs to add to package.json (`name`,
    /// `name@range`, `name@tag`, `alias@npm:name@range`, `name@<git/file/url>`).
    pub add: Vec<String>,
    /// `brisk remove <pkg...>`: names to remove from package.json.
    pub remove: Vec<String>,
    /// Where added packages go: `prod`, `dev`, `optional`, `peer`; `None`
    /// keeps an existing dependency where it is (new ones go to `prod`).
    pub save_type: Option<String>,
    /// `brisk update`: resolve these names again, ignoring the versions
    /// package-lock.json locks for them (empty: every name). None: install.
    pub update: Option<Vec<String>>,
    /// `brisk update --latest`: also move package.json's ranges to the
    /// `latest` versions.
    pub latest: bool,
    /// `brisk run <script>`: the script (None: list the scripts).
    pub script: Option<String>,
    /// `run`: extra arguments for the script; `exec`: the command and its
    /// arguments.
    pub args: Vec<String>,
    /// `--workspaces`: every workspace (`run` in each; `add`/`remove`
    /// edit each one's package.json; `install`/`update` limited to them).
    pub all_workspaces: bool,
    /// `--include-workspace-root`: with `-w`/`--workspaces`, the root
    /// project too.
    pub include_workspace_root: bool,
    /// `exec --package`: the packages to install for the command;
    /// `rebuild`: the installed packages to rebuild (all when empty).
    pub packages: Vec<String>,
}

/// Wall time per stage, in milliseconds.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    pub resolve_ms: f64,
    pub fetch_ms: f64,
    pub link_ms: f64,
    pub total_ms: f64,
}

/// What an operation did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Packages materialized into node_modules.
    pub added: usize,
    /// Package folders removed from node_modules.
    pub removed: usize,
    /// Packages taken from the cache without downloading.
    pub reused: usize,
    pub downloaded: usize,
    pub bytes: u64,
    /// Packages in the installed tree.
    pub packages: usize,
    pub up_to_date: bool,
    pub lockfile_written: bool,
    /// `name@version` of installed packages whose install scripts have not
    /// run (not trusted, or `ignore-scripts`).
    pub scripts_not_run: Vec<String>,
    /// Scripts that ran: `name@version event` for dependencies, `event` for
    /// the project's own.
    pub scripts_run: Vec<String>,
    pub warnings: Vec<String>,
    pub timings: Timings,
    /// Packages added, removed or changed in node_modules, by location
    /// (with `dry_run`: what would be).
    pub changes: Vec<plan::Change>,
    /// Nothing was written (`dry_run`).
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Another install holds this project's lock.
    Wait,
    Resolve,
    Fetch,
    Link,
    /// Install scripts: the dependencies', then the project's own.
    Scripts,
    Done,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Wait => "wait",
            Phase::Resolve => "resolve",
            Phase::Fetch => "fetch",
            Phase::Link => "link",
            Phase::Scripts => "scripts",
            Phase::Done => "done",
        }
    }
}

/// A progress report: `done` of `total` units in `phase`.
#[derive(Debug, Clone, Copy)]
pub struct Event {
    pub phase: Phase,
    pub done: usize,
    pub total: usize,
}

/// Where progress events go (a terminal bar, a JS callback, nowhere).
pub type Progress = Arc<dyn Fn(Event) + Send + Sync>;

/// Everything an operation gets from its caller.
#[derive(Clone)]
pub struct Call {
    pub options: Options,
    pub progress: Option<Progress>,
    pub cancel: CancelToken,
}

impl Call {
    pub fn new(options: Options) -> Call {
        Call {
            options,
            progress: None,
            cancel: CancelToken::new(),
        }
    }

    /// From inside a workspace folder, act on the workspace root, as npm
    /// does.
    fn at_workspace_root(mut self) -> Call {
        if let Some(root) = crate::project::workspace_root(&self.options.cwd) {
            self.options.cwd = root;
        }
        self
    }

    /// [`Call::at_workspace_root`], and from inside a workspace folder
    /// with no workspace flag, as if `-w <that folder>` were given (npm:
    /// `npm install x` there saves to that workspace's package.json).
    fn in_workspace(self) -> Call {
        let dir = self.options.cwd.clone();
        let mut call = self.at_workspace_root();
        let o = &mut call.options;
        if o.cwd != dir && o.workspaces.is_empty() && !o.all_workspaces {
            if let Ok(rel) = dir.strip_prefix(&o.cwd) {
                o.workspaces.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
        call
    }

    /// This project's write lock, waited for (reporting [`Phase::Wait`]).
    async fn lock_project(&self) -> crate::Result<crate::project::ProjectLock> {
        crate::project::ProjectLock::acquire(&self.options.cwd, &self.cancel, || {
            self.report(Phase::Wait, 0, 0)
        })
        .await
    }

    fn report(&self, phase: Phase, done: usize, total: usize) {
        if let Some(p) = &self.progress {
            p(Event { phase, done, total });
        }
    }
}
