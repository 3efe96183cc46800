//! The release-age cutoff: npm's `before` (a date) and `min-release-age`
//! (days), read as npm 11 reads them: when both are set, the earlier date
//! wins, so neither can widen what the other allows.

use std::collections::HashMap;

use super::{item_string, IniValue, Setting};
use crate::error::{Code, Error, Result};

/// The cutoff in milliseconds since the epoch (versions published after it
/// are not picked), or `None` when neither key is set. `now` is the current
/// time in the same unit.
pub(super) fn load(merged: &HashMap<String, Setting>, now: i64) -> Result<Option<i64>> {
    let text = |key: &str| {
        merged
            .get(key)
            .filter(|s| !matches!(s.value, IniValue::Null | IniValue::Bool(false)))
            .map(|s| (item_string(&s.value).trim().to_string(), s))
            .filter(|(t, _)| !t.is_empty())
    };
    let before = match text("before") {
        Some((t, s)) => Some(crate::date::parse_iso(&t).ok_or_else(|| {
            Error::new(
                Code::Config,
                format!(
                    "invalid before date '{t}' (set in {}): expected a date such as 2024-05-01 or 2024-05-01T12:00:00Z",
                    s.source
                ),
            )
        })?),
        None => None,
    };
    let age = match text("min-release-age") {
        Some((t, s)) => match t.parse::<f64>() {
            // npm treats 0 as unset.
            Ok(days) if days.is_finite() && days >= 0.0 => {
                (days > 0.0).then(|| now.saturating_sub((days * 86_400_000.0) as i64))
            }
            _ => {
                return Err(Error::new(
                    Code::Config,
                    format!(
                        "invalid min-release-age '{t}' (set in {}): expected a number of days, such as 7",
                        s.source
                    ),
                ))
            }
        },
        None => None,
    };
    Ok(match (before, age) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}
