//! Work an operation starts ahead of need (packument prefetches, early
//! tarball downloads) and must stop and wait for before it returns, so
//! nothing writes into the cache after the caller has its answer.

use std::sync::{Arc, Mutex};

use tokio::task::JoinSet;

use crate::cancel::CancelToken;
use crate::error::Result;
use crate::registry::{Packument, RegistryClient};
use crate::resolve::Source;

pub struct Background {
    tasks: Mutex<JoinSet<()>>,
    /// Cancelled by [`Background::finish`]; the fetcher watches it too.
    pub cancel: CancelToken,
}

impl Background {
    pub fn new(cancel: CancelToken) -> Background {
        Background {
            tasks: Mutex::new(JoinSet::new()),
            cancel,
        }
    }

    pub fn spawn(&self, fut: impl std::future::Future<Output = ()> + Send + 'static) {
        self.tasks.lock().expect("not poisoned").spawn(fut);
    }

    /// Stop everything still running and wait for it.
    pub async fn finish(&self) {
        self.cancel.cancel();
        let mut set = std::mem::take(&mut *self.tasks.lock().expect("not poisoned"));
        while set.join_next().await.is_some() {}
    }
}

/// The registry as a resolution source, prefetching in the background.
pub struct RegistrySource<'a> {
    pub client: RegistryClient,
    pub background: &'a Background,
}

impl Source for RegistrySource<'_> {
    async fn packument(&self, name: &str) -> Result<Arc<Packument>> {
        self.client.packument(name).await
    }

    fn prefetch(&self, name: &str) {
        let client = self.client.clone();
        let name = name.to_string();
        let cancel = self.background.cancel.clone();
        self.background.spawn(async move {
            // Memoized by the client; an error surfaces when resolution
            // asks for the same name.
            tokio::select! {
                _ = client.packument(&name) => {}
                _ = cancel.cancelled() => {}
            }
        });
    }
}
