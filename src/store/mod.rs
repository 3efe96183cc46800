//! The global, content-addressed cache of extracted packages, shared by all
//! projects and safe with several brisk processes at once.
//!
//! Layout under the cache dir:
//!
//! ```text
//! store/v4/<algo>/<hex[0..2]>/<hex[2..]>/pkg/...   the package contents
//! store/v4/<algo>/<hex[0..2]>/<hex[2..]>/index     dirs, files + stamps of pkg/
//! tmp/<unique>/                                     staging for inserts
//! ```
//!
//! Entries are keyed by the tarball's integrity (strongest hash of the SRI).
//! An entry is built in `tmp/` and renamed into place in one step, so it is
//! either absent or complete; a crash leaves only garbage in `tmp/` (swept
//! by [`Store::open`] once it is a day old). Store files are never modified
//! after the rename: `node_modules` hardlinks to them. Since a write through
//! such a hardlink (an editor, a script) would change the entry for every
//! project, the index stamps each file (size, mtime) and [`Store::find`]
//! checks them before an entry is handed out; a changed entry is moved
//! aside (into `tmp/`, swept a day later) and fetched again.

mod bins;
mod buffers;
mod claim;
mod direct;
mod extract;
mod index;
pub mod integrity;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
pub use claim::Claim;
pub use extract::Limits;
use extract::{Crc, Extractor};

pub use bins::package_bins;
pub(crate) use extract::inflated_size;
pub use index::{FileIndex, Stamp};
pub use integrity::{digest, sha512_sri, verify, Algorithm, Digest, Hasher, Sri};

/// Staging dirs older than this are leftovers of a crashed process.
const STALE_TMP: Duration = Duration::from_secs(24 * 60 * 60);

/// The cache of extracted packages. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    entries: PathBuf,
    tmp: PathBuf,
    /// Inflate buffers kept for this install, and whether direct writes
    /// work here.
    extractor: Extractor,
}

/// A complete entry of the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPackage {
    /// The package contents (what goes to `node_modules/<name>`).
    pub dir: PathBuf,
    index_path: PathBuf,
}

/// What [`StoredPackage::check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Every file is as stored; the index read to tell.
    Intact(FileIndex),
    /// This file (absolute path) was written, replaced or removed.
    Changed(PathBuf),
    /// The index records no stamps (format 1): nothing can be told.
    Unverifiable,
}

/// What [`Store::find`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A complete entry whose files are as stored.
    Intact(StoredPackage),
    /// The entry had this file changed: it was moved aside, as if missing.
    Changed(PathBuf),
    /// No entry (or one that could not be checked, now moved aside).
    Missing,
}

impl StoredPackage {
    /// The entry's directories (parents first) and files, relative to `dir`,
    /// as recorded at extraction time (no directory walk).
    pub fn index(&self) -> Result<FileIndex> {
        index::read(&self.index_path)
    }

    /// Compares each file with its stamp, one `fstatat` per file. With
    /// `since` (a ctime in ns, see [`Store::clock`]), a file whose status
    /// changed after it counts as changed too, which catches a write whose
    /// mtime was put back.
    pub fn check(&self, since: Option<i128>) -> Result<Check> {
        let index = self.index()?;
        Ok(match self.changed_file(&index, since) {
            Some(Some(file)) => Check::Changed(file),
            Some(None) => Check::Intact(index),
            None => Check::Unverifiable,
        })
    }

    /// [`StoredPackage::check`] with the index already read: the first
    /// file found changed (`Some(None)`: none), or `None` when the index
    /// records no stamps.
    pub fn changed_file(&self, index: &FileIndex, since: Option<i128>) -> Option<Option<PathBuf>> {
        if !index.checkable() {
            return None;
        }
        let fd = crate::dirfd::DirFd::open(&self.dir);
        let changed =
            index.files.iter().zip(&index.stamps).find(|(rel, want)| {
                match index::stamp_at(fd.as_ref(), &self.dir, rel) {
                    Ok((got, ctime)) => got != **want || since.is_some_and(|t| ctime > t),
                    Err(_) => true,
                }
            });
        Some(changed.map(|(rel, _)| self.dir.join(rel)))
    }
}

impl Store {
    /// Opens (creating if needed) the store under `cache_dir`.
    pub fn open(cache_dir: &Path) -> Result<Store> {
        let root = cache_dir.to_path_buf();
        // v4: no folders for an archive's empty directory entries, as
        // pacote (v3 made them; v3 brought npm's modes, `.npmignore` and bin
        // fixes, which v2 lacks; v1's are unstamped), so versions never
        // share an entry.
        let entries = root.join("store").join("v4");
        let tmp = root.join("tmp");
        for dir in [&entries, &tmp] {
            fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("creating the cache at {}", dir.display()), e))?;
        }
        sweep_stale(&tmp);
        Ok(Store {
            root,
            entries,
            tmp,
            extractor: Extractor::new(),
        })
    }

    /// The same store, refusing archives past `limits` (see [`Limits`]).
    pub fn with_limits(mut self, limits: Limits) -> Store {
        self.extractor.limits = limits;
        self
    }

    /// What archives may inflate to.
    pub fn limits(&self) -> Limits {
        self.extractor.limits
    }

    /// The cache dir given to [`Store::open`].
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The staging area, on the same filesystem as the entries.
    pub fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    /// The complete entry for `integrity` (an SRI string), if any. One `stat`;
    /// an unparsable SRI is simply not in the store.
    pub fn get(&self, integrity: &str) -> Option<StoredPackage> {
        self.get_sri(&Sri::parse(integrity).ok()?)
    }

    /// [`Store::get`] for an already-parsed SRI.
    pub fn get_sri(&self, sri: &Sri) -> Option<StoredPackage> {
        sri.digests().iter().find_map(|d| self.existing(d))
    }

    /// The entry for `sri` if its files are as stored (one `fstatat` per
    /// file; the index read stays with the package for the cloner). A
    /// changed or uncheckable entry is moved aside, so that it is fetched
    /// and extracted again, and never linked.
    pub fn find(&self, sri: &Sri) -> Found {
        let Some(pkg) = self.get_sri(sri) else {
            return Found::Missing;
        };
        match pkg.check(None) {
            // The index is read again when the entry is linked: kept from
            // here, thousands of them waited in memory for the cloner.
            Ok(Check::Intact(_)) => Found::Intact(pkg),
            Ok(Check::Changed(file)) => {
                self.set_aside(&pkg);
                Found::Changed(file)
            }
            Ok(Check::Unverifiable) | Err(_) => {
                self.set_aside(&pkg);
                Found::Missing
            }
        }
    }

    /// Moves an entry out of the store in one rename (a process linking
    /// from it keeps its descriptors); the sweep removes it a day later.
    pub fn set_aside(&self, pkg: &StoredPackage) {
        let Some(entry) = pkg.dir.parent() else {
            return;
        };
        let junk = Staging::reserve(&self.tmp);
        if fs::rename(entry, &junk.path).is_ok() {
            // The sweep goes by mtime: the day counts from now.
            let _ = fs::File::open(&junk.path).and_then(|f| f.set_modified(SystemTime::now()));
        }
        junk.disarm();
    }

    /// The filesystem's clock now, as a ctime in ns: files whose ctime is
    /// later were changed (or linked) after this call.
    pub fn clock(&self) -> Result<i128> {
        let mark = Staging::reserve(&self.tmp);
        let res = fs::write(&mark.path, b"").and_then(|()| {
            index::stamp_at(
                None,
                &self.tmp,
                mark.path.strip_prefix(&self.tmp).unwrap_or(&mark.path),
            )
        });
        let _ = fs::remove_file(&mark.path);
        mark.disarm();
        res.map(|(_, ctime)| ctime)
            .map_err(|e| Error::io(format!("writing in {}", self.tmp.display()), e))
    }

    fn existing(&self, digest: &Digest) -> Option<StoredPackage> {
        let pkg = self.package_at(self.entry_dir(digest));
        pkg.index_path.is_file().then_some(pkg)
    }

    /// Extracts `tgz` and inserts it under `integrity`'s strongest hash.
    /// Blocking: call it off the async runtime. The caller has verified the
    /// bytes against `integrity`; this does not hash them again. If another
    /// process inserted the same entry first, theirs is kept and returned.
    /// Errors: `E_TARBALL` (corrupt archive, unsafe path), `E_IO`.
    pub fn insert_tarball(&self, integrity: &str, tgz: &[u8]) -> Result<StoredPackage> {
        self.insert(integrity, tgz, Crc::Check)
    }

    /// [`Store::insert_tarball`] for bytes that matched an integrity known
    /// before they were downloaded (a lockfile's or a packument's): the
    /// gzip CRC-32 is not recomputed (see [`Crc::Skip`]).
    pub fn insert_expected(&self, integrity: &str, tgz: &[u8]) -> Result<StoredPackage> {
        self.insert(integrity, tgz, Crc::Skip)
    }

    fn insert(&self, integrity: &str, tgz: &[u8], crc: Crc) -> Result<StoredPackage> {
        let sri = Sri::parse(integrity)?;
        let digest = &sri.digests()[0];
        // Callers looked the entry up before downloading it; one inserted
        // since then is found when the rename fails.
        let staging = Staging::create(&self.tmp)?;
        let pkg_dir = staging.path.join("pkg");
        fs::create_dir(&pkg_dir).map_err(|e| Error::io(pkg_dir.display(), e))?;
        let extracted = self.extractor.extract(tgz, &pkg_dir, crc)?;
        index::write(&staging.path.join("index"), &pkg_dir, &extracted)?;
        self.publish(staging, digest)
    }

    /// Renames a finished staging dir into place (or defers to a winner).
    /// The rename is tried first: its parent is missing only for the first
    /// entry under each 2-hex-digit prefix.
    fn publish(&self, staging: Staging, digest: &Digest) -> Result<StoredPackage> {
        let target = self.entry_dir(digest);
        let (mut made_parent, mut moved_junk) = (false, false);
        loop {
            let err = match fs::rename(&staging.path, &target) {
                Ok(()) => {
                    staging.disarm();
                    return Ok(self.package_at(target));
                }
                Err(e) => e,
            };
            if err.kind() == io::ErrorKind::NotFound && !made_parent {
                let parent = target.parent().expect("entry dirs have a parent");
                fs::create_dir_all(parent).map_err(|e| Error::io(parent.display(), e))?;
                made_parent = true;
                continue;
            }
            if let Some(pkg) = self.existing(digest) {
                return Ok(pkg); // another process won; `staging` is dropped
            }
            if !moved_junk && target.exists() {
                // Not ours and not complete (tampered with): move it aside.
                let junk = Staging::reserve(&self.tmp);
                let _ = fs::rename(&target, &junk.path);
                moved_junk = true;
                continue;
            }
            return Err(Error::io(
                format!("moving a package into the cache at {}", target.display()),
                err,
            ));
        }
    }

    fn entry_dir(&self, digest: &Digest) -> PathBuf {
        let hex = digest.to_hex();
        self.entries
            .join(digest.algorithm.name())
            .join(&hex[..2])
            .join(&hex[2..])
    }

    fn package_at(&self, entry: PathBuf) -> StoredPackage {
        StoredPackage {
            dir: entry.join("pkg"),
            index_path: entry.join("index"),
        }
    }
}

/// A uniquely named dir under `tmp/`, removed on drop unless disarmed.
struct Staging {
    path: PathBuf,
    armed: bool,
}

impl Staging {
    fn reserve(tmp: &Path) -> Staging {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let name = format!(
            "{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        Staging {
            path: tmp.join(name),
            armed: true,
        }
    }

    fn create(tmp: &Path) -> Result<Staging> {
        let staging = Staging::reserve(tmp);
        fs::create_dir(&staging.path).map_err(|e| Error::io(staging.path.display(), e))?;
        Ok(staging)
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Best effort: removes staging dirs left by crashed processes.
fn sweep_stale(tmp: &Path) {
    let Ok(entries) = fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TMP);
        if old {
            let path = entry.path();
            let _ = fs::remove_dir_all(&path).or_else(|_| fs::remove_file(&path));
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;
