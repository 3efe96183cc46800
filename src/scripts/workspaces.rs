//! The workspaces' own lifecycle scripts, run after the dependencies' and
//! before the root project's, as npm's arborist `rebuild.js` runs those of
//! links: every `preinstall`, then every `prepare`, then `install`, then
//! `postinstall` (no `preprepare`/`postprepare`: npm runs only the four),
//! each phase in link location order (`node_modules/<name>`), each with the
//! workspace folder as cwd. A workspace is the user's own code: it runs
//! whatever the trust list says, unless `ignore-scripts`. npm runs a
//! phase's scripts in parallel; brisk runs them one at a time in that
//! order (npm's `--foreground-scripts` order), so the order is the same
//! on every run. Output shows only on failure, unless
//! `--foreground-scripts` (as dependencies').

use serde_json::Value;

use crate::error::Result;

use super::deps::{failed, read_manifest, DepPackage};
use super::{run, Runner};

/// The events npm runs for a workspace (a link), in its order.
pub const WORKSPACE_EVENTS: [&str; 4] = ["preinstall", "prepare", "install", "postinstall"];

/// Run the workspaces' install scripts (`pkgs`, whose `location` is their
/// link's); returns `name@version event` of each that ran. The first
/// failure stops with `E_SCRIPT`.
pub async fn run_workspace_scripts(runner: &Runner, pkgs: &[DepPackage]) -> Result<Vec<String>> {
    let runner = &Runner {
        stdout_to_stderr: true,
        ..runner.clone()
    };
    let manifests: Vec<Value> = pkgs.iter().map(|p| read_manifest(&p.dir)).collect();
    let order = super::deps::order(pkgs);
    let mut ran = Vec::new();
    for event in WORKSPACE_EVENTS {
        for &i in &order {
            let (p, manifest) = (&pkgs[i], &manifests[i]);
            let Some(script) = manifest
                .get("scripts")
                .and_then(|s| s.get(event))
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
            else {
                continue;
            };
            let env = runner.env(&p.dir, manifest, event, script, &p.env);
            let f = run::run(runner, &p.dir, script, env).await?;
            if !f.success() {
                let hint = format!(
                    "Fix the {event} script in {}, or run with --ignore-scripts to skip scripts.",
                    p.dir.join("package.json").display()
                );
                return Err(failed(p, event, script, &f, &hint));
            }
            ran.push(format!("{} {event}", p.id));
        }
    }
    Ok(ran)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::error::Code;

    #[tokio::test]
    async fn phases_then_location_order() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let mut pkgs = Vec::new();
        for (name, folder) in [("zz", "a"), ("aa", "b")] {
            let d = dir.path().join(folder);
            std::fs::create_dir_all(&d).unwrap();
            let s = |e: &str| format!("echo {name} {e} >> {}", log.display());
            let m = serde_json::json!({"name": name, "version": "1.0.0", "scripts": {
                "postinstall": s("postinstall"), "prepare": s("prepare"), "preprepare": s("preprepare"),
                "install": s("install"), "preinstall": s("preinstall")}});
            std::fs::write(d.join("package.json"), m.to_string()).unwrap();
            pkgs.push(DepPackage {
                location: format!("node_modules/{name}"),
                dir: d,
                id: format!("{name}@1.0.0"),
                depth: 1,
                optional: false,
                env: vec![],
            });
        }
        let runner = Runner::for_tests(dir.path());
        let ran = run_workspace_scripts(&runner, &pkgs).await.unwrap();
        let want = [
            "aa preinstall",
            "zz preinstall",
            "aa prepare",
            "zz prepare",
            "aa install",
            "zz install",
            "aa postinstall",
            "zz postinstall",
        ];
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            want.join("\n") + "\n"
        );
        assert_eq!(ran[0], "aa@1.0.0 preinstall");

        std::fs::write(
            pkgs[0].dir.join("package.json"),
            r#"{"name":"zz","version":"1.0.0","scripts":{"prepare":"echo broken >&2; exit 3"}}"#,
        )
        .unwrap();
        let e = run_workspace_scripts(&runner, &pkgs).await.unwrap_err();
        assert_eq!(e.code, Code::Script);
        assert!(
            e.message.contains("prepare script of zz@1.0.0"),
            "{}",
            e.message
        );
    }
}
