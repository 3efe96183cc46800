//! The on-disk packument cache: `<cache>/packuments/<escaped name>.json`.
//!
//! File format: line 1 is a small JSON header ([`CacheMeta`]: format version,
//! URL, ETag, Last-Modified), the rest is the packument as
//! [`Packument`](super::Packument) serializes it (only the fields brisk uses,
//! so much smaller than the registry document). Keeping the header on its own
//! line lets a revalidation read the ETag without parsing the packument; the
//! body is parsed only on a 304 or an offline read.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::packument::Packument;

/// Bumped whenever the cached packument shape changes; older files are misses.
const FORMAT: u32 = 1;

/// The first line of a cache file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CacheMeta {
    pub v: u32,
    /// The URL the document came from (a different registry is a miss).
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// A cache file read from disk, body not yet parsed.
pub struct CacheEntry {
    pub meta: CacheMeta,
    body: Vec<u8>,
}

impl CacheEntry {
    /// Parses the cached packument (None if the file is corrupt).
    pub fn packument(&self) -> Option<Packument> {
        Packument::from_slice(&self.body).ok()
    }
}

/// `<dir>/packuments/<name with '/' as %2f>.json`.
pub fn path_for(dir: &Path, name: &str) -> PathBuf {
    dir.join("packuments")
        .join(format!("{}.json", name.replace('/', "%2f")))
}

/// Reads a cache entry for `url`; any problem (missing, corrupt, another
/// format or URL) is a miss.
pub fn read(path: &Path, url: &str) -> Option<CacheEntry> {
    let bytes = std::fs::read(path).ok()?;
    let nl = bytes.iter().position(|&b| b == b'\n')?;
    let meta: CacheMeta = serde_json::from_slice(&bytes[..nl]).ok()?;
    if meta.v != FORMAT || meta.url != url {
        return None;
    }
    let mut body = bytes;
    body.drain(..=nl);
    Some(CacheEntry { meta, body })
}

/// Writes a cache entry atomically (temp file + rename).
pub fn write(
    path: &Path,
    url: &str,
    etag: Option<String>,
    last_modified: Option<String>,
    packument: &Packument,
) -> std::io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let meta = CacheMeta {
        v: FORMAT,
        url: url.to_string(),
        etag,
        last_modified,
    };
    let mut buf = serde_json::to_vec(&meta)?;
    buf.push(b'\n');
    serde_json::to_writer(&mut buf, packument)?;
    let dir = path.parent().expect("cache path has a parent");
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("p"),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = std::fs::write(&tmp, &buf).and_then(|_| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_misses() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(dir.path(), "@s/pkg");
        assert!(path.ends_with("packuments/@s%2fpkg.json"));
        let p = Packument {
            name: "@s/pkg".into(),
            ..Default::default()
        };
        write(&path, "http://r/@s%2fpkg", Some("\"e1\"".into()), None, &p).unwrap();
        let e = read(&path, "http://r/@s%2fpkg").unwrap();
        assert_eq!(e.meta.etag.as_deref(), Some("\"e1\""));
        assert_eq!(e.packument().unwrap(), p);
        assert!(
            read(&path, "http://other/@s%2fpkg").is_none(),
            "other registry"
        );
        std::fs::write(&path, b"garbage").unwrap();
        assert!(read(&path, "http://r/@s%2fpkg").is_none());
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temp files left behind");
    }
}
