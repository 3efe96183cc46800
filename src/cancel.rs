//! Cooperative cancellation shared by every stage of one operation.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

use crate::error::{Code, Error, Result};

/// A cheap, clonable flag. The binding sets it from an AbortSignal; stages
/// call [`CancelToken::check`] between units of work. A child token is
/// cancelled with its parent, or on its own (to stop an operation's
/// background work without touching the caller's token).
#[derive(Clone, Default, Debug)]
pub struct CancelToken {
    inner: Arc<Inner>,
    parent: Option<Box<CancelToken>>,
}

#[derive(Default, Debug)]
struct Inner {
    flag: AtomicBool,
    /// Wakes tasks waiting in [`CancelToken::cancelled`].
    notify: Notify,
}

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    /// A token that is cancelled when this one is, or by itself.
    pub fn child(&self) -> CancelToken {
        CancelToken {
            inner: Arc::default(),
            parent: Some(Box::new(self.clone())),
        }
    }

    pub fn cancel(&self) {
        self.inner.flag.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner.flag.load(Ordering::Relaxed)
            || self.parent.as_ref().is_some_and(|p| p.is_cancelled())
    }

    /// `Err(E_CANCELLED)` once cancelled.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::new(Code::Cancelled, "the operation was cancelled"))
        } else {
            Ok(())
        }
    }

    /// Resolves once cancelled (woken by `cancel`, no polling).
    pub fn cancelled(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            let own = self.inner.notify.notified();
            tokio::pin!(own);
            // Registered before the flag is read, so no wake-up is missed.
            own.as_mut().enable();
            if self.inner.flag.load(Ordering::SeqCst) {
                return;
            }
            match &self.parent {
                Some(parent) => tokio::select! {
                    _ = own => {}
                    _ = parent.cancelled() => {}
                },
                None => own.await,
            }
        })
    }

    /// Run `fut`, or stop with `E_CANCELLED` as soon as the token is.
    pub async fn run<T>(&self, fut: impl Future<Output = Result<T>>) -> Result<T> {
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

    #[tokio::test]
    async fn cancelled_wakes_waiters_of_a_child() {
        let parent = CancelToken::new();
        let child = parent.child();
        let waiter = tokio::spawn({
            let child = child.clone();
            async move { child.cancelled().await }
        });
        tokio::task::yield_now().await;
        parent.cancel();
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("woken")
            .unwrap();
    }
}
