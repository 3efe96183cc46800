//! The registry as the resolver's source, looking ahead: packuments (and
//! the likely versions' dependencies) are requested before the resolver
//! asks for them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use dashmap::DashSet;
use serde_json::{Map, Value};

use super::background::Background;
use crate::error::{Code, Error, Result};
use crate::fetch::{Fetcher, Tarball};
use crate::registry::{pick_version_with, Packument, PickOptions, RegistryClient};
use crate::resolve::{Locked, Source};
use crate::spec::Spec;
use crate::tree::Package;

/// The registry as a resolution source. Prefetching looks ahead: once a
/// packument arrives, the version the range would most likely get is
/// picked and its own dependencies are requested too, so the network runs
/// ahead of the (ordered, deterministic) resolver instead of one tree level
/// at a time. Only the fetch order is speculative; what resolution picks
/// does not depend on it.
pub struct RegistrySource<'a> {
    pub client: RegistryClient,
    pub background: &'a Background,
    pub pick: PickOptions,
    /// `name@range` pairs already looked ahead at (each once).
    pub seen: Arc<DashSet<String>>,
    /// Whether peer dependencies are installed (not `legacy-peer-deps`), so
    /// worth looking ahead at.
    pub peers: bool,
    /// For tarball (`file:`, URL) dependencies and bundled ones.
    pub fetcher: Fetcher,
    /// The project folder (`file:` paths are relative to it).
    pub cwd: PathBuf,
    /// What the lockfile locks: a range a locked package serves needs no
    /// look-ahead (the resolver takes the lockfile's entry).
    pub locked: Locks,
}

/// The lockfile's versions per name (see `ResolveOptions::locked`).
pub type Locks = Arc<HashMap<String, Vec<Locked>>>;

/// Does a locked package (with its metadata) serve `name@range`?
fn served(locked: &Locks, spec: &Spec, name: &str) -> bool {
    locked.get(name).is_some_and(|versions| {
        versions
            .iter()
            .any(|l| l.package.is_some() && spec.satisfied_by(name, &l.version))
    })
}

impl Source for RegistrySource<'_> {
    async fn packument(&self, name: &str) -> Result<Arc<Packument>> {
        self.client.packument(name).await
    }

    fn prefetch(&self, name: &str, wanted: &str) {
        let ahead = Ahead {
            client: self.client.clone(),
            background: self.background.clone(),
            pick: self.pick.clone(),
            seen: self.seen.clone(),
            peers: self.peers,
            locked: self.locked.clone(),
        };
        look_ahead(ahead, name.to_string(), wanted.to_string());
    }

    async fn tarball_manifest(&self, url: &str) -> Result<(Map<String, Value>, String)> {
        tarball_manifest(&self.fetcher, url).await
    }

    async fn package_dir(&self, pkg: &Package) -> Result<PathBuf> {
        // A lockfile entry may lack `resolved` (npm leaves it out at times,
        // or omit-lockfile-registry-resolved): the registry's URL then.
        let registry = self.client.config().registry_for(&pkg.name);
        let tarball = Tarball::of_package(pkg, &self.cwd, registry);
        Ok(self.fetcher.ensure(tarball).await?.package.dir)
    }
}

/// The package.json inside the tarball at `url` (fetched into the cache
/// first) and the tarball's integrity.
pub async fn tarball_manifest(
    fetcher: &Fetcher,
    url: &str,
) -> Result<(Map<String, Value>, String)> {
    let fetched = fetcher
        .ensure(Tarball {
            name: "tarball".into(),
            version: url.to_string(),
            url: url.to_string(),
            integrity: None,
        })
        .await?;
    let path = fetched.package.dir.join("package.json");
    let bad = |why: String| Error::new(Code::Tarball, format!("the tarball {url} {why}"));
    let text = tokio::fs::read_to_string(&path)
        .await
        .map_err(|e| bad(format!("has no readable package.json ({e})")))?;
    match serde_json::from_str(&text) {
        Ok(Value::Object(map)) => Ok((map, fetched.integrity)),
        _ => Err(bad("has a package.json that is not a JSON object".into())),
    }
}

/// What a look-ahead task carries.
#[derive(Clone)]
struct Ahead {
    client: RegistryClient,
    background: Background,
    pick: PickOptions,
    seen: Arc<DashSet<String>>,
    peers: bool,
    locked: Locks,
}

fn look_ahead(ahead: Ahead, name: String, wanted: String) {
    look_ahead_at(ahead, name, wanted, false);
}

/// `peers_only`: an optional peer, read only to decide where the packages
/// peering on it go (the resolver's peer sets): its packument and its own
/// peers', not its dependencies, which nothing installs.
fn look_ahead_at(ahead: Ahead, name: String, wanted: String, peers_only: bool) {
    // Each range once: a second range of a name may pick another version
    // with other dependencies (the packument itself is fetched once).
    let key = if peers_only {
        format!("peers:{name}@{wanted}")
    } else {
        format!("{name}@{wanted}")
    };
    if !ahead.seen.insert(key) {
        return;
    }
    let cancel = ahead.background.cancel.clone();
    let background = ahead.background.clone();
    background.spawn(async move {
        let fetched = tokio::select! {
            p = ahead.client.packument(&name) => p,
            _ = cancel.cancelled() => return,
        };
        // Errors surface when resolution asks for the same name.
        let Ok(packument) = fetched else { return };
        let Ok(manifest) = pick_version_with(&packument, &wanted, &ahead.pick) else {
            return;
        };
        // No peer is installed under legacy-peer-deps.
        let peers = manifest.peer_dependencies.iter().filter(|_| ahead.peers);
        let deps = manifest
            .dependencies
            .iter()
            .chain(&manifest.optional_dependencies)
            .filter(|_| !peers_only);
        for (dep, range, peer_only) in
            deps.map(|(d, r)| (d, r, false)).chain(peers.map(|(d, r)| {
                let optional = manifest
                    .peer_dependencies_meta
                    .get(d)
                    .is_some_and(|m| m.optional);
                (d, r, peers_only || optional)
            }))
        {
            let spec = Spec::parse(dep, range).unwrap_or(Spec::Other { kind: "invalid" });
            if served(&ahead.locked, &spec, dep) {
                continue;
            }
            if let Spec::Registry { name, wanted, .. } = spec {
                look_ahead_at(ahead.clone(), name, wanted, peer_only);
            }
        }
    });
}
