//! npm sorts lockfile keys and queue entries with `localeCompare(…, 'en')`
//! (ICU root collation). This reproduces it for the ASCII strings that package
//! names and paths are made of: punctuation before digits before letters, case
//! ignored first and lowercase first on ties.

use std::cmp::Ordering;

/// ICU's primary order of ASCII punctuation and symbols.
const PUNCT: &[u8] = b"_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";

fn primary(b: u8) -> (u8, u8) {
    if let Some(i) = PUNCT.iter().position(|&p| p == b) {
        (1, i as u8)
    } else if b.is_ascii_digit() {
        (2, b)
    } else if b.is_ascii_alphabetic() {
        (3, b.to_ascii_lowercase())
    } else if b <= b' ' {
        (0, b)
    } else {
        (4, b)
    }
}

/// `a.localeCompare(b, 'en')` for ASCII strings.
pub fn locale_cmp(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let primary_order = x
        .iter()
        .map(|&c| primary(c))
        .cmp(y.iter().map(|&c| primary(c)));
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
