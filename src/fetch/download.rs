//! One tarball download: HTTP GET with retries (waiting as long as a
//! `Retry-After` asks, within bounds), hashing as chunks arrive,
//! cancellation, `fetch-timeout` and stall detection while waiting on the
//! network.

use std::future::Future;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::header::{HeaderValue, ACCEPT_ENCODING, AUTHORIZATION};
use reqwest::StatusCode;
use tokio::sync::SemaphorePermit;

use crate::cancel::CancelToken;
use crate::config::redact_credentials;
use crate::error::{Code, Error, Result};
use crate::registry::retry;
use crate::store::{Algorithm, Digest, Hasher};

use super::{Inner, Tarball};

/// How often a wait on the network wakes up to look at the cancel token.
const TICK: Duration = Duration::from_millis(100);

/// A complete response body, its digest, and its share of the pending-bytes
/// budget (held until the body has been extracted).
pub(super) struct Downloaded<'a> {
    pub body: Vec<u8>,
    pub digest: Digest,
    pub pending: SemaphorePermit<'a>,
}

enum Failure {
    /// Do not retry (404, cancellation, auth failures).
    Fatal(Error),
    /// Worth another attempt (5xx, 429, connection errors, timeouts), after
    /// the wait the server asked for, if it did.
    Retry(String, Option<Duration>),
}

/// Downloads `t.url`, hashing with `algorithm`, retrying transient failures
/// as `opts.policy` says. Each attempt holds one download permit.
pub(super) async fn download<'a>(
    inner: &'a Inner,
    t: &Tarball,
    algorithm: Algorithm,
    label: &str,
) -> Result<Downloaded<'a>> {
    if let Some(path) = t.url.strip_prefix("file://") {
        return read_local(inner, path, algorithm, label).await;
    }
    let cancel = &inner.opts.cancel;
    let policy = &inner.opts.policy;
    let mut attempt = 0;
    loop {
        cancel.check()?;
        let result = {
            let _permit = inner.downloads.acquire().await.expect("never closed");
            cancel.check()?;
            attempt_once(inner, t, algorithm, label).await
        };
        match result {
            Ok(done) => return Ok(done),
            Err(Failure::Fatal(e)) => return Err(e),
            Err(Failure::Retry(_, after)) if attempt < policy.retries => {
                let delay = policy.delay(attempt, after);
                cancel
                    .run(async {
                        tokio::time::sleep(delay).await;
                        Ok(())
                    })
                    .await?;
                attempt += 1;
            }
            Err(Failure::Retry(cause, _)) => {
                let tries = match attempt + 1 {
                    1 => "1 attempt".to_string(),
                    n => format!("{n} attempts"),
                };
                return Err(Error::new(
                    Code::Network,
                    format!(
                        "could not download {label} from {} ({tries}): {cause}. \
                         Check your network connection, proxy and registry settings.",
                        redact_credentials(&t.url),
                    ),
                ));
            }
        }
    }
}

/// Waits until `len` more bytes fit the pending budget (all of it when `len`
/// is bigger), or fails when the install is cancelled.
pub(super) async fn reserve<'a>(inner: &'a Inner, len: u64) -> Result<SemaphorePermit<'a>> {
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    let permit = super::budget(&inner.pending, inner.opts.max_pending_bytes, len).await;
    inner.opts.cancel.check()?;
    Ok(permit)
}

/// A tarball bigger than any archive may inflate to: refused before it
/// fills memory (a body that never ends, a device file).
fn too_big(label: &str, max: u64) -> Error {
    Error::new(
        Code::Tarball,
        format!(
            "{label}: the tarball is bigger than {max} bytes; refusing it. If you trust it, \
             raise brisk-max-unpacked-size in .npmrc."
        ),
    )
}

/// A `file:` tarball: read from disk and hashed like a download. Only a
/// regular file of bounded size is read (never a device or a fifo).
async fn read_local<'a>(
    inner: &'a Inner,
    path: &str,
    algorithm: Algorithm,
    label: &str,
) -> Result<Downloaded<'a>> {
    let max = inner.store.limits().max_unpacked;
    let at = std::path::PathBuf::from(path);
    let read = tokio::task::spawn_blocking(move || crate::bounded::read_max(&at, max))
        .await
        .map_err(|e| Error::new(Code::Io, format!("{label}: reading {path} failed: {e}")))?;
    let body = read.map_err(|e| match e.kind() {
        std::io::ErrorKind::FileTooLarge => too_big(label, max),
        std::io::ErrorKind::InvalidInput => Error::new(
            Code::Tarball,
            format!("{label}: {path} is not a regular file; a tarball must be one"),
        ),
        kind => Error::new(
            if kind == std::io::ErrorKind::NotFound {
                Code::NotFound
            } else {
                Code::Io
            },
            format!("{label}: cannot read the tarball {path}: {e}"),
        ),
    })?;
    let mut hasher = Hasher::new(algorithm);
    hasher.update(&body);
    Ok(Downloaded {
        pending: reserve(inner, body.len() as u64).await?,
        digest: hasher.finish(),
        body,
    })
}

async fn attempt_once<'a>(
    inner: &'a Inner,
    t: &Tarball,
    algorithm: Algorithm,
    label: &str,
) -> Result<Downloaded<'a>, Failure> {
    // The body must be hashed exactly as served: ask for no transfer
    // encoding, so reqwest's gzip decoding (on for packuments) never kicks in.
    let http = inner.http.client().map_err(Failure::Fatal)?;
    let mut request = http.get(&t.url).header(ACCEPT_ENCODING, "identity");
    if let Some(auth) = &inner.opts.auth {
        if let Some(mut value) = auth(t).and_then(|v| HeaderValue::from_str(&v).ok()) {
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
    }
    let (cancel, policy) = (&inner.opts.cancel, &inner.opts.policy);
    let response = wait(
        cancel,
        policy,
        Instant::now(),
        Box::pin(inner.http.send(request)),
    )
    .await?
    .map_err(|e| {
        let cause = describe(&e);
        match crate::registry::tls_failure(&redact_credentials(&t.url), &cause) {
            // Retrying cannot fix an untrusted certificate.
            Some(msg) => Failure::Fatal(Error::new(Code::Network, msg)),
            None => Failure::Retry(cause, None),
        }
    })?;

    let status = response.status();
    if status == StatusCode::NOT_FOUND {
        return Err(Failure::Fatal(Error::new(
            Code::NotFound,
            format!(
                "tarball for {label} not found at {} (HTTP 404). \
                 The version may have been unpublished; check the lockfile's resolved URL.",
                redact_credentials(&t.url)
            ),
        )));
    }
    let transient = status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS;
    if transient {
        let after = retry::retry_after(response.headers());
        return Err(Failure::Retry(format!("HTTP {status}"), after));
    }
    if !status.is_success() {
        let hint = match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                " Check the auth token for this registry in .npmrc."
            }
            _ => "",
        };
        return Err(Failure::Fatal(Error::new(
            Code::Network,
            format!(
                "downloading {label} from {} failed: HTTP {status}.{hint}",
                redact_credentials(&t.url)
            ),
        )));
    }

    // Room for the body before reading it; without a length, once it is in.
    let length = response.content_length();
    let pending = match length {
        Some(len) => Some(reserve(inner, len).await.map_err(Failure::Fatal)?),
        None => None,
    };
    let max = inner.store.limits().max_unpacked;
    if length.is_some_and(|len| len > max) {
        return Err(Failure::Fatal(too_big(label, max)));
    }
    let mut body = Vec::with_capacity(length.unwrap_or(0).min(64 << 20) as usize);
    let mut hasher = Hasher::new(algorithm);
    let mut stream = Box::pin(response.bytes_stream());
    let body_started = Instant::now();
    loop {
        cancel.check().map_err(Failure::Fatal)?;
        match wait(cancel, policy, body_started, stream.next()).await? {
            None => break,
            Some(Ok(chunk)) => {
                if (body.len() + chunk.len()) as u64 > max {
                    return Err(Failure::Fatal(too_big(label, max)));
                }
                hasher.update(&chunk);
                body.extend_from_slice(&chunk);
            }
            Some(Err(e)) => return Err(Failure::Retry(describe(&e), None)),
        }
    }
    let pending = match pending {
        Some(permit) => permit,
        None => reserve(inner, body.len() as u64)
            .await
            .map_err(Failure::Fatal)?,
    };
    Ok(Downloaded {
        body,
        digest: hasher.finish(),
        pending,
    })
}

/// Awaits `fut`, waking every [`TICK`] to honour cancellation; gives up
/// (retryably) at the policy's deadline for a wait starting now in a phase
/// (response, body) that started at `phase`.
async fn wait<F: Future + Unpin>(
    cancel: &CancelToken,
    policy: &crate::config::FetchPolicy,
    phase: Instant,
    mut fut: F,
) -> Result<F::Output, Failure> {
    let (deadline, limit) = retry::deadline(policy, phase);
    loop {
        let tick = deadline.min(Instant::now() + TICK);
        match tokio::time::timeout_at(tick.into(), &mut fut).await {
            Ok(output) => return Ok(output),
            Err(_) => {
                cancel.check().map_err(Failure::Fatal)?;
                if Instant::now() >= deadline {
                    return Err(Failure::Retry(limit.to_string(), None));
                }
            }
        }
    }
}

/// A reqwest error with its chain of causes ("…: connection refused").
fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
