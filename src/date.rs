//! Dates as milliseconds since the Unix epoch (UTC): the ISO 8601 forms
//! packuments and `before` use, and the HTTP date of a `Retry-After`.
//! Hand-written because these two formats are all brisk reads.

use std::time::{SystemTime, UNIX_EPOCH};

const DAY_MS: i64 = 86_400_000;

/// Now, in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Milliseconds since the epoch of a UTC date and time; `None` when a field
/// is out of range.
fn to_ms(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: u32) -> Option<i64> {
    let valid = (1..=12).contains(&mo)
        && (1..=days_in_month(y, mo)).contains(&d)
        && h <= 23
        && mi <= 59
        && s <= 60 // a leap second reads as the next minute's first
        && ms <= 999;
    valid.then(|| {
        days_from_civil(y, mo, d) * DAY_MS
            + i64::from(h) * 3_600_000
            + i64::from(mi) * 60_000
            + i64::from(s) * 1000
            + i64::from(ms)
    })
}

/// Reads exactly `n` ASCII digits from the front of `s`.
fn digits(s: &mut &[u8], n: usize) -> Option<u32> {
    let head = s.get(..n)?;
    if !head.iter().all(u8::is_ascii_digit) {
        return None;
    }
    *s = &s[n..];
    Some(head.iter().fold(0, |acc, b| acc * 10 + u32::from(b - b'0')))
}

fn eat(s: &mut &[u8], c: u8) -> bool {
    if s.first() == Some(&c) {
        *s = &s[1..];
        true
    } else {
        false
    }
}

/// An ISO 8601 date (`2024-05-01`) or date and time
/// (`2024-05-01T12:30`, `…:45`, `…:45.123`, with `Z`, `±HH:MM`, `±HHMM`
/// or no zone), in milliseconds since the epoch. Without a zone the time is
/// read as UTC.
pub fn parse_iso(text: &str) -> Option<i64> {
    let mut s = text.trim().as_bytes();
    let y = i64::from(digits(&mut s, 4)?);
    let mo = eat(&mut s, b'-').then(|| digits(&mut s, 2))??;
    let d = eat(&mut s, b'-').then(|| digits(&mut s, 2))??;
    if s.is_empty() {
        return to_ms(y, mo, d, 0, 0, 0, 0);
    }
    if !(eat(&mut s, b'T') || eat(&mut s, b't') || eat(&mut s, b' ')) {
        return None;
    }
    let h = digits(&mut s, 2)?;
    let mi = eat(&mut s, b':').then(|| digits(&mut s, 2))??;
    let mut sec = 0;
    let mut ms = 0;
    if eat(&mut s, b':') {
        sec = digits(&mut s, 2)?;
        if eat(&mut s, b'.') || eat(&mut s, b',') {
            let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            let frac = &s[..n];
            ms = (0..3).fold(0, |acc, i| {
                acc * 10 + frac.get(i).map_or(0, |b| u32::from(b - b'0'))
            });
            s = &s[n..];
        }
    }
    let offset_min: i64 = if s.is_empty() || eat(&mut s, b'Z') || eat(&mut s, b'z') {
        0
    } else {
        let sign = if eat(&mut s, b'+') {
            1
        } else if eat(&mut s, b'-') {
            -1
        } else {
            return None;
        };
        let oh = digits(&mut s, 2)?;
        eat(&mut s, b':');
        let om = if s.is_empty() { 0 } else { digits(&mut s, 2)? };
        if oh > 23 || om > 59 {
            return None;
        }
        sign * i64::from(oh * 60 + om)
    };
    if !s.is_empty() {
        return None;
    }
    Some(to_ms(y, mo, d, h, mi, sec, ms)? - offset_min * 60_000)
}

/// An HTTP date in the preferred IMF-fixdate form
/// (`Sun, 06 Nov 1994 08:49:37 GMT`), in milliseconds since the epoch. The
/// obsolete RFC 850 and asctime forms are not read.
pub fn parse_http_date(text: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (_weekday, rest) = text.trim().split_once(", ")?;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts[..] else {
        return None;
    };
    let num = |s: &str, n: usize| -> Option<u32> {
        let mut b = s.as_bytes();
        let v = digits(&mut b, n)?;
        b.is_empty().then_some(v)
    };
    let mo = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
    let mut hms = time.split(':');
    let (h, mi, s) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() {
        return None;
    }
    to_ms(
        i64::from(num(year, 4)?),
        mo,
        num(day, 2)?,
        num(h, 2)?,
        num(mi, 2)?,
        num(s, 2)?,
        0,
    )
}

/// `2024-05-01T12:30:45.123Z`: how JavaScript's `toISOString` writes it.
pub fn format_iso(ms: i64) -> String {
    let days = ms.div_euclid(DAY_MS);
    let rem = ms.rem_euclid(DAY_MS);
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(parse_iso("1970-01-01"), Some(0));
        assert_eq!(parse_iso("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(
            parse_iso("2011-12-12T17:56:50.911Z"),
            Some(1_323_712_610_911)
        );
        assert_eq!(
            parse_iso("2011-12-12T17:56:50.9114Z"),
            Some(1_323_712_610_911)
        );
        assert_eq!(parse_iso("2011-12-12T17:56:50.9Z"), Some(1_323_712_610_900));
        assert_eq!(
            parse_iso(" 2024-02-29 "),
            parse_iso("2024-02-29T00:00:00.000Z")
        );
        assert_eq!(
            parse_iso("2024-05-01T12:30"),
            parse_iso("2024-05-01T12:30:00Z")
        );
        assert_eq!(
            parse_iso("2024-05-01T14:30:00+02:00"),
            parse_iso("2024-05-01T12:30:00Z")
        );
        assert_eq!(
            parse_iso("2024-05-01T10:00:00-0230"),
            parse_iso("2024-05-01T12:30:00Z")
        );
        assert_eq!(
            parse_iso("2024-05-01 12:30:00"),
            parse_iso("2024-05-01T12:30:00Z")
        );
        assert_eq!(parse_iso("1969-12-31T23:59:59.999Z"), Some(-1));
        for bad in [
            "",
            "2024",
            "2024-5-01",
            "2024-02-30",
            "2023-02-29",
            "2024-13-01",
            "2024-01-01T24:00",
            "2024-01-01T12",
            "2024-01-01T12:00:00.Z",
            "2024-01-01T12:00:00X",
            "2024-01-01T12:00:00+25:00",
            "2024-01-01junk",
            "yesterday",
            "1700000000000",
        ] {
            assert_eq!(parse_iso(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn formats_like_to_iso_string() {
        for text in [
            "1970-01-01T00:00:00.000Z",
            "2011-12-12T17:56:50.911Z",
            "2024-02-29T23:59:59.999Z",
            "1969-12-31T23:59:59.999Z",
            "2400-03-01T00:00:00.000Z",
        ] {
            assert_eq!(format_iso(parse_iso(text).unwrap()), text);
        }
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            parse_iso("1994-11-06T08:49:37Z")
        );
        for bad in [
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "120",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
    }
}
