//! Version selection with npm's semantics (npm-pick-manifest, with
//! npm-package-arg deciding what kind of spec it is).

use std::sync::Arc;

use nodejs_semver::{Range, Version};

use super::packument::{Manifest, Packument};
use crate::error::{Code, Error, Result};

/// Knobs for [`pick_version_with`].
#[derive(Debug, Clone, Default)]
pub struct PickOptions {
    /// When set (e.g. `"20.11.0"`), versions whose `engines.node` excludes it
    /// are only picked when nothing else matches, as npm does with
    /// `process.version`. `None` skips the engine check.
    pub node_version: Option<String>,
    /// `before` / `min-release-age` (milliseconds since the epoch): a
    /// version the packument's `time` says was published later is not
    /// picked for a range, a tag or an exact version (npm-pick-manifest's
    /// `before`; versions without a time pass).
    pub before: Option<i64>,
}

/// What npm-package-arg makes of a registry spec.
#[derive(Debug)]
enum SpecKind {
    /// An exact version; holds the cleaned version string.
    Version(String),
    /// A range; `star` when the spec was literally `*` or empty (npm then
    /// takes `latest` even when it is a prerelease).
    Range {
        range: Range,
        star: bool,
    },
    Tag,
}

/// Picks the manifest for `spec` (a dist-tag, an exact version or a range).
/// Same as [`pick_version_with`] without the engine check.
pub fn pick_version<'a>(p: &'a Packument, spec: &str) -> Result<&'a Arc<Manifest>> {
    pick_version_with(p, spec, &PickOptions::default())
}

/// npm-pick-manifest:
/// - a dist-tag → exactly that version;
/// - an exact version (`1.2.3`, `v1.2.3`, `=1.2.3`) → exactly that version;
/// - a range: `dist-tags.latest` if it satisfies the range and is not
///   deprecated (and its engines fit); else the highest satisfying version,
///   preferring versions that are not deprecated (and whose engines fit).
///
/// Prereleases only satisfy a range that names a prerelease of the same
/// `major.minor.patch` (node-semver's rule).
///
/// With `before`, versions published after it are passed over; a dist-tag
/// naming one picks, as npm does, from the range `<=<tagged version>`.
pub fn pick_version_with<'a>(
    p: &'a Packument,
    spec: &str,
    opts: &PickOptions,
) -> Result<&'a Arc<Manifest>> {
    let spec = spec.trim();
    let old_enough = |version: &str| is_before(p.published(version), opts.before);
    match classify(spec) {
        Some(SpecKind::Tag) => {
            let Some(version) = p.dist_tags.get(spec) else {
                let tags: Vec<&str> = p.dist_tags.keys().map(String::as_str).collect();
                return Err(Error::new(
                    Code::NoMatchingVersion,
                    format!(
                        "package '{}' has no dist-tag '{spec}' (tags: {}); use a version range or one of those tags",
                        p.name,
                        if tags.is_empty() { "none".to_string() } else { tags.join(", ") }
                    ),
                ));
            };
            if old_enough(version) {
                return p.manifest(version).ok_or_else(|| no_match(p, spec, opts));
            }
            let below = format!("<={version}");
            match Range::parse(&below) {
                Ok(range) => pick_range(p, spec, &range, false, opts),
                Err(_) => Err(no_match(p, spec, opts)),
            }
        }
        Some(SpecKind::Version(v)) => p
            .manifest(&v)
            .filter(|_| old_enough(&v))
            .ok_or_else(|| no_match(p, spec, opts)),
        Some(SpecKind::Range { range, star }) => pick_range(p, spec, &range, star, opts),
        None => Err(Error::new(
            Code::Manifest,
            format!(
                "invalid version range or tag '{spec}' for package '{}': use a semver range (^1.2.3), a version or a dist-tag",
                p.name
            ),
        )),
    }
}

fn pick_range<'a>(
    p: &'a Packument,
    spec: &str,
    range: &Range,
    star: bool,
    opts: &PickOptions,
) -> Result<&'a Arc<Manifest>> {
    let node = opts
        .node_version
        .as_deref()
        .and_then(|v| Version::parse(v.trim_start_matches('v')).ok());
    let engine_ok = |m: &Manifest| match (&node, m.engines.get("node")) {
        (Some(node), Some(want)) => Range::parse(want)
            .map(|r| node.satisfies_with_prerelease(&r, true))
            .unwrap_or(false),
        _ => true,
    };

    if let Some(latest) = p.dist_tags.get("latest") {
        let fits = (star || Version::parse(latest).is_ok_and(|v| v.satisfies(range)))
            && is_before(p.published(latest), opts.before);
        if let Some(m) = fits.then(|| p.manifest(latest)).flatten() {
            if m.deprecated.is_none() && engine_ok(m) {
                return Ok(m);
            }
        }
    }

    // The highest satisfying version that is good, else the highest; only
    // the satisfying manifests on the way are parsed.
    let mut fallback = None;
    for (v, published, manifest) in p.by_version() {
        if !v.satisfies(range) || !is_before(published, opts.before) {
            continue;
        }
        let Some(m) = manifest() else { continue };
        if m.deprecated.is_none() && engine_ok(m) {
            return Ok(m);
        }
        fallback.get_or_insert(m);
    }
    fallback.ok_or_else(|| no_match(p, spec, opts))
}

/// npm-pick-manifest's `isBefore`: a version without a publish time passes.
fn is_before(published: Option<i64>, before: Option<i64>) -> bool {
    match (published, before) {
        (Some(at), Some(cutoff)) => at <= cutoff,
        _ => true,
    }
}

fn no_match(p: &Packument, spec: &str, opts: &PickOptions) -> Error {
    let latest = match p.dist_tags.get("latest") {
        Some(l) => format!("latest is {l}"),
        None if p.is_empty() => "it has no versions".to_string(),
        None => "it has no 'latest' tag".to_string(),
    };
    let Some(cutoff) = opts.before else {
        return Error::new(
            Code::NoMatchingVersion,
            format!("no version of {} matches {spec}; {latest}", p.name),
        );
    };
    Error::new(
        Code::NoMatchingVersion,
        format!(
            "no version of {} matching {spec} was published before {} (before / min-release-age); {latest}. \
             Wait until a matching version is old enough, or lower min-release-age (or move --before) for this install",
            p.name,
            crate::date::format_iso(cutoff)
        ),
    )
}

/// npm-package-arg: a valid (loose) version, else a valid range, else a tag
/// (which must survive `encodeURIComponent` unchanged); `None` if invalid.
fn classify(spec: &str) -> Option<SpecKind> {
    if spec.is_empty() || spec == "*" {
        return Some(SpecKind::Range {
            range: Range::any(),
            star: true,
        });
    }
    if let Some(v) = clean_version(spec) {
        return Some(SpecKind::Version(v));
    }
    if let Ok(range) = Range::parse(spec) {
        return Some(SpecKind::Range { range, star: false });
    }
    let tag_ok = spec
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.!~*'()".contains(c));
    tag_ok.then_some(SpecKind::Tag)
}

/// `semver.clean(spec, { loose: true })`: strips leading `=`/`v`, returns
/// `major.minor.patch[-prerelease]` (build metadata dropped).
fn clean_version(spec: &str) -> Option<String> {
    let s = spec.trim_start_matches(|c: char| c == '=' || c == 'v' || c.is_whitespace());
    if s.is_empty() || s.contains(char::is_whitespace) {
        return None;
    }
    let v = Version::parse(s).ok()?;
    let mut out = format!("{}.{}.{}", v.major, v.minor, v.patch);
    if !v.pre_release.is_empty() {
        let pre: Vec<String> = v.pre_release.iter().map(|i| i.to_string()).collect();
        out.push('-');
        out.push_str(&pre.join("."));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::packument::Dist;

    fn pack(versions: &[(&str, Option<&str>)], tags: &[(&str, &str)]) -> Packument {
        pack_engines(
            &versions
                .iter()
                .map(|(v, d)| (*v, *d, None))
                .collect::<Vec<_>>(),
            tags,
        )
    }

    fn pack_engines(
        versions: &[(&str, Option<&str>, Option<&str>)],
        tags: &[(&str, &str)],
    ) -> Packument {
        Packument::from_manifests(
            "pkg",
            tags.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            versions.iter().map(|(v, dep, node)| Manifest {
                name: "pkg".into(),
                version: v.to_string(),
                deprecated: dep.map(str::to_string),
                engines: node
                    .iter()
                    .map(|n| ("node".to_string(), n.to_string()))
                    .collect(),
                dist: Dist {
                    tarball: format!("https://r/pkg/-/pkg-{v}.tgz"),
                    ..Default::default()
                },
                ..Default::default()
            }),
        )
    }

    fn pick(p: &Packument, spec: &str) -> std::result::Result<String, Code> {
        pick_version(p, spec)
            .map(|m| m.version.clone())
            .map_err(|e| e.code)
    }

    #[test]
    fn table() {
        let p = pack(
            &[
                ("0.9.0", None),
                ("1.0.0", None),
                ("1.1.0", None),
                ("1.2.0", None),
                ("1.2.5", None),
                ("1.3.0-beta.1", None),
                ("1.3.0-beta.2", None),
                ("1.10.0", None),
                ("2.0.0", None),
                ("2.1.0", None),
                ("3.0.0-rc.1", None),
            ],
            &[
                ("latest", "1.10.0"),
                ("next", "3.0.0-rc.1"),
                ("ts4.5", "2.0.0"),
            ],
        );
        let ok = |s: &str| Ok::<String, Code>(s.to_string());
        let cases: &[(&str, std::result::Result<String, Code>)] = &[
            ("latest", ok("1.10.0")),
            ("next", ok("3.0.0-rc.1")),
            ("ts4.5", ok("2.0.0")),
            ("", ok("1.10.0")),
            ("*", ok("1.10.0")),
            ("x", ok("1.10.0")),
            ("^1.0.0", ok("1.10.0")), // latest preferred
            ("^2.0.0", ok("2.1.0")),  // latest outside: highest satisfying
            (">=2", ok("2.1.0")),
            (">=1.0.0 <2.0.0", ok("1.10.0")),
            (">=1.0.0 <1.3.0", ok("1.2.5")),
            ("1.x", ok("1.10.0")),
            ("1.2.x", ok("1.2.5")),
            ("~1.2", ok("1.2.5")),
            ("~1.2.0", ok("1.2.5")),
            ("0.x || 2.x", ok("2.1.0")),
            ("0.9 || 1.2", ok("1.2.5")),
            ("1.0.0 - 1.2.0", ok("1.2.0")),
            ("1.2.0", ok("1.2.0")),
            ("v1.2.0", ok("1.2.0")),
            ("=1.2.0", ok("1.2.0")),
            ("=v1.2.0", ok("1.2.0")),
            (" 1.2.0 ", ok("1.2.0")),
            ("1.3.0-beta.1", ok("1.3.0-beta.1")),
            ("^1.3.0-beta.1", ok("1.10.0")), // latest satisfies the range
            ("~1.3.0-beta.1", ok("1.3.0-beta.2")),
            (">=1.3.0-beta.1 <1.3.0", ok("1.3.0-beta.2")),
            ("~1.3.0", Err(Code::NoMatchingVersion)), // prereleases excluded
            ("^3.0.0", Err(Code::NoMatchingVersion)), // 3.0.0-rc.1 is below 3.0.0
            ("^3.0.0-rc.0", ok("3.0.0-rc.1")),
            (">2.1.0", Err(Code::NoMatchingVersion)),
            ("^9.0.0", Err(Code::NoMatchingVersion)),
            ("1.2.1", Err(Code::NoMatchingVersion)),
            ("beta", Err(Code::NoMatchingVersion)), // unknown tag
            ("^^1", Err(Code::Manifest)),
            ("1.2.0 junk", ok("1.2.0")), // loose ranges drop invalid comparators
            (">=1.0.0<2", Err(Code::Manifest)),
        ];
        for (spec, want) in cases {
            assert_eq!(&pick(&p, spec), want, "spec {spec:?}");
        }
    }

    #[test]
    fn star_takes_prerelease_latest() {
        let p = pack(
            &[("1.0.0", None), ("2.0.0-beta.1", None)],
            &[("latest", "2.0.0-beta.1")],
        );
        assert_eq!(pick(&p, "*").unwrap(), "2.0.0-beta.1");
        assert_eq!(pick(&p, "").unwrap(), "2.0.0-beta.1");
        assert_eq!(
            pick(&p, "x").unwrap(),
            "1.0.0",
            "only a literal * bypasses the range check"
        );
        assert_eq!(pick(&p, ">=1").unwrap(), "1.0.0");
    }

    #[test]
    fn deprecated_versions_are_avoided() {
        let p = pack(
            &[
                ("1.0.0", None),
                ("1.1.0", Some("bad")),
                ("1.2.0", Some("worse")),
            ],
            &[("latest", "1.2.0")],
        );
        assert_eq!(pick(&p, "^1.0.0").unwrap(), "1.0.0");
        assert_eq!(
            pick(&p, "^1.1.0").unwrap(),
            "1.2.0",
            "all deprecated: highest"
        );
        assert_eq!(pick(&p, "latest").unwrap(), "1.2.0", "tags are exact");
        assert_eq!(pick(&p, "1.1.0").unwrap(), "1.1.0", "versions are exact");
    }

    #[test]
    fn no_latest_tag() {
        let p = pack(&[("1.0.0", None), ("1.5.0", None)], &[]);
        assert_eq!(pick(&p, "^1").unwrap(), "1.5.0");
        let err = pick_version(&p, "^2").unwrap_err();
        assert!(err.message.contains("no 'latest' tag"), "{}", err.message);
    }

    #[test]
    fn error_message_names_latest() {
        let p = pack(&[("1.2.3", None)], &[("latest", "1.2.3")]);
        let err = pick_version(&p, "^9.0.0").unwrap_err();
        assert_eq!(err.code, Code::NoMatchingVersion);
        assert_eq!(
            err.message,
            "no version of pkg matches ^9.0.0; latest is 1.2.3"
        );
        let err = pick_version(&p, "beta").unwrap_err();
        assert!(err.message.contains("no dist-tag 'beta'") && err.message.contains("latest"));
    }

    #[test]
    fn engines_are_considered_when_asked() {
        let p = pack_engines(
            &[
                ("1.0.0", None, Some(">=12")),
                ("1.1.0", None, Some(">=18")),
                ("1.2.0", None, Some(">=22")),
            ],
            &[("latest", "1.2.0")],
        );
        let opts = |v: &str| PickOptions {
            node_version: Some(v.into()),
            ..Default::default()
        };
        let with = |spec: &str, node: &str| {
            pick_version_with(&p, spec, &opts(node))
                .unwrap()
                .version
                .clone()
        };
        assert_eq!(with("^1.0.0", "v20.1.0"), "1.1.0");
        assert_eq!(with("^1.0.0", "22.0.0"), "1.2.0");
        assert_eq!(with("^1.0.0", "10.0.0"), "1.2.0", "nothing fits: highest");
        assert_eq!(
            pick(&p, "^1.0.0").unwrap(),
            "1.2.0",
            "no engine check by default"
        );
    }

    /// leaf-like: latest 1.1.0, next 2.1.0; 1.x published long ago, 2.x
    /// and the prerelease recently.
    fn dated() -> Packument {
        let day = 86_400_000;
        pack(
            &[
                ("1.0.0", None),
                ("1.1.0", None),
                ("1.2.0", Some("old and deprecated")),
                ("2.0.0", None),
                ("2.1.0", None),
                ("3.0.0-beta.1", None),
                ("4.0.0", None),
            ],
            &[
                ("latest", "2.1.0"),
                ("next", "3.0.0-beta.1"),
                ("old", "1.1.0"),
            ],
        )
        .with_times([
            ("1.0.0", 10 * day),
            ("1.1.0", 20 * day),
            ("1.2.0", 25 * day),
            ("2.0.0", 30 * day),
            ("2.1.0", 40 * day),
            ("3.0.0-beta.1", 50 * day),
            // 4.0.0 has no time: it passes, as in npm.
        ])
    }

    fn before(p: &Packument, spec: &str, days: i64) -> std::result::Result<String, Code> {
        let opts = PickOptions {
            before: Some(days * 86_400_000),
            ..Default::default()
        };
        pick_version_with(p, spec, &opts)
            .map(|m| m.version.clone())
            .map_err(|e| e.code)
    }

    #[test]
    fn before_passes_over_newer_versions() {
        let p = dated();
        let ok = |s: &str| Ok::<String, Code>(s.to_string());
        let cases: &[(&str, i64, std::result::Result<String, Code>)] = &[
            // Ranges: latest only when old enough, else the highest old enough.
            ("^2.0.0", 100, ok("2.1.0")),
            ("^2.0.0", 40, ok("2.1.0")), // published exactly at the cutoff
            ("^2.0.0", 39, ok("2.0.0")),
            ("^2.0.0", 29, Err(Code::NoMatchingVersion)),
            ("*", 35, ok("4.0.0")), // no time: passes
            ("^1.0.0", 21, ok("1.1.0")),
            ("^1.0.0", 26, ok("1.1.0")), // 1.2.0 is deprecated
            ("~1.2.0", 26, ok("1.2.0")), // all deprecated: highest
            // Tags: the tagged version if old enough, else `<=tagged`.
            ("latest", 100, ok("2.1.0")),
            ("latest", 35, ok("2.0.0")),
            ("latest", 25, ok("1.1.0")),
            ("next", 45, ok("2.1.0")),
            ("old", 5, Err(Code::NoMatchingVersion)),
            // Exact versions: only if old enough.
            ("2.1.0", 100, ok("2.1.0")),
            ("2.1.0", 39, Err(Code::NoMatchingVersion)),
            ("4.0.0", 1, ok("4.0.0")),
        ];
        for (spec, days, want) in cases {
            assert_eq!(&before(&p, spec, *days), want, "{spec:?} before day {days}");
        }
        assert_eq!(pick(&p, "^2.0.0").unwrap(), "2.1.0", "no cutoff: as before");
    }

    #[test]
    fn nothing_old_enough_names_the_cutoff() {
        let p = dated();
        let opts = PickOptions {
            before: Some(crate::date::parse_iso("1970-01-30T00:00:00Z").unwrap()),
            ..Default::default()
        };
        let err = pick_version_with(&p, "^2.0.0", &opts).unwrap_err();
        assert_eq!(err.code, Code::NoMatchingVersion);
        assert!(
            err.message
                .contains("published before 1970-01-30T00:00:00.000Z")
                && err.message.contains("^2.0.0")
                && err.message.contains("min-release-age"),
            "{}",
            err.message
        );
    }
}
