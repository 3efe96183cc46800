//! The packument model: only the fields an installer (and npm's lockfile)
//! needs, parsed leniently and lazily.
//!
//! Packuments can be megabytes (this registry returns full documents even for
//! the abbreviated `Accept` header), so a document is walked once to index
//! its versions, skipping every other field with `IgnoredAny`, and a
//! version's manifest is parsed only when asked for. Odd shapes in old
//! packages (`engines` as an array, `license` as an object, non-string
//! dependency values, `bin` as a string) never fail a manifest: the bad
//! value is dropped or normalized.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use indexmap::IndexMap;
use nodejs_semver::Version;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use super::schema::{Field, Lenient, StrMap, DIST_KEYS, INSTALL_SCRIPTS};

/// A package document: all versions of one package.
///
/// Parsing is lazy: [`Packument::from_bytes`] indexes where each version's
/// manifest lies in the document (kept in memory, or in the packument cache
/// after [`Packument::rehome`]); a manifest is parsed the first time it is
/// asked for. A resolve looks at one or two versions of most
/// packuments, and building (and freeing) every version's [`Manifest`] up
/// front was most of a cold resolve's CPU time.
#[derive(Default)]
pub struct Packument {
    pub name: String,
    /// `dist-tags`: tag → version.
    pub dist_tags: BTreeMap<String, String>,
    /// The versions, sorted by their key (the version string).
    entries: Vec<Entry>,
    /// The document the entries point into.
    body: Body,
    /// Indexes of `entries` whose key is a valid version, highest first
    /// (built by the first range pick).
    by_version: OnceLock<Vec<(Version, usize)>>,
}

/// Where a packument's document is.
#[derive(Clone)]
pub(crate) enum Body {
    Memory(Bytes),
    /// In a file (the packument cache's batch), from `offset` on; manifests
    /// are read with `pread` when asked for.
    File {
        file: Arc<File>,
        offset: u64,
    },
}

impl Default for Body {
    fn default() -> Body {
        Body::Memory(Bytes::new())
    }
}

impl Body {
    /// The bytes of `span` (None if the file cannot be read).
    fn read(&self, span: Range<usize>) -> Option<Bytes> {
        match self {
            Body::Memory(b) => b.get(span).map(|s| b.slice_ref(s)),
            Body::File { file, offset } => {
                let mut buf = vec![0; span.len()];
                file.read_exact_at(&mut buf, offset + span.start as u64)
                    .ok()?;
                Some(buf.into())
            }
        }
    }
}

/// One version: where its manifest is in the body, its publish time (from
/// the document's `time`, milliseconds since the epoch, when it has a
/// readable one), and the manifest once parsed (`None` if it does not
/// parse).
struct Entry {
    key: String,
    span: Range<usize>,
    published: Option<i64>,
    manifest: OnceLock<Option<Arc<Manifest>>>,
}

impl fmt::Debug for Packument {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_struct("Packument")
            .field("name", &self.name)
            .field("dist_tags", &self.dist_tags)
            .field("versions", &self.versions().collect::<Vec<_>>())
            .finish()
    }
}

/// One version of a package, as published.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub name: String,
    pub version: String,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub dependencies: IndexMap<String, String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub optional_dependencies: IndexMap<String, String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub peer_dependencies: IndexMap<String, String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub peer_dependencies_meta: IndexMap<String, PeerMeta>,
    /// Normalized like npm-normalize-package-bin: command name → relative
    /// path (no leading `./`); a string `bin` maps the unscoped package name.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub bin: IndexMap<String, String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub engines: IndexMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub os: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cpu: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub libc: Vec<String>,
    /// A string license, or the `type` of an object license (npm's lockfile
    /// rule). Only full documents carry it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<Value>,
    /// `hasInstallScript`, or `scripts` has preinstall/install/postinstall.
    #[serde(skip_serializing_if = "is_false")]
    pub has_install_script: bool,
    /// The deprecation message (empty messages mean "not deprecated").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<String>,
    pub dist: Dist,
    /// `bundleDependencies`/`bundledDependencies`; `true` means every
    /// dependency.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bundle_dependencies: Vec<String>,
    /// `funding`, verbatim (npm copies it into package-lock.json).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub funding: Option<Value>,
    /// `_hasShrinkwrap` (npm writes `hasShrinkwrap` into the lockfile).
    #[serde(rename = "_hasShrinkwrap", skip_serializing_if = "is_false")]
    pub has_shrinkwrap: bool,
    /// `engines` when a package wrote it as a list (npm copies it).
    #[serde(rename = "engines", skip_serializing_if = "Option::is_none")]
    pub engines_list: Option<Value>,
    /// `workspaces`, verbatim (npm copies it into package-lock.json).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspaces: Option<Value>,
}

/// `peerDependenciesMeta[name]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PeerMeta {
    pub optional: bool,
}

/// Where the tarball is and how to verify it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Dist {
    pub tarball: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shasum: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Packument {
    /// Parses a packument from JSON bytes (copies them; see
    /// [`Packument::from_bytes`]).
    pub fn from_slice(bytes: &[u8]) -> serde_json::Result<Packument> {
        Packument::from_bytes(Bytes::copy_from_slice(bytes))
    }

    /// Indexes a packument document, keeping it: the top level and the
    /// `versions` keys are read now (and the whole document checked to be
    /// JSON), manifests when asked for. Versions whose value is not an
    /// object are dropped; the last of duplicate keys wins.
    pub fn from_bytes(body: Bytes) -> serde_json::Result<Packument> {
        let doc: Document = serde_json::from_slice(&body)?;
        let base = body.as_ptr() as usize;
        let versions: Vec<_> = doc
            .versions
            .into_iter()
            .filter(|(_, raw)| raw.get().starts_with('{'))
            .map(|(key, raw)| {
                let start = raw.get().as_ptr() as usize - base;
                (key, start..start + raw.get().len())
            })
            .collect();
        Ok(Packument::indexed(
            doc.name,
            doc.dist_tags,
            versions,
            &doc.time,
            body,
        ))
    }

    /// Indexes a document as the registry sent it, cut down first to the
    /// fields brisk reads (see [`super::trim`]); returns the cut document
    /// too, which is what the packument cache stores.
    pub fn from_registry(body: &[u8]) -> serde_json::Result<(Packument, Bytes)> {
        Packument::from_registry_with(body, false)
    }

    /// [`Packument::from_registry`], keeping the document's `time` (publish
    /// times) when `keep_time` is set.
    pub fn from_registry_with(
        body: &[u8],
        keep_time: bool,
    ) -> serde_json::Result<(Packument, Bytes)> {
        let cut = super::trim::trim(body, keep_time)?;
        let doc = Bytes::from(cut.doc);
        let p = Packument::indexed(
            cut.name,
            cut.dist_tags,
            cut.versions,
            &cut.time,
            doc.clone(),
        );
        Ok((p, doc))
    }

    /// A packument of `versions` (key, where its manifest is in `body`),
    /// with publish times from `time` (version → ISO 8601 date).
    fn indexed(
        name: String,
        dist_tags: BTreeMap<String, String>,
        versions: impl IntoIterator<Item = (String, Range<usize>)>,
        time: &IndexMap<String, String>,
        body: Bytes,
    ) -> Packument {
        let entries = versions
            .into_iter()
            .map(|(key, span)| Entry {
                published: time.get(&key).and_then(|t| crate::date::parse_iso(t)),
                key,
                span,
                manifest: OnceLock::new(),
            })
            .collect();
        Packument {
            name,
            dist_tags,
            entries: sorted_unique(entries),
            body: Body::Memory(body),
            by_version: OnceLock::new(),
        }
    }

    /// Read manifests from `body` from now on, a copy of the document this
    /// packument was indexed from (the index stays valid); the copy in
    /// memory is dropped.
    pub(crate) fn rehome(&mut self, body: Body) {
        self.body = body;
    }

    /// A packument of already-built manifests (keyed by their `version`).
    pub fn from_manifests(
        name: &str,
        dist_tags: BTreeMap<String, String>,
        manifests: impl IntoIterator<Item = Manifest>,
    ) -> Packument {
        let entries: Vec<Entry> = manifests
            .into_iter()
            .map(|m| Entry {
                key: m.version.clone(),
                span: 0..0,
                published: None,
                manifest: OnceLock::from(Some(Arc::new(m))),
            })
            .collect();
        Packument {
            name: name.to_string(),
            dist_tags,
            entries: sorted_unique(entries),
            ..Default::default()
        }
    }

    /// Sets publish times (version, milliseconds since the epoch), as a
    /// document's `time` would.
    #[cfg(test)]
    pub(crate) fn with_times<'a>(
        mut self,
        times: impl IntoIterator<Item = (&'a str, i64)>,
    ) -> Self {
        for (version, at) in times {
            if let Ok(i) = self
                .entries
                .binary_search_by(|e| e.key.as_str().cmp(version))
            {
                self.entries[i].published = Some(at);
            }
        }
        self
    }

    /// When `version` was published (milliseconds since the epoch), if the
    /// document said so.
    pub fn published(&self, version: &str) -> Option<i64> {
        let i = self
            .entries
            .binary_search_by(|e| e.key.as_str().cmp(version))
            .ok()?;
        self.entries[i].published
    }

    /// The version keys, in string order.
    pub fn versions(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.key.as_str())
    }

    /// Whether the document lists no versions.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The manifest of `version` (the exact key), parsed on first use.
    pub fn manifest(&self, version: &str) -> Option<&Arc<Manifest>> {
        let i = self
            .entries
            .binary_search_by(|e| e.key.as_str().cmp(version))
            .ok()?;
        self.manifest_at(i)
    }

    /// Every version's manifest (parsing all of them).
    pub fn manifests(&self) -> impl Iterator<Item = &Arc<Manifest>> {
        (0..self.entries.len()).filter_map(|i| self.manifest_at(i))
    }

    /// The versions that parse as semver, highest first, each with its
    /// publish time and a function that gives its manifest (parsed on the
    /// first call: a pick passes over many versions and reads few
    /// manifests).
    #[allow(clippy::type_complexity)]
    pub(crate) fn by_version<'a>(
        &'a self,
    ) -> impl Iterator<
        Item = (
            &'a Version,
            Option<i64>,
            impl Fn() -> Option<&'a Arc<Manifest>>,
        ),
    > {
        let sorted = self.by_version.get_or_init(|| {
            let mut v: Vec<(Version, usize)> = self
                .entries
                .iter()
                .enumerate()
                .filter_map(|(i, e)| Some((Version::parse(&e.key).ok()?, i)))
                .collect();
            v.sort_by(|a, b| b.0.cmp(&a.0));
            v
        });
        sorted
            .iter()
            .map(move |(v, i)| (v, self.entries[*i].published, move || self.manifest_at(*i)))
    }

    /// How many manifests have been parsed so far.
    #[cfg(test)]
    pub(crate) fn parsed(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.manifest.get().is_some())
            .count()
    }

    fn manifest_at(&self, i: usize) -> Option<&Arc<Manifest>> {
        let e = &self.entries[i];
        e.manifest
            .get_or_init(|| {
                let bytes = self.body.read(e.span.clone())?;
                let MaybeManifest(m) = serde_json::from_slice(&bytes).ok()?;
                let mut m = m?;
                if m.version.is_empty() {
                    m.version = e.key.clone();
                }
                if m.name.is_empty() {
                    m.name = self.name.clone();
                }
                Some(Arc::new(m))
            })
            .as_ref()
    }
}

/// Entries sorted by key, the last of duplicate keys winning (as a map
/// insert would).
fn sorted_unique(mut entries: Vec<Entry>) -> Vec<Entry> {
    entries.sort_by(|a, b| a.key.cmp(&b.key)); // stable: duplicates keep their order
    let mut unique: Vec<Entry> = Vec::with_capacity(entries.len());
    for e in entries {
        match unique.last_mut() {
            Some(last) if last.key == e.key => *last = e,
            _ => unique.push(e),
        }
    }
    unique
}

// ---------------------------------------------------------------------------
// Deserialization

/// A packument's top level, with each version's manifest left as raw JSON.
struct Document<'a> {
    name: String,
    dist_tags: BTreeMap<String, String>,
    versions: Vec<(String, &'a RawValue)>,
    /// `time`: version (and `created`, `modified`) → ISO 8601 date.
    time: IndexMap<String, String>,
}

impl<'de> Deserialize<'de> for Document<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        enum Field {
            #[serde(rename = "name")]
            Name,
            #[serde(rename = "dist-tags")]
            DistTags,
            #[serde(rename = "versions")]
            Versions,
            #[serde(rename = "time")]
            Time,
            #[serde(other)]
            Other,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Document<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a packument object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document<'de>, A::Error> {
                let mut doc = Document {
                    name: String::new(),
                    dist_tags: BTreeMap::new(),
                    versions: Vec::new(),
                    time: IndexMap::new(),
                };
                while let Some(key) = map.next_key::<Field>()? {
                    match key {
                        Field::Name => {
                            doc.name = map.next_value::<Lenient>()?.string().unwrap_or_default()
                        }
                        Field::DistTags => {
                            doc.dist_tags = map.next_value::<StrMap>()?.0.into_iter().collect()
                        }
                        Field::Versions => doc.versions = map.next_value::<RawVersions>()?.0,
                        Field::Time => doc.time = map.next_value::<StrMap>()?.0,
                        Field::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(doc)
            }
        }
        d.deserialize_map(V)
    }
}

/// `versions`, each value raw; anything but an object is no versions.
struct RawVersions<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for RawVersions<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawVersions<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of versions")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(k) = map.next_key::<String>()? {
                    out.push((k, map.next_value::<&'de RawValue>()?));
                }
                Ok(RawVersions(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(RawVersions(Vec::new()))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(RawVersions(Vec::new()))
            }
        }
        d.deserialize_any(V)
    }
}

struct MaybeManifest(Option<Manifest>);

impl<'de> Deserialize<'de> for MaybeManifest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeManifest;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a manifest object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MaybeManifest, A::Error> {
                let mut m = Manifest::default();
                let mut bin = Value::Null;
                let mut bundle = Value::Null;
                let mut scripts_install = false;
                while let Some(key) = map.next_key::<Field>()? {
                    match key {
                        Field::Name => {
                            m.name = map.next_value::<Lenient>()?.string().unwrap_or_default()
                        }
                        Field::Version => {
                            m.version = map.next_value::<Lenient>()?.string().unwrap_or_default()
                        }
                        Field::Dependencies => m.dependencies = map.next_value::<StrMap>()?.0,
                        Field::OptionalDependencies => {
                            m.optional_dependencies = map.next_value::<StrMap>()?.0
                        }
                        Field::PeerDependencies => {
                            m.peer_dependencies = map.next_value::<StrMap>()?.0
                        }
                        Field::PeerDependenciesMeta => {
                            m.peer_dependencies_meta = peer_meta(map.next_value()?)
                        }
                        Field::Bin => bin = map.next_value()?,
                        Field::Engines => match map.next_value::<Value>()? {
                            // Ancient packages: `["node >= 0.8"]`, copied verbatim.
                            Value::Array(a) if !a.is_empty() => {
                                m.engines_list = Some(Value::Array(a))
                            }
                            v => {
                                m.engines = StrMap::deserialize(v).map(|s| s.0).unwrap_or_default()
                            }
                        },
                        Field::Os => m.os = str_list(map.next_value()?),
                        Field::Cpu => m.cpu = str_list(map.next_value()?),
                        Field::Libc => m.libc = str_list(map.next_value()?),
                        Field::License => m.license = license(map.next_value()?),
                        Field::HasInstallScript => {
                            m.has_install_script |= map.next_value::<Value>()? == Value::Bool(true)
                        }
                        Field::Scripts => scripts_install = has_install_script(map.next_value()?),
                        Field::Deprecated => {
                            m.deprecated = map
                                .next_value::<Lenient>()?
                                .string()
                                .filter(|s| !s.is_empty())
                        }
                        Field::Dist => m.dist = dist(map.next_value()?),
                        Field::BundleDependencies | Field::BundledDependencies => {
                            let v: Value = map.next_value()?;
                            if !v.is_null() {
                                bundle = v;
                            }
                        }
                        Field::Funding => {
                            m.funding = Some(map.next_value::<Value>()?).filter(|v| !v.is_null())
                        }
                        Field::Workspaces => {
                            m.workspaces = Some(map.next_value::<Value>()?).filter(|v| !v.is_null())
                        }
                        Field::HasShrinkwrap => {
                            m.has_shrinkwrap = map.next_value::<Value>()? == Value::Bool(true)
                        }
                        Field::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                m.has_install_script |= scripts_install;
                m.bin = normalize_bin(&m.name, bin);
                m.bundle_dependencies = match bundle {
                    Value::Bool(true) => m.dependencies.keys().cloned().collect(),
                    v => str_list(v),
                };
                Ok(MaybeManifest(Some(m)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MaybeManifest, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(MaybeManifest(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<MaybeManifest, E> {
                Ok(MaybeManifest(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<MaybeManifest, E> {
                Ok(MaybeManifest(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<MaybeManifest, E> {
                Ok(MaybeManifest(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<MaybeManifest, E> {
                Ok(MaybeManifest(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<MaybeManifest, E> {
                Ok(MaybeManifest(None))
            }
            fn visit_unit<E>(self) -> Result<MaybeManifest, E> {
                Ok(MaybeManifest(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// Strings of an array (others dropped); a lone string is a one-item list.
fn str_list(v: Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s],
        Value::Array(a) => a
            .into_iter()
            .filter_map(|x| match x {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn license(v: Value) -> Option<Value> {
    match v {
        Value::String(s) if !s.is_empty() => Some(Value::String(s)),
        Value::Object(o) => match o.get("type") {
            Some(Value::String(s)) if !s.is_empty() => Some(Value::String(s.clone())),
            _ => None,
        },
        // Old packages list several; npm copies the list as it is.
        Value::Array(a) if !a.is_empty() => Some(Value::Array(a)),
        _ => None,
    }
}

fn peer_meta(v: Value) -> IndexMap<String, PeerMeta> {
    let Value::Object(o) = v else {
        return IndexMap::new();
    };
    o.into_iter()
        .filter_map(|(k, v)| {
            let Value::Object(meta) = v else { return None };
            let optional = meta.get("optional") == Some(&Value::Bool(true));
            Some((k, PeerMeta { optional }))
        })
        .collect()
}

fn has_install_script(v: Value) -> bool {
    let Value::Object(o) = v else { return false };
    INSTALL_SCRIPTS
        .iter()
        .any(|k| matches!(o.get(*k), Some(Value::String(s)) if !s.is_empty()))
}

fn dist(v: Value) -> Dist {
    let Value::Object(mut o) = v else {
        return Dist::default();
    };
    let mut take = |k: &str| match o.remove(k) {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    };
    let [tarball, integrity, shasum] = *DIST_KEYS;
    Dist {
        tarball: take(tarball).unwrap_or_default(),
        integrity: take(integrity),
        shasum: take(shasum),
    }
}

/// npm-normalize-package-bin.
fn normalize_bin(name: &str, v: Value) -> IndexMap<String, String> {
    let entries: Vec<(String, Value)> = match v {
        Value::String(s) if !name.is_empty() => vec![(name.to_string(), Value::String(s))],
        Value::Array(a) => a
            .into_iter()
            .filter_map(|x| match x {
                Value::String(s) => Some((basename(&s).to_string(), Value::String(s))),
                _ => None,
            })
            .collect(),
        Value::Object(o) => o.into_iter().collect(),
        _ => return IndexMap::new(),
    };
    let mut out = IndexMap::new();
    for (key, target) in entries {
        let Value::String(target) = target else {
            continue;
        };
        let base = join_root(basename(&key.replace(['\\', ':'], "/")));
        if base.is_empty() {
            continue;
        }
        let target = join_root(&target.replace('\\', "/"));
        if target.is_empty() {
            continue;
        }
        out.insert(base, target);
    }
    out
}

/// `path.basename` (POSIX): the last non-empty segment.
fn basename(p: &str) -> &str {
    p.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

/// `path.join('/', p).slice(1)`: a normalized path that cannot leave the root.
fn join_root(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut out = parts.join("/");
    if p.ends_with('/') && !out.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Also checks that the document cut for the cache reads the same.
    fn parse(v: Value) -> Packument {
        let text = serde_json::to_string(&v).unwrap();
        crate::registry::trim::tests::same_every_way(&text);
        Packument::from_slice(text.as_bytes()).unwrap()
    }

    #[test]
    fn parses_a_normal_packument() {
        let p = parse(json!({
            "_id": "a", "name": "a", "readme": "x".repeat(1000),
            "dist-tags": {"latest": "1.0.0", "next": "2.0.0-rc.1"},
            "time": {"1.0.0": "2020-01-01"},
            "versions": {
                "1.0.0": {
                    "name": "a", "version": "1.0.0",
                    "dependencies": {"b": "^1.0.0", "c": "2.x"},
                    "optionalDependencies": {"d": "*"},
                    "peerDependencies": {"react": ">=16"},
                    "peerDependenciesMeta": {"react": {"optional": true}, "x": {}},
                    "bin": {"a-cli": "./bin/cli.js"},
                    "engines": {"node": ">=14"},
                    "os": ["linux", "!win32"], "cpu": ["x64"], "libc": ["glibc"],
                    "license": "MIT",
                    "scripts": {"test": "x", "postinstall": "node x.js"},
                    "deprecated": "use b",
                    "funding": {"url": "https://x"},
                    "_hasShrinkwrap": false,
                    "dist": {"tarball": "https://r/a/-/a-1.0.0.tgz", "integrity": "sha512-xx", "shasum": "abc"},
                    "repository": {"type": "git"}, "description": "hello"
                },
                "2.0.0-rc.1": {"name": "a", "version": "2.0.0-rc.1", "dist": {"tarball": "t"}}
            }
        }));
        assert_eq!(p.name, "a");
        assert_eq!(p.dist_tags["next"], "2.0.0-rc.1");
        let m = p.manifest("1.0.0").unwrap();
        assert_eq!(
            m.dependencies.get_index(0),
            Some((&"b".to_string(), &"^1.0.0".to_string()))
        );
        assert_eq!(m.optional_dependencies["d"], "*");
        assert_eq!(m.peer_dependencies["react"], ">=16");
        assert!(m.peer_dependencies_meta["react"].optional);
        assert!(!m.peer_dependencies_meta["x"].optional);
        assert_eq!(m.bin["a-cli"], "bin/cli.js");
        assert_eq!(m.engines["node"], ">=14");
        assert_eq!(m.os, vec!["linux", "!win32"]);
        assert_eq!(m.cpu, vec!["x64"]);
        assert_eq!(m.libc, vec!["glibc"]);
        assert_eq!(m.license, Some(json!("MIT")));
        assert!(m.has_install_script);
        assert_eq!(m.deprecated.as_deref(), Some("use b"));
        assert_eq!(m.dist.integrity.as_deref(), Some("sha512-xx"));
        assert_eq!(m.dist.shasum.as_deref(), Some("abc"));
        assert_eq!(m.funding, Some(json!({"url": "https://x"})));
        assert!(!m.has_shrinkwrap);
        let rc = p.manifest("2.0.0-rc.1").unwrap();
        assert!(!rc.has_install_script && rc.bin.is_empty() && rc.license.is_none());
    }

    #[test]
    fn a_pick_parses_only_manifests_it_may_return() {
        let versions: serde_json::Map<String, Value> = ["1.0.0", "1.1.0", "2.0.0", "3.0.0"]
            .iter()
            .map(|v| {
                (
                    v.to_string(),
                    json!({"name": "a", "version": v, "dist": {"tarball": "t"}}),
                )
            })
            .collect();
        let p = parse(json!({"name": "a", "dist-tags": {"latest": "3.0.0"}, "versions": versions}));
        let m = crate::registry::pick_version(&p, "^1.0.0").unwrap();
        assert_eq!(m.version, "1.1.0");
        assert_eq!(p.parsed(), 1, "neither latest (3.0.0) nor 2.0.0 was parsed");
    }

    #[test]
    fn tolerates_odd_shapes() {
        let p = parse(json!({
            "name": "@s/old",
            "dist-tags": {"latest": "0.1.0", "bad": 5},
            "versions": {
                "0.1.0": {
                    "name": "@s/old", "version": "0.1.0",
                    "bin": "./cli.js",
                    "engines": ["node >=0.4"],
                    "license": {"type": "BSD", "url": "http://x"},
                    "dependencies": {"ok": "1", "num": 1, "nul": null, "obj": {}},
                    "peerDependencies": "nope",
                    "os": "darwin",
                    "bundledDependencies": true,
                    "deprecated": "",
                    "hasInstallScript": true,
                    "dist": {"tarball": "t", "integrity": 7}
                },
                "0.0.1": {"bin": ["bin/x", "bin/y.js", 3], "license": ["MIT"], "engines": null,
                          "bundleDependencies": ["ok", 2], "dist": "weird", "deprecated": false},
                "0.0.0": "garbage",
                "0.0.2": null
            }
        }));
        assert_eq!(p.dist_tags.len(), 1);
        assert_eq!(p.versions().count(), 2);
        let m = p.manifest("0.1.0").unwrap();
        assert_eq!(m.bin.len(), 1);
        assert_eq!(m.bin["old"], "cli.js");
        assert!(m.engines.is_empty());
        assert_eq!(m.license, Some(json!("BSD")));
        assert_eq!(m.dependencies.len(), 1);
        assert!(m.peer_dependencies.is_empty());
        assert_eq!(m.os, vec!["darwin"]);
        assert_eq!(m.bundle_dependencies, vec!["ok"]);
        assert_eq!(m.deprecated, None);
        assert!(m.has_install_script);
        assert_eq!(m.dist.integrity, None);
        let old = p.manifest("0.0.1").unwrap();
        assert_eq!(old.name, "@s/old", "name filled from the packument");
        assert_eq!(old.version, "0.0.1", "version filled from the key");
        assert_eq!(old.bin["x"], "bin/x");
        assert_eq!(old.bin["y.js"], "bin/y.js");
        assert_eq!(
            old.license,
            Some(json!(["MIT"])),
            "lists are kept, as npm does"
        );
        assert_eq!(old.bundle_dependencies, vec!["ok"]);
        assert_eq!(old.dist, Dist::default());
        assert_eq!(old.deprecated, None);
    }

    #[test]
    fn bin_normalization() {
        let b = normalize_bin(
            "x",
            json!({"../evil": "../../etc/passwd", "a/b": "./x//y/../z.js", "": "q", "c": "", "d:e": "f\\g"}),
        );
        assert_eq!(b["evil"], "etc/passwd");
        assert_eq!(b["b"], "x/z.js");
        assert_eq!(b["e"], "f/g");
        assert!(!b.contains_key("") && !b.contains_key("c"));
    }

    #[test]
    fn malformed_json_is_an_error() {
        assert!(Packument::from_slice(b"{\"name\": \"a\", \"versions\": {").is_err());
        assert!(Packument::from_slice(b"[1,2]").is_err());
    }
}
