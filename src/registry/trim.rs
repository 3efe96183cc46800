//! A registry document cut down to what brisk reads, in one pass that also
//! indexes it.
//!
//! This registry answers every packument request with whole version
//! manifests (`scripts`, `devDependencies`, `exports`, `contributors`, …),
//! of which the fields a manifest is built from ([`Field`]) are a small
//! part. Writing all of it into the packument cache slowed a cold install:
//! the extra page cache pushed the install's dirty data past the kernel's
//! background writeback threshold, and writeback then competed for the
//! cores.
//!
//! The cut document is JSON that [`Packument::from_bytes`] reads to the same
//! manifests: each version keeps the keys of [`Field`] (with `dist` and
//! `scripts` reduced to the keys read from them), in their order, values as
//! they came; the top level keeps `name`, `dist-tags` and `versions`, and
//! `time` when asked to (`before` needs the publish times).
//!
//! [`Packument::from_bytes`]: super::Packument::from_bytes

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use indexmap::IndexMap;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::schema::{Field, Lenient, StrMap, DIST_KEYS, INSTALL_SCRIPTS};

/// A cut document and what the packument index needs from it.
pub(super) struct Trimmed {
    pub name: String,
    pub dist_tags: BTreeMap<String, String>,
    /// Each version's key and where its manifest lies in `doc` (the last
    /// `versions` object's, as a map would keep; non-object values dropped).
    pub versions: Vec<(String, Range<usize>)>,
    /// `time` (empty unless kept): key → ISO 8601 date.
    pub time: IndexMap<String, String>,
    pub doc: Vec<u8>,
}

/// Cuts `body` down, keeping `time` if `keep_time` (errors if it is not a
/// JSON object).
pub(super) fn trim(body: &[u8], keep_time: bool) -> serde_json::Result<Trimmed> {
    let mut t = Trimmed {
        name: String::new(),
        dist_tags: BTreeMap::new(),
        versions: Vec::new(),
        time: IndexMap::new(),
        doc: Vec::with_capacity(body.len() / 3),
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    Top(&mut t, keep_time).deserialize(&mut de)?;
    de.end()?;
    Ok(t)
}

/// Writes `,"key":` (no comma for an object's first key).
fn key(doc: &mut Vec<u8>, first: &mut bool, key: &str) {
    if !std::mem::take(first) {
        doc.push(b',');
    }
    serde_json::to_writer(&mut *doc, key).expect("writing to a Vec");
    doc.push(b':');
}

/// Writes `,"key":value`, the value as it came.
fn copy(doc: &mut Vec<u8>, first: &mut bool, k: &str, raw: &RawValue) {
    key(doc, first, k);
    doc.extend_from_slice(raw.get().as_bytes());
}

/// An object key, borrowed from the document unless it had escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// The top level: an object, as [`Packument::from_bytes`] requires.
///
/// [`Packument::from_bytes`]: super::Packument::from_bytes
struct Top<'t>(&'t mut Trimmed, bool);

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a packument object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Top(t, keep_time) = self;
        let mut first = true;
        t.doc.push(b'{');
        while let Some(Key(k)) = map.next_key()? {
            match &*k {
                "name" => {
                    let raw: &RawValue = map.next_value()?;
                    t.name = serde_json::from_str::<Lenient>(raw.get())
                        .map_err(de::Error::custom)?
                        .string()
                        .unwrap_or_default();
                    copy(&mut t.doc, &mut first, &k, raw);
                }
                "dist-tags" => {
                    let raw: &RawValue = map.next_value()?;
                    t.dist_tags = serde_json::from_str::<StrMap>(raw.get())
                        .map_err(de::Error::custom)?
                        .0
                        .into_iter()
                        .collect();
                    copy(&mut t.doc, &mut first, &k, raw);
                }
                "versions" => {
                    key(&mut t.doc, &mut first, &k);
                    t.versions.clear();
                    map.next_value_seed(Versions(t))?;
                }
                "time" if keep_time => {
                    let raw: &RawValue = map.next_value()?;
                    t.time = serde_json::from_str::<StrMap>(raw.get())
                        .map_err(de::Error::custom)?
                        .0;
                    copy(&mut t.doc, &mut first, &k, raw);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        t.doc.push(b'}');
        Ok(())
    }
}

/// `versions`: a map of manifests; anything else is no versions (written
/// as `{}`).
struct Versions<'t>(&'t mut Trimmed);

impl<'de> DeserializeSeed<'de> for Versions<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Versions<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of versions")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let t = self.0;
        let mut first = true;
        t.doc.push(b'{');
        while let Some(version) = map.next_key::<String>()? {
            let (was_first, before) = (first, t.doc.len());
            key(&mut t.doc, &mut first, &version);
            let start = t.doc.len();
            if map.next_value_seed(CutManifest(&mut t.doc))? {
                let span = start..t.doc.len();
                t.versions.push((version, span));
            } else {
                // Not an object: the index drops it, and so does the cut.
                t.doc.truncate(before);
                first = was_first;
            }
        }
        t.doc.push(b'}');
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.0.doc.extend_from_slice(b"{}");
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.0.doc.extend_from_slice(b"{}");
        Ok(())
    }
}

/// One version's manifest, cut to the keys of [`Field`]; `false` (nothing
/// written) if it is not an object.
struct CutManifest<'d>(&'d mut Vec<u8>);

impl<'de> DeserializeSeed<'de> for CutManifest<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CutManifest<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a manifest")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let doc = self.0;
        let mut first = true;
        doc.push(b'{');
        while let Some(Key(k)) = map.next_key()? {
            match Field::of(&k) {
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
                Field::Dist => {
                    key(doc, &mut first, &k);
                    map.next_value_seed(Only(doc, DIST_KEYS))?;
                }
                Field::Scripts => {
                    key(doc, &mut first, &k);
                    map.next_value_seed(Only(doc, INSTALL_SCRIPTS))?;
                }
                _ => {
                    let raw: &RawValue = map.next_value()?;
                    copy(doc, &mut first, &k, raw);
                }
            }
        }
        doc.push(b'}');
        Ok(true)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// An object cut to `keys`, values as they came; anything but an object is
/// written as `null` (which `dist` and `scripts` read as nothing, as they
/// read any non-object).
struct Only<'d>(&'d mut Vec<u8>, &'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Only<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Only<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Only(doc, keys) = self;
        let mut first = true;
        doc.push(b'{');
        while let Some(Key(k)) = map.next_key()? {
            if keys.contains(&&*k) {
                let raw: &RawValue = map.next_value()?;
                copy(doc, &mut first, &k, raw);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        doc.push(b'}');
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.null();
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        self.null();
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.null();
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.null();
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        self.null();
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.null();
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.null();
        Ok(())
    }
}

impl Only<'_> {
    fn null(self) {
        self.0.extend_from_slice(b"null");
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::packument::Packument;

    /// `doc` read whole, cut, and cut then read back as the cache does:
    /// the same versions and manifests every way. Returns the cut text.
    pub(in crate::registry) fn same_every_way(doc: &str) -> String {
        let whole = Packument::from_slice(doc.as_bytes()).unwrap();
        let (cut, text) = Packument::from_registry(doc.as_bytes()).unwrap();
        let reread = Packument::from_bytes(text.clone()).unwrap();
        for p in [&cut, &reread] {
            assert_eq!(p.name, whole.name);
            assert_eq!(p.dist_tags, whole.dist_tags);
            assert_eq!(
                p.versions().collect::<Vec<_>>(),
                whole.versions().collect::<Vec<_>>()
            );
            for v in whole.versions() {
                assert_eq!(p.manifest(v), whole.manifest(v), "{v}");
            }
        }
        String::from_utf8(text.to_vec()).unwrap()
    }

    #[test]
    fn keeps_only_what_manifests_read() {
        let cut = same_every_way(
            r#"{"_id":"a","name":"a","readme":"long","time":{"1.0.0":"2020"},
               "dist-tags":{"latest":"1.0.0"},
               "versions":{"1.0.0":{"name":"a","version":"1.0.0","description":"d",
                 "scripts":{"test":"t","postinstall":"node x"},"devDependencies":{"x":"1"},
                 "dependencies":{"b":"^1"},"dist":{"tarball":"https://r/a.tgz","integrity":"sha512-x",
                 "signatures":[{"sig":"s"}],"unpackedSize":5},"bin":"cli.js"}}}"#,
        );
        assert_eq!(
            cut,
            r#"{"name":"a","dist-tags":{"latest":"1.0.0"},"versions":{"1.0.0":{"name":"a","version":"1.0.0","scripts":{"postinstall":"node x"},"dependencies":{"b":"^1"},"dist":{"tarball":"https://r/a.tgz","integrity":"sha512-x"},"bin":"cli.js"}}}"#
        );
    }

    #[test]
    fn keeps_time_when_asked() {
        let doc = r#"{"name":"a","time":{"created":"2020-01-01T00:00:00.000Z","1.0.0":"2021-02-03T04:05:06.789Z","2.0.0":7},
            "dist-tags":{"latest":"1.0.0"},"versions":{"1.0.0":{"version":"1.0.0"},"2.0.0":{"version":"2.0.0"}}}"#;
        let at = crate::date::parse_iso("2021-02-03T04:05:06.789Z");
        let (plain, _) = Packument::from_registry(doc.as_bytes()).unwrap();
        assert_eq!(plain.published("1.0.0"), None, "dropped by default");
        let (cut, text) = Packument::from_registry_with(doc.as_bytes(), true).unwrap();
        let reread = Packument::from_bytes(text).unwrap();
        for p in [&cut, &reread] {
            assert_eq!(p.published("1.0.0"), at);
            assert_eq!(p.published("2.0.0"), None, "not a string");
            assert_eq!(p.published("3.0.0"), None);
        }
        assert_eq!(
            Packument::from_slice(doc.as_bytes())
                .unwrap()
                .published("1.0.0"),
            at
        );
    }

    #[test]
    fn odd_documents_read_the_same_cut() {
        // Escaped keys, duplicate keys (the last wins), non-object
        // versions, `dist` and `scripts` of the wrong type, a second
        // `versions` object.
        same_every_way(
            r#"{"na\u006de":"a","dist-tags":{"latest":"2.0.0"},
               "versions":{"0.1.0":{"version":"0.1.0"}},
               "versions":{"1.0.0":"garbage","2.0.0":{"dist":"weird","scripts":["install"],
                 "dependencies":{"b":"1"},"dependencies":{"c":"2"},"hasInstallScript":true,
                 "dist":{"tarball":"t","tarball":"u","shasum":7}},
                 "3.0.0":{"scripts":{"install":"","pre\u0069nstall":"x"},"dist":null},
                 "3\u002e1.0":{"version":"3.1.0"},"4.0.0":null,"5.0.0":[1]}}"#,
        );
        same_every_way(r#"{"name":"a","versions":[1,2]}"#);
        same_every_way(r#"{"name":7,"dist-tags":"x","versions":null}"#);
    }

    #[test]
    fn malformed_documents_fail_to_cut() {
        for doc in [
            &b"{\"name\": \"a\", \"versions\": {"[..],
            b"[1,2]",
            b"{} x",
            b"{\"versions\": 5}",
        ] {
            assert!(Packument::from_registry(doc).is_err());
            assert!(Packument::from_slice(doc).is_err());
        }
    }
}
