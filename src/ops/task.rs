//! Blocking work (filesystem calls, CPU-heavy set-up) run off the async
//! workers.

use crate::error::{Code, Error, Result};

/// Runs `f` on the blocking pool.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    joined(tokio::task::spawn_blocking(f)).await
}

/// The result of a task started on the blocking pool.
pub(super) async fn joined<T>(task: tokio::task::JoinHandle<Result<T>>) -> Result<T> {
    task.await
        .map_err(|e| Error::new(Code::Io, format!("a filesystem task failed: {e}")))?
}
