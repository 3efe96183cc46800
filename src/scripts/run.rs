//! Run one script: `<shell> -c <script>` in its own process group, output
//! captured (or inherited in the foreground), killed on cancellation.

use std::ffi::OsString;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::{Code, Error, Result};

use super::Runner;

/// Output kept per script (the tail, for error messages).
const KEEP_BYTES: usize = 256 * 1024;
/// Lines of output an error message shows.
pub const TAIL_LINES: usize = 40;

/// How a script ended.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    /// The end of stdout and stderr, interleaved as it arrived (empty in
    /// the foreground).
    pub output: String,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// "exit code 2" / "signal 9".
    pub fn describe(&self) -> String {
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            if let Some(sig) = self.status.signal() {
                return format!("signal {sig}");
            }
        }
        match self.status.code() {
            Some(c) => format!("exit code {c}"),
            None => "an unknown status".into(),
        }
    }
}

/// Run `script` in `dir` with `env` (the whole environment).
/// Errors: `E_SCRIPT` when it cannot start, `E_CANCELLED`.
pub async fn run(
    runner: &Runner,
    dir: &Path,
    script: &str,
    env: Vec<(OsString, OsString)>,
) -> Result<Finished> {
    runner.cancel.check()?;
    let mut cmd = tokio::process::Command::new(&runner.shell);
    cmd.arg("-c")
        .arg(script)
        .current_dir(dir)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    if runner.foreground {
        let out = if runner.stdout_to_stderr { 2 } else { 1 };
        cmd.stdout(terminal(out)).stderr(terminal(2));
    } else {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    let mut child = cmd.spawn().map_err(|e| {
        Error::new(
            Code::Script,
            format!(
                "cannot start the shell `{}` to run `{script}` in {}: {e}. Set script-shell in .npmrc to a shell that exists.",
                runner.shell,
                dir.display()
            ),
        )
    })?;
    let pid = child.id();
    let buf = Arc::new(Mutex::new(Vec::new()));
    // Readers run on their own tasks, so a chatty script never blocks on
    // a full pipe while we wait for it.
    let mut readers: Vec<tokio::task::JoinHandle<()>> = [
        child
            .stdout
            .take()
            .map(|s| tokio::spawn(collect(s, buf.clone()))),
        child
            .stderr
            .take()
            .map(|s| tokio::spawn(collect(s, buf.clone()))),
    ]
    .into_iter()
    .flatten()
    .collect();
    let status = tokio::select! {
        s = child.wait() => s,
        _ = runner.cancel.cancelled() => {
            kill_group(pid);
            let _ = child.wait().await;
            readers.iter().for_each(|r| r.abort());
            return Err(Error::new(Code::Cancelled, "the operation was cancelled"));
        }
    }
    .map_err(|e| Error::new(Code::Script, format!("waiting for `{script}` failed: {e}")))?;
    // A background process the script left behind may hold the pipes open:
    // read what is there, without waiting for it.
    let all = futures_util::future::join_all(readers.iter_mut());
    let _ = tokio::time::timeout(Duration::from_millis(500), all).await;
    readers.iter().for_each(|r| r.abort());
    kill_group(pid);
    let bytes = std::mem::take(&mut *buf.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(Finished {
        status,
        output: tail(&String::from_utf8_lossy(&bytes), TAIL_LINES),
    })
}

/// This process's stdout (1) or stderr (2) for a child. Node.js marks its
/// stdio descriptors close-on-exec, so plain inheritance would leave the
/// child without them: pass a duplicate, which the spawn places at 1/2.
fn terminal(fd: i32) -> Stdio {
    #[cfg(unix)]
    {
        use std::os::fd::BorrowedFd;
        // SAFETY: fds 1 and 2 stay open for the life of the process.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        if let Ok(owned) = fd.try_clone_to_owned() {
            return Stdio::from(owned);
        }
    }
    let _ = fd;
    Stdio::inherit()
}

/// Append what `stream` yields to `buf`, keeping the last [`KEEP_BYTES`].
async fn collect(mut stream: impl AsyncRead + Unpin + Send, buf: Arc<Mutex<Vec<u8>>>) {
    let mut chunk = vec![0u8; 16 * 1024];
    while let Ok(n) = stream.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        let mut b = buf.lock().unwrap_or_else(|e| e.into_inner());
        b.extend_from_slice(&chunk[..n]);
        if b.len() > 2 * KEEP_BYTES {
            let cut = b.len() - KEEP_BYTES;
            b.drain(..cut);
        }
    }
}

/// SIGKILL the script's process group (the shell and what it started).
fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: plain syscall; a group that is gone only yields ESRCH.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let text = text.trim_end();
    let mut start = text.len();
    for _ in 0..n {
        match text[..start].rfind('\n') {
            Some(i) => start = i,
            None => return text.to_string(),
        }
    }
    text[start + 1..].to_string()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::cancel::CancelToken;
    use std::collections::HashMap;
    use std::path::PathBuf;

    fn runner(cancel: CancelToken) -> Runner {
        Runner {
            base_env: HashMap::new(),
            init_cwd: PathBuf::from("/"),
            node_path: None,
            shell: "sh".into(),
            npm_config: vec![],
            foreground: false,
            stdout_to_stderr: false,
            jobs: 1,
            cancel,
        }
    }

    #[test]
    fn tail_keeps_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a\nb", 5), "a\nb");
        assert_eq!(tail("", 3), "");
    }

    #[tokio::test]
    async fn captures_output_and_status() {
        let dir = tempfile::tempdir().unwrap();
        let env = vec![
            ("X".into(), "hello".into()),
            ("PATH".into(), "/usr/bin:/bin".into()),
        ];
        let r = runner(CancelToken::new());
        let f = run(&r, dir.path(), "echo $X; pwd; echo err >&2; exit 3", env)
            .await
            .unwrap();
        assert!(!f.success());
        assert_eq!(f.describe(), "exit code 3");
        assert!(f.output.contains("hello") && f.output.contains("err"));
        assert!(f.output.contains(&dir.path().display().to_string()));
    }

    #[tokio::test]
    async fn cancel_kills_the_script() {
        let dir = tempfile::tempdir().unwrap();
        let cancel = CancelToken::new();
        let r = runner(cancel.clone());
        let started = std::time::Instant::now();
        let task = tokio::spawn(async move {
            let env = vec![("PATH".into(), "/usr/bin:/bin".into())];
            run(&r, dir.path(), "sleep 30; echo late", env).await
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        cancel.cancel();
        let e = task.await.unwrap().unwrap_err();
        assert_eq!(e.code, Code::Cancelled);
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
