//! `brisk run <script>` (and `test`, `start`, …): what npm would run, as a
//! plan: for each package (the project, or the `--workspace`s), its scripts
//! and the steps (`pre<script>`, `<script>` with the extra arguments,
//! `post<script>`) with npm's environment. The caller spawns the steps with
//! its own terminal, so output streams live and signals reach the script.

use std::path::PathBuf;

use serde_json::Value;

use crate::error::Result;
use crate::project::Project;
use crate::scripts::quote;

use super::context::Context;
use super::Call;

/// One command to run through the shell.
#[derive(Debug, Clone)]
pub struct Step {
    /// `npm_lifecycle_event`: the script's name (`npx` for exec).
    pub event: String,
    /// What the shell runs (`<shell> -c <command>`).
    pub command: String,
    /// The command line npm shows (extra arguments unquoted).
    pub shown: String,
    pub dir: PathBuf,
    pub shell: String,
    /// The whole environment.
    pub env: Vec<(String, String)>,
}

/// What `run` does in one package.
#[derive(Debug, Clone, Default)]
pub struct RunPlan {
    /// `name@version` (empty parts left out, as npm shows them).
    pub id: String,
    pub dir: PathBuf,
    /// Every script of its package.json, in file order.
    pub scripts: Vec<(String, String)>,
    /// The script asked for is not there (the caller decides: error, or
    /// nothing with `--if-present`).
    pub missing: bool,
    pub steps: Vec<Step>,
}

/// The plan for `call.options.script` (none: only the script lists).
pub fn run_script(call: Call) -> Result<Vec<RunPlan>> {
    let o = &call.options;
    let config = Context::config(&call)?;
    let mut dirs = targets(o)?;
    if o.include_workspace_root && (o.all_workspaces || !o.workspaces.is_empty()) {
        // npm: the root first, then the workspaces.
        let root = crate::project::workspace_root(&o.cwd).unwrap_or_else(|| o.cwd.clone());
        dirs.insert(0, root);
    }
    let runner =
        crate::scripts::Runner::new(&config, &o.env, o.node_path.clone(), call.cancel.clone());
    let mut plans = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let project = Project::load(&dir)?;
        let manifest = Value::Object(project.raw.clone());
        let scripts: Vec<(String, String)> = manifest
            .get("scripts")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let mut plan = RunPlan {
            id: package_id(&manifest),
            dir: dir.clone(),
            ..Default::default()
        };
        if let Some(name) = o.script.as_deref() {
            let find = |event: &str| {
                scripts
                    .iter()
                    .find(|(k, _)| k == event)
                    .map(|(_, v)| v.clone())
            };
            // npm start without a start script runs server.js when there is one.
            let fallback = (name == "start" && dir.join("server.js").is_file())
                .then(|| "node server.js".to_string());
            match find(name).or(fallback) {
                None => plan.missing = true,
                Some(main) => {
                    // npm skips pre/post with --ignore-scripts, never the script asked for.
                    let pre_post = !config.ignore_scripts;
                    let events = [
                        (format!("pre{name}"), pre_post),
                        (name.to_string(), true),
                        (format!("post{name}"), pre_post),
                    ];
                    for (event, wanted) in events {
                        let script = if event == name {
                            Some(main.clone())
                        } else {
                            find(&event)
                        };
                        let Some(script) = script.filter(|s| wanted && !s.trim().is_empty()) else {
                            continue;
                        };
                        let (command, shown) = if event == name && !o.args.is_empty() {
                            (
                                quote::with_args(&script, &o.args),
                                format!("{script} {}", o.args.join(" ")),
                            )
                        } else {
                            (script.clone(), script.clone())
                        };
                        let env = runner.env(&dir, &manifest, &event, &command, &[]);
                        plan.steps.push(Step {
                            event,
                            shown,
                            dir: dir.clone(),
                            shell: runner.shell.clone(),
                            env: strings(env),
                            command,
                        });
                    }
                }
            }
        }
        plan.scripts = scripts;
        plans.push(plan);
    }
    Ok(plans)
}

/// npm's `name@version` label (`name`, or empty, when parts are missing).
pub(super) fn package_id(manifest: &Value) -> String {
    let get = |k: &str| manifest.get(k).and_then(Value::as_str).unwrap_or("");
    match (get("name"), get("version")) {
        ("", _) => String::new(),
        (n, "") => n.to_string(),
        (n, v) => format!("{n}@{v}"),
    }
}

/// An environment as strings (lossy for the odd non-UTF-8 value).
pub(super) fn strings(env: Vec<(std::ffi::OsString, std::ffi::OsString)>) -> Vec<(String, String)> {
    env.into_iter()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect()
}

/// The folders to run in: `cwd`, or the workspaces of its root that `-w`
/// names (names or folders), or all of them (`--workspaces`).
fn targets(o: &super::Options) -> Result<Vec<PathBuf>> {
    let cwd = &o.cwd;
    if o.workspaces.is_empty() && !o.all_workspaces {
        return Ok(vec![cwd.to_path_buf()]);
    }
    let root = crate::project::workspace_root(cwd).unwrap_or_else(|| cwd.to_path_buf());
    let workspaces: Vec<(String, String)> = (Project::load(&root)?.workspaces()?.into_iter())
        .map(|w| (w.name, w.path))
        .collect();
    let chosen = super::scope::chosen(o, &workspaces, &root)?.unwrap_or_default();
    Ok(chosen
        .into_iter()
        .map(|(_, path)| root.join(path))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Options;

    fn plan(pkg: Value, script: &str, args: &[&str], ignore: bool) -> RunPlan {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("package.json"), pkg.to_string()).unwrap();
        let mut options = Options {
            cwd: dir.path().to_path_buf(),
            script: Some(script.into()),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: [("PATH".to_string(), "/usr/bin".to_string())].into(),
            ..Default::default()
        };
        options.config.ignore_scripts = Some(ignore);
        options.config.cache_dir = Some(dir.path().join("cache"));
        run_script(Call::new(options)).unwrap().remove(0)
    }

    #[test]
    fn pre_main_post_args_and_ignore_scripts() {
        let pkg = serde_json::json!({"name": "p", "version": "1.0.0", "scripts": {
            "pretest": "echo pre", "test": "echo t", "posttest": "echo post", "prestart": ""
        }});
        let p = plan(pkg.clone(), "test", &["a b", "c"], false);
        assert_eq!(p.id, "p@1.0.0");
        let events: Vec<&str> = p.steps.iter().map(|s| s.event.as_str()).collect();
        assert_eq!(events, ["pretest", "test", "posttest"]);
        assert_eq!(p.steps[1].command, "echo t 'a b' c");
        assert_eq!(p.steps[1].shown, "echo t a b c");
        assert_eq!(
            p.steps[0].command, "echo pre",
            "args go to the main script only"
        );
        let env: std::collections::HashMap<_, _> = p.steps[1].env.iter().cloned().collect();
        assert_eq!(env["npm_lifecycle_event"], "test");
        assert_eq!(env["npm_lifecycle_script"], "echo t 'a b' c");
        assert!(env["PATH"].ends_with(":/usr/bin"));
        let ignored = plan(pkg.clone(), "test", &[], true);
        assert_eq!(ignored.steps.len(), 1);
        assert!(plan(pkg, "nope", &[], false).missing);
    }
}
