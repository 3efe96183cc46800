//! npm's dep-valid: whether a package placed in the tree satisfies a
//! dependency's spec (arborist's `dep-valid.js`).

use nodejs_semver::{Range, Version};

use super::Package;
use crate::spec::Spec;

/// npm's dep-valid: does `pkg` (as placed in the tree) satisfy `spec`?
pub fn dep_valid(spec: &Spec, pkg: &Package) -> bool {
    let resolved = pkg.resolved.as_deref();
    match spec {
        // By version only: the folder name already matched, and npm accepts
        // an aliased package there (`*` accepts anything).
        Spec::Registry { req, .. } => req.matches(&pkg.version),
        Spec::Directory { path } => pkg.link && resolved == Some(path.as_str()),
        Spec::File { path } => {
            !pkg.link && resolved.and_then(|r| r.strip_prefix("file:")) == Some(path.as_str())
        }
        Spec::Url { url } => !pkg.link && resolved == Some(url.as_str()),
        Spec::Git { raw } => {
            !pkg.link && resolved.is_some_and(|r| git_satisfies(raw, r, &pkg.version))
        }
        Spec::Workspace { req } => pkg.link && req.matches(&pkg.version),
        Spec::Other { .. } => false,
    }
}

/// npm's dep-valid for git: the same repository; the same commit when the
/// spec names a full sha; a version in range for `#semver:`.
fn git_satisfies(raw: &str, resolved: &str, version: &str) -> bool {
    let (Some(want), Some(have)) = (crate::git::parse(raw), crate::git::parse(resolved)) else {
        return false;
    };
    let same_repo = match (&want.hosted, &have.hosted) {
        (Some(a), Some(b)) => {
            a.host == b.host
                && a.user.eq_ignore_ascii_case(&b.user)
                && a.project.eq_ignore_ascii_case(&b.project)
        }
        (None, None) => want.url == have.url,
        _ => false,
    };
    let is_sha = |c: &str| c.len() == 40 && c.chars().all(|c| c.is_ascii_hexdigit());
    let commit_ok = match want.committish.as_deref().filter(|c| is_sha(c)) {
        Some(sha) => have.committish.as_deref() == Some(sha),
        None => true,
    };
    let range_ok =
        want.range
            .as_deref()
            .is_none_or(|r| match (Range::parse(r), Version::parse(version)) {
                (Ok(r), Ok(v)) => r.satisfies(&v),
                _ => false,
            });
    same_repo && commit_ok && range_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_registry_satisfaction() {
        let link = Package {
            name: "x".into(),
            version: "1.0.0".into(),
            resolved: Some("libs/x".into()),
            link: true,
            ..Default::default()
        };
        let dir = |p: &str| Spec::Directory { path: p.into() };
        assert!(dep_valid(&dir("libs/x"), &link));
        assert!(!dep_valid(&dir("libs/y"), &link));
        assert!(dep_valid(&Spec::parse("x", "^1").unwrap(), &link));
        let tgz = Package {
            resolved: Some("file:v/x.tgz".into()),
            link: false,
            ..link.clone()
        };
        assert!(dep_valid(
            &Spec::File {
                path: "v/x.tgz".into()
            },
            &tgz
        ));
        assert!(!dep_valid(&dir("v/x.tgz"), &tgz));
    }
}
