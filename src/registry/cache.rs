//! The on-disk packument cache, in batch files:
//! `<cache>/packuments/v2/<time>-<pid>-<n>.batch`.
//!
//! Each client appends what it fetches to one batch file of its own and
//! renames it into place when it goes away, instead of writing one file per
//! package: creating thousands of small files (inode allocation, directory
//! locks) cost a cold resolve much of its system CPU. Readers take, per
//! package, the entry of the newest batch that has it; only the newest
//! [`KEEP`] batches are kept.
//!
//! A batch is the entries, then an index (JSON: name → `[offset, length]`),
//! then the index length (8 bytes, little endian) and [`MAGIC`]. An entry is
//! a small JSON header line ([`CacheMeta`]: format version, URL, ETag,
//! Last-Modified) followed by the registry's document, cut down to the
//! fields brisk reads as it was indexed ([`super::trim`]; entries written
//! before the cut hold whole documents, which read the same). Keeping the
//! header on its own line lets a revalidation read the ETag without parsing
//! the packument.
//!
//! A batch is written to a temp file and renamed, so readers see whole
//! batches or none; anything unreadable is a miss.
//!
//! Once indexed, a packument reads its manifests from the batch file (see
//! [`Body`]) instead of keeping its document in memory: holding a large
//! tree's documents dominated a cold resolve's peak memory. (Memory maps
//! of the batches were tried: the kernel maps 64 KB around every touched
//! page, and parsing one manifest per document touched most of them.)

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};

use super::packument::{Body, Packument};

/// Bumped whenever the cached packument shape changes, or a manifest reads
/// a key the cut documents lack; older entries are misses (1: brisk's own
/// trimmed packuments; 2: the registry's documents, cut by `trim`).
const FORMAT: u32 = 2;
/// The last bytes of every batch file.
const MAGIC: &[u8; 8] = b"BRISKPC2";
/// Batch files kept after a write (newest first).
const KEEP: usize = 4;

/// The first line of a cache entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CacheMeta {
    pub v: u32,
    /// The URL the document came from (a different registry is a miss).
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// When the registry last sent or confirmed it (Unix seconds), and for
    /// how long it said the copy stays fresh (`Cache-Control: max-age`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
}

impl CacheMeta {
    /// Still fresh by the registry's own `max-age` at `now`: used without
    /// asking again, as npm (make-fetch-happen) and bun do.
    pub fn fresh(&self, now: u64) -> bool {
        match (self.fetched, self.max_age) {
            (Some(at), Some(age)) => now >= at && now - at < age,
            _ => false,
        }
    }
}

/// What a response says about caching its body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub max_age: Option<u64>,
}

/// `max-age` of a `Cache-Control` header (`no-cache`/`no-store` mean none).
pub fn max_age(cache_control: &str) -> Option<u64> {
    let mut age = None;
    for part in cache_control.split(',') {
        let part = part.trim().to_ascii_lowercase();
        if part == "no-cache" || part == "no-store" {
            return None;
        }
        if let Some(v) = part.strip_prefix("max-age=") {
            age = v.trim_matches('"').parse().ok();
        }
    }
    age
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A cache entry's header, read from disk; the document is read only when
/// [`CacheEntry::packument`] asks for it (a revalidation answered 200 never
/// needs it).
pub struct CacheEntry {
    pub meta: CacheMeta,
    /// The batch file, and the document's offset and length in it.
    file: Arc<File>,
    offset: u64,
    len: usize,
}

impl CacheEntry {
    /// The cached document's bytes (to store it again under new validators).
    pub fn document(&self) -> Option<Vec<u8>> {
        let mut body = vec![0; self.len];
        self.file.read_exact_at(&mut body, self.offset).ok()?;
        Some(body)
    }

    /// Reads and indexes the cached packument (None if the entry is
    /// corrupt); its manifests are read from the batch file when asked for.
    pub fn packument(&self) -> Option<Packument> {
        let mut body = vec![0; self.len];
        self.file.read_exact_at(&mut body, self.offset).ok()?;
        let mut p = Packument::from_bytes(body.into()).ok()?;
        p.rehome(Body::File {
            file: self.file.clone(),
            offset: self.offset,
        });
        Some(p)
    }
}

/// Bytes read to find an entry's header line (it holds a URL and an ETag);
/// a longer header is read whole.
const HEAD: u64 = 4096;

/// Where a name's newest entry is: (batch file, offset, length).
type Index = HashMap<String, (usize, u64, u64)>;

/// A batch file being read: opened on first use (`None` if it cannot be).
struct BatchFile {
    path: PathBuf,
    file: OnceLock<Option<Arc<File>>>,
}

/// The packument cache of one registry client.
pub struct DiskCache {
    dir: PathBuf,
    /// The batch files and the merged index, read on first lookup.
    index: OnceLock<(Vec<BatchFile>, Index)>,
    /// The batch being written: entries are appended as they arrive (no
    /// memory held), the index and the rename come at [`DiskCache::flush`].
    batch: Mutex<Option<Batch>>,
}

struct Batch {
    tmp: PathBuf,
    stem: String,
    file: Arc<File>,
    index: HashMap<String, (u64, u64)>,
    len: u64,
}

impl DiskCache {
    /// The cache under `<cache_dir>/packuments/v2`.
    pub fn new(cache_dir: &Path) -> DiskCache {
        DiskCache::in_dir(cache_dir.join("packuments").join("v2"))
    }

    /// The cache of whole documents (with publish times), apart from the
    /// abbreviated ones: `<cache_dir>/packuments/v2-full`.
    pub fn full(cache_dir: &Path) -> DiskCache {
        DiskCache::in_dir(cache_dir.join("packuments").join("v2-full"))
    }

    fn in_dir(dir: PathBuf) -> DiskCache {
        DiskCache {
            dir,
            index: OnceLock::new(),
            batch: Mutex::new(None),
        }
    }

    /// The entry for `name` fetched from `url`; any problem (missing,
    /// corrupt, another format or URL) is a miss.
    pub fn read(&self, name: &str, url: &str) -> Option<CacheEntry> {
        let (files, index) = self.index.get_or_init(|| load_index(&self.dir));
        let &(file, offset, len) = index.get(name)?;
        let batch = &files[file];
        let f = batch
            .file
            .get_or_init(|| File::open(&batch.path).ok().map(Arc::new))
            .clone()?;
        let head = |n: u64| {
            let mut bytes = vec![0; usize::try_from(n).ok()?];
            f.read_exact_at(&mut bytes, offset).ok()?;
            let nl = bytes.iter().position(|&b| b == b'\n')?;
            bytes.truncate(nl);
            Some(bytes)
        };
        let line = head(len.min(HEAD)).or_else(|| (len > HEAD).then(|| head(len)).flatten())?;
        let meta: CacheMeta = serde_json::from_slice(&line).ok()?;
        if meta.v != FORMAT || meta.url != url {
            return None;
        }
        let skip = line.len() as u64 + 1;
        Some(CacheEntry {
            meta,
            file: f,
            offset: offset + skip,
            len: usize::try_from(len - skip).ok()?,
        })
    }

    /// Append a freshly fetched packument document to this client's batch;
    /// returns where it now is (for [`Body::File`]).
    pub fn add(
        &self,
        name: &str,
        url: &str,
        validators: Validators,
        body: &[u8],
    ) -> std::io::Result<Body> {
        let meta = CacheMeta {
            v: FORMAT,
            url: url.to_string(),
            etag: validators.etag,
            last_modified: validators.last_modified,
            fetched: Some(now()),
            max_age: validators.max_age,
        };
        let mut head = serde_json::to_vec(&meta)?;
        head.push(b'\n');
        let mut batch = self.batch.lock().expect("not poisoned");
        if batch.is_none() {
            *batch = Some(self.start_batch()?);
        }
        let b = batch.as_mut().expect("just started");
        let mut f = &*b.file;
        if let Err(e) = f.write_all(&head).and_then(|()| f.write_all(body)) {
            // Offsets are unknown from here: give this batch up.
            if let Some(b) = batch.take() {
                let _ = std::fs::remove_file(&b.tmp);
            }
            return Err(e);
        }
        let len = (head.len() + body.len()) as u64;
        b.index.insert(name.to_string(), (b.len, len));
        let offset = b.len + head.len() as u64;
        b.len += len;
        Ok(Body::File {
            file: b.file.clone(),
            offset,
        })
    }

    fn start_batch(&self) -> std::io::Result<Batch> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        std::fs::create_dir_all(&self.dir)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let stem = format!(
            "{nanos:024}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let tmp = self.dir.join(format!(".{stem}.tmp"));
        // Readable too: packuments read their manifests from it.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        Ok(Batch {
            tmp,
            stem,
            file: Arc::new(file),
            index: HashMap::new(),
            len: 0,
        })
    }

    /// Finish this client's batch (index, footer, rename into place), then
    /// drop the batches past the newest [`KEEP`]. Nothing added: nothing
    /// written.
    pub fn flush(&self) -> std::io::Result<()> {
        let Some(b) = self.batch.lock().expect("not poisoned").take() else {
            return Ok(());
        };
        let result = finish_batch(&b)
            .and_then(|()| std::fs::rename(&b.tmp, self.dir.join(format!("{}.batch", b.stem))));
        if result.is_err() {
            let _ = std::fs::remove_file(&b.tmp);
        }
        result?;
        for old in batch_files(&self.dir).into_iter().skip(KEEP) {
            let _ = std::fs::remove_file(old);
        }
        remove_stale_temps(&self.dir);
        Ok(())
    }
}

impl Drop for DiskCache {
    /// What a client fetched reaches the disk even if nobody flushed (a
    /// failed write only costs a refetch next time).
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

fn finish_batch(b: &Batch) -> std::io::Result<()> {
    let index = serde_json::to_vec(&b.index)?;
    let mut f = &*b.file;
    f.write_all(&index)?;
    f.write_all(&(index.len() as u64).to_le_bytes())?;
    f.write_all(MAGIC)
}

/// Temp files of batches whose writer died (a day old or more).
fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let day = std::time::Duration::from_secs(24 * 3600);
    for e in entries.flatten() {
        let path = e.path();
        let stale = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > day);
        if stale && path.extension().is_some_and(|x| x == "tmp") {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The batch files in `dir`, newest first.
fn batch_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "batch"))
        .collect();
    files.sort_by(|a, b| b.file_name().cmp(&a.file_name()));
    files
}

/// Every batch's index, newest entry per name winning.
fn load_index(dir: &Path) -> (Vec<BatchFile>, Index) {
    let files = batch_files(dir);
    let mut index = Index::new();
    for (i, path) in files.iter().enumerate() {
        for (name, (offset, len)) in read_batch_index(path).unwrap_or_default() {
            index.entry(name).or_insert((i, offset, len));
        }
    }
    let files = files
        .into_iter()
        .map(|path| BatchFile {
            path,
            file: OnceLock::new(),
        })
        .collect();
    (files, index)
}

fn read_batch_index(path: &Path) -> Option<HashMap<String, (u64, u64)>> {
    let f = std::fs::File::open(path).ok()?;
    let size = f.metadata().ok()?.len();
    let mut tail = [0u8; 16];
    f.read_exact_at(&mut tail, size.checked_sub(16)?).ok()?;
    if &tail[8..] != MAGIC {
        return None;
    }
    let len = u64::from_le_bytes(tail[..8].try_into().ok()?);
    let start = size.checked_sub(16)?.checked_sub(len)?;
    let mut bytes = vec![0; usize::try_from(len).ok()?];
    f.read_exact_at(&mut bytes, start).ok()?;
    let index: HashMap<String, (u64, u64)> = serde_json::from_slice(&bytes).ok()?;
    // An entry must lie before the index.
    index
        .values()
        .all(|&(o, l)| o.checked_add(l).is_some_and(|end| end <= start))
        .then_some(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn etag(e: &str) -> Validators {
        Validators {
            etag: Some(e.to_string()),
            ..Validators::default()
        }
    }

    #[test]
    fn max_age_and_freshness() {
        assert_eq!(max_age("public, max-age=300"), Some(300));
        assert_eq!(max_age("max-age=60, no-cache"), None);
        assert_eq!(max_age("no-store"), None);
        assert_eq!(max_age("public"), None);
        let meta = |fetched, max_age| CacheMeta {
            v: FORMAT,
            url: String::new(),
            etag: None,
            last_modified: None,
            fetched,
            max_age,
        };
        assert!(meta(Some(1000), Some(300)).fresh(1299));
        assert!(!meta(Some(1000), Some(300)).fresh(1300));
        assert!(
            !meta(Some(1000), Some(300)).fresh(999),
            "a clock set back is not fresh"
        );
        assert!(!meta(Some(1000), None).fresh(1000));
        assert!(
            !meta(None, Some(300)).fresh(1000),
            "entries from before freshness"
        );
    }

    fn pkg(name: &str) -> Vec<u8> {
        format!(r#"{{"name":"{name}","versions":{{"1.0.0":{{"dist":{{"tarball":"t"}}}}}}}}"#)
            .into_bytes()
    }

    #[test]
    fn round_trip_newest_wins_and_misses() {
        let dir = tempfile::tempdir().unwrap();
        let url = "http://r/@s%2fpkg";
        {
            let c = DiskCache::new(dir.path());
            c.add("@s/pkg", url, etag("\"e1\""), &pkg("@s/pkg"))
                .unwrap();
            let at = c
                .add(
                    "other",
                    "http://r/other",
                    Validators::default(),
                    &pkg("other"),
                )
                .unwrap();
            // A packument indexed in memory reads its manifests from the batch.
            let mut p = Packument::from_slice(&pkg("other")).unwrap();
            p.rehome(at);
            assert_eq!(p.manifest("1.0.0").unwrap().dist.tarball, "t");
        } // dropped: flushed
        {
            let c = DiskCache::new(dir.path());
            c.add("@s/pkg", url, etag("\"e2\""), &pkg("@s/pkg"))
                .unwrap();
            c.flush().unwrap();
        }
        let c = DiskCache::new(dir.path());
        let e = c.read("@s/pkg", url).unwrap();
        assert_eq!(
            e.meta.etag.as_deref(),
            Some("\"e2\""),
            "the newest batch wins"
        );
        let p = e.packument().unwrap();
        assert_eq!(p.name, "@s/pkg");
        assert_eq!(p.manifest("1.0.0").unwrap().dist.tarball, "t");
        assert!(
            c.read("other", "http://r/other").is_some(),
            "older batches still serve"
        );
        assert!(
            c.read("@s/pkg", "http://other/@s%2fpkg").is_none(),
            "other registry"
        );
        assert!(c.read("missing", url).is_none());
        let files: Vec<_> = std::fs::read_dir(dir.path().join("packuments/v2"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().into_string().unwrap())
            .collect();
        assert_eq!(
            files.len(),
            2,
            "one file per batch, no temp files: {files:?}"
        );
    }

    #[test]
    fn corrupt_batches_are_misses_and_old_ones_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..KEEP + 2 {
            let c = DiskCache::new(dir.path());
            c.add(&format!("p{i}"), "u", Validators::default(), &pkg("p"))
                .unwrap();
            c.flush().unwrap();
        }
        let v2 = dir.path().join("packuments/v2");
        assert_eq!(batch_files(&v2).len(), KEEP);
        assert!(
            DiskCache::new(dir.path()).read("p0", "u").is_none(),
            "dropped"
        );
        assert!(DiskCache::new(dir.path())
            .read(&format!("p{}", KEEP + 1), "u")
            .is_some());
        // A truncated batch is ignored, the others still serve.
        let newest = &batch_files(&v2)[0];
        let bytes = std::fs::read(newest).unwrap();
        std::fs::write(newest, &bytes[..bytes.len() - 3]).unwrap();
        let c = DiskCache::new(dir.path());
        assert!(c.read(&format!("p{}", KEEP + 1), "u").is_none());
        assert!(c.read(&format!("p{}", KEEP), "u").is_some());
        std::mem::forget(c); // nothing to flush; keep the test's files as they are
    }
}
