//! Work an operation starts ahead of need (packument prefetches, early
//! tarball downloads) and must stop and wait for before it returns, so
//! nothing writes into the cache after the caller has its answer.

use std::sync::{Arc, Mutex};

use tokio::task::JoinSet;

use crate::cancel::CancelToken;

#[derive(Clone)]
pub struct Background {
    tasks: Arc<Mutex<JoinSet<()>>>,
    /// Cancelled by [`Background::finish`]; the fetcher watches it too.
    pub cancel: CancelToken,
}

impl Background {
    pub fn new(cancel: CancelToken) -> Background {
        Background {
            tasks: Arc::new(Mutex::new(JoinSet::new())),
            cancel,
        }
    }

    pub fn spawn(&self, fut: impl std::future::Future<Output = ()> + Send + 'static) {
        if !self.cancel.is_cancelled() {
            self.tasks.lock().expect("not poisoned").spawn(fut);
        }
    }

    /// Stop everything still running and wait for it (tasks may spawn
    /// more while stopping, hence the loop).
    pub async fn finish(&self) {
        self.cancel.cancel();
        loop {
            let mut set = std::mem::take(&mut *self.tasks.lock().expect("not poisoned"));
            if set.is_empty() {
                break;
            }
            while set.join_next().await.is_some() {}
        }
    }
}
