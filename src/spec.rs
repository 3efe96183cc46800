//! Dependency specifiers, as npm-package-arg reads them: registry specs
//! (ranges, exact versions, dist-tags), `npm:` aliases, folders (`file:`,
//! `link:`, `./x`), local and remote tarballs, git and `workspace:`.

use std::path::Path;
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
    /// A folder (`file:../x`, `link:../x`, `./x`), installed as a symlink.
    /// `path` is relative to the dependent's folder until [`Spec::rebase`]
    /// makes it relative to the project root, as the lockfile writes it.
    Directory { path: String },
    /// A local tarball (`file:x.tgz`); `path` as for `Directory`.
    File { path: String },
    /// A remote tarball.
    Url { url: String },
    /// A git repository (`github:u/r#ref`, `git+https://…`, `u/r`).
    Git { raw: String },
    /// `workspace:<range>`: the project's workspace of that name.
    Workspace { req: Req },
    /// Something that is not a valid specifier.
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
            return Ok(Spec::other(kind, raw));
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

    fn other(kind: &'static str, raw: &str) -> Spec {
        let strip = |prefix: &str| raw.get(prefix.len()..).unwrap_or_default().to_string();
        match kind {
            "file" | "link" => {
                let path = if kind == "link" {
                    strip("link:")
                } else if raw
                    .get(..5)
                    .is_some_and(|p| p.eq_ignore_ascii_case("file:"))
                {
                    strip("file:")
                } else {
                    raw.to_string()
                };
                if kind == "file" && is_tarball_path(&path) {
                    Spec::File { path }
                } else {
                    Spec::Directory { path }
                }
            }
            "workspace" => Spec::Workspace {
                req: match strip("workspace:").as_str() {
                    "^" | "~" => Req::Any,
                    r => Req::parse(r),
                },
            },
            "git" => Spec::Git {
                raw: raw.to_string(),
            },
            "tarball URL" => Spec::Url {
                url: raw.to_string(),
            },
            kind => Spec::Other { kind },
        }
    }

    /// Make a folder or file path relative to the project root (`base` is
    /// the dependent's folder, relative to the root; `root` is the root's
    /// absolute path, for absolute specs). Other specs are returned as is.
    pub fn rebase(self, base: &str, root: &Path) -> Spec {
        let fix = |path: String| rebase_path(base, &path, root);
        match self {
            Spec::Directory { path } => Spec::Directory { path: fix(path) },
            Spec::File { path } => Spec::File { path: fix(path) },
            other => other,
        }
    }

    /// Does a package with `pkg_name@version` satisfy this registry spec?
    /// (Other kinds need the whole package: `tree::dep_valid`.)
    pub fn satisfied_by(&self, pkg_name: &str, version: &str) -> bool {
        match self {
            Spec::Registry { name, req, .. } => name == pkg_name && req.matches(version),
            _ => false,
        }
    }
}

/// npm-package-arg: a `file:` spec names a tarball when it ends like one.
fn is_tarball_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [".tgz", ".tar.gz", ".tar"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// `base` + `path`, normalized lexically, relative to the root (may start
/// with `../`; `.` becomes ``). Absolute paths are made relative to `root`.
pub fn rebase_path(base: &str, path: &str, root: &Path) -> String {
    let path = path.trim();
    let (start, rest): (Vec<String>, &str) = if let Some(rest) = path.strip_prefix("~/") {
        let home = dirs::home_dir().unwrap_or_default();
        (absolute_parts(root, &home.join(rest)), "")
    } else if path.starts_with('/') {
        (absolute_parts(root, Path::new(path)), "")
    } else {
        (
            base.split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            path,
        )
    };
    let mut parts = start;
    for seg in rest.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| p != "..") {
                    parts.pop();
                } else {
                    parts.push("..".into());
                }
            }
            s => parts.push(s.to_string()),
        }
    }
    parts.join("/")
}

/// The path segments that lead from `root` to the absolute folder `to`.
fn absolute_parts(root: &Path, to: &Path) -> Vec<String> {
    let comps = |p: &Path| -> Vec<String> {
        p.components()
            .filter_map(|c| match c {
                std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect()
    };
    let (r, t) = (comps(root), comps(to));
    let common = r.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out: Vec<String> = std::iter::repeat_n("..".to_string(), r.len() - common).collect();
    out.extend(t[common..].iter().cloned());
    out
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
    // `https://github.com/user/repo#sha` names a repository, not a tarball
    // (npm-package-arg asks hosted-git-info first).
    if (lower.starts_with("http://") || lower.starts_with("https://"))
        && crate::git::parse(raw).is_some()
    {
        return Some("git");
    }
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
    // `x-1.0.0.tgz`: npm-package-arg reads a tarball file name as a file.
    if is_tarball_path(raw) && !raw.contains(' ') {
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
    fn tarball_name_with_multibyte_char_near_the_start() {
        // Fuzzing found this: slicing the first 5 bytes for `file:` panicked
        // when byte 5 fell inside a character.
        for raw in [
            "^0.0\u{6a6}mple.com/o.tgz",
            "\u{10c}\u{411}>~l:../local/pkg.tgz",
            "file\u{e9}.tgz",
        ] {
            assert!(matches!(
                Spec::parse("a", raw).unwrap(),
                Spec::File { path } if path == raw.trim()
            ));
        }
    }

    #[test]
    fn a_hosted_repository_url_is_git_and_other_urls_are_tarballs() {
        for raw in [
            "https://github.com/electron/node-gyp#06b29aafb7708acef8b3669835c8a7857ebc92d2",
            "https://github.com/user/repo",
            "http://github.com/user/repo.git#v1.0.0",
            "https://gitlab.com/group/sub/repo#main",
            "https://bitbucket.org/user/repo#abc",
        ] {
            assert!(
                matches!(Spec::parse("a", raw).unwrap(), Spec::Git { .. }),
                "{raw}"
            );
        }
        for raw in [
            "https://github.com/user/repo/archive/v1.tar.gz",
            "https://registry.example.com/a/-/a-1.0.0.tgz",
            "https://gitlab.com/group/repo/-/archive/main/repo-main.tar.gz",
        ] {
            assert!(
                matches!(Spec::parse("a", raw).unwrap(), Spec::Url { .. }),
                "{raw}"
            );
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
        let root = Path::new("/home/u/proj");
        let kind = |raw: &str| match Spec::parse("x", raw).unwrap().rebase("packages/a", root) {
            Spec::Directory { path } => format!("dir {path}"),
            Spec::File { path } => format!("file {path}"),
            Spec::Url { url } => format!("url {url}"),
            Spec::Git { raw } => format!("git {raw}"),
            Spec::Workspace { req } => format!("ws {}", req.matches("9.0.0")),
            other => format!("{other:?}"),
        };
        for (raw, want) in [
            ("file:../x", "dir packages/x"),
            ("link:../../x", "dir x"),
            ("file:../../../x", "dir ../x"),
            ("./local/", "dir packages/a/local"),
            (
                "file:vendor/x-1.0.0.tgz",
                "file packages/a/vendor/x-1.0.0.tgz",
            ),
            ("file:/home/u/other", "dir ../other"),
            ("/home/u/proj/libs/y", "dir libs/y"),
            ("github:a/b", "git github:a/b"),
            ("a/b", "git a/b"),
            ("git+https://x/y.git", "git git+https://x/y.git"),
            ("https://x/y.tgz", "url https://x/y.tgz"),
            ("workspace:*", "ws true"),
            ("workspace:^", "ws true"),
            ("workspace:^1.0.0", "ws false"),
        ] {
            assert_eq!(kind(raw), want, "{raw}");
        }
    }

    #[test]
    fn satisfied_by_checks_real_name() {
        let s = Spec::parse("sw", "npm:string-width@^4").unwrap();
        assert!(s.satisfied_by("string-width", "4.2.3"));
        assert!(!s.satisfied_by("sw", "4.2.3"));
    }
}
