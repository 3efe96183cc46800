//! `brisk exec <bin> [args]` / `brisk x`: run a bin of the project's
//! node_modules, or else install the package (npx's rules) into a folder of
//! brisk's cache, keyed by what the specs resolve to, and run its bin from
//! there. The project's package.json, lockfile and node_modules are never
//! touched. Returns the step to spawn, like `run`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::error::{Code, Error, Result};
use crate::project::request::Request;
use crate::registry::{pick_version_with, Http, PickOptions, RegistryClient};
use crate::scripts::{bin_dirs, quote};

use super::context::Context;
use super::run_script::{strings, Step};
use super::{Call, Options};

/// Where exec installs live, under the cache (npm's `_npx`).
pub const FOLDER: &str = "_exec";

/// The step that runs `args` (the command and its arguments), and whether
/// packages were installed for it (`name@version` of each requested one).
pub async fn exec(call: Call) -> Result<(Step, Vec<String>)> {
    let o = &call.options;
    let config = Arc::new(Context::config(&call)?);
    let (command, rest) = match o.args.split_first() {
        Some((c, rest)) => (Some(c.clone()), rest.to_vec()),
        None => (None, Vec::new()),
    };
    if command.is_none() && o.packages.is_empty() {
        return Err(Error::new(
            Code::Config,
            "exec needs a command to run, e.g. `brisk exec eslint -- --fix` or `brisk exec --package cowsay -- cowsay hi`",
        ));
    }
    // The project's own bin, when there is one and no --package was given.
    let local = command
        .as_deref()
        .filter(|_| o.packages.is_empty())
        .and_then(|c| {
            let name = crate::link::safe_bin_name(c).filter(|n| *n == c)?;
            bin_dirs(&o.cwd)
                .into_iter()
                .any(|d| d.join(name).is_file())
                .then(|| name.to_string())
        });
    let mut installed = Vec::new();
    let mut extra_bin: Option<PathBuf> = None;
    let bin = match local {
        Some(bin) => bin,
        None => {
            let specs = if o.packages.is_empty() {
                vec![command.clone().unwrap_or_default()]
            } else {
                o.packages.clone()
            };
            let (folder, first, ids) = install_into_cache(&call, &config, &specs).await?;
            installed = ids;
            extra_bin = Some(folder.join("node_modules").join(".bin"));
            match (&command, o.packages.is_empty()) {
                // With --package, the command is run as given, found on PATH.
                (Some(c), false) => c.clone(),
                _ => pick_bin(&folder.join("node_modules").join(&first))?,
            }
        }
    };
    let dir = run_dir(o);
    let manifest = crate::project::Project::load(&o.cwd)
        .map(|p| Value::Object(p.raw))
        .unwrap_or_else(|_| json!({}));
    let line = quote::with_args(&quote::sh(&bin), &rest);
    let runner =
        crate::scripts::Runner::new(&config, &o.env, o.node_path.clone(), call.cancel.clone());
    let mut env = strings(runner.env(&dir, &manifest, "npx", &line, &[]));
    if let Some(extra) = extra_bin {
        // The installed package's bins come first, as with npx.
        for (k, v) in env.iter_mut() {
            if k.eq_ignore_ascii_case("PATH") {
                let mut parts = vec![extra.clone()];
                parts.extend(std::env::split_paths(v.as_str()));
                *v = std::env::join_paths(parts)
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_else(|_| v.clone());
            }
        }
    }
    Ok((
        Step {
            event: "npx".into(),
            shown: line.clone(),
            command: line,
            dir,
            shell: runner.shell.clone(),
            env,
        },
        installed,
    ))
}

/// npm exec runs in the folder it was started from (when that is in the
/// project), else in the project.
fn run_dir(o: &Options) -> PathBuf {
    match std::env::current_dir() {
        Ok(here) if here.starts_with(&o.cwd) => here,
        _ => o.cwd.clone(),
    }
}

/// Install `specs` into `<cache>/_exec/<key>` (key: the sorted resolved
/// specs, so a new `latest` gets a new folder and a folder never changes
/// once complete). Returns the folder, the first package's folder name and
/// `name@version` of each registry package.
async fn install_into_cache(
    call: &Call,
    config: &Arc<crate::config::Config>,
    specs: &[String],
) -> Result<(PathBuf, String, Vec<String>)> {
    let o = &call.options;
    let client = RegistryClient::new(
        config.clone(),
        Http::lazy(config.clone()),
        &config.cache_dir,
    );
    client.set_prefer_offline(o.prefer_offline);
    client.set_prefer_online(o.prefer_online);
    let pick = PickOptions {
        node_version: o.node_version.clone(),
        before: config.before,
    };
    let mut deps = serde_json::Map::new();
    let mut ids = Vec::new();
    let mut keys = Vec::new();
    for spec in specs {
        let r = Request::parse(spec)?;
        let saved = match &r.registry {
            Some((real, wanted)) => {
                let packument = client.packument(real).await?;
                let version = pick_version_with(&packument, wanted, &pick)?
                    .version
                    .clone();
                ids.push(format!("{real}@{version}"));
                r.exact_spec(&version)
            }
            None => r.raw.clone(),
        };
        keys.push(format!("{}@{saved}", r.name));
        deps.insert(r.name.clone(), Value::String(saved));
    }
    let first = Request::parse(&specs[0])?.name;
    keys.sort();
    let key = hex(&Sha256::digest(keys.join("\n").as_bytes())[..8]);
    let folder = config.cache_dir.join(FOLDER).join(key);
    std::fs::create_dir_all(&folder).map_err(|e| Error::io(folder.display(), e))?;
    // The packages asked for are about to run anyway: their own install
    // scripts may run; their dependencies' only if allowed as usual.
    let names: Vec<&String> = deps.keys().collect();
    let manifest = json!({
        "name": "brisk-exec",
        "private": true,
        "dependencies": deps,
        "trustedDependencies": names,
    });
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n";
    let path = folder.join("package.json");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        crate::lockfile::write_atomic(&path, &text)?;
    }
    let mut options = o.clone();
    options.cwd = folder.clone();
    options.workspaces.clear();
    options.add.clear();
    options.remove.clear();
    options.args.clear();
    options.packages.clear();
    options.script = None;
    options.clean = false;
    options.lockfile_only = false;
    options.frozen_lockfile = false;
    options.config.omit = None;
    super::install(Call {
        options,
        progress: call.progress.clone(),
        cancel: call.cancel.clone(),
    })
    .await?;
    Ok((folder, first, ids))
}

/// npm's choice of bin: the only one (or several names for one file), else
/// the one named like the package without its scope.
fn pick_bin(pkg_dir: &Path) -> Result<String> {
    let manifest: Value = std::fs::read_to_string(pkg_dir.join("package.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let name = manifest.get("name").and_then(Value::as_str).unwrap_or("");
    let unscoped = name.rsplit('/').next().unwrap_or(name);
    let bins: Vec<(String, String)> = match manifest.get("bin") {
        Some(Value::String(p)) => vec![(unscoped.to_string(), p.clone())],
        Some(Value::Object(m)) => m
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect(),
        _ => vec![],
    };
    let safe = |n: &str| crate::link::safe_bin_name(n).map(str::to_string);
    let mut targets: Vec<&String> = bins.iter().map(|(_, p)| p).collect();
    targets.sort();
    targets.dedup();
    let chosen = if targets.len() == 1 {
        bins.first().and_then(|(n, _)| safe(n))
    } else {
        bins.iter()
            .find(|(n, _)| n == unscoped)
            .and_then(|(n, _)| safe(n))
    };
    chosen.ok_or_else(|| {
        let list: Vec<&str> = bins.iter().map(|(n, _)| n.as_str()).collect();
        Error::new(
            Code::NotFound,
            if list.is_empty() {
                format!("{name} has no bin to run; name the command: brisk exec --package {name} -- <command>")
            } else {
                format!(
                    "could not determine the executable to run: {name} has the bins {}; pick one with brisk exec --package {name} -- <bin>",
                    list.join(", ")
                )
            },
        )
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(json: Value) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("package.json"), json.to_string()).unwrap();
        dir
    }

    #[test]
    fn npm_bin_choice() {
        let one = pkg(json!({"name": "@s/tool", "bin": "cli.js"}));
        assert_eq!(pick_bin(one.path()).unwrap(), "tool");
        let named = pkg(json!({"name": "tool", "bin": {"tool": "a.js", "other": "b.js"}}));
        assert_eq!(pick_bin(named.path()).unwrap(), "tool");
        let alias = pkg(json!({"name": "x", "bin": {"a": "a.js", "b": "./a.js", "c": "a.js"}}));
        assert_eq!(pick_bin(alias.path()).unwrap_err().code, Code::NotFound);
        let same = pkg(json!({"name": "x", "bin": {"a": "a.js", "b": "a.js"}}));
        assert_eq!(pick_bin(same.path()).unwrap(), "a");
        let many = pkg(json!({"name": "x", "bin": {"a": "a.js", "b": "b.js"}}));
        let e = pick_bin(many.path()).unwrap_err();
        assert!(e.message.contains("a, b"), "{}", e.message);
        let evil = pkg(json!({"name": "x", "bin": {"../../evil": "a.js"}}));
        assert!(pick_bin(evil.path()).is_err());
    }
}
