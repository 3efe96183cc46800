//! Where resolution gets packuments from: the registry client, or an
//! in-memory set in tests.

use std::future::Future;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::{Code, Error, Result};
use crate::registry::Packument;
use crate::tree::Package;
use std::path::PathBuf;

pub trait Source {
    /// The packument of `name` (memoized by the implementation).
    fn packument(&self, name: &str) -> impl Future<Output = Result<Arc<Packument>>>;
    /// Start fetching `name` in the background, if that means anything;
    /// `wanted` (a range or tag) lets it look ahead at that version's
    /// dependencies.
    fn prefetch(&self, name: &str, wanted: &str);
    /// The package.json inside the tarball at `url` (http(s), or a
    /// `file://` absolute path) and the tarball's integrity, fetching it
    /// into the cache on the way.
    fn tarball_manifest(
        &self,
        url: &str,
    ) -> impl Future<Output = Result<(Map<String, Value>, String)>> {
        let msg = format!("cannot fetch {url} here");
        async move { Err(Error::new(Code::Unsupported, msg)) }
    }
    /// The unpacked contents of `pkg`'s tarball (for the dependencies it
    /// bundles), fetching it into the cache on the way.
    fn package_dir(&self, pkg: &Package) -> impl Future<Output = Result<PathBuf>> {
        let msg = format!("cannot fetch {} here", pkg.id());
        async move { Err(Error::new(Code::Unsupported, msg)) }
    }
}
