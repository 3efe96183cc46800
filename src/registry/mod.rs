//! STUB (replaced by the registry-config branch): the types resolve codes against.
use std::collections::BTreeMap;
use std::sync::Arc;

use indexmap::IndexMap;

use crate::error::{Code, Error, Result};

#[derive(Debug, Clone, Default)]
pub struct PeerMeta {
    pub optional: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Dist {
    pub tarball: String,
    pub integrity: Option<String>,
    pub shasum: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub dependencies: IndexMap<String, String>,
    pub optional_dependencies: IndexMap<String, String>,
    pub peer_dependencies: IndexMap<String, String>,
    pub peer_dependencies_meta: IndexMap<String, PeerMeta>,
    pub bin: IndexMap<String, String>,
    pub engines: IndexMap<String, String>,
    pub os: Vec<String>,
    pub cpu: Vec<String>,
    pub libc: Vec<String>,
    pub license: Option<String>,
    pub has_install_script: bool,
    pub deprecated: Option<String>,
    pub dist: Dist,
    pub bundle_dependencies: Vec<String>,
    pub funding: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default)]
pub struct Packument {
    pub name: String,
    pub dist_tags: BTreeMap<String, String>,
    pub versions: BTreeMap<String, Arc<Manifest>>,
}

pub fn pick_version<'a>(p: &'a Packument, spec: &str) -> Result<&'a Arc<Manifest>> {
    if let Some(v) = p.dist_tags.get(spec) {
        return p.versions.get(v).ok_or_else(|| Error::new(Code::NoMatchingVersion, "tag"));
    }
    let range = nodejs_semver::Range::parse(if spec.is_empty() { "*" } else { spec })
        .map_err(|e| Error::new(Code::Manifest, e.to_string()))?;
    p.versions
        .iter()
        .filter(|(v, _)| nodejs_semver::Version::parse(v).is_ok_and(|v| range.satisfies(&v)))
        .max_by_key(|(v, _)| nodejs_semver::Version::parse(v).unwrap())
        .map(|(_, m)| m)
        .ok_or_else(|| Error::new(Code::NoMatchingVersion, format!("no version of {} matches {spec}", p.name)))
}
