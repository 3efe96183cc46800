//! Options layered over `.npmrc` files and `npm_config_*` environment
//! variables, read the way npm reads them.
//!
//! Precedence, high to low: [`ConfigOverrides`] (CLI flags / JS options),
//! `npm_config_*` env, `<project>/.npmrc`, the user config
//! (`npm_config_userconfig` or `$HOME/.npmrc`), the global config (only when
//! `npm_config_globalconfig` names it), defaults. The environment is passed in
//! as a map so that tests and two in-process calls with different options
//! never see each other's settings.

mod before;
mod ini;
mod net;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::error::{Code, Error, Result};
use ini::IniValue;
pub use net::{redact_credentials, FetchPolicy, NetConfig};

/// The default registry (npm's).
pub const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org/";

/// The dependency types `omit` accepts.
const OMIT_TYPES: [&str; 3] = ["dev", "optional", "peer"];

/// Explicit options (CLI flags, JS options); `None` means "not given".
#[derive(Debug, Clone, Default)]
pub struct ConfigOverrides {
    pub registry: Option<String>,
    pub cache_dir: Option<PathBuf>,
    pub legacy_peer_deps: Option<bool>,
    pub strict_peer_deps: Option<bool>,
    pub force: Option<bool>,
    pub omit: Option<Vec<String>>,
    pub ignore_scripts: Option<bool>,
    pub omit_lockfile_registry_resolved: Option<bool>,
    /// `--save-exact`.
    pub save_exact: Option<bool>,
    /// `--no-save` (false).
    pub save: Option<bool>,
    /// `--allow-scripts`: run every dependency's install scripts.
    pub allow_scripts: Option<bool>,
    /// `--foreground-scripts`: scripts print straight to the terminal.
    pub foreground_scripts: Option<bool>,
    /// `--before <date>`: pick no version published after it.
    pub before: Option<String>,
    /// `--min-release-age <days>`: pick no version younger than this.
    pub min_release_age: Option<f64>,
    /// `--no-package-lock` (false): neither read nor write package-lock.json.
    pub package_lock: Option<bool>,
    /// `--engine-strict`: a package whose `engines.node` excludes the
    /// running Node.js fails the install instead of warning.
    pub engine_strict: Option<bool>,
    /// `--install-strategy=hoisted|linked`.
    pub install_strategy: Option<String>,
    /// `--global-virtual-store` (brisk's extension, with `linked`).
    pub global_virtual_store: Option<bool>,
}

/// npm's `install-strategy`: how node_modules is laid out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InstallStrategy {
    /// npm's default: packages hoisted as high as they can go.
    #[default]
    Hoisted,
    /// Each package in `node_modules/.store/<name>@<version>-<hash>`, its
    /// dependencies symlinked beside it; the project's direct dependencies
    /// symlinked at the top.
    Linked,
}

/// The effective configuration of one operation.
#[derive(Clone)]
pub struct Config {
    /// The default registry, normalized to end with `/`.
    pub registry: String,
    /// `"@scope"` → registry URL (ending with `/`).
    pub scoped_registries: HashMap<String, String>,
    /// brisk's cache root (packuments, package store).
    pub cache_dir: PathBuf,
    /// `verify-store-integrity` (pnpm's name; default `true`): check each
    /// cached file against its stamp before linking it.
    pub verify_store_integrity: bool,
    /// How far a tarball may inflate (`brisk-max-unpacked-size`,
    /// `brisk-max-compression-ratio`).
    pub tarball_limits: crate::store::Limits,
    pub legacy_peer_deps: bool,
    /// npm's `prefer-dedupe`: an older version that serves every dependent
    /// replaces the newer one instead of nesting a second copy.
    pub prefer_dedupe: bool,
    pub strict_peer_deps: bool,
    /// npm's `force`: peer dependency conflicts warn instead of failing.
    pub force: bool,
    /// Dependency types to leave out: a subset of `dev`, `optional`, `peer`.
    pub omit: Vec<String>,
    pub ignore_scripts: bool,
    pub omit_lockfile_registry_resolved: bool,
    /// `save`: false means add/remove leave package.json and the lockfile alone.
    pub save: bool,
    /// `save-exact`: save `1.2.3` instead of `^1.2.3`.
    pub save_exact: bool,
    /// `save-prefix` (default `^`).
    pub save_prefix: String,
    /// `allow-scripts`: run every dependency's install scripts, trusted or not.
    pub allow_scripts: bool,
    /// `foreground-scripts`: script output goes straight to the terminal.
    pub foreground_scripts: bool,
    /// `script-shell`: the shell scripts run with (`sh` when unset).
    pub script_shell: Option<String>,
    /// `brisk/<version> [node/<version>] <platform> <arch>`; the binding may
    /// replace it (it knows `process.version`).
    pub user_agent: String,
    /// TLS (`strict-ssl`, `ca`, `cafile`) and proxy (`https-proxy`, `proxy`,
    /// `noproxy`) settings; [`NetConfig::apply`] puts them on an HTTP client.
    pub net: NetConfig,
    /// `engine-strict` (default `false`): refuse packages whose `engines`
    /// do not match the running Node.js.
    pub engine_strict: bool,
    /// npm's `package-lock` (default `true`): `false` neither reads nor
    /// writes package-lock.json.
    pub package_lock: bool,
    /// `before` / `min-release-age` (the earlier when both are set), in
    /// milliseconds since the epoch: versions published later are not
    /// picked for a range or tag.
    pub before: Option<i64>,
    /// `install-strategy` (`hoisted` by default, or `linked`).
    pub install_strategy: InstallStrategy,
    /// `global-virtual-store` (brisk's extension; default `false`): with
    /// the linked strategy, package folders are built once per machine in
    /// the cache and the project's `.store` entries link to them.
    pub global_virtual_store: bool,
    /// Nerf-darted prefix (`//host[:port]/path/`) → `Authorization` value.
    auth: BTreeMap<String, String>,
}

/// A value together with where it was set (for error messages).
#[derive(Debug, Clone)]
struct Setting {
    value: IniValue,
    source: String,
    /// Higher layers win: 1 global, 2 user, 3 project, 4 env, 5 options.
    layer: u8,
}

impl Config {
    /// Loads the configuration for a project. `env` is the process
    /// environment as a map (the binding passes `std::env::vars()`).
    pub fn load(
        project_dir: &Path,
        overrides: &ConfigOverrides,
        env: &HashMap<String, String>,
    ) -> Result<Config> {
        let mut merged: HashMap<String, Setting> = HashMap::new();

        // Lowest first: each layer overwrites the keys it sets.
        if let Some(global) = env_get(env, "npm_config_globalconfig") {
            let path = expand_path(&global, project_dir, env);
            read_layer(&path, 1, env, &mut merged)?;
        }
        let user = match env_get(env, "npm_config_userconfig") {
            Some(p) => Some(expand_path(&p, project_dir, env)),
            None => home(env).map(|h| h.join(".npmrc")),
        };
        let project_rc = project_dir.join(".npmrc");
        if let Some(user) = user {
            // npm skips the user config when it is the project config.
            if user != project_rc {
                read_layer(&user, 2, env, &mut merged)?;
            }
        }
        read_layer(&project_rc, 3, env, &mut merged)?;
        env_layer(env, &mut merged);
        override_layer(overrides, &mut merged);

        let registry = match merged.get("registry") {
            Some(s) => normalize_registry(&item_string(&s.value), &s.source)?,
            None => DEFAULT_REGISTRY.to_string(),
        };

        let mut scoped_registries = HashMap::new();
        for (key, s) in &merged {
            if let Some(scope) = key.strip_suffix(":registry") {
                if scope.starts_with('@') && scope.len() > 1 && !scope.contains('/') {
                    let url = normalize_registry(&item_string(&s.value), &s.source)?;
                    scoped_registries.insert(scope.to_string(), url);
                }
            }
        }

        let flag = |key: &str| merged.get(key).map(|s| to_bool(&s.value));
        let omit = build_omit(&merged, env)?;
        let cache_dir = resolve_cache_dir(project_dir, overrides, &merged, env);
        let auth = build_auth(&merged, &registry);
        let net = NetConfig::load(&merged, env, project_dir)?;
        let defaults = crate::store::Limits::default();
        let tarball_limits = crate::store::Limits {
            max_unpacked: size_setting(&merged, "brisk-max-unpacked-size")?
                .unwrap_or(defaults.max_unpacked),
            max_ratio: size_setting(&merged, "brisk-max-compression-ratio")?
                .unwrap_or(defaults.max_ratio),
        };
        Ok(Config {
            registry,
            scoped_registries,
            cache_dir,
            tarball_limits,
            verify_store_integrity: flag("verify-store-integrity").unwrap_or(true),
            legacy_peer_deps: flag("legacy-peer-deps").unwrap_or(false),
            prefer_dedupe: flag("prefer-dedupe").unwrap_or(false),
            strict_peer_deps: flag("strict-peer-deps").unwrap_or(false),
            force: flag("force").unwrap_or(false),
            omit,
            ignore_scripts: flag("ignore-scripts").unwrap_or(false),
            omit_lockfile_registry_resolved: flag("omit-lockfile-registry-resolved")
                .unwrap_or(false),
            save: flag("save").unwrap_or(true),
            save_exact: flag("save-exact").unwrap_or(false),
            save_prefix: merged
                .get("save-prefix")
                .map_or_else(|| "^".to_string(), |s| item_string(&s.value)),
            allow_scripts: flag("allow-scripts").unwrap_or(false),
            foreground_scripts: flag("foreground-scripts").unwrap_or(false),
            script_shell: merged
                .get("script-shell")
                .map(|s| item_string(&s.value).trim().to_string())
                .filter(|s| !s.is_empty()),
            user_agent: user_agent(env),
            auth,
            net,
            engine_strict: flag("engine-strict").unwrap_or(false),
            package_lock: flag("package-lock").unwrap_or(true),
            before: before::load(&merged, crate::date::now_ms())?,
            install_strategy: install_strategy(&merged)?,
            global_virtual_store: flag("global-virtual-store").unwrap_or(false),
        })
    }

    /// The registry (ending with `/`) a package is fetched from: its scope's
    /// registry if configured, else the default registry.
    pub fn registry_for(&self, package_name: &str) -> &str {
        if let Some(rest) = package_name.strip_prefix('@') {
            if let Some(slash) = rest.find('/') {
                let scope = &package_name[..slash + 1];
                if let Some(url) = self.scoped_registries.get(scope) {
                    return url;
                }
            }
        }
        &self.registry
    }

    /// The `Authorization` header value for a request to `url`, if one is
    /// configured for it. Like npm-registry-fetch, this walks up from
    /// `//host[:port]/full/path` one segment at a time and uses the first
    /// (longest) configured prefix, so credentials only ever go to the host
    /// (and path) they were configured for.
    pub fn auth_header(&self, url: &str) -> Option<String> {
        if self.auth.is_empty() {
            return None;
        }
        let mut key = nerf_url(url)?;
        while key.len() > 2 {
            if let Some(h) = self.auth.get(&key) {
                return Some(h.clone());
            }
            if key.ends_with('/') {
                key.pop();
            } else {
                let cut = key.rfind('/').map_or(0, |i| i + 1);
                key.truncate(cut);
            }
        }
        None
    }

    /// The `Authorization` header for a tarball of `package_name`: the
    /// credentials configured for `url` itself, else (npm-registry-fetch's
    /// rule) those of the package's registry when the tarball is on the
    /// same host and port as that registry. A tarball on any other host
    /// gets none.
    pub fn tarball_auth_header(&self, url: &str, package_name: &str) -> Option<String> {
        if let Some(h) = self.auth_header(url) {
            return Some(h);
        }
        let registry = self.registry_for(package_name);
        let host =
            |u: &str| nerf_url(u).map(|n| n[2..].split('/').next().unwrap_or("").to_string());
        match (host(url), host(registry)) {
            (Some(a), Some(b)) if a == b => self.auth_header(registry),
            _ => None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth: BTreeMap<&str, &str> = self
            .auth
            .keys()
            .map(|k| (k.as_str(), "<redacted>"))
            .collect();
        // Registry URLs may carry `user:password@`.
        let scoped: BTreeMap<&str, String> = self
            .scoped_registries
            .iter()
            .map(|(k, v)| (k.as_str(), redact_credentials(v)))
            .collect();
        f.debug_struct("Config")
            .field("registry", &redact_credentials(&self.registry))
            .field("scoped_registries", &scoped)
            .field("cache_dir", &self.cache_dir)
            .field("legacy_peer_deps", &self.legacy_peer_deps)
            .field("prefer_dedupe", &self.prefer_dedupe)
            .field("strict_peer_deps", &self.strict_peer_deps)
            .field("force", &self.force)
            .field("omit", &self.omit)
            .field("ignore_scripts", &self.ignore_scripts)
            .field(
                "omit_lockfile_registry_resolved",
                &self.omit_lockfile_registry_resolved,
            )
            .field("save", &self.save)
            .field("save_exact", &self.save_exact)
            .field("save_prefix", &self.save_prefix)
            .field("allow_scripts", &self.allow_scripts)
            .field("foreground_scripts", &self.foreground_scripts)
            .field("script_shell", &self.script_shell)
            .field("user_agent", &self.user_agent)
            .field("auth", &auth)
            .field("net", &self.net)
            .field("engine_strict", &self.engine_strict)
            .field("tarball_limits", &self.tarball_limits)
            .field("verify_store_integrity", &self.verify_store_integrity)
            .field("before", &self.before.map(crate::date::format_iso))
            .field("install_strategy", &self.install_strategy)
            .field("global_virtual_store", &self.global_virtual_store)
            .finish()
    }
}

/// Case-insensitive env lookup; empty values count as unset (as in npm).
fn env_get(env: &HashMap<String, String>, key: &str) -> Option<String> {
    if let Some(v) = env.get(key) {
        return (!v.is_empty()).then(|| v.clone());
    }
    env.iter()
        .find(|(k, v)| k.eq_ignore_ascii_case(key) && !v.is_empty())
        .map(|(_, v)| v.clone())
}

fn home(env: &HashMap<String, String>) -> Option<PathBuf> {
    env.get("HOME")
        .or_else(|| env.get("USERPROFILE"))
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// `~/x` → `$HOME/x`; relative paths are taken relative to the project.
fn expand_path(p: &str, project_dir: &Path, env: &HashMap<String, String>) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/").or_else(|| p.strip_prefix("~\\")) {
        if let Some(h) = home(env) {
            return h.join(rest);
        }
    }
    let path = PathBuf::from(p);
    if path.is_absolute() {
        path
    } else {
        project_dir.join(path)
    }
}

/// Reads one `.npmrc` into `merged` (missing files are skipped).
fn read_layer(
    path: &Path,
    layer: u8,
    env: &HashMap<String, String>,
    merged: &mut HashMap<String, Setting>,
) -> Result<()> {
    let text = match crate::bounded::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => return Ok(()),
        Err(e) => {
            return Err(Error::new(
                Code::Config,
                format!("cannot read config file {}: {e}", path.display()),
            ))
        }
    };
    let source = path.display().to_string();
    for (key, value) in ini::decode(&text) {
        let key = ini::env_replace(&key, env);
        let value = match value {
            IniValue::Str(s) => IniValue::Str(ini::env_replace(&s, env)),
            IniValue::List(l) => {
                IniValue::List(l.iter().map(|s| ini::env_replace(s, env)).collect())
            }
            v => v,
        };
        merged.insert(
            key,
            Setting {
                value,
                source: source.clone(),
                layer,
            },
        );
    }
    Ok(())
}

/// `npm_config_foo_bar=x` → `foo-bar = x` (npm's `loadEnv`).
fn env_layer(env: &HashMap<String, String>, merged: &mut HashMap<String, Setting>) {
    // Sort so that `NPM_CONFIG_X` vs `npm_config_x` resolves deterministically.
    let mut entries: Vec<(&String, &String)> = env.iter().collect();
    entries.sort();
    for (k, v) in entries {
        if k.len() <= 11 || !k[..11].eq_ignore_ascii_case("npm_config_") || v.is_empty() {
            continue;
        }
        let rest = &k[11..];
        let key = if rest.starts_with("//") {
            rest.to_string() // nerf-darted keys are kept verbatim
        } else {
            let mut key: String = rest
                .char_indices()
                .map(|(i, c)| if c == '_' && i > 0 { '-' } else { c })
                .collect();
            key.make_ascii_lowercase();
            key
        };
        merged.insert(
            key,
            Setting {
                value: IniValue::Str(ini::env_replace(v, env)),
                source: format!("environment variable {k}"),
                layer: 4,
            },
        );
    }
}

fn override_layer(o: &ConfigOverrides, merged: &mut HashMap<String, Setting>) {
    let mut set = |key: &str, value: IniValue| {
        let source = "options".to_string();
        let setting = Setting {
            value,
            source,
            layer: 5,
        };
        merged.insert(key.to_string(), setting);
    };
    if let Some(r) = &o.registry {
        set("registry", IniValue::Str(r.clone()));
    }
    let flags = [
        ("legacy-peer-deps", o.legacy_peer_deps),
        ("strict-peer-deps", o.strict_peer_deps),
        ("force", o.force),
        ("ignore-scripts", o.ignore_scripts),
        ("allow-scripts", o.allow_scripts),
        ("foreground-scripts", o.foreground_scripts),
        (
            "omit-lockfile-registry-resolved",
            o.omit_lockfile_registry_resolved,
        ),
        ("save-exact", o.save_exact),
        ("save", o.save),
        ("package-lock", o.package_lock),
        ("engine-strict", o.engine_strict),
        ("global-virtual-store", o.global_virtual_store),
    ];
    for (key, v) in flags {
        if let Some(b) = v {
            set(key, IniValue::Bool(b));
        }
    }
    if let Some(omit) = &o.omit {
        set("omit", IniValue::List(omit.clone()));
    }
    if let Some(strategy) = &o.install_strategy {
        set("install-strategy", IniValue::Str(strategy.clone()));
    }
    if let Some(before) = &o.before {
        set("before", IniValue::Str(before.clone()));
    }
    if let Some(days) = o.min_release_age {
        set("min-release-age", IniValue::Str(days.to_string()));
    }
}

/// `install-strategy`: `hoisted` or `linked` (npm's `nested` and
/// `shallow` are not implemented).
fn install_strategy(merged: &HashMap<String, Setting>) -> Result<InstallStrategy> {
    let Some(s) = merged.get("install-strategy") else {
        return Ok(InstallStrategy::Hoisted);
    };
    match item_string(&s.value).trim() {
        "" | "hoisted" => Ok(InstallStrategy::Hoisted),
        "linked" => Ok(InstallStrategy::Linked),
        other => Err(Error::new(
            Code::Config,
            format!(
                "install-strategy {other:?} (from {}) is not supported: use \"hoisted\" (the default) or \"linked\"",
                s.source
            ),
        )),
    }
}

/// A value as one string (lists: the last item, like a scalar read of an array).
fn item_string(v: &IniValue) -> String {
    match v {
        IniValue::Str(s) => s.clone(),
        IniValue::Bool(b) => b.to_string(),
        IniValue::Null => String::new(),
        IniValue::List(l) => l.last().cloned().unwrap_or_default(),
    }
}

/// A positive count or size setting (`4g`, `512m`, `100k` or plain bytes,
/// powers of 1024); anything else is `E_CONFIG`.
fn size_setting(merged: &HashMap<String, Setting>, key: &str) -> Result<Option<u64>> {
    let Some(s) = merged.get(key) else {
        return Ok(None);
    };
    let text = item_string(&s.value).trim().to_ascii_lowercase();
    let (digits, unit) = match text.char_indices().last() {
        Some((i, 'k')) => (&text[..i], 1u64 << 10),
        Some((i, 'm')) => (&text[..i], 1 << 20),
        Some((i, 'g')) => (&text[..i], 1 << 30),
        _ => (&text[..], 1),
    };
    match digits
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
    {
        Some(n) if n > 0 => Ok(Some(n)),
        _ => Err(Error::new(
            Code::Config,
            format!(
                "{key}={text:?} (in {}) is not a positive number (like 4096, 512m or 4g)",
                s.source
            ),
        )),
    }
}

/// nopt's boolean coercion: numbers → non-zero, `false`/`null` → false,
/// any other string → true.
fn to_bool(v: &IniValue) -> bool {
    let s = match v {
        IniValue::Bool(b) => return *b,
        IniValue::Null => return false,
        IniValue::Str(s) => s.trim().to_string(),
        IniValue::List(l) => l.last().map(|s| s.trim().to_string()).unwrap_or_default(),
    };
    if s.is_empty() {
        return false;
    }
    if let Ok(n) = s.parse::<f64>() {
        return n != 0.0;
    }
    !(s == "false" || s == "null")
}

fn to_list(v: &IniValue) -> Vec<String> {
    let items: Vec<String> = match v {
        IniValue::List(l) => l.clone(),
        IniValue::Str(s) => vec![s.clone()],
        IniValue::Bool(_) | IniValue::Null => Vec::new(),
    };
    items
        .iter()
        .flat_map(|s| s.split([',', ' ', '\t', '\n']))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn normalize_registry(url: &str, source: &str) -> Result<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let has_host = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    if !has_host {
        return Err(Error::new(
            Code::Config,
            format!(
                "invalid registry URL '{url}' (set in {source}): expected an http:// or https:// URL"
            ),
        ));
    }
    let mut url = url.to_string();
    if !url.ends_with('/') {
        url.push('/');
    }
    Ok(url)
}

/// npm's `buildOmitList`: `omit`, minus `include`, plus the legacy
/// `production`/`only`/`also` switches; default `dev` when
/// `NODE_ENV=production`.
fn build_omit(
    merged: &HashMap<String, Setting>,
    env: &HashMap<String, String>,
) -> Result<Vec<String>> {
    let mut omit = match merged.get("omit") {
        Some(s) => {
            let mut out = Vec::new();
            for item in to_list(&s.value) {
                if OMIT_TYPES.contains(&item.as_str()) {
                    out.push(item);
                } else if s.layer == 5 {
                    return Err(Error::new(
                        Code::Config,
                        format!("invalid omit value '{item}': expected dev, optional or peer"),
                    ));
                } // npm warns and ignores invalid values in config files
            }
            out
        }
        None if env.get("NODE_ENV").is_some_and(|v| v == "production") => vec!["dev".into()],
        None => Vec::new(),
    };
    let mut include = merged
        .get("include")
        .map(|s| to_list(&s.value))
        .unwrap_or_default();
    let only = merged.get("only").map(|s| item_string(&s.value));
    let production = merged.get("production").map(|s| to_bool(&s.value));
    if only
        .as_deref()
        .is_some_and(|o| o == "prod" || o == "production")
        || production == Some(true)
    {
        omit.push("dev".into());
    } else if production == Some(false) {
        include.push("dev".into());
    }
    if merged
        .get("also")
        .is_some_and(|s| item_string(&s.value).starts_with("dev"))
    {
        include.push("dev".into());
    }
    if merged.get("dev").is_some_and(|s| to_bool(&s.value)) {
        include.push("dev".into());
    }
    match merged.get("optional").map(|s| to_bool(&s.value)) {
        Some(false) => omit.push("optional".into()),
        Some(true) => include.push("optional".into()),
        None => {}
    }
    let mut out: Vec<String> = Vec::new();
    for t in omit {
        if !include.contains(&t) && !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// Override, `BRISK_CACHE_DIR`, `brisk-cache-dir`/`cache-dir` (env or
/// `.npmrc`), else the platform cache dir + `brisk`.
fn resolve_cache_dir(
    project_dir: &Path,
    overrides: &ConfigOverrides,
    merged: &HashMap<String, Setting>,
    env: &HashMap<String, String>,
) -> PathBuf {
    if let Some(dir) = &overrides.cache_dir {
        return if dir.is_absolute() {
            dir.clone()
        } else {
            project_dir.join(dir)
        };
    }
    if let Some(dir) = env.get("BRISK_CACHE_DIR").filter(|d| !d.is_empty()) {
        return expand_path(dir, project_dir, env);
    }
    // The brisk-specific key wins over the generic one when both are set in
    // the same layer; otherwise the higher layer wins.
    let brisk = merged.get("brisk-cache-dir");
    let generic = merged.get("cache-dir");
    let chosen = match (brisk, generic) {
        (Some(b), Some(g)) if g.layer > b.layer => Some(g),
        (Some(b), _) => Some(b),
        (None, g) => g,
    };
    if let Some(s) = chosen {
        let dir = item_string(&s.value);
        if !dir.is_empty() {
            return expand_path(&dir, project_dir, env);
        }
    }
    default_cache_dir(env)
}

fn default_cache_dir(env: &HashMap<String, String>) -> PathBuf {
    let non_empty = |k: &str| env.get(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if cfg!(target_os = "macos") {
        if let Some(h) = home(env) {
            return h.join("Library/Caches/brisk");
        }
    } else if cfg!(windows) {
        if let Some(d) = non_empty("LOCALAPPDATA") {
            return d.join("brisk");
        }
    } else {
        if let Some(x) = non_empty("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
            return x.join("brisk");
        }
        if let Some(h) = home(env) {
            return h.join(".cache/brisk");
        }
    }
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("brisk")
}

/// `//host[:port]/path/:field` settings → prefix → `Authorization` value.
fn build_auth(merged: &HashMap<String, Setting>, registry: &str) -> BTreeMap<String, String> {
    #[derive(Default)]
    struct Creds {
        token: Option<String>,
        auth: Option<String>,
        username: Option<String>,
        password: Option<String>,
    }
    let mut by_prefix: BTreeMap<String, Creds> = BTreeMap::new();
    for (key, s) in merged {
        if !key.starts_with("//") {
            continue;
        }
        let Some(colon) = key.rfind(':') else {
            continue;
        };
        let (prefix, field) = (&key[..colon], &key[colon + 1..]);
        let value = item_string(&s.value);
        if value.is_empty() || prefix.len() <= 2 {
            continue;
        }
        let creds = by_prefix.entry(normalize_nerf(prefix)).or_default();
        match field.to_ascii_lowercase().as_str() {
            "_authtoken" => creds.token = Some(value),
            "_auth" => creds.auth = Some(value),
            "username" => creds.username = Some(value),
            "_password" => creds.password = Some(value),
            _ => {}
        }
    }
    // Legacy top-level `_authToken`/`_auth` belong to the default registry.
    if let Some(nerf) = nerf_url(registry) {
        let creds = by_prefix.entry(nerf).or_default();
        if creds.token.is_none() && creds.auth.is_none() && creds.password.is_none() {
            creds.token = merged
                .get("_authToken")
                .or_else(|| merged.get("_authtoken"))
                .map(|s| item_string(&s.value))
                .filter(|v| !v.is_empty());
            creds.auth = merged
                .get("_auth")
                .map(|s| item_string(&s.value))
                .filter(|v| !v.is_empty());
        }
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    by_prefix
        .into_iter()
        .filter_map(|(prefix, c)| {
            let header = if let Some(t) = c.token {
                format!("Bearer {t}")
            } else if let Some(a) = c.auth {
                format!("Basic {a}")
            } else if let (Some(u), Some(p)) = (c.username, c.password) {
                let pass = b64
                    .decode(p.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .unwrap_or(p);
                format!("Basic {}", b64.encode(format!("{u}:{pass}")))
            } else {
                return None;
            };
            Some((prefix, header))
        })
        .collect()
}

/// Lowercases the host part of a `//host[:port]/path` prefix.
fn normalize_nerf(prefix: &str) -> String {
    let rest = &prefix[2..];
    let end = rest.find('/').unwrap_or(rest.len());
    format!("//{}{}", rest[..end].to_ascii_lowercase(), &rest[end..])
}

/// `https://Host:443/a/b?q` → `//host/a/b` (scheme, default port, query and
/// fragment dropped; npm's URL parsing does the same).
fn nerf_url(url: &str) -> Option<String> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let (rest, default_port) = if lower.starts_with("https://") {
        (&url[8..], ":443")
    } else if lower.starts_with("http://") {
        (&url[7..], ":80")
    } else if let Some(r) = url.strip_prefix("//") {
        (r, "")
    } else {
        return None;
    };
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let end = rest.find('/').unwrap_or(rest.len());
    let mut host = rest[..end].to_ascii_lowercase();
    if let Some(at) = host.rfind('@') {
        host = host[at + 1..].to_string(); // userinfo is never part of the key
    }
    if !default_port.is_empty() && host.ends_with(default_port) {
        host.truncate(host.len() - default_port.len());
    }
    if host.is_empty() {
        return None;
    }
    let path = if end < rest.len() { &rest[end..] } else { "/" };
    Some(format!("//{host}{path}"))
}

/// `brisk/<version> [node/<v>] <platform> <arch>`. The node version comes
/// from `npm_config_user_agent` when brisk runs under npm/npx.
fn user_agent(env: &HashMap<String, String>) -> String {
    let platform = match std::env::consts::OS {
        "macos" => "darwin",
        "windows" => "win32",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        "x86" => "ia32",
        other => other,
    };
    let node = env
        .get("npm_config_user_agent")
        .and_then(|ua| ua.split_whitespace().find(|t| t.starts_with("node/")))
        .map(|t| format!(" {t}"))
        .unwrap_or_default();
    format!(
        "brisk/{}{node} {platform} {arch}",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests;
