//! Cross-process claims on a tarball being fetched: two installs sharing a
//! cache (two projects, two CI jobs) download and extract each tarball
//! once; the second waits for the first and then finds it in the store.
//! Only an optimization: publishing into the store is atomic either way.
//! Claims live in `<cache>/claims`, apart from the staging area.

use std::fs::{self, File, OpenOptions};
use std::path::PathBuf;

use super::{Digest, Store};

/// Held while this process fetches one tarball; dropping it lets waiters on.
#[derive(Debug)]
pub struct Claim {
    path: PathBuf,
    _file: File,
}

impl Drop for Claim {
    fn drop(&mut self) {
        // Removed before it is unlocked: a waiter that opened it already
        // still gets the lock, finds the entry and downloads nothing.
        let _ = fs::remove_file(&self.path);
    }
}

impl Store {
    /// Claims the fetch of the tarball `digest` names: `Some(None)` while
    /// another process holds it, `None` when claims cannot work here (then
    /// the caller just fetches).
    pub fn try_claim(&self, digest: &Digest) -> Option<Option<Claim>> {
        let dir = self.root().join("claims");
        let path = dir.join(format!("{}-{}", digest.algorithm.name(), digest.to_hex()));
        let open = || {
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
        };
        let file = match open() {
            Ok(f) => f,
            Err(_) => {
                fs::create_dir_all(&dir).ok()?;
                open().ok()?
            }
        };
        match file.try_lock() {
            Ok(()) => Some(Some(Claim { path, _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Some(None),
            Err(std::fs::TryLockError::Error(_)) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_nothing_left_behind() {
        let cache = tempfile::tempdir().unwrap();
        let a = Store::open(cache.path()).unwrap();
        let b = Store::open(cache.path()).unwrap();
        let sri = Sri::parse(&crate::store::sha512_sri(b"x")).unwrap();
        let d = &sri.digests()[0];
        let held = a.try_claim(d).unwrap().expect("free");
        assert!(b.try_claim(d).unwrap().is_none(), "held by another");
        drop(held);
        let again = b.try_claim(d).unwrap().expect("free again");
        drop(again);
        let left = fs::read_dir(cache.path().join("claims")).unwrap().count();
        assert_eq!(left, 0);
    }

    use crate::store::Sri;
}
