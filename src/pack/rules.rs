//! One ignore rule as ignore-walk reads it: a minimatch pattern with
//! `matchBase`, `dot`, `nocase` and `flipNegate`, tested against an entry
//! path relative to the directory whose rule set it belongs to.
//!
//! Minimatch semantics kept here (the ones npm-packlist relies on): a pattern
//! without `/` matches the last path segment at any depth; a leading `/`
//! anchors; `**` spans zero or more segments; braces expand first (so
//! `readme{,.*[^~$]}` is two patterns); a trailing `/` only matches a
//! directory; "partial" matching says whether a pattern could still match
//! something below a directory. Per-segment globbing (`*`, `?`, `[...]`) is
//! globset's.

use globset::{GlobBuilder, GlobMatcher};

/// One line of an ignore file (or a synthetic rule).
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    /// `!pattern`: re-includes what it matches.
    pub negate: bool,
    /// The brace expansions, each split into segments.
    alts: Vec<Vec<Seg>>,
}

#[derive(Debug, Clone)]
enum Seg {
    Globstar,
    /// Lowercased literal text (matching is case-insensitive).
    Literal(String),
    Glob(GlobMatcher),
}

impl Rule {
    /// Parses one line; `None` for blank lines and `#` comments.
    pub fn parse(line: &str) -> Option<Rule> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let bangs = line.bytes().take_while(|&b| b == b'!').count();
        let pattern = &line[bangs..];
        if pattern.is_empty() {
            return None;
        }
        let alts = expand_braces(pattern)
            .iter()
            .map(|p| p.split('/').map(Seg::compile).collect())
            .collect();
        Some(Rule {
            negate: bangs % 2 == 1,
            alts,
        })
    }

    /// Parses every rule of an ignore file's text.
    pub fn parse_all(text: &str) -> Vec<Rule> {
        text.lines().filter_map(Rule::parse).collect()
    }

    /// ignore-walk's test of `entry` (relative to the rule's directory):
    /// `/entry`, then `entry`; for directories (`partial`) also with a
    /// trailing slash, and for negations whether something below could match.
    pub fn applies(&self, entry: &str, partial: bool) -> bool {
        let rooted = format!("/{entry}");
        if self.matches(&rooted, false) || self.matches(entry, false) {
            return true;
        }
        if !partial {
            return false;
        }
        self.matches(&format!("{rooted}/"), false)
            || self.matches(&format!("{entry}/"), false)
            || (self.negate && (self.matches(&rooted, true) || self.matches(entry, true)))
    }

    /// minimatch's `match(path, partial)` with `flipNegate`: does the
    /// pattern (negation aside) match?
    fn matches(&self, path: &str, partial: bool) -> bool {
        let segs: Vec<&str> = path.split('/').collect();
        let basename = segs.iter().rev().find(|s| !s.is_empty()).copied();
        self.alts.iter().any(|alt| {
            if alt.len() == 1 {
                // matchBase: a slash-less pattern tests the basename only.
                match basename {
                    Some(name) => match_one(&[name], alt, partial),
                    None => match_one(&segs, alt, partial),
                }
            } else {
                match_one(&segs, alt, partial)
            }
        })
    }
}

impl Seg {
    fn compile(seg: &str) -> Seg {
        if seg == "**" {
            return Seg::Globstar;
        }
        if !seg.contains(['*', '?', '[', '\\']) {
            return Seg::Literal(seg.to_lowercase());
        }
        match GlobBuilder::new(seg)
            .case_insensitive(true)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
        {
            Ok(glob) => Seg::Glob(glob.compile_matcher()),
            // minimatch treats an unparsable pattern as literal text.
            Err(_) => Seg::Literal(seg.to_lowercase()),
        }
    }

    fn matches(&self, segment: &str) -> bool {
        match self {
            Seg::Globstar => true,
            Seg::Literal(lit) => segment.to_lowercase() == *lit,
            // minimatch never lets a magic segment match an empty one.
            Seg::Glob(glob) => !segment.is_empty() && glob.is_match(segment),
        }
    }
}

/// minimatch's `matchOne`: segments against pattern segments.
fn match_one(file: &[&str], pattern: &[Seg], partial: bool) -> bool {
    let (mut fi, mut pi) = (0, 0);
    while fi < file.len() && pi < pattern.len() {
        if let Seg::Globstar = pattern[pi] {
            if pi + 1 == pattern.len() {
                // A trailing ** swallows the rest (dot: true, so dotfiles too).
                return file[fi..].iter().all(|s| *s != "." && *s != "..");
            }
            for start in fi..file.len() {
                if match_one(&file[start..], &pattern[pi + 1..], partial) {
                    return true;
                }
                if file[start] == "." || file[start] == ".." {
                    return false;
                }
            }
            // Ran out of file: below a directory, it could still match.
            return partial;
        }
        if !pattern[pi].matches(file[fi]) {
            return false;
        }
        fi += 1;
        pi += 1;
    }
    if fi == file.len() && pi == pattern.len() {
        true
    } else if fi == file.len() {
        partial
    } else {
        // Pattern exhausted: only a trailing slash may remain.
        fi + 1 == file.len() && file[fi].is_empty()
    }
}

/// Brace expansion (`a{b,c}d` → `abd`, `acd`), nested braces included. A
/// brace group without a top-level comma stays literal, as in minimatch.
fn expand_braces(pattern: &str) -> Vec<String> {
    let bytes = pattern.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'{' => {
                if let Some((close, commas)) = brace_group(bytes, i) {
                    if !commas.is_empty() {
                        let prefix = &pattern[..i];
                        let suffix = &pattern[close + 1..];
                        let mut out = Vec::new();
                        let mut start = i + 1;
                        for end in commas.into_iter().chain([close]) {
                            let alt = &pattern[start..end];
                            for tail in expand_braces(&format!("{alt}{suffix}")) {
                                out.push(format!("{prefix}{tail}"));
                            }
                            start = end + 1;
                        }
                        return out;
                    }
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    vec![pattern.to_string()]
}

/// The matching `}` of the `{` at `open`, and its top-level commas.
fn brace_group(bytes: &[u8], open: usize) -> Option<(usize, Vec<usize>)> {
    let mut depth = 0;
    let mut commas = Vec::new();
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some((i, commas));
                }
            }
            b',' if depth == 1 => commas.push(i),
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(s: &str) -> Rule {
        Rule::parse(s).unwrap()
    }

    #[test]
    fn braces_expand() {
        assert_eq!(
            expand_braces("/readme{,.*[^~$]}"),
            vec!["/readme", "/readme.*[^~$]"]
        );
        assert_eq!(expand_braces("a{b,c{d,e}}f"), vec!["abf", "acdf", "acef"]);
        assert_eq!(expand_braces("a{b}c"), vec!["a{b}c"]);
    }

    #[test]
    fn slashless_patterns_match_basenames_anywhere() {
        let r = rule("*.orig");
        assert!(r.applies("a.orig", false));
        assert!(r.applies("lib/deep/x.ORIG", false));
        assert!(!r.applies("a.origx", false));
        assert!(rule("*").applies("lib/x.js", false));
    }

    #[test]
    fn anchored_and_dir_patterns() {
        assert!(rule("/build/config.gypi").applies("build/config.gypi", false));
        assert!(!rule("/build/config.gypi").applies("x/build/config.gypi", false));
        let dir_only = rule("dist/");
        assert!(dir_only.applies("dist", true));
        assert!(!dir_only.applies("dist", false));
        assert!(rule("**/.git").applies("a/b/.git", true));
        assert!(rule("lib/**").applies("lib/a/b.js", false));
        assert!(!rule("lib/**").applies("lib", false));
    }

    #[test]
    fn negations_match_partially_below_directories() {
        let r = rule("!lib/sub/keep.js");
        assert!(r.negate);
        assert!(r.applies("lib", true));
        assert!(r.applies("lib/sub", true));
        assert!(!r.applies("test", true));
        assert!(!r.applies("lib", false));
    }

    #[test]
    fn readme_rule_is_case_insensitive_and_skips_backups() {
        let r = rule("!/readme{,.*[^~$]}");
        assert!(r.applies("README.md", false));
        assert!(r.applies("Readme", false));
        assert!(!r.applies("README.md~", false));
        assert!(!r.applies("docs/README.md", false));
    }

    #[test]
    fn comments_and_blanks_are_not_rules() {
        assert!(Rule::parse("  # comment").is_none());
        assert!(Rule::parse("   ").is_none());
        assert!(!rule("!!x").negate);
    }
}
