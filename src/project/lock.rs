//! One writer per project: an exclusive `flock` on the project folder
//! itself, held while an operation changes node_modules or the lockfile.
//! Locking the folder (not a file in it) leaves nothing behind in the
//! user's project, and the kernel releases it when the process dies.

use std::fs::File;
use std::path::Path;
use std::time::Duration;

use crate::cancel::CancelToken;
use crate::error::{Error, Result};

/// How often a waiting install tries the lock again.
const POLL: Duration = Duration::from_millis(50);

/// Held while alive; dropping it releases the lock.
#[derive(Debug)]
pub struct ProjectLock {
    _dir: File,
}

impl ProjectLock {
    /// Takes the lock on `dir`, waiting (and calling `waiting` once) while
    /// another process or install holds it; cancellable while it waits.
    pub async fn acquire(
        dir: &Path,
        cancel: &CancelToken,
        waiting: impl FnOnce(),
    ) -> Result<ProjectLock> {
        let file =
            File::open(dir).map_err(|e| Error::io(format!("cannot open {}", dir.display()), e))?;
        let mut waiting = Some(waiting);
        loop {
            match try_lock(&file) {
                Ok(true) => return Ok(ProjectLock { _dir: file }),
                Ok(false) => {}
                Err(e) => return Err(Error::io(format!("cannot lock {}", dir.display()), e)),
            }
            if let Some(tell) = waiting.take() {
                tell();
            }
            cancel.check()?;
            tokio::time::sleep(POLL).await;
        }
    }
}

/// `Ok(false)` when another holder has it (std's `flock`).
fn try_lock(file: &File) -> std::io::Result<bool> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(std::fs::TryLockError::WouldBlock) => Ok(false),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[tokio::test]
    async fn a_second_holder_waits_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let cancel = CancelToken::new();
        let first = ProjectLock::acquire(dir.path(), &cancel, || panic!("free: no wait"))
            .await
            .unwrap();
        let waited = AtomicBool::new(false);
        let second =
            ProjectLock::acquire(dir.path(), &cancel, || waited.store(true, Ordering::SeqCst));
        let release = async {
            while !waited.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            drop(first);
        };
        let (second, ()) = tokio::join!(second, release);
        second.unwrap();
        assert!(waited.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn waiting_can_be_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let _held = ProjectLock::acquire(dir.path(), &CancelToken::new(), || {})
            .await
            .unwrap();
        let cancel = CancelToken::new();
        let e = ProjectLock::acquire(dir.path(), &cancel, || cancel.cancel())
            .await
            .unwrap_err();
        assert_eq!(e.code, crate::error::Code::Cancelled);
    }
}
