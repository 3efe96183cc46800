//! A whole tree's packages at once: from the cache alone
//! ([`Fetcher::find_cached`], for `link`), or fetched as needed
//! ([`Fetcher::ensure_many`]), one task per distinct tarball.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use futures_util::future::BoxFuture;
use tokio::task::JoinSet;

use super::{Fetched, Fetcher, Tarball};
use crate::error::{Code, Error, Result};
use crate::store::{Found, Sri};
use crate::tree::Package;

/// Where `p` is fetched from, by its `resolved` (`file:` paths are relative
/// to the project folder `cwd`); None when the lockfile left it out.
pub fn resolved_url(p: &Package, cwd: &Path) -> Option<String> {
    let resolved = p.resolved.as_deref()?;
    Some(match resolved.strip_prefix("file:") {
        Some(path) => format!("file://{}", cwd.join(path).display()),
        None => resolved.to_string(),
    })
}

impl Tarball {
    /// The download for a package; lockfiles written with
    /// `omit-lockfile-registry-resolved` have no URL, so the registry's
    /// (`registry`, ending with `/`) is built.
    pub fn of_package(p: &Package, cwd: &Path, registry: &str) -> Tarball {
        let url = resolved_url(p, cwd).unwrap_or_else(|| {
            let short = p.name.rsplit('/').next().unwrap_or(&p.name);
            format!("{registry}{}/-/{short}-{}.tgz", p.name, p.version)
        });
        Tarball {
            name: p.name.clone(),
            version: p.version.clone(),
            url,
            integrity: p.integrity.clone(),
        }
    }

    /// Tarballs with the same content (or, without an integrity, the same
    /// URL) are fetched once.
    fn key(&self) -> String {
        self.integrity.clone().unwrap_or_else(|| self.url.clone())
    }
}

/// One package a tree needs.
pub struct Want {
    pub tarball: Tarball,
    /// npm drops an optional package it cannot fetch instead of failing.
    pub optional: bool,
    /// Asked first for the integrity to verify against, when the tarball
    /// has none (a registry package locked without one).
    pub integrity_from: Option<BoxFuture<'static, Option<String>>>,
}

impl Fetcher {
    /// Every tarball from the cache, in order, without the network. A git
    /// dependency is found by what it resolved to. Missing ones (and
    /// entries found changed, which are set aside) fail the whole call with
    /// `E_NOT_CACHED`, naming a few. Also returns how many distinct
    /// tarballs they are.
    pub fn find_cached(&self, tarballs: &[Tarball]) -> Result<(Vec<Fetched>, usize)> {
        let store = self.store();
        let mut out = Vec::with_capacity(tarballs.len());
        let mut missing = Vec::new();
        let mut distinct = HashSet::new();
        for t in tarballs {
            distinct.insert(t.integrity.clone());
            let label = format!("{}@{}", t.name, t.version);
            let integrity = t.integrity.clone().or_else(|| {
                let url = Some(t.url.as_str()).filter(|u| super::is_git_url(u))?;
                crate::git::cache::lookup(store.root(), url)
            });
            let sri = integrity.as_deref().and_then(|i| Sri::parse(i).ok());
            match sri.map_or(Found::Missing, |s| store.find(&s)) {
                Found::Intact(package) => out.push(Fetched {
                    package,
                    integrity: t.integrity.clone().unwrap_or_default(),
                    downloaded_bytes: 0,
                }),
                Found::Changed(file) => {
                    self.warn(format!(
                        "the cached copy of {label} was modified ({}); it was removed from the cache",
                        file.display()
                    ));
                    missing.push(label)
                }
                Found::Missing => missing.push(label),
            }
        }
        if !missing.is_empty() {
            let shown: Vec<_> = missing.iter().take(5).cloned().collect();
            return Err(Error::new(
                Code::NotCached,
                format!(
                    "{} package(s) are not in the cache ({}{}). Run `brisk prefetch` first (it needs the network), then `brisk link`.",
                    missing.len(),
                    shown.join(", "),
                    if missing.len() > 5 { ", …" } else { "" }
                ),
            ));
        }
        Ok((out, distinct.len()))
    }

    /// Makes sure every wanted package is in the store: one task per
    /// distinct tarball (the scheduler bounds the concurrency), so hashing
    /// and TLS spread over the runtime's workers. `on_fetched(i, …)` is
    /// called for each input as its package lands, `on_done(done, total)`
    /// as inputs finish; the first error aborts the rest. An optional
    /// package that cannot be fetched is `None`, with a warning. Also
    /// returns how many distinct tarballs they are.
    pub async fn ensure_many(
        &self,
        wants: Vec<Want>,
        on_fetched: &(dyn Fn(usize, &Fetched) + Sync),
        on_done: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<(Vec<Option<Fetched>>, usize)> {
        let total = wants.len();
        let mut users: HashMap<String, Vec<usize>> = HashMap::new();
        let mut optional = vec![false; total];
        let mut distinct = Vec::new();
        for (i, want) in wants.into_iter().enumerate() {
            optional[i] = want.optional;
            let key = want.tarball.key();
            let entry = users.entry(key.clone()).or_default();
            entry.push(i);
            if entry.len() == 1 {
                distinct.push((key, want));
            }
        }
        let mut distinct = distinct.into_iter();
        let mut pending = JoinSet::new();
        let mut out: Vec<Option<Fetched>> = vec![None; total];
        let mut done = 0;
        loop {
            // What is done is handed on while the rest are spawned: a cached
            // package is found within microseconds, and cloning starts then
            // instead of after every fetch of a large tree was spawned.
            let joined = match distinct.next() {
                Some((key, want)) => {
                    let f = self.clone();
                    pending.spawn(async move {
                        let Want {
                            mut tarball,
                            integrity_from,
                            ..
                        } = want;
                        let label = format!("{}@{}", tarball.name, tarball.version);
                        if let Some(lookup) = integrity_from.filter(|_| tarball.integrity.is_none())
                        {
                            tarball.integrity = lookup.await;
                        }
                        (key, label, f.ensure(tarball).await)
                    });
                    match pending.try_join_next() {
                        Some(joined) => joined,
                        None => continue,
                    }
                }
                None => match pending.join_next().await {
                    Some(joined) => joined,
                    None => break,
                },
            };
            let (key, label, r) =
                joined.map_err(|e| Error::new(Code::Io, format!("a download task failed: {e}")))?;
            let users = &users[&key];
            match r {
                Ok(f) => {
                    for &i in users {
                        on_fetched(i, &f);
                        out[i] = Some(f.clone());
                    }
                }
                Err(e) if e.code != Code::Cancelled && users.iter().all(|&i| optional[i]) => self
                    .warn(format!(
                        "skipping optional dependency {label}: {}",
                        e.detail()
                    )),
                Err(e) => return Err(e),
            }
            done += users.len();
            on_done(done, total);
        }
        Ok((out, users.len()))
    }
}
