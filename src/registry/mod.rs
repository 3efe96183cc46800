//! The registry client: fetches packuments over a pooled HTTP client, caches
//! them on disk with their ETag, and picks versions with npm's rules.
//!
//! - [`RegistryClient::packument`]: memoized per client, concurrent calls for
//!   one name share one request; disk cache revalidated with `If-None-Match`
//!   / `If-Modified-Since`; `prefer_offline` and `offline` modes.
//! - [`pick_version`]: npm-pick-manifest as a pure function.
//!
//! A [`Packument`] indexes its versions and parses a manifest only when
//! asked: a registry may answer the abbreviated request with the full
//! document (bench/README, "Everyday commands").

mod cache;
mod dns;
mod packument;
mod pick;
pub(crate) mod retry;
mod schema;
mod trim;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::StatusCode;
use tokio::sync::OnceCell;

use crate::config::{Config, FetchPolicy};
use crate::error::{Code, Error, Result};

pub use packument::{Dist, Manifest, Packument, PeerMeta};
pub use pick::{pick_version, pick_version_with, PickOptions};

/// npm's `Accept` header for install metadata ("corgi", falling back to the
/// full document).
pub const ACCEPT_CORGI: &str =
    "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";

/// The `Accept` header for whole documents, which carry each version's
/// publish time (`time`): npm asks for them when `before` is set.
pub const ACCEPT_FULL: &str = "application/json";

/// Builds the shared HTTP client: HTTP/2 where the server offers it, else
/// HTTP/1.1 with a pool of up to 64 idle connections per host; TCP
/// keepalive, a 10 s connect timeout, and the TLS and proxy settings of
/// `config` (`strict-ssl`, `ca`, `cafile`, `https-proxy`, `proxy`,
/// `noproxy`). Every client brisk uses comes from here; its users bound
/// each request themselves (`fetch-timeout` and the idle timeout of
/// [`FetchPolicy`]).
pub fn http_client(config: &Config) -> Result<reqwest::Client> {
    config
        .net
        .apply(http_client_builder())
        .build()
        .map_err(|e| match config.net.ca_source() {
            Some(source) => Error::new(
                Code::Config,
                format!(
                    "cannot use the CA certificates from {source}: {}; check that the file holds valid PEM certificates",
                    chain(&e)
                ),
            ),
            None => Error::new(
                Code::Network,
                format!("cannot create the HTTP client: {}", chain(&e)),
            ),
        })
}

/// The message for a request that failed because the server's TLS
/// certificate was not trusted, if `cause` (an error chain) says so.
pub(crate) fn tls_failure(url: &str, cause: &str) -> Option<String> {
    let lower = cause.to_ascii_lowercase();
    if !(lower.contains("certificate") || lower.contains("unknownissuer")) {
        return None;
    }
    Some(format!(
        "GET {url}: the server's TLS certificate is not trusted ({cause}). \
         If the registry or proxy uses a private CA, set cafile=/path/to/ca.pem in .npmrc \
         (or strict-ssl=false to skip certificate checks)"
    ))
}

/// The shared HTTP client, built on first use and at most once: building
/// one loads the system's CA certificates, which an install that needs no
/// network (everything locked and in the cache) should not pay. Cheap to
/// clone; clones share the client.
#[derive(Clone)]
pub struct Http {
    config: Option<Arc<Config>>,
    client: Arc<std::sync::OnceLock<Result<reqwest::Client>>>,
    /// Holds back requests until the first HTTPS one is answered.
    first: Arc<FirstAlone>,
}

/// Runs futures one at a time until one of them has finished, then all at
/// once (see [`Http::send`]).
#[derive(Default)]
struct FirstAlone {
    done: AtomicBool,
    turn: tokio::sync::Mutex<()>,
}

impl FirstAlone {
    async fn run<F: std::future::Future>(&self, fut: F) -> F::Output {
        if self.done.load(Ordering::Acquire) {
            return fut.await;
        }
        let turn = self.turn.lock().await;
        if self.done.load(Ordering::Acquire) {
            drop(turn);
            return fut.await;
        }
        // A dropped (cancelled) future leaves the next one to go alone.
        let output = fut.await;
        self.done.store(true, Ordering::Release);
        output
    }
}

impl Http {
    /// A client for `config`, built when first asked for.
    pub fn lazy(config: Arc<Config>) -> Http {
        Http {
            config: Some(config),
            client: Default::default(),
            first: Default::default(),
        }
    }

    /// Sends `request` (built on [`Http::client`]).
    ///
    /// Until this client's first HTTPS request has an answer, requests go
    /// one at a time. Started all at once, reqwest would open a connection
    /// for each before learning (from the TLS handshake) that the server
    /// speaks HTTP/2; after one answer, the HTTP/2 connection is in the pool
    /// and carries every request. An HTTP/1.1-only server costs the first
    /// requests one round trip of waiting. A failed request counts as an
    /// answer: a registry that is down fails every request at once, not one
    /// after another. Plain `http:` never gets HTTP/2 (no TLS to negotiate
    /// it) and never waits.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> reqwest::Result<reqwest::Response> {
        let (client, request) = request.build_split();
        let request = request?;
        if request.url().scheme() == "https" {
            self.first.run(client.execute(request)).await
        } else {
            client.execute(request).await
        }
    }

    /// The client; the first call builds it. Errors (a CA the TLS layer
    /// rejects) are kept and returned to every caller.
    pub fn client(&self) -> Result<&reqwest::Client> {
        self.client
            .get_or_init(|| {
                // Only a lazy `Http` gets here (`From` fills the cell).
                http_client(self.config.as_ref().expect("a lazy Http has its config"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// A ready-made client (tests with no configuration).
#[cfg(test)]
impl From<reqwest::Client> for Http {
    fn from(client: reqwest::Client) -> Http {
        Http {
            config: None,
            client: Arc::new(std::sync::OnceLock::from(Ok(client))),
            first: Default::default(),
        }
    }
}

fn http_client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        // HTTP/2 where the server offers it (ALPN), one connection per host
        // (see `Http::send`). With hyper's defaults (a 5 MB connection
        // window, 16 KB frames) that one connection throttled the cold
        // resolve of a large tree.
        .http2_initial_stream_window_size(H2_STREAM_WINDOW)
        .http2_initial_connection_window_size(H2_CONNECTION_WINDOW)
        .http2_max_frame_size(H2_MAX_FRAME)
        .pool_max_idle_per_host(64)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_keepalive(Duration::from_secs(60))
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("brisk/", env!("CARGO_PKG_VERSION")))
        // One lookup per host for the whole process (see `dns`).
        .dns_resolver(Arc::new(RESOLVER.clone()))
        // Opening many TLS connections at once stalled the network path
        // (before the DNS cache, which removed most of the stalls).
        .connector_layer(tower::limit::ConcurrencyLimitLayer::new(MAX_CONNECTS))
}

static RESOLVER: std::sync::LazyLock<dns::CachingResolver> =
    std::sync::LazyLock::new(dns::CachingResolver::default);

type Memo = Arc<OnceCell<Result<Arc<Packument>>>>;

/// Fetches packuments. Cheap to clone (shared state behind an `Arc`).
#[derive(Clone)]
pub struct RegistryClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<Config>,
    http: Http,
    /// Packuments on disk (written in one batch when the client goes away).
    disk: cache::DiskCache,
    memo: DashMap<String, Memo>,
    prefer_offline: AtomicBool,
    /// Revalidate even packuments the registry's max-age says are fresh.
    prefer_online: AtomicBool,
    offline: AtomicBool,
    /// Retries and timeouts (the config's; tests shorten the backoff).
    policy: Mutex<FetchPolicy>,
    /// Whole documents (with `time`) instead of abbreviated ones, for
    /// `before`; they are cached apart from the abbreviated ones.
    full: bool,
    /// Bounds packument requests in flight ([`MAX_REQUESTS`], widened to
    /// [`MAX_REQUESTS_H2`] once the registry answers over HTTP/2).
    requests: tokio::sync::Semaphore,
    widened: AtomicBool,
}

impl Drop for Inner {
    /// The last clone is gone: the packuments are freed on a thread of their
    /// own (tens of ms for a large tree, on the path to the answer
    /// otherwise); `disk`, dropped after this, still writes its batch here.
    fn drop(&mut self) {
        crate::free::later(std::mem::take(&mut self.memo));
    }
}

/// Concurrent packument requests per client (see `Inner::requests`):
/// fewer left a cold resolve waiting on the network, more gained nothing.
pub const MAX_REQUESTS: usize = 64;

/// Concurrent tarball downloads (the fetcher's default): more gain nothing,
/// since the work after a download is CPU-bound (gunzip, hashing, file
/// creation), and fewer in flight hold less memory.
pub const MAX_DOWNLOADS: usize = 16;

/// TLS connections being opened at once, per HTTP client.
pub const MAX_CONNECTS: usize = 16;

/// Concurrent packument requests once the registry answered over HTTP/2
/// (one connection carries them all; over HTTP/1.1 each needs its own).
pub const MAX_REQUESTS_H2: usize = 128;

/// HTTP/2 flow-control windows. The connection's must stay above what
/// [`MAX_DOWNLOADS`] streams can hold unread (a download waiting for room
/// in the fetcher's pending-bytes budget stops reading its body): unread
/// data keeps its share of the connection window, and a full one would stop
/// the downloads that hold the budget.
const H2_STREAM_WINDOW: u32 = 2 << 20;
const H2_CONNECTION_WINDOW: u32 = 64 << 20;
const H2_MAX_FRAME: u32 = 1 << 20;
const _: () = assert!(MAX_DOWNLOADS as u32 * H2_STREAM_WINDOW < H2_CONNECTION_WINDOW);

impl RegistryClient {
    /// A client over `http` that caches under `<cache_dir>/packuments/`
    /// (what it fetched is written when its last clone is dropped). With
    /// `before` configured it fetches whole documents, as npm does.
    pub fn new(config: Arc<Config>, http: Http, cache_dir: &Path) -> RegistryClient {
        let full = config.before.is_some();
        RegistryClient {
            inner: Arc::new(Inner {
                disk: if full {
                    cache::DiskCache::full(cache_dir)
                } else {
                    cache::DiskCache::new(cache_dir)
                },
                policy: Mutex::new(config.net.fetch),
                full,
                config,
                http,
                memo: DashMap::new(),
                prefer_offline: AtomicBool::new(false),
                prefer_online: AtomicBool::new(false),
                offline: AtomicBool::new(false),
                requests: tokio::sync::Semaphore::new(MAX_REQUESTS),
                widened: AtomicBool::new(false),
            }),
        }
    }

    /// The configuration this client uses (registries, auth).
    pub fn config(&self) -> &Arc<Config> {
        &self.inner.config
    }

    /// Use a cached packument without revalidating when one exists.
    pub fn set_prefer_offline(&self, on: bool) {
        self.inner.prefer_offline.store(on, Ordering::Relaxed);
    }

    /// Never touch the network: cached packuments only, else `E_NOT_CACHED`.
    /// npm's `--prefer-online`: ask the registry about every packument,
    /// even one its `Cache-Control: max-age` says is still fresh.
    pub fn set_prefer_online(&self, on: bool) {
        self.inner.prefer_online.store(on, Ordering::Relaxed);
    }

    pub fn set_offline(&self, on: bool) {
        self.inner.offline.store(on, Ordering::Relaxed);
    }

    /// The first retry waits this long (`fetch-retry-mintimeout`).
    pub fn set_retry_backoff(&self, base: Duration) {
        self.inner.policy.lock().unwrap().min_timeout = base;
    }

    /// The packument URL for `name` on its (scoped) registry; scoped names are
    /// escaped as npm does (`@scope%2fname`).
    pub fn packument_url(&self, name: &str) -> String {
        let base = self.inner.config.registry_for(name);
        format!("{base}{}", escape_name(name))
    }

    /// The packument of `name`, fetched at most once per client (concurrent
    /// callers share one request; failures are remembered too).
    pub async fn packument(&self, name: &str) -> Result<Arc<Packument>> {
        let cell = self
            .inner
            .memo
            .entry(name.to_string())
            .or_default()
            .value()
            .clone();
        // Messages name URLs; a registry URL may carry `user:password@`.
        let load = || async {
            self.load(name).await.map_err(|mut e| {
                e.message = crate::config::redact_credentials(&e.message);
                e
            })
        };
        cell.get_or_init(load).await.clone()
    }

    async fn load(&self, name: &str) -> Result<Arc<Packument>> {
        validate_name(name)?;
        let url = self.packument_url(name);
        let mut cached = {
            let (inner, name, url) = (self.inner.clone(), name.to_string(), url.clone());
            blocking(move || inner.disk.read(&name, &url))
                .await
                .map(Arc::new)
        };
        let offline = self.inner.offline.load(Ordering::Relaxed);
        let prefer_offline = self.inner.prefer_offline.load(Ordering::Relaxed);
        let fresh = !self.inner.prefer_online.load(Ordering::Relaxed)
            && cached.as_ref().is_some_and(|e| e.meta.fresh(cache::now()));
        if offline || prefer_offline || fresh {
            if let Some(p) = parse_cached(cached.clone()).await {
                return Ok(p);
            }
            if offline {
                return Err(Error::new(
                    Code::NotCached,
                    format!("package '{name}' is not in the cache ({url}) and offline mode is on; run once online (or prefetch) first"),
                ));
            }
            cached = None; // unreadable: fetch without validators
        }

        let meta = cached.as_ref().map(|e| e.meta.clone());
        match self.fetch(name, &url, meta.as_ref()).await {
            Ok(Fetched::Fresh(p)) => Ok(p),
            Ok(Fetched::NotModified(validators)) => match parse_cached(cached.clone()).await {
                Some(p) => {
                    self.refresh(name, &url, cached, validators).await;
                    Ok(p)
                }
                // The cached body is corrupt: fetch again without validators.
                None => match self.fetch(name, &url, None).await? {
                    Fetched::Fresh(p) => Ok(p),
                    Fetched::NotModified(_) => Err(Error::new(
                        Code::Network,
                        format!("GET {url}: unexpected 304 Not Modified without a cached copy"),
                    )),
                },
            },
            // Revalidation failed on the network: use the stale copy, as npm does.
            Err(e) if e.code == Code::Network && cached.is_some() => {
                parse_cached(cached).await.ok_or(e)
            }
            Err(e) => Err(e),
        }
    }

    /// A 304 renewed the cached copy: store it again with the new freshness
    /// (in this client's batch, which also keeps it among the batches kept).
    async fn refresh(
        &self,
        name: &str,
        url: &str,
        cached: Option<Arc<cache::CacheEntry>>,
        mut validators: cache::Validators,
    ) {
        let Some(entry) = cached else { return };
        if validators.max_age.is_none() {
            return;
        }
        validators.etag = validators.etag.or_else(|| entry.meta.etag.clone());
        validators.last_modified = validators
            .last_modified
            .or_else(|| entry.meta.last_modified.clone());
        let (inner, name, url) = (self.inner.clone(), name.to_string(), url.to_string());
        blocking(move || {
            if let Some(doc) = entry.document() {
                let _ = inner.disk.add(&name, &url, validators, &doc);
            }
        })
        .await;
    }

    /// GET with retries; parses and caches a 200.
    async fn fetch(
        &self,
        name: &str,
        url: &str,
        cached: Option<&cache::CacheMeta>,
    ) -> Result<Fetched> {
        let mut headers = HeaderMap::new();
        let accept = if self.inner.full {
            ACCEPT_FULL
        } else {
            ACCEPT_CORGI
        };
        headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
        if let Ok(ua) = HeaderValue::from_str(&self.inner.config.user_agent) {
            headers.insert(header::USER_AGENT, ua);
        }
        if let Some(auth) = self.inner.config.auth_header(url) {
            if let Ok(mut v) = HeaderValue::from_str(&auth) {
                v.set_sensitive(true);
                headers.insert(header::AUTHORIZATION, v);
            }
        }
        if let Some(meta) = cached {
            if let Some(v) = meta
                .etag
                .as_deref()
                .and_then(|e| HeaderValue::from_str(e).ok())
            {
                headers.insert(header::IF_NONE_MATCH, v);
            }
            if let Some(v) = meta
                .last_modified
                .as_deref()
                .and_then(|e| HeaderValue::from_str(e).ok())
            {
                headers.insert(header::IF_MODIFIED_SINCE, v);
            }
        }

        let http = self.inner.http.client()?;
        let policy = *self.inner.policy.lock().unwrap();
        let _permit = self.inner.requests.acquire().await.expect("never closed");
        let mut last_err = String::new();
        let mut retry_after = None;
        let mut attempts = 0;
        while attempts <= policy.retries {
            if attempts > 0 {
                tokio::time::sleep(policy.delay(attempts - 1, retry_after.take())).await;
            }
            attempts += 1;
            let request = http.get(url).headers(headers.clone());
            let started = Instant::now();
            let resp = match retry::within(&policy, started, self.inner.http.send(request)).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => {
                    last_err = chain(&e);
                    if let Some(msg) = tls_failure(url, &last_err) {
                        return Err(Error::new(Code::Network, msg)); // retrying cannot help
                    }
                    continue;
                }
                Err(limit) => {
                    last_err = limit.to_string();
                    continue;
                }
            };
            if resp.version() == reqwest::Version::HTTP_2
                && !self.inner.widened.swap(true, Ordering::Relaxed)
            {
                self.inner
                    .requests
                    .add_permits(MAX_REQUESTS_H2 - MAX_REQUESTS);
            }
            let status = resp.status();
            let header_str = |h: header::HeaderName| {
                resp.headers()
                    .get(h)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let validators = cache::Validators {
                etag: header_str(header::ETAG),
                last_modified: header_str(header::LAST_MODIFIED),
                max_age: header_str(header::CACHE_CONTROL).and_then(|v| cache::max_age(&v)),
            };
            if status == StatusCode::NOT_MODIFIED && cached.is_some() {
                return Ok(Fetched::NotModified(validators));
            }
            if status == StatusCode::NOT_FOUND {
                return Err(Error::new(
                    Code::NotFound,
                    format!(
                        "package '{name}' not found in registry {} ({url}); check the name, and the registry settings in .npmrc",
                        self.inner.config.registry_for(name)
                    ),
                ));
            }
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                return Err(Error::new(
                    Code::Network,
                    format!(
                        "GET {url}: {status}; the registry needs credentials for '{name}': add an auth token for this registry to .npmrc"
                    ),
                ));
            }
            if !status.is_success() {
                last_err = format!("HTTP {status}");
                let retryable = status.is_server_error()
                    || status == StatusCode::TOO_MANY_REQUESTS
                    || status == StatusCode::REQUEST_TIMEOUT;
                if retryable {
                    retry_after = retry::retry_after(resp.headers());
                    continue;
                }
                break;
            }
            let body = match read_body(&policy, resp).await {
                Ok(b) => b,
                Err(cause) => {
                    last_err = cause;
                    continue;
                }
            };
            let (inner, name, url_owned) = (self.inner.clone(), name.to_string(), url.to_string());
            let parsed = blocking(move || {
                let (mut p, doc) = Packument::from_registry_with(&body, inner.full)?;
                drop(body);
                // Manifests are read back from the cache rather than kept on
                // the heap; a failed cache write only costs a refetch next
                // time (and the document stays in memory).
                if let Ok(cached) = inner.disk.add(&name, &url_owned, validators, &doc) {
                    p.rehome(cached);
                }
                Ok::<_, serde_json::Error>(p)
            })
            .await;
            return match parsed {
                Ok(p) => Ok(Fetched::Fresh(Arc::new(p))),
                Err(e) => Err(Error::new(
                    Code::Network,
                    format!("GET {url}: the registry returned invalid packument JSON ({e}); try again, or check the registry URL"),
                )),
            };
        }
        let via = match self.inner.config.net.proxy_for(url) {
            Some(proxy) => format!(" (through proxy {proxy})"),
            None => String::new(),
        };
        let tries = if attempts == 1 { "attempt" } else { "attempts" };
        Err(Error::new(
            Code::Network,
            format!("GET {url}{via} failed after {attempts} {tries}: {last_err}; check your network connection, proxy and registry settings"),
        ))
    }
}

/// A response's body, each chunk within the policy's time limits.
async fn read_body(policy: &FetchPolicy, resp: reqwest::Response) -> Result<Vec<u8>, String> {
    use futures_util::StreamExt;
    let started = Instant::now();
    // The length is of the encoded body: a first guess only.
    let hint = resp.content_length().unwrap_or(0).min(64 << 20) as usize;
    let mut body = Vec::with_capacity(hint);
    let mut stream = std::pin::pin!(resp.bytes_stream());
    loop {
        match retry::within(policy, started, stream.next()).await {
            Ok(None) => return Ok(body),
            Ok(Some(Ok(chunk))) => body.extend_from_slice(&chunk),
            Ok(Some(Err(e))) => return Err(chain(&e)),
            Err(limit) => return Err(limit.to_string()),
        }
    }
}

enum Fetched {
    /// 304: the cached copy stands; what the response said about caching.
    NotModified(cache::Validators),
    Fresh(Arc<Packument>),
}

/// Parses a cache entry's packument off the async workers.
async fn parse_cached(entry: Option<Arc<cache::CacheEntry>>) -> Option<Arc<Packument>> {
    let entry = entry?;
    blocking(move || entry.packument()).await.map(Arc::new)
}

/// Runs CPU or disk work off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("blocking task panicked")
}

/// `@scope/name` → `@scope%2fname` (npm-package-arg's `escapedName`).
fn escape_name(name: &str) -> String {
    if name.starts_with('@') {
        name.replacen('/', "%2f", 1)
    } else {
        name.to_string()
    }
}

/// Rejects names that cannot be a registry package (and would break the URL
/// or the cache path).
fn validate_name(name: &str) -> Result<()> {
    crate::name::check(name).map_err(|why| {
        Error::new(
            Code::Manifest,
            format!("invalid package name '{name}': {why}"),
        )
    })
}

/// An error with its causes, `a: b: c`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let msg = s.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        src = s.source();
    }
    out
}

#[cfg(test)]
mod tests;
