//! Running the `git` command: never prompting (no terminal, askpass or ssh
//! password prompts), killed if the caller's future is dropped.

use std::path::Path;
use std::process::Stdio;

use tokio::process::Command;

use crate::error::{Code, Error, Result};

/// A failed git run: its stderr, trimmed.
#[derive(Debug)]
pub(crate) struct Failure {
    pub stderr: String,
}

impl Failure {
    /// The most telling line of git's stderr (`fatal: …` if there is one).
    pub fn summary(&self) -> String {
        let lines: Vec<&str> = self.stderr.lines().map(str::trim).collect();
        lines
            .iter()
            .find(|l| l.starts_with("fatal:") || l.starts_with("error:"))
            .or_else(|| lines.iter().rev().find(|l| !l.is_empty()))
            .map_or_else(|| "git failed".to_string(), |l| l.to_string())
    }
}

/// Runs `git <args>` (in `cwd` if given). `Ok(Err(_))` when git ran and
/// failed; `Err(E_GIT)` when git could not be started at all.
pub(crate) async fn git(
    args: &[&str],
    cwd: Option<&Path>,
) -> Result<std::result::Result<String, Failure>> {
    let mut cmd = Command::new("git");
    // Config that would make git wait for input or print noise.
    cmd.args(["-c", "core.askPass=", "-c", "credential.interactive=false"])
        .args([
            "-c",
            "advice.detachedHead=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if std::env::var_os("GIT_ASKPASS").is_none() {
        cmd.env("GIT_ASKPASS", "echo");
    }
    if std::env::var_os("GIT_SSH_COMMAND").is_none() && std::env::var_os("GIT_SSH").is_none() {
        cmd.env(
            "GIT_SSH_COMMAND",
            "ssh -oBatchMode=yes -oStrictHostKeyChecking=accept-new",
        );
    }
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    let out = cmd.output().await.map_err(|e| {
        Error::new(
            Code::Git,
            format!("could not run git ({e}); git dependencies need git installed and on PATH"),
        )
    })?;
    if out.status.success() {
        Ok(Ok(String::from_utf8_lossy(&out.stdout).into_owned()))
    } else {
        Ok(Err(Failure {
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        }))
    }
}

/// [`git`] where any failure is an `E_GIT` error saying what was being done.
pub(crate) async fn git_ok(args: &[&str], cwd: Option<&Path>, doing: &str) -> Result<String> {
    git(args, cwd)
        .await?
        .map_err(|f| Error::new(Code::Git, format!("{doing}: {}", f.summary())))
}
