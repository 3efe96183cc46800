//! Cooperative cancellation shared by every stage of one operation.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::{Code, Error, Result};

/// A cheap, clonable flag. The binding sets it from an AbortSignal; stages
/// call [`CancelToken::check`] between units of work.
#[derive(Clone, Default, Debug)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(E_CANCELLED)` once cancelled.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::new(Code::Cancelled, "the operation was cancelled"))
        } else {
            Ok(())
        }
    }
}
