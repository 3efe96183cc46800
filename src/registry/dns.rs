//! A DNS cache for the HTTP client: each host is looked up once (per
//! [`TTL`]) instead of once per new connection.
//!
//! reqwest's default resolver runs `getaddrinfo` on a blocking thread for
//! every connection it opens; with the link saturated by downloads some
//! UDP answers are lost, leaving lookups waiting out the 5 s resolver
//! timeout while holding one of the few connect slots (and, at exit,
//! delaying the runtime's shutdown by its 100 ms join timeout).
//! A lookup that has not answered within [`RETRY_AFTER`] is raced by a new
//! one.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::sync::OnceCell;

/// How long an answer is reused (a long-lived process, e.g. a build tool
/// calling `install` repeatedly, still follows DNS changes).
const TTL: Duration = Duration::from_secs(300);

/// When to start another lookup beside one that has not answered.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Lookups per host before giving up (each raced after [`RETRY_AFTER`]).
const ATTEMPTS: u32 = 3;

type Answer = Result<Arc<[SocketAddr]>, String>;

struct Entry {
    at: Instant,
    answer: Arc<OnceCell<Answer>>,
}

/// The caching resolver (cheap to clone).
#[derive(Clone, Default)]
pub struct CachingResolver {
    hosts: Arc<DashMap<String, Entry>>,
}

impl CachingResolver {
    /// The answer cell for `host`: the cached one while fresh and not a
    /// failure, else a new one.
    fn cell(&self, host: &str) -> Arc<OnceCell<Answer>> {
        let fresh = || Entry {
            at: Instant::now(),
            answer: Arc::new(OnceCell::new()),
        };
        let mut entry = self.hosts.entry(host.to_string()).or_insert_with(fresh);
        let failed = matches!(entry.answer.get(), Some(Err(_)));
        if failed || entry.at.elapsed() > TTL {
            *entry = fresh();
        }
        entry.answer.clone()
    }
}

impl Resolve for CachingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let cell = self.cell(&host);
        Box::pin(async move {
            let answer = cell.get_or_init(|| lookup(host)).await.clone();
            match answer {
                Ok(addrs) => Ok(Box::new((0..addrs.len()).map(move |i| addrs[i])) as Addrs),
                Err(e) => Err(e.into()),
            }
        })
    }
}

/// `getaddrinfo` for `host`, racing a new attempt against one that is slow.
async fn lookup(host: String) -> Answer {
    let attempt = |host: String| async move {
        tokio::net::lookup_host((host.as_str(), 0))
            .await
            .map(|addrs| addrs.collect::<Arc<[SocketAddr]>>())
            .map_err(|e| format!("cannot resolve {host}: {e}"))
    };
    let mut running = futures_util::stream::FuturesUnordered::new();
    running.push(attempt(host.clone()));
    let mut last = String::new();
    let mut started = 1;
    loop {
        use futures_util::StreamExt;
        let next = tokio::time::timeout(RETRY_AFTER, running.next());
        match next.await {
            Ok(Some(Ok(addrs))) if !addrs.is_empty() => return Ok(addrs),
            Ok(Some(Ok(_))) => last = format!("cannot resolve {host}: no addresses"),
            Ok(Some(Err(e))) => last = e,
            Ok(None) => return Err(last),
            Err(_slow) => {}
        }
        if started < ATTEMPTS {
            started += 1;
            running.push(attempt(host.clone()));
        } else if running.is_empty() {
            return Err(last);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[tokio::test]
    async fn resolves_once_and_caches() {
        let r = CachingResolver::default();
        let a: Vec<_> = r
            .resolve(Name::from_str("localhost").unwrap())
            .await
            .unwrap()
            .collect();
        assert!(!a.is_empty());
        let cell = r.cell("localhost");
        assert!(cell.get().is_some_and(|a| a.is_ok()), "the answer is kept");
        let b: Vec<_> = r
            .resolve(Name::from_str("localhost").unwrap())
            .await
            .unwrap()
            .collect();
        assert_eq!(a, b);
    }

    #[tokio::test]
    async fn failures_are_not_cached() {
        let r = CachingResolver::default();
        let name = "no-such-host.invalid";
        assert!(r.resolve(Name::from_str(name).unwrap()).await.is_err());
        assert!(
            r.cell(name).get().is_none(),
            "the next connection looks up again"
        );
    }
}
