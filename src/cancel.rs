//! Cooperative cancellation shared by every stage of one operation.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Code, Error, Result};

/// A cheap, clonable flag. The binding sets it from an AbortSignal; stages
/// call [`CancelToken::check`] between units of work. A child token is
/// cancelled with its parent, or on its own (to stop an operation's
/// background work without touching the caller's token).
#[derive(Clone, Default, Debug)]
pub struct CancelToken {
    flag: Arc<AtomicBool>,
    parent: Option<Arc<AtomicBool>>,
}

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    /// A token that is cancelled when this one is, or by itself.
    pub fn child(&self) -> CancelToken {
        CancelToken {
            flag: Arc::new(AtomicBool::new(false)),
            parent: Some(self.flag.clone()),
        }
    }

    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
            || self
                .parent
                .as_ref()
                .is_some_and(|p| p.load(Ordering::Relaxed))
    }

    /// `Err(E_CANCELLED)` once cancelled.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::new(Code::Cancelled, "the operation was cancelled"))
        } else {
            Ok(())
        }
    }

    /// Resolves once cancelled (polled: cancellation is rare and a 20 ms
    /// reaction time is plenty).
    pub async fn cancelled(&self) {
        while !self.is_cancelled() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Run `fut`, or stop with `E_CANCELLED` as soon as the token is.
    pub async fn run<T>(&self, fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        tokio::select! {
            r = fut => r,
            _ = self.cancelled() => Err(Error::new(Code::Cancelled, "the operation was cancelled")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_follows_parent_not_the_reverse() {
        let parent = CancelToken::new();
        let child = parent.child();
        child.cancel();
        assert!(child.is_cancelled() && !parent.is_cancelled());
        let child2 = parent.child();
        parent.cancel();
        assert_eq!(child2.check().unwrap_err().code, Code::Cancelled);
    }
}
