//! What every operation sets up first: configuration, the project, the
//! cache and the HTTP clients.

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::Config;
use crate::error::Result;
use crate::fetch::{FetchOptions, Fetcher, Tarball};
use crate::lockfile::{self, Lockfile};
use crate::project::Project;
use crate::registry::{Http, RegistryClient};
use crate::store::Store;
use crate::tree::{EdgeOptions, Overrides, Package};

use super::background::Background;
use super::git_prepare::{self, Installer};
use super::Call;

pub struct Context {
    pub cwd: PathBuf,
    pub config: Arc<Config>,
    pub project: Project,
    /// package.json `overrides` of `project`.
    pub overrides: Arc<Overrides>,
    /// The project's workspaces (name, folder).
    pub workspaces: Arc<Vec<(String, String)>>,
    /// Workspace package.json files edited in memory (`brisk add -w`).
    pub folders: crate::tree::Folders,
    pub fetcher: Fetcher,
    /// Prefetches and early downloads; stopped before the operation returns.
    pub background: Background,
    http: Http,
    prefer_offline: bool,
    prefer_online: bool,
    offline: bool,
    registry: std::sync::OnceLock<RegistryClient>,
}

impl Context {
    /// Configuration alone (cheap: the up-to-date check needs only this).
    pub fn config(call: &Call) -> Result<Config> {
        let o = &call.options;
        Config::load(&o.cwd, &o.config, &o.env)
    }

    /// `install` prepares git dependencies that need it (see
    /// [`git_prepare`]); None leaves them as committed.
    fn load(call: &Call, config: Config, install: Option<Installer>) -> Result<Context> {
        let o = &call.options;
        let config = Arc::new(config);
        // `brisk add` in a folder without a package.json starts one, as npm
        // does (written once the install succeeds).
        let project = match Project::load(&o.cwd) {
            Err(_) if !o.add.is_empty() && !o.cwd.join("package.json").exists() => {
                Project::parse(&o.cwd, "{}")?
            }
            loaded => loaded?,
        };
        project.check_specs()?;
        let overrides = Overrides::of_project(&project)?;
        let workspaces = project
            .workspaces()?
            .into_iter()
            .map(|w| (w.name, w.path))
            .collect();
        let store = Arc::new(Store::open(&config.cache_dir)?.with_limits(config.tarball_limits));
        let http = Http::lazy(config.clone());
        let auth_config = config.clone();
        let background = Background::new(call.cancel.child());
        let fetcher = Fetcher::new(
            store,
            http.clone(),
            FetchOptions {
                cancel: background.cancel.clone(),
                policy: config.net.fetch,
                auth: Some(Arc::new(move |t: &Tarball| {
                    auth_config.tarball_auth_header(&t.url, &t.name)
                })),
                git_prepare: install.and_then(|install| {
                    let policy = crate::scripts::Policy::new(
                        &project,
                        config.ignore_scripts,
                        config.allow_scripts,
                    );
                    git_prepare::hook(call, policy, install)
                }),
                ..Default::default()
            },
        );
        Ok(Context {
            cwd: o.cwd.clone(),
            config,
            project,
            overrides,
            workspaces: Arc::new(workspaces),
            folders: Default::default(),
            fetcher,
            background,
            http,
            prefer_offline: o.prefer_offline,
            prefer_online: o.prefer_online,
            offline: o.offline,
            registry: Default::default(),
        })
    }

    /// Set up, run `op`, then stop and wait for background work whatever
    /// the outcome, so nothing touches the cache after the caller returns.
    pub async fn scoped<T>(
        call: &Call,
        config: Config,
        install: Option<Installer>,
        op: impl AsyncFnOnce(&mut Context) -> Result<T>,
    ) -> Result<T> {
        let mut ctx = Context::load(call, config, install)?;
        let result = op(&mut ctx).await;
        ctx.background.finish().await;
        result
    }

    /// The operation's registry client (one, so a packument is fetched once
    /// whoever asks), offline or preferring the cache as asked.
    pub fn registry(&self) -> RegistryClient {
        self.registry
            .get_or_init(|| {
                let client = RegistryClient::new(
                    self.config.clone(),
                    self.http.clone(),
                    &self.config.cache_dir,
                );
                client.set_prefer_offline(self.prefer_offline);
                client.set_prefer_online(self.prefer_online);
                client.set_offline(self.offline);
                client
            })
            .clone()
    }

    pub fn edge_options(&self) -> EdgeOptions {
        EdgeOptions {
            legacy_peer_deps: self.config.legacy_peer_deps,
            prefer_dedupe: self.config.prefer_dedupe,
            overrides: self.overrides.clone(),
            root_dir: Arc::new(self.cwd.clone()),
            workspaces: self.workspaces.clone(),
            specs: Default::default(),
            folders: self.folders.clone(),
        }
    }

    pub fn lock_path(&self) -> PathBuf {
        self.cwd.join(lockfile::FILE)
    }

    /// package-lock.json (None when there is none, or `package-lock=false`).
    pub fn read_lockfile(&self) -> Result<Option<Lockfile>> {
        if !self.config.package_lock {
            return Ok(None);
        }
        Lockfile::read(&self.lock_path())
    }

    /// Who may run install scripts in this operation.
    pub fn script_policy(&self) -> crate::scripts::Policy {
        crate::scripts::Policy::new(
            &self.project,
            self.config.ignore_scripts,
            self.config.allow_scripts,
        )
    }

    /// How scripts run in this operation.
    pub fn script_runner(&self, call: &Call) -> crate::scripts::Runner {
        crate::scripts::Runner::new(
            &self.config,
            &call.options.env,
            call.options.node_path.clone(),
            call.cancel.clone(),
        )
    }

    pub fn root_package(&self) -> Package {
        Package::from_project(&self.project)
    }

    /// The download for a package.
    pub fn tarball(&self, p: &Package) -> Tarball {
        Tarball::of_package(p, &self.cwd, self.config.registry_for(&p.name))
    }

    /// The package.json of the linked folder `path` (relative to the
    /// project): as edited in memory, else as on disk.
    pub fn folder_project(&self, path: &str) -> Result<Project> {
        match self.folders.get(path) {
            Some(p) => Ok(p.clone()),
            None => Project::load(&self.cwd.join(path)),
        }
    }

    /// Makes `project` (package.json as edited in memory) the one to resolve.
    pub fn set_project(&mut self, project: Project) -> Result<()> {
        self.overrides = Overrides::of_project(&project)?;
        self.project = project;
        Ok(())
    }
}
