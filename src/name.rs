//! Package names, checked before they become folder names, URLs or cache
//! paths, wherever they came from (package.json, a packument, a tarball's
//! package.json, a lockfile).
//!
//! The rules are validate-npm-package-name's for old packages (what npm
//! accepts to install: capitals and `~'!()*` still allowed, no length
//! limit), plus one stricter rule: neither part of a scoped name may start
//! with `.`, because npm's own check lets `@scope/..` through and that name
//! is a path out of its folder.

/// Why `name` cannot be a package name, or `Ok` if it can.
pub fn check(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("the name is empty");
    }
    if name.trim() != name {
        return Err("the name has leading or trailing spaces");
    }
    if name.starts_with('.') {
        return Err("a name cannot start with a period");
    }
    if name.starts_with('_') {
        return Err("a name cannot start with an underscore");
    }
    let lower = name.to_ascii_lowercase();
    if lower == "node_modules" || lower == "favicon.ico" {
        return Err("this name is reserved");
    }
    let parts = match name.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, pkg)) => [scope, pkg],
            None => return Err("a scoped name needs the form @scope/name"),
        },
        None => [name, name],
    };
    for part in parts {
        if part.is_empty() {
            return Err("a scoped name needs the form @scope/name");
        }
        if part.starts_with('.') {
            return Err("a name or scope cannot start with a period");
        }
        if !part.bytes().all(url_safe) {
            return Err("a name can only contain URL-friendly characters");
        }
    }
    Ok(())
}

/// The bytes `encodeURIComponent` leaves as they are.
pub fn url_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b)
}

/// The package folder names of a location inside a `node_modules`
/// (`packages/w/node_modules/a/node_modules/@s/b` → `a`, `@s/b`), each
/// to be checked as a name; `None` when `loc` is not inside one.
pub fn installed_names(loc: &str) -> Option<std::str::Split<'_, &'static str>> {
    let rest = match loc.strip_prefix("node_modules/") {
        Some(rest) => rest,
        None => &loc[loc.find("/node_modules/")? + "/node_modules/".len()..],
    };
    Some(rest.split("/node_modules/"))
}

/// Is `name` a package name?
pub fn is_valid(name: &str) -> bool {
    check(name).is_ok()
}

/// The dependency names in `maps` that are not package names, each with
/// its reason (for one message naming every bad key).
pub fn invalid_keys<'a, V: 'a>(
    maps: impl IntoIterator<Item = &'a indexmap::IndexMap<String, V>>,
) -> Option<String> {
    let bad: Vec<String> = maps
        .into_iter()
        .flat_map(|m| m.keys())
        .filter_map(|k| check(k).err().map(|why| format!("{k:?} ({why})")))
        .collect();
    (!bad.is_empty()).then(|| bad.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_npm_installs() {
        for ok in [
            "a",
            "react",
            "@babel/core",
            "JSONStream",
            "lodash.merge",
            "left-pad",
            "@types/node",
            "a~b",
            "(x)",
            "x!",
            "it's",
            "*star",
            "fs",
            &"x".repeat(300),
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_paths_and_what_npm_refuses() {
        for bad in [
            "",
            " a",
            "a ",
            ".",
            "..",
            "../x",
            "../../../PWNED",
            "a/../../b",
            "a/b",
            "/abs",
            "_x",
            ".x",
            "node_modules",
            "NODE_MODULES",
            "favicon.ico",
            "@",
            "@s",
            "@s/",
            "@/x",
            "@s/..",
            "@s/.x",
            "@../x",
            "@s/x/y",
            "@s/x/../..",
            "a\\b",
            "a%2fb",
            "a b",
            "a\u{0}",
            "ünicode",
            "a:b",
            "a?b",
            "a#b",
        ] {
            assert!(check(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn invalid_keys_names_each_bad_key() {
        let m: indexmap::IndexMap<String, String> = [("ok", "1"), ("../x", "1"), ("@s/..", "1")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let msg = invalid_keys([&m]).unwrap();
        assert!(
            msg.contains("\"../x\"") && msg.contains("\"@s/..\""),
            "{msg}"
        );
        assert!(!msg.contains("\"ok\""));
        let empty = indexmap::IndexMap::<String, String>::new();
        assert_eq!(invalid_keys([&empty]), None);
    }
}
