//! npm sorts lockfile keys and queue entries with `localeCompare(…, 'en')`
//! (ICU root collation). This reproduces it for the ASCII strings that package
//! names and paths are made of: punctuation before digits before letters, case
//! ignored first and lowercase first on ties.

use std::cmp::Ordering;

/// ICU's primary order of ASCII punctuation and symbols.
const PUNCT: &[u8] = b"_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";

/// Each byte's primary weight (case folded), ascending in ICU's order:
/// control and space, then punctuation in [`PUNCT`]'s order, digits,
/// letters, anything else. A table, because sorting a large lockfile's
/// locations compares tens of thousands of pairs a few dozen bytes deep.
const PRIMARY: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c <= b' ' {
            c as u16
        } else if c.is_ascii_digit() {
            0x200 + c as u16
        } else if c.is_ascii_alphabetic() {
            0x300 + c.to_ascii_lowercase() as u16
        } else {
            0x400 + c as u16
        };
        b += 1;
    }
    let mut i = 0;
    while i < PUNCT.len() {
        t[PUNCT[i] as usize] = 0x100 + i as u16;
        i += 1;
    }
    t
};

/// `a.localeCompare(b, 'en')` for ASCII strings.
pub fn locale_cmp(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    // Equal bytes weigh the same: start where the strings differ.
    let same = x.iter().zip(y).take_while(|(p, q)| p == q).count();
    let (x, y) = (&x[same..], &y[same..]);
    let weight = |c: &u8| PRIMARY[*c as usize];
    let primary_order = x.iter().map(weight).cmp(y.iter().map(weight));
    if primary_order != Ordering::Equal {
        return primary_order;
    }
    // Tertiary: lowercase before uppercase.
    let case = |c: &u8| c.is_ascii_uppercase();
    x.iter()
        .map(case)
        .cmp(y.iter().map(case))
        .then_with(|| x.cmp(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table orders every pair of bytes as the classes it documents:
    /// (class, rank within the class).
    #[test]
    fn table_orders_bytes_by_class() {
        let class = |b: u8| match PUNCT.iter().position(|&p| p == b) {
            Some(i) => (1, i as u8),
            None if b.is_ascii_digit() => (2, b),
            None if b.is_ascii_alphabetic() => (3, b.to_ascii_lowercase()),
            None if b <= b' ' => (0, b),
            None => (4, b),
        };
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(
                    PRIMARY[a as usize].cmp(&PRIMARY[b as usize]),
                    class(a).cmp(&class(b)),
                    "{a} {b}"
                );
            }
        }
    }

    #[test]
    fn like_icu() {
        let mut v = vec![
            "node_modules/b",
            "node_modules/a-b",
            "node_modules/a/node_modules/x",
            "node_modules/@z/a",
            "node_modules/A",
            "node_modules/a",
            "node_modules/a_b",
            "node_modules/a1",
        ];
        v.sort_by(|a, b| locale_cmp(a, b));
        assert_eq!(
            v,
            vec![
                "node_modules/@z/a",
                "node_modules/a",
                "node_modules/A",
                "node_modules/a_b",
                "node_modules/a-b",
                "node_modules/a/node_modules/x",
                "node_modules/a1",
                "node_modules/b",
            ]
        );
    }
}
