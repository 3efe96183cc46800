//! Network settings read from `.npmrc`: TLS trust (`strict-ssl`, `ca`,
//! `cafile`) and proxies (`https-proxy`, `proxy`, `noproxy`), resolved the
//! way npm resolves them, and applied to a `reqwest::ClientBuilder` in one
//! place ([`NetConfig::apply`]); retries and timeouts (`fetch-retries`,
//! `fetch-retry-factor`, `fetch-retry-mintimeout`, `fetch-retry-maxtimeout`,
//! `fetch-timeout`) as a [`FetchPolicy`].
//!
//! npm's rules, as implemented here:
//! - The built-in CA list is Mozilla's (the `webpki-roots` crate), as
//!   Node's is: Node, and so npm, does not read the system's certificate
//!   store unless `NODE_USE_SYSTEM_CA=1` (recent Node versions), which
//!   brisk honours too. Reading the store (on Debian a bundle and a
//!   directory of ~300 files) delayed the first connection of every
//!   command, the most right after the page cache was cold.
//! - `ca` (a PEM string or a `ca[]=` list) and `cafile` (a PEM file, several
//!   certificates allowed) *replace* the built-in CA list: npm hands them to
//!   Node as the TLS `ca` option, which does the same. `cafile` wins over
//!   `ca` when both are set. Without either, `NODE_EXTRA_CA_CERTS` (read by
//!   Node for npm) is added to the built-in list.
//! - `strict-ssl=false` accepts any server certificate.
//! - The proxy is `https-proxy`, else `proxy`, for every request. Without
//!   either, the environment decides: `https_proxy` for https:// URLs,
//!   `https_proxy`, `http_proxy` or `proxy` for http:// URLs (names in any
//!   case). `noproxy` (else `no_proxy`) lists domains that bypass the proxy:
//!   `example.com` matches it and its subdomains. reqwest's own environment
//!   proxy lookup is turned off so that `.npmrc` always wins.
//!
//! Deviations from npm: a missing `cafile` is an error (npm ignores it and
//! then fails on every request); a proxy URL without a scheme gets `http://`;
//! `noproxy=*` bypasses the proxy for every host.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Certificate, ClientBuilder, Url};

use super::{env_get, expand_path, item_string, to_bool, IniValue, Setting};
use crate::error::{Code, Error, Result};

/// TLS and proxy settings. Cheap to clone.
#[derive(Clone)]
pub struct NetConfig {
    /// `strict-ssl` (default `true`): verify server certificates.
    pub strict_ssl: bool,
    /// Certificates from `cafile`/`ca`; they replace the built-in roots.
    ca: Option<CaCerts>,
    /// `NODE_EXTRA_CA_CERTS` when `ca` is unset: a PEM file added to the
    /// built-in roots. Read when a client is built, not here: most locked,
    /// cached installs never build one, and parsing a system bundle
    /// (~140 certificates) on every run cost them for nothing.
    extra_ca: Option<PathBuf>,
    /// `NODE_USE_SYSTEM_CA=1` when `ca` is unset: the system's certificate
    /// store is added to the built-in roots too (read when a client is built).
    system_ca: bool,
    proxy: Arc<Proxies>,
    /// Retries and timeouts of registry and tarball requests.
    pub fetch: FetchPolicy,
}

/// How registry and tarball requests retry and time out: npm's `fetch-*`
/// keys, with brisk's faster defaults for those that are not set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FetchPolicy {
    /// Attempts after the first (`fetch-retries`; 2, as npm).
    pub retries: u32,
    /// Each retry waits this many times longer than the one before
    /// (`fetch-retry-factor`; npm 10, brisk 4).
    pub factor: f64,
    /// The first retry's wait (`fetch-retry-mintimeout`; npm 10 s, brisk
    /// 250 ms).
    pub min_timeout: Duration,
    /// No retry waits longer, a server's `Retry-After` included
    /// (`fetch-retry-maxtimeout`; 60 s, as npm).
    pub max_timeout: Duration,
    /// `fetch-timeout` (300 s, as npm): the longest wait for a response,
    /// and again for its body, as npm's fetch counts it; `None` when set
    /// to 0.
    pub timeout: Option<Duration>,
    /// An attempt fails when nothing arrives for this long: `fetch-timeout`
    /// when it is set, else [`FetchPolicy::IDLE_TIMEOUT`].
    pub idle_timeout: Duration,
    /// Whether `fetch-timeout` was set (messages name it then).
    pub timeout_set: bool,
}

impl Default for FetchPolicy {
    fn default() -> FetchPolicy {
        FetchPolicy {
            retries: 2,
            factor: 4.0,
            min_timeout: Duration::from_millis(250),
            max_timeout: Duration::from_secs(60),
            timeout: Some(Duration::from_secs(300)),
            idle_timeout: FetchPolicy::IDLE_TIMEOUT,
            timeout_set: false,
        }
    }
}

impl FetchPolicy {
    /// brisk's idle timeout when `fetch-timeout` is not set: a registry
    /// that accepts a connection and never answers fails in well under a
    /// minute with the default retries, not after npm's 300 s per attempt.
    pub const IDLE_TIMEOUT: Duration = Duration::from_secs(15);

    /// Reads the `fetch-*` keys; a value that is not a non-negative number
    /// is an `E_CONFIG` error naming where it was set.
    pub(super) fn load(merged: &HashMap<String, Setting>) -> Result<FetchPolicy> {
        let mut p = FetchPolicy::default();
        let ms = |v: f64| Duration::from_millis(v as u64); // `as` saturates
        if let Some(v) = number(merged, "fetch-retries")? {
            p.retries = v as u32;
        }
        if let Some(v) = number(merged, "fetch-retry-factor")? {
            p.factor = v;
        }
        if let Some(v) = number(merged, "fetch-retry-mintimeout")? {
            p.min_timeout = ms(v);
        }
        if let Some(v) = number(merged, "fetch-retry-maxtimeout")? {
            p.max_timeout = ms(v);
        }
        if let Some(v) = number(merged, "fetch-timeout")? {
            p.timeout_set = true;
            p.timeout = (v > 0.0).then(|| ms(v));
            if let Some(t) = p.timeout {
                p.idle_timeout = t;
            }
        }
        Ok(p)
    }

    /// The wait before retry number `retry` (0 for the first):
    /// `min_timeout * factor^retry`, at most `max_timeout`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let secs = self.min_timeout.as_secs_f64() * self.factor.powi(retry.min(64) as i32);
        Duration::try_from_secs_f64(secs)
            .unwrap_or(self.max_timeout)
            .min(self.max_timeout)
    }

    /// The wait before retry number `retry`: what the server asked for in
    /// `Retry-After` (at most `max_timeout`), else [`FetchPolicy::backoff`].
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(d) => d.min(self.max_timeout),
            None => self.backoff(retry),
        }
    }
}

/// A numeric setting (`None` when unset, empty or `null`).
fn number(merged: &HashMap<String, Setting>, key: &str) -> Result<Option<f64>> {
    let Some(s) = merged.get(key) else {
        return Ok(None);
    };
    if matches!(s.value, IniValue::Null) {
        return Ok(None);
    }
    let text = item_string(&s.value);
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
        _ => Err(Error::new(
            Code::Config,
            format!(
                "invalid {key} '{text}' (set in {}): expected a number that is 0 or more",
                s.source
            ),
        )),
    }
}

#[derive(Clone)]
struct CaCerts {
    certs: Vec<Certificate>,
    /// Where they came from, for error messages: `cafile /x/ca.pem (set in …)`.
    source: String,
}

/// The proxy to use per URL scheme and the hosts that bypass it.
#[derive(Default)]
struct Proxies {
    https: Option<Url>,
    http: Option<Url>,
    /// Lowercased domains (`noproxy` or `no_proxy`).
    no_proxy: Vec<String>,
}

impl NetConfig {
    /// Reads the network keys from the merged settings.
    pub(super) fn load(
        merged: &HashMap<String, Setting>,
        env: &HashMap<String, String>,
        project_dir: &Path,
    ) -> Result<NetConfig> {
        let strict_ssl = merged.get("strict-ssl").is_none_or(|s| to_bool(&s.value));
        let ca = match merged.get("cafile").filter(|s| is_set(&s.value)) {
            Some(s) => Some(read_cafile(&item_string(&s.value), s, env, project_dir)?),
            None => match merged.get("ca") {
                Some(s) if is_set(&s.value) => Some(parse_ca(s)?),
                _ => None,
            },
        };
        let extra_ca = match (&ca, env_get(env, "NODE_EXTRA_CA_CERTS")) {
            (None, Some(path)) if !path.is_empty() => Some(PathBuf::from(path)),
            _ => None,
        };
        let system_ca = ca.is_none() && env_get(env, "NODE_USE_SYSTEM_CA").as_deref() == Some("1");
        Ok(NetConfig {
            strict_ssl,
            ca,
            extra_ca,
            system_ca,
            proxy: Arc::new(load_proxies(merged, env)?),
            fetch: FetchPolicy::load(merged)?,
        })
    }

    /// Applies TLS and proxy settings to a client builder. Always turns off
    /// reqwest's own environment proxy lookup (npm's precedence is here).
    pub fn apply(&self, mut builder: ClientBuilder) -> ClientBuilder {
        if !self.strict_ssl {
            builder = builder.danger_accept_invalid_certs(true);
        }
        match &self.ca {
            Some(ca) => {
                builder = builder.tls_built_in_root_certs(false);
                for cert in &ca.certs {
                    builder = builder.add_root_certificate(cert.clone());
                }
            }
            None => {
                // Node warns about an unreadable file at startup and goes on.
                let extra = self
                    .extra_ca
                    .as_ref()
                    .and_then(|path| crate::bounded::read(path.as_ref()).ok());
                let certs = extra.and_then(|pem| Certificate::from_pem_bundle(&pem).ok());
                for cert in certs.unwrap_or_default() {
                    builder = builder.add_root_certificate(cert);
                }
                if self.system_ca {
                    // What cannot be read is skipped, as Node does.
                    let system = rustls_native_certs::load_native_certs().certs;
                    for der in system {
                        if let Ok(cert) = Certificate::from_der(&der) {
                            builder = builder.add_root_certificate(cert);
                        }
                    }
                }
            }
        }
        builder = builder.no_proxy();
        if self.proxy.https.is_some() || self.proxy.http.is_some() {
            let proxies = self.proxy.clone();
            builder = builder.proxy(reqwest::Proxy::custom(move |url| {
                proxies.proxy_for(url).cloned()
            }));
        }
        builder
    }

    /// Where the `ca`/`cafile` certificates came from, if set (for errors
    /// when the TLS layer rejects them).
    pub fn ca_source(&self) -> Option<&str> {
        self.ca.as_ref().map(|c| c.source.as_str())
    }

    /// Number of `ca`/`cafile` certificates (`None`: the built-in roots).
    pub fn ca_count(&self) -> Option<usize> {
        self.ca.as_ref().map(|c| c.certs.len())
    }

    /// The proxy a request to `url` goes through, if any.
    pub fn proxy_for(&self, url: &str) -> Option<String> {
        let url = Url::parse(url).ok()?;
        self.proxy.proxy_for(&url).map(|u| u.to_string())
    }
}

impl Proxies {
    fn proxy_for(&self, url: &Url) -> Option<&Url> {
        let proxy = match url.scheme() {
            "https" => self.https.as_ref(),
            _ => self.http.as_ref(),
        }?;
        let host = url.host_str()?.to_ascii_lowercase();
        if is_no_proxy(&host, &self.no_proxy) {
            return None;
        }
        Some(proxy)
    }
}

impl fmt::Debug for NetConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |u: &Option<Url>| u.as_ref().map(|u| redact_credentials(u.as_str()));
        f.debug_struct("NetConfig")
            .field("strict_ssl", &self.strict_ssl)
            .field("ca", &self.ca.as_ref().map(|c| (c.certs.len(), &c.source)))
            .field("extra_ca", &self.extra_ca)
            .field("system_ca", &self.system_ca)
            .field("https_proxy", &shown(&self.proxy.https))
            .field("http_proxy", &shown(&self.proxy.http))
            .field("no_proxy", &self.proxy.no_proxy)
            .field("fetch", &self.fetch)
            .finish()
    }
}

/// `null`, `false` and the empty string mean "not set" (as in npm, where
/// such values are falsy).
fn is_set(v: &IniValue) -> bool {
    match v {
        IniValue::Null | IniValue::Bool(false) => false,
        IniValue::Str(s) => !s.trim().is_empty(),
        IniValue::List(l) => l.iter().any(|s| !s.trim().is_empty()),
        IniValue::Bool(true) => true,
    }
}

fn read_cafile(
    path: &str,
    s: &Setting,
    env: &HashMap<String, String>,
    project_dir: &Path,
) -> Result<CaCerts> {
    let path = expand_path(path.trim(), project_dir, env);
    let source = format!("cafile {} (set in {})", path.display(), s.source);
    let pem = crate::bounded::read(&path).map_err(|e| {
        Error::new(
            Code::Config,
            format!("cannot read {source}: {e}; point cafile at a PEM file of CA certificates"),
        )
    })?;
    let certs = parse_pem(&pem, &source)?;
    Ok(CaCerts { certs, source })
}

fn parse_ca(s: &Setting) -> Result<CaCerts> {
    let source = format!("ca (set in {})", s.source);
    let items: Vec<String> = match &s.value {
        IniValue::List(l) => l.clone(),
        other => vec![item_string(other)],
    };
    let mut certs = Vec::new();
    for item in items.iter().filter(|i| !i.trim().is_empty()) {
        // npm documents `\n` escapes in the value; unquoted values keep
        // them literally, so turn them into newlines here.
        let pem = item.replace("\\n", "\n");
        certs.extend(parse_pem(pem.as_bytes(), &source)?);
    }
    Ok(CaCerts { certs, source })
}

fn parse_pem(pem: &[u8], source: &str) -> Result<Vec<Certificate>> {
    let bad = |why: String| {
        Error::new(
            Code::Config,
            format!(
                "invalid {source}: {why}; expected PEM certificates (-----BEGIN CERTIFICATE-----)"
            ),
        )
    };
    let certs = Certificate::from_pem_bundle(pem).map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no certificate found".into()));
    }
    Ok(certs)
}

fn load_proxies(
    merged: &HashMap<String, Setting>,
    env: &HashMap<String, String>,
) -> Result<Proxies> {
    let configured = ["https-proxy", "proxy"].into_iter().find_map(|key| {
        merged.get(key).filter(|s| is_set(&s.value)).map(|s| {
            (
                item_string(&s.value),
                format!("{key} (set in {})", s.source),
            )
        })
    });
    let (https, http) = match configured {
        Some((value, source)) => {
            let url = parse_proxy(&value, &source)?;
            (Some(url.clone()), Some(url))
        }
        None => {
            let from_env = |names: &[&str]| -> Result<Option<Url>> {
                for name in names {
                    if let Some(v) = env_get(env, name) {
                        let source = format!("environment variable {}", name.to_uppercase());
                        return parse_proxy(&v, &source).map(Some);
                    }
                }
                Ok(None)
            };
            (
                from_env(&["https_proxy"])?,
                from_env(&["https_proxy", "http_proxy", "proxy"])?,
            )
        }
    };
    let mut no_proxy = merged
        .get("noproxy")
        .filter(|s| is_set(&s.value))
        .map(|s| split_domains(&s.value))
        .unwrap_or_default();
    if no_proxy.is_empty() {
        if let Some(v) = env_get(env, "no_proxy") {
            no_proxy = split_domains(&IniValue::Str(v));
        }
    }
    Ok(Proxies {
        https,
        http,
        no_proxy,
    })
}

fn split_domains(v: &IniValue) -> Vec<String> {
    let items = match v {
        IniValue::List(l) => l.clone(),
        other => vec![item_string(other)],
    };
    items
        .iter()
        .flat_map(|s| s.split([',', ' ', '\t']))
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

fn parse_proxy(value: &str, source: &str) -> Result<Url> {
    let value = value.trim();
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let bad = |why: &str| {
        Error::new(
            Code::Config,
            format!(
                "invalid proxy URL '{}' in {source}: {why}; expected http://[user:password@]host:port",
                redact_credentials(value)
            ),
        )
    };
    let url = Url::parse(&with_scheme).map_err(|e| bad(&e.to_string()))?;
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(bad(&format!("unsupported protocol '{other}'"))),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    Ok(url)
}

/// @npmcli/agent's `isNoProxy`: `host` matches an entry when the entry's
/// dot-separated labels are a suffix of the host's (`example.com` and
/// `.example.com` both match `a.example.com`). Ports are not compared.
fn is_no_proxy(host: &str, no_proxy: &[String]) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host_labels: Vec<&str> = host.split('.').rev().collect();
    no_proxy.iter().any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = entry.trim_start_matches('[').trim_end_matches(']');
        let labels: Vec<&str> = entry.split('.').filter(|l| !l.is_empty()).rev().collect();
        !labels.is_empty()
            && labels.len() <= host_labels.len()
            && labels.iter().zip(&host_labels).all(|(a, b)| a == b)
    })
}

/// Replaces the `user:password` part of every `scheme://user:password@host`
/// in `text` with `***`, so that messages never show credentials.
pub fn redact_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| "/?# \t\r\n)\"'<>,;".contains(c))
            .unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&tail[at..end]);
            }
            None => out.push_str(&tail[..end]),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}
