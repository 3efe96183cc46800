//! The tarball scheduler: makes sure packages are in the [`Store`].
//!
//! [`Fetcher::ensure`] returns at once for a cached package; otherwise it
//! downloads (at most `max_downloads` at a time, hashing as chunks arrive),
//! verifies, then extracts on the blocking pool (at most `max_extracts` at a
//! time) and inserts atomically. Bodies between download and extraction are
//! held to `max_pending_bytes` in all. Concurrent calls for the same tarball share
//! one download. A `Fetcher` is a cheap handle: clone it into spawned tasks.
//!
//! Tarball requests send `Accept-Encoding: identity` so that reqwest's gzip
//! decoding (enabled crate-wide for packuments) never touches a `.tgz`: the
//! bytes hashed are the bytes the registry serves, like npm's.

mod download;
mod many;

pub use many::{resolved_url, Want};

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dashmap::DashMap;
use tokio::sync::{OnceCell, Semaphore, SemaphorePermit};
use tokio::task::JoinSet;

use crate::cancel::CancelToken;
use crate::config::FetchPolicy;
use crate::error::{Code, Error, Result};
use crate::registry::Http;
use crate::store::{Algorithm, Found, Sri, Store, StoredPackage};

/// A tarball to make available: where it is and what it must hash to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tarball {
    pub name: String,
    pub version: String,
    pub url: String,
    /// SRI string (`sha512-…`, `sha1-…`); `None` for packages without one.
    pub integrity: Option<String>,
}

/// Maps a tarball to the `Authorization` header value to send for its URL,
/// if any (see `Config::tarball_auth_header`).
pub type AuthFn = Arc<dyn Fn(&Tarball) -> Option<String> + Send + Sync>;

/// Default [`FetchOptions::max_pending_bytes`]: about a second of
/// extraction work on two cores.
pub const MAX_PENDING_BYTES: usize = 64 << 20;

/// Default [`FetchOptions::max_inflated_bytes`]: one of the biggest
/// archives common trees hold next to a few small ones.
pub const MAX_INFLATED_BYTES: usize = 128 << 20;

/// See [`FetchOptions::max_inflated_bytes`]: with the default budget,
/// archives inflating to 8 MB or less skip it, so that small archives do
/// not queue behind a big one while a core sits idle.
pub const SMALL_ARCHIVE_SHARE: usize = 16;

/// Scheduler settings. Build with `FetchOptions { .., ..Default::default() }`.
#[derive(Clone)]
pub struct FetchOptions {
    /// Concurrent downloads (default `registry::MAX_DOWNLOADS`).
    pub max_downloads: usize,
    /// Concurrent extractions on the blocking pool (default: twice the CPU
    /// count, since big files are written with `O_DIRECT` and an
    /// extraction waiting on the disk leaves its core to another).
    pub max_extracts: usize,
    /// Inflated archive bytes in memory at once (default
    /// [`MAX_INFLATED_BYTES`]). Archives are inflated whole, so this keeps
    /// several big ones landing together from adding up in peak RSS. An
    /// archive bigger than the budget takes all of it. Archives of at most
    /// 1/[`SMALL_ARCHIVE_SHARE`] of it skip the budget (adding at most
    /// that much per extraction): the budget is first come, first served,
    /// and small archives waiting behind a big one left a core idle.
    pub max_inflated_bytes: usize,
    /// Tarball bytes held in memory between download and extraction
    /// (default [`MAX_PENDING_BYTES`]). A download whose response is in
    /// waits for room before reading its body, so when extraction is the
    /// bottleneck the network waits instead of memory growing. A tarball
    /// bigger than the budget takes all of it.
    pub max_pending_bytes: usize,
    pub cancel: CancelToken,
    /// tarball → `Authorization` header value for its URL.
    pub auth: Option<AuthFn>,
    /// Retries, their waits, and the time limits of an attempt (the
    /// config's `fetch-*` settings; an attempt also fails, retryably, when
    /// no response or body bytes arrive for the idle timeout).
    pub policy: FetchPolicy,
    /// Prepares a git dependency's clone before packing (None: packed as
    /// committed).
    pub git_prepare: Option<crate::git::PrepareHook>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            max_downloads: crate::registry::MAX_DOWNLOADS,
            max_extracts: 2 * std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_inflated_bytes: MAX_INFLATED_BYTES,
            max_pending_bytes: MAX_PENDING_BYTES,
            cancel: CancelToken::new(),
            auth: None,
            policy: FetchPolicy::default(),
            git_prepare: None,
        }
    }
}

impl fmt::Debug for FetchOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FetchOptions")
            .field("max_downloads", &self.max_downloads)
            .field("max_extracts", &self.max_extracts)
            .field("max_inflated_bytes", &self.max_inflated_bytes)
            .field("max_pending_bytes", &self.max_pending_bytes)
            .field("cancelled", &self.cancel.is_cancelled())
            .field("auth", &self.auth.is_some())
            .field("policy", &self.policy)
            .finish()
    }
}

/// A package that is now in the store.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub package: StoredPackage,
    /// The SRI used: the input's, or the computed `sha512-…` if it had none.
    pub integrity: String,
    /// Bytes this call downloaded; 0 when cached or downloaded by a
    /// concurrent call for the same tarball.
    pub downloaded_bytes: u64,
}

/// Counters since the `Fetcher` was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchStats {
    /// Packages downloaded (one per distinct tarball).
    pub downloaded: u64,
    /// `ensure` calls satisfied without a download of their own (cached,
    /// or sharing a concurrent call's download).
    pub reused: u64,
    /// Tarball bytes downloaded.
    pub bytes: u64,
}

/// The scheduler. `Clone + Send + Sync + 'static`; clones share everything.
#[derive(Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

type Shared = Arc<OnceCell<Result<Fetched>>>;

struct Inner {
    store: Arc<Store>,
    http: Http,
    opts: FetchOptions,
    downloads: Semaphore,
    extracts: Semaphore,
    /// One permit per byte of [`FetchOptions::max_pending_bytes`].
    pending: Semaphore,
    /// One permit per byte of [`FetchOptions::max_inflated_bytes`].
    inflating: Semaphore,
    /// In-flight work per tarball (strongest digest, or URL without one).
    inflight: DashMap<String, Shared>,
    downloaded: AtomicU64,
    reused: AtomicU64,
    bytes: AtomicU64,
    /// Cache entries found changed and restored, for the summary.
    warnings: std::sync::Mutex<Vec<String>>,
}

impl Fetcher {
    pub fn new(store: Arc<Store>, http: Http, opts: FetchOptions) -> Fetcher {
        let downloads = Semaphore::new(opts.max_downloads.max(1));
        let extracts = Semaphore::new(opts.max_extracts.max(1));
        let pending = Semaphore::new(budget_permits(opts.max_pending_bytes));
        let inflating = Semaphore::new(budget_permits(opts.max_inflated_bytes));
        Fetcher {
            inner: Arc::new(Inner {
                store,
                http,
                opts,
                downloads,
                extracts,
                pending,
                inflating,
                inflight: DashMap::new(),
                downloaded: AtomicU64::new(0),
                reused: AtomicU64::new(0),
                bytes: AtomicU64::new(0),
                warnings: Default::default(),
            }),
        }
    }

    /// The store this fetcher fills.
    pub fn store(&self) -> &Arc<Store> {
        &self.inner.store
    }

    pub fn stats(&self) -> FetchStats {
        FetchStats {
            downloaded: self.inner.downloaded.load(Ordering::Relaxed),
            reused: self.inner.reused.load(Ordering::Relaxed),
            bytes: self.inner.bytes.load(Ordering::Relaxed),
        }
    }

    /// Warnings since the last call: cache entries that were found changed
    /// and restored from their tarballs.
    pub fn take_warnings(&self) -> Vec<String> {
        let mut w = self
            .inner
            .warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut *w)
    }

    /// Makes sure `t` is in the store. Errors: `E_INTEGRITY` (bad or
    /// mismatching SRI; nothing is stored), `E_NOT_FOUND` (HTTP 404),
    /// `E_NETWORK` (after retries), `E_TARBALL`, `E_CANCELLED`, `E_IO`.
    pub async fn ensure(&self, mut t: Tarball) -> Result<Fetched> {
        t.integrity = t.integrity.filter(|s| !s.trim().is_empty());
        let label = format!("{}@{}", t.name, t.version);
        let sri = match &t.integrity {
            Some(s) => Some(Sri::parse(s).map_err(|e| prefix(&label, e))?),
            None => None,
        };
        if let Some(fetched) = self.cached(&t, sri.as_ref()) {
            return Ok(fetched);
        }
        let key = match &sri {
            Some(sri) => sri.digests()[0].to_sri(),
            None => format!("url {}", t.url),
        };
        let cell = self.inner.inflight.entry(key.clone()).or_default().clone();
        let mut ran = false;
        let result = cell
            .get_or_init(|| {
                ran = true;
                // Boxed: a download's future is ~5 KB, and inline it would
                // sit in every caller's task, cached or not (a warm install
                // spawns thousands of them at once).
                Box::pin(self.fetch_now(&t, sri.as_ref(), &label))
            })
            .await
            .clone();
        if ran {
            // A failure stays for later callers: the retries are spent, and
            // an early download that failed must not be made again.
            let spent = matches!(&result, Err(e) if e.code != Code::Cancelled);
            if !spent {
                self.inner
                    .inflight
                    .remove_if(&key, |_, c| Arc::ptr_eq(c, &cell));
            }
            return result;
        }
        let mut fetched = result?;
        self.inner.reused.fetch_add(1, Ordering::Relaxed);
        fetched.downloaded_bytes = 0;
        if let Some(integrity) = t.integrity {
            fetched.integrity = integrity;
        }
        Ok(fetched)
    }

    /// [`Fetcher::ensure`] for every tarball concurrently, results in input
    /// order. The first error is returned and the other tasks are aborted.
    pub async fn ensure_all(&self, ts: Vec<Tarball>) -> Result<Vec<Fetched>> {
        let mut results: Vec<Option<Fetched>> = (0..ts.len()).map(|_| None).collect();
        let mut tasks = JoinSet::new();
        for (i, t) in ts.into_iter().enumerate() {
            let fetcher = self.clone();
            tasks.spawn(async move { (i, fetcher.ensure(t).await) });
        }
        while let Some(joined) = tasks.join_next().await {
            let (i, result) =
                joined.map_err(|e| Error::new(Code::Io, format!("a download task failed: {e}")))?;
            results[i] = Some(result?); // returning drops `tasks`, aborting the rest
        }
        Ok(results.into_iter().flatten().collect())
    }

    /// The cached entry, unchecked: its files are checked against their
    /// stamps when it is linked (`ops::early_link::read_job`), where the stats
    /// overlap the links instead of queueing before them.
    fn cached(&self, t: &Tarball, sri: Option<&Sri>) -> Option<Fetched> {
        let integrity = t.integrity.clone()?;
        let package = self.inner.store.get_sri(sri?)?;
        self.inner.reused.fetch_add(1, Ordering::Relaxed);
        Some(Fetched {
            package,
            integrity,
            downloaded_bytes: 0,
        })
    }

    async fn fetch_now(&self, t: &Tarball, sri: Option<&Sri>, label: &str) -> Result<Fetched> {
        // Another process may have stored it while we waited for the cell.
        if let Some(fetched) = self.cached(t, sri) {
            return Ok(fetched);
        }
        if is_git_url(&t.url) {
            return self.fetch_git(&t.url, label).await;
        }
        // Another process fetching the same tarball into this cache: wait
        // for it, then take what it stored.
        let _claim = match sri {
            Some(sri) => loop {
                match self.inner.store.try_claim(&sri.digests()[0]) {
                    Some(None) => {}
                    claimed => break claimed.flatten(),
                }
                if let Some(fetched) = self.cached(t, Some(sri)) {
                    return Ok(fetched);
                }
                self.inner.opts.cancel.check()?;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            },
            None => None,
        };
        if let Some(fetched) = self.cached(t, sri) {
            return Ok(fetched);
        }
        let algorithm = sri.map_or(Algorithm::Sha512, Sri::algorithm);
        let downloaded = download::download(&self.inner, t, algorithm, label).await?;
        if let Some(sri) = sri {
            if !sri.matches(&downloaded.digest) {
                return Err(Error::new(
                    Code::Integrity,
                    format!(
                        "{label}: integrity check failed for {}: expected {}, got {}. \
                         The tarball differs from the one the lockfile recorded; if the \
                         registry is right, remove the entry from package-lock.json and retry.",
                        crate::config::redact_credentials(&t.url),
                        t.integrity.as_deref().unwrap_or_default(),
                        downloaded.digest.to_sri()
                    ),
                ));
            }
        }
        self.inner.opts.cancel.check()?;
        let key = downloaded.digest.to_sri();
        let bytes = downloaded.body.len() as u64;
        // Holding the body's share of the pending budget until it is written.
        let _pending = downloaded.pending;
        let package = {
            let inflated = crate::store::inflated_size(&downloaded.body);
            let max = self.inner.opts.max_inflated_bytes;
            // A small archive never queues behind a big one (see
            // `FetchOptions::max_inflated_bytes`).
            let _room = if inflated > max / SMALL_ARCHIVE_SHARE {
                Some(budget(&self.inner.inflating, max, inflated).await)
            } else {
                None
            };
            let _permit = self.inner.extracts.acquire().await.expect("never closed");
            self.inner.opts.cancel.check()?;
            let store = self.inner.store.clone();
            let key = key.clone();
            let body = downloaded.body;
            // Bytes that matched an expected integrity skip the gzip CRC.
            let insert = match sri {
                Some(_) => Store::insert_expected,
                None => Store::insert_tarball,
            };
            tokio::task::spawn_blocking(move || insert(&store, &key, &body))
                .await
                .map_err(|e| Error::new(Code::Io, format!("{label}: extraction failed: {e}")))?
                .map_err(|e| prefix(label, e))?
        };
        self.inner.downloaded.fetch_add(1, Ordering::Relaxed);
        self.inner.bytes.fetch_add(bytes, Ordering::Relaxed);
        Ok(Fetched {
            package,
            integrity: t.integrity.clone().unwrap_or(key),
            downloaded_bytes: bytes,
        })
    }
}

/// A bytes budget as semaphore permits (at least one byte, at most what
/// `acquire_many` can ask for).
fn budget_permits(max: usize) -> usize {
    max.clamp(1, u32::MAX as usize)
}

/// Waits until `len` more bytes fit the budget `max` held by `sem` (all of
/// it when `len` is bigger).
async fn budget(sem: &Semaphore, max: usize, len: usize) -> SemaphorePermit<'_> {
    let n = len.clamp(1, budget_permits(max)) as u32;
    sem.acquire_many(n).await.expect("never closed")
}

/// A lockfile `resolved` of a git dependency (`git+ssh://…#<sha>`).
pub fn is_git_url(url: &str) -> bool {
    url.starts_with("git+") || url.starts_with("git://")
}

impl Fetcher {
    /// A git dependency at a resolved commit: packed from a clone once, then
    /// found in the store by what it resolved to (`<repo>#<sha>`), never by
    /// name@version.
    async fn fetch_git(&self, url: &str, label: &str) -> Result<Fetched> {
        let spec = crate::git::parse(url).ok_or_else(|| {
            Error::new(
                Code::Lockfile,
                format!("{label}: \"{url}\" is not a git URL"),
            )
        })?;
        let sha = spec
            .committish
            .clone()
            .filter(|c| c.len() == 40 && c.chars().all(|c| c.is_ascii_hexdigit()))
            .ok_or_else(|| {
                Error::new(
                    Code::Lockfile,
                    format!("{label}: \"{url}\" does not name a commit"),
                )
            })?;
        let store = self.inner.store.clone();
        if let Some(integrity) = crate::git::cache::lookup(store.root(), url) {
            let found = match Sri::parse(&integrity) {
                Ok(sri) => store.find(&sri),
                Err(_) => Found::Missing,
            };
            if let Found::Changed(file) = &found {
                self.warn(restored(label, file));
            }
            if let Found::Intact(package) = found {
                self.inner.reused.fetch_add(1, Ordering::Relaxed);
                return Ok(Fetched {
                    package,
                    integrity,
                    downloaded_bytes: 0,
                });
            }
        }
        let tgz = tempfile::Builder::new()
            .prefix("git-")
            .suffix(".tgz")
            .tempfile_in(store.tmp_dir())
            .map_err(|e| Error::io(store.tmp_dir().display(), e))?;
        let opts = crate::git::PackOptions {
            prepare: self.inner.opts.git_prepare.clone(),
            tmp_dir: Some(store.tmp_dir().to_path_buf()),
        };
        let packed = self
            .inner
            .opts
            .cancel
            .run(crate::git::pack(&spec, &sha, tgz.path(), &opts))
            .await?;
        let body = std::fs::read(tgz.path()).map_err(|e| Error::io(tgz.path().display(), e))?;
        let bytes = body.len() as u64;
        let integrity = packed.integrity.clone();
        let package = {
            let integrity = integrity.clone();
            tokio::task::spawn_blocking(move || store.insert_tarball(&integrity, &body))
                .await
                .map_err(|e| Error::new(Code::Io, format!("{label}: extraction failed: {e}")))?
                .map_err(|e| prefix(label, e))?
        };
        crate::git::cache::record(self.inner.store.root(), url, &integrity)?;
        self.inner.downloaded.fetch_add(1, Ordering::Relaxed);
        self.inner.bytes.fetch_add(bytes, Ordering::Relaxed);
        Ok(Fetched {
            package,
            integrity,
            downloaded_bytes: bytes,
        })
    }
}

impl Fetcher {
    fn warn(&self, message: String) {
        let mut w = self
            .inner
            .warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        w.push(message);
    }
}

/// The warning for a cache entry found changed and extracted again.
pub fn restored(label: &str, file: &std::path::Path) -> String {
    format!(
        "the cached copy of {label} was modified ({}); it was restored from its tarball",
        file.display()
    )
}

fn prefix(label: &str, mut e: Error) -> Error {
    e.message = format!("{label}: {}", e.message);
    e
}

#[cfg(test)]
mod net_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod testserver;
