//! What packument and tarball requests share about retrying: the wait a
//! server's `Retry-After` asks for, and the time limits of one attempt
//! (see [`FetchPolicy`]).

use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::config::FetchPolicy;

/// The wait a `Retry-After` header asks for (`None` when there is none or
/// it cannot be read). The caller caps it (see [`FetchPolicy::delay`]).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, crate::date::now_ms())
}

/// A `Retry-After` value: delay-seconds (`120`) or an HTTP date (a date
/// already past means no wait); `now` in milliseconds since the epoch.
pub(crate) fn parse_retry_after(value: &str, now: i64) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is still "a very long time".
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = crate::date::parse_http_date(value)?;
    Some(Duration::from_millis(
        u64::try_from(at.saturating_sub(now)).unwrap_or(0),
    ))
}

/// Why a wait within an attempt gave up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Limit {
    /// `fetch-timeout` passed since the phase (response, body) started.
    Timeout(Duration),
    /// Nothing arrived for this long.
    Idle { after: Duration, timeout_set: bool },
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Limit::Timeout(t) => write!(
                f,
                "timed out after {:.1}s (fetch-timeout={})",
                t.as_secs_f64(),
                t.as_millis()
            ),
            Limit::Idle {
                after,
                timeout_set: true,
            } => write!(
                f,
                "no data received for {:.1}s (fetch-timeout={})",
                after.as_secs_f64(),
                after.as_millis()
            ),
            Limit::Idle { after, .. } => write!(
                f,
                "no data received for {:.1}s (set fetch-timeout, in ms, in .npmrc to wait longer)",
                after.as_secs_f64()
            ),
        }
    }
}

/// When a wait that starts now gives up, in a phase (waiting for the
/// response, or reading its body) that started at `phase`: the idle timeout
/// from now, but never past `fetch-timeout` from the phase's start.
pub(crate) fn deadline(policy: &FetchPolicy, phase: Instant) -> (Instant, Limit) {
    let now = Instant::now();
    let idle = later(now, policy.idle_timeout);
    match policy.timeout {
        Some(t) if later(phase, t) <= idle => (later(phase, t), Limit::Timeout(t)),
        _ => (
            idle,
            Limit::Idle {
                after: policy.idle_timeout,
                timeout_set: policy.timeout_set,
            },
        ),
    }
}

/// Awaits `fut` until [`deadline`].
pub(crate) async fn within<F: Future>(
    policy: &FetchPolicy,
    phase: Instant,
    fut: F,
) -> Result<F::Output, Limit> {
    let (at, limit) = deadline(policy, phase);
    tokio::time::timeout_at(at.into(), fut)
        .await
        .map_err(|_| limit)
}

/// `t + d`, or a year from `t` when that does not fit an `Instant` (the
/// timer clamps far deadlines anyway).
fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d)
        .or_else(|| t.checked_add(Duration::from_secs(365 * 86_400)))
        .unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_values() {
        let now = crate::date::parse_iso("2024-05-01T12:00:00Z").unwrap();
        let parse = |v: &str| parse_retry_after(v, now);
        assert_eq!(parse("1"), Some(Duration::from_secs(1)));
        assert_eq!(parse(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(parse("0"), Some(Duration::ZERO));
        assert_eq!(
            parse("99999999999999999999999"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse("Wed, 01 May 2024 12:00:30 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse("Wed, 01 May 2024 11:00:00 GMT"),
            Some(Duration::ZERO),
            "a date in the past: no wait"
        );
        for bad in ["", "-1", "1.5", "soon", "Wednesday, 01-May-24 12:00:30 GMT"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn retry_waits_follow_the_policy() {
        let p = FetchPolicy::default();
        let ms = Duration::from_millis;
        assert_eq!(
            (p.backoff(0), p.backoff(1), p.backoff(2)),
            (ms(250), ms(1000), ms(4000))
        );
        assert_eq!(p.backoff(10), Duration::from_secs(60), "capped");
        assert_eq!(p.backoff(u32::MAX), Duration::from_secs(60));
        // npm's settings: 10 s, then 100 s capped at 60 s.
        let npm = FetchPolicy {
            factor: 10.0,
            min_timeout: Duration::from_secs(10),
            ..p
        };
        assert_eq!(npm.backoff(0), Duration::from_secs(10));
        assert_eq!(npm.backoff(1), Duration::from_secs(60));
        // Retry-After replaces the backoff, capped at the maximum.
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(1))),
            Duration::from_secs(1)
        );
        assert_eq!(p.delay(2, Some(Duration::ZERO)), Duration::ZERO);
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(3600))),
            Duration::from_secs(60)
        );
        assert_eq!(p.delay(1, None), ms(1000));
    }

    #[test]
    fn deadlines_name_the_limit_that_ends_them() {
        let phase = Instant::now();
        let brisk = FetchPolicy::default();
        let (_, limit) = deadline(&brisk, phase);
        assert_eq!(
            limit,
            Limit::Idle {
                after: FetchPolicy::IDLE_TIMEOUT,
                timeout_set: false
            }
        );
        assert!(limit.to_string().contains("set fetch-timeout"), "{limit}");
        // fetch-timeout=1000: the phase's bound ends the first wait.
        let set = FetchPolicy {
            timeout: Some(Duration::from_secs(1)),
            idle_timeout: Duration::from_secs(1),
            timeout_set: true,
            ..brisk
        };
        let (at, limit) = deadline(&set, phase);
        assert_eq!(limit, Limit::Timeout(Duration::from_secs(1)));
        assert!(at <= phase + Duration::from_secs(1));
        assert_eq!(
            limit.to_string(),
            "timed out after 1.0s (fetch-timeout=1000)"
        );
        // fetch-timeout=0: no bound on the phase, only the idle timeout.
        let off = FetchPolicy {
            timeout: None,
            timeout_set: true,
            ..brisk
        };
        assert!(matches!(deadline(&off, phase).1, Limit::Idle { .. }));
        // Huge values do not overflow.
        let huge = FetchPolicy {
            timeout: Some(Duration::MAX),
            idle_timeout: Duration::MAX,
            ..brisk
        };
        let _ = deadline(&huge, phase);
    }
}
