//! Committish → commit sha: `git ls-remote`, then HEAD / branch / tag
//! (peeled) / `semver:` range, as @npmcli/git's revs and pacote pick them.

use std::collections::HashMap;
use std::path::Path;

use nodejs_semver::{Range, Version};

use crate::error::{Code, Error, Result};

use super::cmd::{git, git_ok};
use super::GitSpec;

/// The refs a remote advertises.
#[derive(Debug, Default, Clone)]
pub struct Refs {
    /// `HEAD`'s commit, if advertised.
    pub head: Option<String>,
    /// Ref name → commit (annotated tags peeled). Keyed by full name
    /// (`refs/heads/main`) and short name (`main`, `v1.0.0`; tags win over
    /// branches of the same name).
    pub by_name: HashMap<String, String>,
    /// Tag short name → commit (peeled).
    pub tags: HashMap<String, String>,
}

impl Refs {
    /// Parses `git ls-remote` output.
    pub fn parse(out: &str) -> Refs {
        let mut refs = Refs::default();
        let mut peeled: Vec<(String, String)> = Vec::new();
        let mut branches: Vec<(String, String)> = Vec::new();
        for line in out.lines() {
            let Some((sha, name)) = line.split_once('\t') else {
                continue;
            };
            let sha = sha.trim().to_string();
            let name = name.trim();
            if name == "HEAD" {
                refs.head = Some(sha.clone());
            }
            if let Some(tag) = name.strip_prefix("refs/tags/") {
                if let Some(tag) = tag.strip_suffix("^{}") {
                    peeled.push((tag.to_string(), sha));
                    continue;
                }
                refs.tags
                    .entry(tag.to_string())
                    .or_insert_with(|| sha.clone());
            } else if let Some(branch) = name.strip_prefix("refs/heads/") {
                branches.push((branch.to_string(), sha.clone()));
            }
            refs.by_name.insert(name.to_string(), sha);
        }
        for (tag, sha) in peeled {
            refs.by_name.insert(format!("refs/tags/{tag}"), sha.clone());
            refs.tags.insert(tag, sha);
        }
        for (branch, sha) in branches {
            refs.by_name.insert(branch, sha);
        }
        for (tag, sha) in &refs.tags {
            refs.by_name.insert(tag.clone(), sha.clone());
        }
        refs
    }

    /// The commit `committish` names, if it is a ref (or a full sha the
    /// remote advertises).
    pub fn lookup(&self, committish: &str) -> Option<&str> {
        if committish == "HEAD" {
            return self.head.as_deref();
        }
        if let Some(sha) = self.by_name.get(committish) {
            return Some(sha);
        }
        let lower = committish.to_ascii_lowercase();
        self.by_name
            .values()
            .find(|sha| **sha == lower)
            .map(String::as_str)
    }

    /// The commit of the highest tag satisfying `range` (tags like `v1.2.3`
    /// count as versions). Like npm-pick-manifest, a version that HEAD (or
    /// a `latest` branch) points at wins when it satisfies the range.
    pub fn pick_range(&self, range: &Range) -> Option<(String, String)> {
        let mut best: Option<(Version, &str, &str)> = None;
        let preferred = self.by_name.get("latest").or(self.head.as_ref());
        let mut preferred_hit = None;
        for (tag, sha) in &self.tags {
            let Some(version) = clean_version(tag) else {
                continue;
            };
            if !range.satisfies(&version) {
                continue;
            }
            if Some(sha) == preferred {
                preferred_hit = Some((tag.clone(), sha.clone()));
            }
            if best.as_ref().is_none_or(|(v, _, _)| version > *v) {
                best = Some((version, tag, sha));
            }
        }
        preferred_hit.or_else(|| best.map(|(_, tag, sha)| (tag.to_string(), sha.to_string())))
    }
}

/// `semver.clean(tag, loose)`: `v1.2.3` / `=1.2.3` → 1.2.3.
fn clean_version(tag: &str) -> Option<Version> {
    let t = tag.trim().trim_start_matches(['=', 'v', 'V']).trim();
    Version::parse(t).ok()
}

fn is_full_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `git ls-remote` of the first of `spec`'s URLs that answers.
pub async fn ls_remote(spec: &GitSpec) -> Result<(String, Refs)> {
    let mut failures = Vec::new();
    for url in spec.clone_urls() {
        match git(&["ls-remote", "--", &url], None).await? {
            Ok(out) => return Ok((url, Refs::parse(&out))),
            Err(f) => failures.push(format!("{url}: {}", f.summary())),
        }
    }
    Err(unreachable(spec, &failures))
}

/// The E_GIT error for a repository none of whose URLs could be read.
pub(crate) fn unreachable(spec: &GitSpec, failures: &[String]) -> Error {
    Error::new(
        Code::Git,
        format!(
            "cannot read git repository {} ({}); check that it exists and that you have \
             access to it (git credentials or ssh keys)",
            spec.display_name(),
            failures.join("; ")
        ),
    )
}

/// The full commit sha `spec` names. A full sha is taken as is (fetching
/// checks it); refs and `semver:` ranges come from `git ls-remote`; any
/// other committish (short sha, `HEAD~1`) from a temporary clone.
/// Errors: `E_GIT` (repository unreachable), `E_NO_MATCHING_VERSION` (no
/// such ref, no tag in the range), `E_MANIFEST` (invalid range).
pub async fn resolve(spec: &GitSpec) -> Result<String> {
    if let Some(c) = spec.committish.as_deref().filter(|c| is_full_sha(c)) {
        return Ok(c.to_ascii_lowercase());
    }
    let range = match &spec.range {
        Some(r) => Some(Range::parse(r).map_err(|e| {
            Error::new(
                Code::Manifest,
                format!("invalid semver range in {}: {e}", spec.raw),
            )
        })?),
        None => None,
    };
    let (url, refs) = ls_remote(spec).await?;
    if let Some(range) = range {
        return refs.pick_range(&range).map(|(_, sha)| sha).ok_or_else(|| {
            let mut tags: Vec<&str> = refs.tags.keys().map(String::as_str).collect();
            tags.sort();
            Error::new(
                Code::NoMatchingVersion,
                format!(
                    "no tag of {} matches semver range {} (tags: {})",
                    spec.display_name(),
                    spec.range.as_deref().unwrap_or(""),
                    if tags.is_empty() {
                        "none".to_string()
                    } else {
                        tags.join(", ")
                    }
                ),
            )
        });
    }
    let committish = spec.committish.as_deref().unwrap_or("HEAD");
    if let Some(sha) = refs.lookup(committish) {
        return Ok(sha.to_string());
    }
    if committish == "HEAD" {
        return Err(Error::new(
            Code::NoMatchingVersion,
            format!(
                "git repository {} has no HEAD (is it empty?); name a branch or tag with #<ref>",
                spec.display_name()
            ),
        ));
    }
    resolve_by_clone(spec, &url, committish).await
}

/// A committish ls-remote does not show (short sha, `HEAD~1`): fetch the
/// whole repository into a temp dir and ask git.
async fn resolve_by_clone(spec: &GitSpec, url: &str, committish: &str) -> Result<String> {
    let tmp = tempfile::Builder::new()
        .prefix("brisk-git-")
        .tempdir()
        .map_err(|e| Error::io("creating a temp dir for a git clone", e))?;
    let dir = tmp.path();
    git_ok(&["init", "-q", "--bare", "."], Some(dir), "git init").await?;
    fetch_all(dir, url, spec).await?;
    let rev = format!("{committish}^{{commit}}");
    match git(&["rev-parse", "--verify", "--quiet", &rev], Some(dir)).await? {
        Ok(out) if is_full_sha(out.trim()) => Ok(out.trim().to_string()),
        _ => Err(Error::new(
            Code::NoMatchingVersion,
            format!(
                "git repository {} has no branch, tag or commit named \"{committish}\"",
                spec.display_name()
            ),
        )),
    }
}

/// Fetches every ref of `url` into the repository at `dir`.
pub(crate) async fn fetch_all(dir: &Path, url: &str, spec: &GitSpec) -> Result<()> {
    match git(
        &["fetch", "-q", "--", url, "+refs/*:refs/remotes/all/*"],
        Some(dir),
    )
    .await?
    {
        Ok(_) => Ok(()),
        Err(f) => Err(unreachable(spec, &[format!("{url}: {}", f.summary())])),
    }
}
