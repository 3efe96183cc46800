//! Dependency specifiers, as npm-package-arg reads them. This issue covers
//! registry specs (ranges, exact versions, dist-tags) and `npm:` aliases; other
//! kinds are recognised so they get a clear `E_UNSUPPORTED` error.

use std::sync::Arc;

use nodejs_semver::{Range, Version};

use crate::error::{Code, Error, Result};

/// What a registry specifier asks for.
#[derive(Debug, Clone)]
pub enum Req {
    /// `*`, `""`, `x`: any version, prereleases included (npm's dep-valid).
    Any,
    Range(Range),
    Tag(String),
}

/// A parsed dependency specifier.
#[derive(Debug, Clone)]
pub enum Spec {
    /// A package from a registry: `name` is the real package name (differs
    /// from the dependency key for `npm:` aliases).
    Registry {
        name: String,
        req: Req,
        /// The range or tag as written (`*` when empty).
        wanted: String,
    },
    /// git, tarball URLs, `file:`, `link:`, `workspace:` … (a later issue).
    Other { kind: &'static str },
}

impl Req {
    pub fn parse(raw: &str) -> Req {
        let raw = raw.trim();
        if raw.is_empty() || raw == "*" || raw == "x" || raw == "X" {
            return Req::Any;
        }
        match Range::parse(raw) {
            Ok(range) => Req::Range(range),
            Err(_) => Req::Tag(raw.to_string()),
        }
    }

    /// Does `version` satisfy this requirement, as npm's dep-valid decides it?
    pub fn matches(&self, version: &str) -> bool {
        match self {
            Req::Any | Req::Tag(_) => true,
            Req::Range(range) => Version::parse(version)
                .map(|v| range.satisfies(&v))
                .unwrap_or(false),
        }
    }
}

impl Spec {
    /// Parse the specifier `raw` of dependency `name` (the key in package.json).
    pub fn parse(name: &str, raw: &str) -> Result<Spec> {
        let raw = raw.trim();
        if let Some(rest) = raw.strip_prefix("npm:") {
            let (real, req) = split_name_spec(rest);
            if real.is_empty() {
                return Err(Error::new(
                    Code::Manifest,
                    format!("invalid alias specifier \"{raw}\" for dependency \"{name}\""),
                ));
            }
            if req.starts_with("npm:") {
                return Err(Error::new(
                    Code::Manifest,
                    format!("nested aliases are not supported: \"{raw}\""),
                ));
            }
            return Ok(Spec::registry(real, req));
        }
        if let Some(kind) = non_registry_kind(raw) {
            return Ok(Spec::Other { kind });
        }
        Ok(Spec::registry(name, raw))
    }

    fn registry(name: &str, wanted: &str) -> Spec {
        let wanted = wanted.trim();
        Spec::Registry {
            name: name.to_string(),
            req: Req::parse(wanted),
            wanted: if wanted.is_empty() { "*" } else { wanted }.to_string(),
        }
    }

    /// Does a package with `pkg_name@version` satisfy this spec?
    pub fn satisfied_by(&self, pkg_name: &str, version: &str) -> bool {
        match self {
            Spec::Registry { name, req, .. } => name == pkg_name && req.matches(version),
            Spec::Other { .. } => false,
        }
    }
}

/// Parsed specs are shared by every edge that uses the same text.
pub type SharedSpec = Arc<Spec>;

/// `@scope/name@range` → (`@scope/name`, `range`); `name` → (`name`, ``).
fn split_name_spec(s: &str) -> (&str, &str) {
    let search_from = usize::from(s.starts_with('@'));
    match s[search_from..].find('@') {
        Some(i) => (&s[..search_from + i], &s[search_from + i + 1..]),
        None => (s, ""),
    }
}

fn non_registry_kind(raw: &str) -> Option<&'static str> {
    let lower = raw.to_ascii_lowercase();
    let kinds: [(&str, &'static str); 12] = [
        ("file:", "file"),
        ("link:", "link"),
        ("workspace:", "workspace"),
        ("git+", "git"),
        ("git:", "git"),
        ("github:", "git"),
        ("gitlab:", "git"),
        ("bitbucket:", "git"),
        ("gist:", "git"),
        ("http://", "tarball URL"),
        ("https://", "tarball URL"),
        ("ssh://", "git"),
    ];
    for (prefix, kind) in kinds {
        if lower.starts_with(prefix) {
            return Some(kind);
        }
    }
    if raw.starts_with('.') || raw.starts_with('/') || raw.starts_with("~/") {
        return Some("file");
    }
    // `user/repo` GitHub shorthand (no spaces, one slash, not a range).
    if !raw.starts_with('@')
        && raw.matches('/').count() == 1
        && !raw.contains(' ')
        && Range::parse(raw).is_err()
    {
        return Some("git");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(name: &str, raw: &str) -> (String, Req) {
        match Spec::parse(name, raw).unwrap() {
            Spec::Registry { name, req, .. } => (name, req),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ranges_tags_and_aliases() {
        let (n, r) = reg("a", "^1.2.0");
        assert_eq!(n, "a");
        assert!(r.matches("1.9.0") && !r.matches("2.0.0") && !r.matches("1.3.0-beta.1"));
        assert!(matches!(reg("a", "next").1, Req::Tag(t) if t == "next"));
        assert!(matches!(reg("a", "").1, Req::Any));
        assert!(reg("a", "*").1.matches("2.0.0-rc.1"));
        let (n, r) = reg("sw", "npm:string-width@^4.2.0");
        assert_eq!(n, "string-width");
        assert!(r.matches("4.2.3"));
        let (n, r) = reg("x", "npm:@scope/pkg@1.0.0");
        assert_eq!(n, "@scope/pkg");
        assert!(r.matches("1.0.0") && !r.matches("1.0.1"));
        let (n, r) = reg("x", "npm:@scope/pkg");
        assert_eq!(n, "@scope/pkg");
        assert!(matches!(r, Req::Any));
        assert!(reg("a", ">=1.0.0 <2.0.0 || 3.x").1.matches("3.4.0"));
        assert!(reg("a", "~1.1.4").1.matches("1.1.9"));
    }

    #[test]
    fn prerelease_ranges() {
        let r = reg("a", "^1.0.0-beta.2").1;
        assert!(r.matches("1.0.0-beta.3") && r.matches("1.2.0") && !r.matches("1.2.0-beta.1"));
    }

    #[test]
    fn other_kinds() {
        for raw in [
            "file:../x",
            "link:../x",
            "github:a/b",
            "a/b",
            "git+https://x/y.git",
            "https://x/y.tgz",
            "workspace:*",
            "./local",
            "~/x",
        ] {
            assert!(
                matches!(Spec::parse("x", raw).unwrap(), Spec::Other { .. }),
                "{raw}"
            );
        }
    }

    #[test]
    fn satisfied_by_checks_real_name() {
        let s = Spec::parse("sw", "npm:string-width@^4").unwrap();
        assert!(s.satisfied_by("string-width", "4.2.3"));
        assert!(!s.satisfied_by("sw", "4.2.3"));
    }
}
