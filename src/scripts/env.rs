//! The environment and settings every script runs with, as npm (and its
//! `@npmcli/run-script`) sets them.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cancel::CancelToken;
use crate::config::Config;

/// Everything needed to run scripts for one operation.
#[derive(Debug, Clone)]
pub struct Runner {
    /// The caller's environment (`process.env` for the CLI), the base of
    /// every script's environment.
    pub base_env: HashMap<String, String>,
    /// `INIT_CWD`: the directory brisk was run in.
    pub init_cwd: PathBuf,
    /// The Node.js executable (`npm_node_execpath`, `NODE`), when known.
    pub node_path: Option<PathBuf>,
    /// The shell, run as `<shell> -c <script>` (`script-shell`, else `sh`).
    pub shell: String,
    /// `npm_config_*` variables brisk sets (user agent, registry, cache…).
    pub npm_config: Vec<(String, String)>,
    /// Output straight to the terminal, one script at a time.
    pub foreground: bool,
    /// In the foreground, the scripts' stdout goes to fd 2 (the project's
    /// own scripts: shown as npm shows them, and `--json` on stdout stays
    /// parseable).
    pub stdout_to_stderr: bool,
    /// At most this many scripts at once.
    pub jobs: usize,
    /// Cancelling kills running scripts.
    pub cancel: CancelToken,
}

impl Runner {
    /// One script at a time with the process environment, run from `dir`.
    #[cfg(test)]
    pub fn for_tests(dir: &std::path::Path) -> Runner {
        Runner {
            base_env: std::env::vars().collect(),
            init_cwd: dir.into(),
            node_path: None,
            shell: "sh".into(),
            npm_config: vec![],
            foreground: false,
            stdout_to_stderr: false,
            jobs: 1,
            cancel: Default::default(),
        }
    }

    /// Settings from the effective configuration and the caller's
    /// environment.
    pub fn new(
        config: &Config,
        base_env: &HashMap<String, String>,
        node_path: Option<PathBuf>,
        cancel: CancelToken,
    ) -> Runner {
        let init_cwd = std::env::current_dir().unwrap_or_default();
        let npm_config = vec![
            ("npm_config_user_agent".into(), config.user_agent.clone()),
            ("npm_config_registry".into(), config.registry.clone()),
            (
                "npm_config_cache".into(),
                config.cache_dir.display().to_string(),
            ),
            (
                "npm_config_ignore_scripts".into(),
                bool_env(config.ignore_scripts).into(),
            ),
            (
                "npm_config_foreground_scripts".into(),
                bool_env(config.foreground_scripts).into(),
            ),
            ("npm_config_omit".into(), config.omit.join("\n\n")),
        ];
        let jobs = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        Runner {
            base_env: base_env.clone(),
            init_cwd,
            node_path,
            shell: config.script_shell.clone().unwrap_or_else(|| "sh".into()),
            npm_config,
            foreground: config.foreground_scripts,
            stdout_to_stderr: false,
            jobs: if config.foreground_scripts { 1 } else { jobs },
            cancel,
        }
    }

    /// The environment of `event` (running `script`) for the package in
    /// `dir` whose package.json is `manifest`. `extra` adds per-package
    /// variables (`npm_package_resolved`, …).
    pub fn env(
        &self,
        dir: &Path,
        manifest: &Value,
        event: &str,
        script: &str,
        extra: &[(String, String)],
    ) -> Vec<(OsString, OsString)> {
        // Another package manager's per-script variables must not leak in.
        let mut env: HashMap<String, String> = self
            .base_env
            .iter()
            .filter(|(k, _)| !k.starts_with("npm_package_") && !k.starts_with("npm_lifecycle_"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (k, v) in &self.npm_config {
            env.insert(k.clone(), v.clone());
        }
        env.insert("npm_lifecycle_event".into(), event.into());
        env.insert("npm_lifecycle_script".into(), script.into());
        env.insert(
            "npm_package_json".into(),
            dir.join("package.json").display().to_string(),
        );
        for key in ["name", "version", "config", "engines", "bin"] {
            if let Some(v) = manifest.get(key) {
                flatten(&mut env, &format!("npm_package_{key}"), v);
            }
        }
        env.insert("INIT_CWD".into(), self.init_cwd.display().to_string());
        if let Some(node) = &self.node_path {
            let node = node.display().to_string();
            env.insert("npm_node_execpath".into(), node.clone());
            env.insert("NODE".into(), node);
        }
        for (k, v) in extra {
            env.insert(k.clone(), v.clone());
        }
        let path_key = env
            .keys()
            .find(|k| k.eq_ignore_ascii_case("PATH"))
            .cloned()
            .unwrap_or_else(|| "PATH".into());
        let old = env.remove(&path_key);
        let mut parts = bin_dirs(dir);
        if let Some(old) = old.filter(|p| !p.is_empty()) {
            parts.extend(std::env::split_paths(&old));
        }
        // A folder with the separator in its name cannot be listed: drop it.
        parts.retain(|p| std::env::join_paths([p]).is_ok());
        let path = std::env::join_paths(parts).unwrap_or_default();
        let mut out: Vec<(OsString, OsString)> =
            env.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        out.push((path_key.into(), path));
        out
    }
}

/// npm's boolean environment values: `"1"` or empty.
pub(super) fn bool_env(b: bool) -> &'static str {
    if b {
        "1"
    } else {
        ""
    }
}

/// `node_modules/.bin` of `dir` and of every folder above it, nearest
/// first (npm-run-path's order, up to the filesystem root).
pub fn bin_dirs(dir: &Path) -> Vec<PathBuf> {
    dir.ancestors()
        .map(|d| d.join("node_modules").join(".bin"))
        .collect()
}

/// `@npmcli/run-script`'s package-envs: objects become `prefix_key`,
/// arrays `prefix_index`, `null`/`false` an empty string.
fn flatten(env: &mut HashMap<String, String>, prefix: &str, v: &Value) {
    match v {
        Value::Null | Value::Bool(false) => {
            env.insert(prefix.into(), String::new());
        }
        Value::Bool(true) => {
            env.insert(prefix.into(), "true".into());
        }
        Value::Number(n) => {
            env.insert(prefix.into(), n.to_string());
        }
        Value::String(s) => {
            env.insert(prefix.into(), s.clone());
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(env, &format!("{prefix}_{i}"), item);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                flatten(env, &format!("{prefix}_{k}"), item);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn runner() -> Runner {
        Runner {
            base_env: HashMap::from([
                ("PATH".into(), "/usr/bin".into()),
                ("npm_package_name".into(), "outer".into()),
                ("npm_lifecycle_event".into(), "test".into()),
                ("npm_config_foo".into(), "kept".into()),
            ]),
            init_cwd: PathBuf::from("/work"),
            node_path: Some(PathBuf::from("/opt/node/bin/node")),
            shell: "sh".into(),
            npm_config: vec![("npm_config_user_agent".into(), "brisk/0".into())],
            foreground: false,
            stdout_to_stderr: false,
            jobs: 2,
            cancel: CancelToken::new(),
        }
    }

    #[test]
    fn env_like_npm() {
        let manifest = json!({
            "name": "pkg", "version": "1.2.3", "config": {"port": 8080, "x": null},
            "engines": {"node": ">=18"}, "bin": {"pkg": "cli.js"}
        });
        let env: HashMap<String, String> = runner()
            .env(
                Path::new("/p/node_modules/pkg"),
                &manifest,
                "postinstall",
                "node x.js",
                &[("npm_package_optional".into(), "1".into())],
            )
            .into_iter()
            .map(|(k, v)| (k.into_string().unwrap(), v.into_string().unwrap()))
            .collect();
        let get = |k: &str| env.get(k).map(String::as_str);
        assert_eq!(get("npm_lifecycle_event"), Some("postinstall"));
        assert_eq!(get("npm_lifecycle_script"), Some("node x.js"));
        assert_eq!(get("npm_package_name"), Some("pkg"));
        assert_eq!(get("npm_package_version"), Some("1.2.3"));
        assert_eq!(get("npm_package_config_port"), Some("8080"));
        assert_eq!(get("npm_package_config_x"), Some(""));
        assert_eq!(get("npm_package_engines_node"), Some(">=18"));
        assert_eq!(get("npm_package_bin_pkg"), Some("cli.js"));
        assert_eq!(get("npm_package_optional"), Some("1"));
        assert_eq!(
            get("npm_package_json"),
            Some("/p/node_modules/pkg/package.json")
        );
        assert_eq!(get("npm_config_user_agent"), Some("brisk/0"));
        assert_eq!(get("npm_config_foo"), Some("kept"));
        assert_eq!(get("INIT_CWD"), Some("/work"));
        assert_eq!(get("NODE"), Some("/opt/node/bin/node"));
        assert_eq!(get("npm_node_execpath"), Some("/opt/node/bin/node"));
        assert_eq!(
            get("PATH"),
            Some(
                "/p/node_modules/pkg/node_modules/.bin:/p/node_modules/node_modules/.bin:\
                 /p/node_modules/.bin:/node_modules/.bin:/usr/bin"
            )
        );
        // The outer npm's per-script variables do not leak.
        assert!(!env.contains_key("npm_package_dev"));
        let outer = runner().env(Path::new("/p"), &json!({}), "install", "x", &[]);
        assert!(!outer.iter().any(|(k, _)| k == "npm_package_name"));
    }
}
