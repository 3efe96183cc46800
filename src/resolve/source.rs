//! Where resolution gets packuments from: the registry client, or an
//! in-memory set in tests.

use std::future::Future;
use std::sync::Arc;

use crate::error::Result;
use crate::registry::Packument;

pub trait Source {
    /// The packument of `name` (memoized by the implementation).
    fn packument(&self, name: &str) -> impl Future<Output = Result<Arc<Packument>>>;
    /// Start fetching `name` in the background, if that means anything;
    /// `wanted` (a range or tag) lets it look ahead at that version's
    /// dependencies.
    fn prefetch(&self, name: &str, wanted: &str);
}
