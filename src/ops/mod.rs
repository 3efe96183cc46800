//! Orchestration: which stages run, in what order, for `install`,
//! `prefetch` and `link`. No stage logic lives here.

mod background;
mod context;
mod install;
mod link;
mod prefetch;
mod reify;
mod state;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

pub use install::install;
pub use link::link;
pub use prefetch::prefetch;

use crate::cancel::CancelToken;

/// Options shared by the three operations (the JS API's option object).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub cwd: PathBuf,
    pub registry: Option<String>,
    pub cache_dir: Option<PathBuf>,
    pub lockfile_only: bool,
    pub frozen_lockfile: bool,
    /// `dev`, `optional`, `peer`.
    pub omit: Option<Vec<String>>,
    pub ignore_scripts: bool,
    pub legacy_peer_deps: Option<bool>,
    pub strict_peer_deps: Option<bool>,
    /// npm's `--force`: peer dependency conflicts only warn.
    pub force: Option<bool>,
    pub prefer_offline: bool,
    /// `brisk ci`: remove node_modules first.
    pub clean: bool,
    /// The running Node.js version (for `engines.node` when picking).
    pub node_version: Option<String>,
    /// The environment to read `npm_config_*`, HOME, … from.
    pub env: HashMap<String, String>,
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
    /// `name@version` of packages whose install scripts were not run.
    pub scripts_not_run: Vec<String>,
    pub warnings: Vec<String>,
    pub timings: Timings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Resolve,
    Fetch,
    Link,
    Done,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Resolve => "resolve",
            Phase::Fetch => "fetch",
            Phase::Link => "link",
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

    fn report(&self, phase: Phase, done: usize, total: usize) {
        if let Some(p) = &self.progress {
            p(Event { phase, done, total });
        }
    }
}
