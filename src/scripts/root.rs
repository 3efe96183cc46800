//! The root project's own lifecycle scripts, run after its dependencies are
//! installed (npm's `install` command, with no package arguments).

use std::path::Path;

use serde_json::Value;

use crate::error::Result;

use super::deps::{failed, DepPackage};
use super::run;
use super::Runner;

/// The root events, in npm's order (`prepublish` is deprecated but npm
/// still runs it on install).
pub const ROOT_EVENTS: [&str; 7] = [
    "preinstall",
    "install",
    "postinstall",
    "prepublish",
    "preprepare",
    "prepare",
    "postprepare",
];

/// What arborist's reify runs after it changed node_modules (`npm install`,
/// `npm install <pkg>`, `npm uninstall`, `npm update`, `npm ci`), with the
/// output piped unless `foreground-scripts`.
pub const DEPENDENCIES_EVENTS: [&str; 3] = ["predependencies", "dependencies", "postdependencies"];

/// Run the root project's `events` scripts in `dir` (whose package.json is
/// `manifest`), one after another. In the `foreground` as npm runs its
/// install scripts: a `> name@version event` banner, then the output as it
/// comes (all on stderr); otherwise quietly, the output shown only on
/// failure. Returns `event` names that ran; the first failure stops with
/// `E_SCRIPT`.
pub async fn run_root_scripts(
    runner: &Runner,
    dir: &Path,
    manifest: &Value,
    events: &[&str],
    foreground: bool,
) -> Result<Vec<String>> {
    let mut ran = Vec::new();
    let runner = &Runner {
        foreground,
        stdout_to_stderr: true,
        ..runner.clone()
    };
    let name = manifest.get("name").and_then(Value::as_str).unwrap_or("");
    let version = manifest
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or("");
    for &event in events {
        let Some(script) = manifest
            .get("scripts")
            .and_then(|s| s.get(event))
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
        else {
            continue;
        };
        let label = match (name, version) {
            ("", _) => String::new(),
            (n, "") => format!("{n} "),
            (n, v) => format!("{n}@{v} "),
        };
        if foreground {
            eprintln!("\n> {label}{event}\n> {script}\n");
        }
        let env = runner.env(dir, manifest, event, script, &[]);
        let mut f = run::run(runner, dir, script, env).await?;
        if !f.success() {
            if foreground {
                f.output = "(its output is above)".into();
            }
            let who = DepPackage {
                location: String::new(),
                dir: dir.to_path_buf(),
                id: if name.is_empty() {
                    "the project".into()
                } else {
                    format!("the project {name}@{version}")
                },
                depth: 0,
                optional: false,
                env: vec![],
            };
            let hint = format!(
                "Fix the project's {event} script in package.json, or run with --ignore-scripts to skip scripts."
            );
            return Err(failed(&who, event, script, &f, &hint));
        }
        ran.push(event.to_string());
    }
    Ok(ran)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::error::Code;
    use serde_json::json;

    #[tokio::test]
    async fn root_events_in_npm_order() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let add = |e: &str| format!("echo {e} >> {}", log.display());
        let manifest = json!({"name": "app", "version": "1.0.0", "scripts": {
            "postprepare": add("postprepare"), "prepare": add("prepare"),
            "preprepare": add("preprepare"), "postinstall": add("postinstall"),
            "install": add("install"), "preinstall": add("preinstall"), "test": add("test")
        }});
        let runner = Runner::for_tests(dir.path());
        let ran = run_root_scripts(&runner, dir.path(), &manifest, &ROOT_EVENTS, true)
            .await
            .unwrap();
        let want = [
            "preinstall",
            "install",
            "postinstall",
            "preprepare",
            "prepare",
            "postprepare",
        ];
        assert_eq!(ran, want);
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            want.join("\n") + "\n"
        );

        let bad = json!({"name": "app", "version": "1.0.0", "scripts": {"prepare": "echo nope >&2; exit 1"}});
        let e = run_root_scripts(&runner, dir.path(), &bad, &ROOT_EVENTS, true)
            .await
            .unwrap_err();
        assert_eq!(e.code, Code::Script);
        assert!(
            e.message
                .contains("prepare script of the project app@1.0.0")
                && e.message.contains("nope"),
            "{}",
            e.message
        );
    }
}
