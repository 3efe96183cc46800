//! Which store entry holds a packed git commit: a tiny index from a key
//! (the lockfile `resolved`, `git+…#<sha>`) to the tarball integrity that
//! [`crate::store::Store`] is keyed by, so a commit is cloned and packed
//! once per cache.
//!
//! Layout: `<cache>/git/v1/<hex[0..2]>/<hex[2..]>` (sha256 of the key)
//! holding `<integrity>\n<key>\n`; written to a temp file and renamed.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

fn entry_path(cache_dir: &Path, key: &str) -> PathBuf {
    let hex: String = Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    cache_dir
        .join("git")
        .join("v1")
        .join(&hex[..2])
        .join(&hex[2..])
}

/// The integrity recorded for `key` under `cache_dir` (the store's root),
/// if any. A missing, unreadable or mismatched entry is simply absent.
pub fn lookup(cache_dir: &Path, key: &str) -> Option<String> {
    let text = fs::read_to_string(entry_path(cache_dir, key)).ok()?;
    let mut lines = text.lines();
    let integrity = lines.next()?.trim();
    (lines.next() == Some(key) && !integrity.is_empty()).then(|| integrity.to_string())
}

/// Records that `key` packs to the tarball with `integrity`. Atomic; the
/// last writer wins (every writer of one commit writes the same value unless
/// a prepare step is not reproducible).
pub fn record(cache_dir: &Path, key: &str, integrity: &str) -> Result<()> {
    let path = entry_path(cache_dir, key);
    let parent = path.parent().expect("entries have a parent");
    fs::create_dir_all(parent).map_err(|e| Error::io(parent.display(), e))?;
    let mut tmp =
        tempfile::NamedTempFile::new_in(parent).map_err(|e| Error::io(parent.display(), e))?;
    write!(tmp, "{integrity}\n{key}\n").map_err(|e| Error::io(tmp.path().display(), e))?;
    tmp.persist(&path)
        .map_err(|e| Error::io(path.display(), e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_looks_up_by_key() {
        let t = tempfile::tempdir().unwrap();
        let key = "git+ssh://git@github.com/u/r.git#0123456789abcdef0123456789abcdef01234567";
        assert_eq!(lookup(t.path(), key), None);
        record(t.path(), key, "sha512-abc").unwrap();
        assert_eq!(lookup(t.path(), key).as_deref(), Some("sha512-abc"));
        assert_eq!(lookup(t.path(), &format!("{key}x")), None);
        record(t.path(), key, "sha512-def").unwrap();
        assert_eq!(lookup(t.path(), key).as_deref(), Some("sha512-def"));
    }
}
