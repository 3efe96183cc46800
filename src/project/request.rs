//! What the user typed after `brisk add`: `name`, `name@range`,
//! `name@tag`, `@scope/name@1.2.3`, `alias@npm:real@range`, or a
//! non-registry spec with its name (`name@file:../x`, `name@github:u/r`),
//! and the spec npm saves for it once a version is picked.

use nodejs_semver::{Range, Version};

use crate::error::{Code, Error, Result};
use crate::spec::Spec;

/// One package to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The dependency name (the folder under node_modules; the alias for
    /// `npm:` aliases).
    pub name: String,
    /// The spec after `name@` as typed (`""` for a bare name).
    pub raw: String,
    /// For registry specs: the real package name and the range or tag
    /// (`latest` for a bare name). `None` for git/file/URL specs.
    pub registry: Option<(String, String)>,
}

impl Request {
    /// Parse one `brisk add` argument (npm-package-arg's rules, for the
    /// forms brisk understands).
    pub fn parse(arg: &str) -> Result<Request> {
        let arg = arg.trim();
        let from = usize::from(arg.starts_with('@'));
        let (name, raw) = match arg[from..].find('@') {
            Some(i) => (&arg[..from + i], &arg[from + i + 1..]),
            None => (arg, ""),
        };
        if !crate::name::is_valid(name) {
            return Err(Error::new(
                Code::Unsupported,
                format!(
                    "cannot add \"{arg}\": brisk needs the package name in front of git, file and URL specs (name@<spec>), and a name has no spaces or slashes (but a @scope/)"
                ),
            ));
        }
        let registry = match Spec::parse(name, raw)? {
            Spec::Registry {
                name: real, wanted, ..
            } => {
                let wanted = if raw.trim().is_empty() || raw.trim() == format!("npm:{real}") {
                    "latest".to_string()
                } else {
                    wanted
                };
                Some((real, wanted))
            }
            _ => None,
        };
        Ok(Request {
            name: name.to_string(),
            raw: raw.to_string(),
            registry,
        })
    }

    /// The spec to save once `version` of the real package was picked
    /// (reify's rule): a range stays as written unless `<prefix><version>`
    /// fits inside it; tags, exact versions and `*` save as
    /// `<prefix><version>`. Aliases keep their `npm:real@` part.
    pub fn saved_spec(&self, version: &str, prefix: &str) -> String {
        let Some((real, wanted)) = &self.registry else {
            return self.raw.clone();
        };
        let prefixed = format!("{prefix}{version}");
        let keep_range = is_range(wanted) && wanted.trim() != "*" && !subset(&prefixed, wanted);
        let range = if keep_range { wanted.trim() } else { &prefixed };
        if *real != self.name {
            format!("npm:{real}@{range}")
        } else {
            range.to_string()
        }
    }

    /// The spec to resolve with: exactly the picked version, so the tree
    /// gets what was picked even when the saved range allows newer.
    pub fn exact_spec(&self, version: &str) -> String {
        match &self.registry {
            Some((real, _)) if *real != self.name => format!("npm:{real}@{version}"),
            Some(_) => version.to_string(),
            None => self.raw.clone(),
        }
    }
}

/// npm-package-arg's `range` type: a valid range that is not one exact
/// version.
fn is_range(spec: &str) -> bool {
    let s = spec.trim();
    let exact = s.trim_start_matches('=').trim_start_matches('v');
    Version::parse(exact).is_err() && (s.is_empty() || Range::parse(s).is_ok())
}

/// semver's `subset(sub, sup)`: every version `sub` allows, `sup` allows.
fn subset(sub: &str, sup: &str) -> bool {
    match (Range::parse(sub), Range::parse(sup)) {
        (Ok(a), Ok(b)) => a.intersect(&b).is_some() && a.difference(&b).is_none(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(arg: &str, version: &str) -> String {
        Request::parse(arg).unwrap().saved_spec(version, "^")
    }

    #[test]
    fn parses_names_ranges_aliases() {
        let r = Request::parse("leaf").unwrap();
        assert_eq!(r.registry, Some(("leaf".into(), "latest".into())));
        let r = Request::parse("@scope/pkg@^1").unwrap();
        assert_eq!((r.name.as_str(), r.raw.as_str()), ("@scope/pkg", "^1"));
        let r = Request::parse("al@npm:@scope/pkg@1.x").unwrap();
        assert_eq!(r.registry, Some(("@scope/pkg".into(), "1.x".into())));
        let r = Request::parse("al@npm:leaf").unwrap();
        assert_eq!(r.registry, Some(("leaf".into(), "latest".into())));
        let r = Request::parse("x@file:../x").unwrap();
        assert_eq!((r.registry.clone(), r.raw.as_str()), (None, "file:../x"));
        assert_eq!(Request::parse("JSONStream@1").unwrap().name, "JSONStream");
        for bad in [
            "../x",
            "github:a/b",
            "https://x/y.tgz",
            "a/b",
            "le af",
            "",
            "@s/a/b",
        ] {
            let e = Request::parse(bad).unwrap_err();
            assert_eq!(e.code, Code::Unsupported, "{bad}");
        }
    }

    #[test]
    fn saves_like_npm() {
        // Checked against npm 11 (`npm install <x> --package-lock-only`).
        assert_eq!(saved("leaf", "1.1.0"), "^1.1.0");
        assert_eq!(saved("leaf@next", "2.1.0"), "^2.1.0");
        assert_eq!(saved("mid@1.0.0", "1.0.0"), "^1.0.0");
        assert_eq!(saved("x@=1.0.0", "1.0.0"), "^1.0.0");
        assert_eq!(saved("x@^1", "1.0.0"), "^1.0.0");
        assert_eq!(saved("x@1.x", "1.0.0"), "^1.0.0");
        assert_eq!(saved("x@>=0.1", "1.0.0"), "^1.0.0");
        assert_eq!(saved("x@*", "1.0.0"), "^1.0.0");
        assert_eq!(saved("x@~1.0.0", "1.0.0"), "~1.0.0");
        assert_eq!(saved("x@>=1.0.0 <1.5.0", "1.0.0"), ">=1.0.0 <1.5.0");
        assert_eq!(saved("al@npm:leaf@^1", "1.1.0"), "npm:leaf@^1.1.0");
        assert_eq!(saved("al@npm:leaf", "1.1.0"), "npm:leaf@^1.1.0");
        assert_eq!(saved("x@github:a/b", "1.0.0"), "github:a/b");
        let r = Request::parse("x@1").unwrap();
        assert_eq!(r.saved_spec("1.0.0", "~"), "~1.0.0");
        assert_eq!(r.saved_spec("1.0.0", ""), "1.0.0");
        let r = Request::parse("al@npm:leaf@next").unwrap();
        assert_eq!(r.saved_spec("2.1.0", ""), "npm:leaf@2.1.0");
        assert_eq!(r.exact_spec("2.1.0"), "npm:leaf@2.1.0");
    }
}
