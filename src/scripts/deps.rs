//! Dependencies' install scripts: read them from the installed package.json,
//! queue them in npm's order, run each phase in parallel.

use std::path::{Path, PathBuf};

use std::future::Future;
use std::pin::Pin;

use futures_util::stream::{FuturesUnordered, StreamExt};
use serde_json::Value;

use crate::error::{Code, Error, Result};

use super::run::{self, Finished};
use super::{Runner, GYP_INSTALL, INSTALL_EVENTS};

/// One installed package whose install scripts are to run.
#[derive(Debug, Clone)]
pub struct DepPackage {
    /// Its location, e.g. `node_modules/a/node_modules/b`.
    pub location: String,
    /// Its folder (absolute).
    pub dir: PathBuf,
    /// `name@version`, for messages.
    pub id: String,
    /// Folder depth in the tree (1 = top-level `node_modules`).
    pub depth: usize,
    /// Optional: a failing script drops the package instead of the install.
    pub optional: bool,
    /// Extra variables (`npm_package_resolved`, `npm_package_dev`, …).
    pub env: Vec<(String, String)>,
}

/// What [`run_dependency_scripts`] did.
#[derive(Debug, Default)]
pub struct DepOutcome {
    /// `name@version event`, in the order they finished per phase.
    pub ran: Vec<String>,
    /// Indexes (into the input) of optional packages whose script failed;
    /// their folders are removed.
    pub dropped: Vec<usize>,
    pub warnings: Vec<String>,
}

/// `preinstall`, `install`, `postinstall` of a package.json, with npm's
/// `node-gyp rebuild` default: a `binding.gyp` (`has_gyp`), no `install` or
/// `preinstall`, and no `"gypfile": false`.
pub fn install_scripts(manifest: &Value, has_gyp: bool) -> [Option<String>; 3] {
    let scripts = manifest.get("scripts");
    let get = |e: &str| {
        scripts
            .and_then(|s| s.get(e))
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
    };
    let mut out = INSTALL_EVENTS.map(get);
    let gypfile = manifest.get("gypfile").and_then(Value::as_bool) != Some(false);
    if has_gyp && gypfile && out[0].is_none() && out[1].is_none() {
        out[1] = Some(GYP_INSTALL.to_string());
    }
    out
}

/// npm's build order: shallowest first, then by location.
pub fn order(pkgs: &[DepPackage]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..pkgs.len()).collect();
    idx.sort_by(|&a, &b| {
        (pkgs[a].depth, &pkgs[a].location).cmp(&(pkgs[b].depth, &pkgs[b].location))
    });
    idx
}

pub(super) fn read_manifest(dir: &Path) -> Value {
    std::fs::read_to_string(dir.join("package.json"))
        .ok()
        .and_then(|t| serde_json::from_str(t.trim_start_matches('\u{feff}')).ok())
        .unwrap_or(Value::Null)
}

/// Is `loc` at or inside one of the dropped locations?
fn inside(loc: &str, dropped: &[&str]) -> bool {
    dropped
        .iter()
        .any(|d| loc == *d || loc.starts_with(&format!("{d}/node_modules/")))
}

/// Run every install script of `pkgs`: all `preinstall`, then `install`,
/// then `postinstall`, each phase in [`order`] with up to `runner.jobs` at
/// once. A failing script is `E_SCRIPT` (with its output), unless its
/// package is optional: then the package is dropped with a warning.
pub async fn run_dependency_scripts(runner: &Runner, pkgs: &[DepPackage]) -> Result<DepOutcome> {
    let manifests: Vec<Value> = pkgs.iter().map(|p| read_manifest(&p.dir)).collect();
    let scripts: Vec<[Option<String>; 3]> = pkgs
        .iter()
        .zip(&manifests)
        .map(|(p, m)| install_scripts(m, p.dir.join("binding.gyp").is_file()))
        .collect();
    let order = order(pkgs);
    let mut out = DepOutcome::default();
    for (ei, event) in INSTALL_EVENTS.iter().enumerate() {
        let dropped: Vec<&str> = out
            .dropped
            .iter()
            .map(|&i| pkgs[i].location.as_str())
            .collect();
        let queue: Vec<(usize, &str)> = order
            .iter()
            .filter(|&&i| !inside(&pkgs[i].location, &dropped))
            .filter_map(|&i| scripts[i][ei].as_deref().map(|s| (i, s)))
            .collect();
        let mut results = run_limited(runner, pkgs, &manifests, event, &queue).await;
        results.sort_by_key(|(qi, _)| *qi);
        for (qi, r) in results {
            let (i, script) = queue[qi];
            let p = &pkgs[i];
            let failure = match r {
                Ok(f) if f.success() => {
                    out.ran.push(format!("{} {event}", p.id));
                    continue;
                }
                Ok(f) => failed(p, event, script, &f, DEP_HINT),
                Err(e) if e.code == Code::Cancelled => return Err(e),
                Err(e) => e,
            };
            if !p.optional {
                return Err(failure);
            }
            out.warnings.push(format!(
                "optional dependency {} was removed: its {event} script failed ({})",
                p.id,
                failure.detail().lines().next().unwrap_or_default()
            ));
            if let Err(e) = std::fs::remove_dir_all(&p.dir) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    return Err(Error::io(format!("cannot remove {}", p.dir.display()), e));
                }
            }
            out.dropped.push(i);
        }
    }
    Ok(out)
}

/// Run `queue` (package index, script) with at most `runner.jobs` at once;
/// results tagged with their queue position.
async fn run_limited(
    runner: &Runner,
    pkgs: &[DepPackage],
    manifests: &[Value],
    event: &str,
    queue: &[(usize, &str)],
) -> Vec<(usize, Result<Finished>)> {
    let mut running = FuturesUnordered::new();
    let mut results = Vec::with_capacity(queue.len());
    let mut next = 0;
    loop {
        while running.len() < runner.jobs.max(1) && next < queue.len() {
            let (qi, (i, script)) = (next, queue[next]);
            next += 1;
            let p = &pkgs[i];
            let env = runner.env(&p.dir, &manifests[i], event, script, &p.env);
            let fut: Pin<Box<dyn Future<Output = _> + Send + '_>> =
                Box::pin(async move { (qi, run::run(runner, &p.dir, script, env).await) });
            running.push(fut);
        }
        match running.next().await {
            Some(r) => results.push(r),
            None => return results,
        }
    }
}

const DEP_HINT: &str = "Fix the problem the output shows, or skip this package's scripts \
     (take it out of trustedDependencies, or run with --ignore-scripts).";

/// The `E_SCRIPT` error of a script that ran and failed.
pub(super) fn failed(p: &DepPackage, event: &str, script: &str, f: &Finished, hint: &str) -> Error {
    let output = if f.output.is_empty() {
        String::from("(no output)")
    } else {
        f.output.clone()
    };
    Error::new(
        Code::Script,
        format!(
            "the {event} script of {} failed with {} in {}\n$ {script}\n{output}\n{hint}",
            p.id,
            f.describe(),
            p.dir.display(),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pkg(location: &str, depth: usize) -> DepPackage {
        DepPackage {
            location: location.into(),
            dir: PathBuf::from("/p").join(location),
            id: format!("{location}@1.0.0"),
            depth,
            optional: false,
            env: vec![],
        }
    }

    #[test]
    fn npm_order_shallow_first_then_location() {
        let pkgs = vec![
            pkg("node_modules/b/node_modules/c", 2),
            pkg("node_modules/z", 1),
            pkg("node_modules/@s/a", 1),
            pkg("node_modules/a/node_modules/d", 2),
            pkg("node_modules/a", 1),
        ];
        let locs: Vec<&str> = order(&pkgs)
            .into_iter()
            .map(|i| pkgs[i].location.as_str())
            .collect();
        assert_eq!(
            locs,
            [
                "node_modules/@s/a",
                "node_modules/a",
                "node_modules/z",
                "node_modules/a/node_modules/d",
                "node_modules/b/node_modules/c"
            ]
        );
    }

    #[test]
    fn scripts_and_the_gyp_rule() {
        let m = json!({"scripts": {"postinstall": "node p.js", "install": "", "test": "x"}});
        assert_eq!(
            install_scripts(&m, false),
            [None, None, Some("node p.js".into())]
        );
        assert_eq!(
            install_scripts(&m, true)[1].as_deref(),
            Some(GYP_INSTALL),
            "binding.gyp and no install script: node-gyp rebuild"
        );
        let own = json!({"scripts": {"install": "make"}});
        assert_eq!(install_scripts(&own, true)[1].as_deref(), Some("make"));
        let pre = json!({"scripts": {"preinstall": "x"}});
        assert_eq!(install_scripts(&pre, true)[1], None);
        let off = json!({"gypfile": false});
        assert_eq!(install_scripts(&off, true), [None, None, None]);
    }

    #[test]
    fn nested_under_dropped() {
        assert!(inside("node_modules/a", &["node_modules/a"]));
        assert!(inside("node_modules/a/node_modules/b", &["node_modules/a"]));
        assert!(!inside("node_modules/ab", &["node_modules/a"]));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn phases_in_order_failures_and_optional_drops() {
        let root = tempfile::tempdir().unwrap();
        let log = root.path().join("log");
        let mk = |loc: &str, depth, optional, scripts: Value| {
            let dir = root.path().join(loc);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                dir.join("package.json"),
                json!({"name": loc, "version": "1.0.0", "scripts": scripts}).to_string(),
            )
            .unwrap();
            DepPackage {
                optional,
                ..pkg(loc, depth)
            }
            .with_dir(dir)
        };
        let append = |tag: &str| format!("echo {tag} $npm_lifecycle_event >> {}", log.display());
        let pkgs = vec![
            mk(
                "node_modules/b/node_modules/c",
                2,
                false,
                json!({"preinstall": append("c"), "postinstall": append("c")}),
            ),
            mk(
                "node_modules/b",
                1,
                false,
                json!({"install": append("b"), "postinstall": append("b")}),
            ),
            mk(
                "node_modules/opt",
                1,
                true,
                json!({"preinstall": "echo boom; exit 7", "postinstall": append("opt")}),
            ),
        ];
        let runner = Runner::for_tests(root.path());
        let out = run_dependency_scripts(&runner, &pkgs).await.unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(
            text,
            "c preinstall\nb install\nb postinstall\nc postinstall\n"
        );
        assert_eq!(out.dropped, vec![2]);
        assert!(!root.path().join("node_modules/opt").exists());
        assert!(
            out.warnings[0].contains("exit code 7"),
            "{:?}",
            out.warnings
        );

        let bad = vec![mk(
            "node_modules/bad",
            1,
            false,
            json!({"postinstall": "echo some output; exit 2"}),
        )];
        let e = run_dependency_scripts(&runner, &bad).await.unwrap_err();
        assert_eq!(e.code, Code::Script);
        assert!(
            e.message
                .contains("postinstall script of node_modules/bad@1.0.0 failed with exit code 2"),
            "{}",
            e.message
        );
        assert!(e.message.contains("some output"), "{}", e.message);
    }

    impl DepPackage {
        fn with_dir(mut self, dir: PathBuf) -> Self {
            self.dir = dir;
            self
        }
    }
}
