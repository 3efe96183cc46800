//! The manifest keys brisk reads from a packument, and the lenient value
//! types it reads them with: shared by the parser ([`super::packument`]) and
//! the cache's trimmer ([`super::trim`]), which must agree on them.

use std::fmt;

use indexmap::IndexMap;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

/// The keys of a version's manifest that brisk reads. The packument cache
/// stores only these ([`super::trim`]): reading one more means bumping the
/// cache's `FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Name,
    Version,
    Dependencies,
    OptionalDependencies,
    PeerDependencies,
    PeerDependenciesMeta,
    Bin,
    Engines,
    Os,
    Cpu,
    Libc,
    License,
    HasInstallScript,
    Scripts,
    Deprecated,
    Dist,
    BundleDependencies,
    BundledDependencies,
    Funding,
    HasShrinkwrap,
    Workspaces,
    Other,
}

impl Field {
    pub(super) fn of(key: &str) -> Field {
        match key {
            "name" => Field::Name,
            "version" => Field::Version,
            "dependencies" => Field::Dependencies,
            "optionalDependencies" => Field::OptionalDependencies,
            "peerDependencies" => Field::PeerDependencies,
            "peerDependenciesMeta" => Field::PeerDependenciesMeta,
            "bin" => Field::Bin,
            "engines" => Field::Engines,
            "os" => Field::Os,
            "cpu" => Field::Cpu,
            "libc" => Field::Libc,
            "license" => Field::License,
            "hasInstallScript" => Field::HasInstallScript,
            "scripts" => Field::Scripts,
            "deprecated" => Field::Deprecated,
            "dist" => Field::Dist,
            "bundleDependencies" => Field::BundleDependencies,
            "bundledDependencies" => Field::BundledDependencies,
            "funding" => Field::Funding,
            "_hasShrinkwrap" => Field::HasShrinkwrap,
            "workspaces" => Field::Workspaces,
            _ => Field::Other,
        }
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a manifest key")
            }
            fn visit_str<E>(self, key: &str) -> Result<Field, E> {
                Ok(Field::of(key))
            }
        }
        d.deserialize_identifier(V)
    }
}

/// The `dist` keys the parser reads (`dist`).
pub(super) const DIST_KEYS: &[&str; 3] = &["tarball", "integrity", "shasum"];
/// The `scripts` keys that make an install script.
pub(super) const INSTALL_SCRIPTS: &[&str] = &["preinstall", "install", "postinstall"];

/// Any JSON value, kept only if it is a string.
pub(super) struct Lenient(Option<String>);

impl Lenient {
    pub(super) fn string(self) -> Option<String> {
        self.0
    }
}

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Lenient(match Value::deserialize(d)? {
            Value::String(s) => Some(s),
            _ => None,
        }))
    }
}

/// A map of strings; non-string values are skipped, non-maps are empty.
/// Hand-written so that the common case (dependencies) allocates no `Value`.
pub(super) struct StrMap(pub(super) IndexMap<String, String>);

impl<'de> Deserialize<'de> for StrMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrMap, A::Error> {
                let mut out = IndexMap::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(k) = map.next_key::<String>()? {
                    if let Some(v) = map.next_value::<Lenient>()?.0 {
                        out.insert(k, v);
                    }
                }
                Ok(StrMap(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrMap, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(StrMap(IndexMap::new()))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<StrMap, E> {
                Ok(StrMap(IndexMap::new()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<StrMap, E> {
                Ok(StrMap(IndexMap::new()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<StrMap, E> {
                Ok(StrMap(IndexMap::new()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<StrMap, E> {
                Ok(StrMap(IndexMap::new()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<StrMap, E> {
                Ok(StrMap(IndexMap::new()))
            }
            fn visit_unit<E>(self) -> Result<StrMap, E> {
                Ok(StrMap(IndexMap::new()))
            }
        }
        d.deserialize_any(V)
    }
}
