//! gunzip + untar of an in-memory tarball into a directory, npm-style:
//! the first path component is stripped, only files and directories are
//! created, modes are npm's (pacote's with the default umask), `bin`
//! targets (the package's and its bundled packages') are made executable
//! and lose a CRLF on their `#!` line (bin-links), and a `.gitignore` is
//! renamed `.npmignore` unless there is one (pacote). The cache holds what
//! npm would put in `node_modules`.
//!
//! An archive up to [`ONE_SHOT_MAX`] is inflated in one call into one
//! buffer (libdeflate, sized by the gzip trailer) and files are written
//! straight from that buffer; a bigger one, or one whose trailer cannot be
//! believed, is extracted entry by entry as it inflates. Either way it may
//! inflate only as far as its [`Limits`] allow.
//! This takes far less CPU than flate2 streaming through the `tar` reader,
//! which copies every entry through small buffers. Files are created
//! relative to a descriptor of the package dir (`openat`), not by absolute
//! path.
//!
//! Big files are written with `O_DIRECT` where the filesystem takes it:
//! their whole blocks go from the buffer to the disk, without a page-cache
//! copy now and a writeback later. That copy is most of a cold install's
//! system time, and most of the bytes are in a few big files. On a disk
//! too slow for that, the install switches back to the page cache (see
//! [`super::direct`]).

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::io::{self, Cursor, Read, Write};
use std::ops::Range;
use std::path::Path;

use super::bins;
use super::buffers::Buffers;
use super::direct::DirectWrites;
use crate::dirfd::DirFd;
use crate::error::{Code, Error, Result};

/// What an extraction created, as package-relative `/`-separated paths.
/// `dirs` are sorted, so parents come before their children.
#[derive(Debug, Default)]
pub(crate) struct Extracted {
    pub dirs: BTreeSet<String>,
    pub files: BTreeSet<String>,
}

/// Inflated archives up to this size go through one libdeflate call into
/// memory; a bigger trailer (or one that lies) is extracted streaming,
/// entry by entry, so memory does not grow with what an archive claims.
const ONE_SHOT_MAX: usize = 256 << 20;
/// An archive may inflate this much whatever its size: the ratio limit only
/// bites on what would be a lot of disk.
const RATIO_FREE: u64 = 64 << 20;

/// How far an archive may expand: a decompression bomb is refused with
/// `E_TARBALL` instead of filling memory or the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes an archive may inflate to (and of file data it may hold).
    pub max_unpacked: u64,
    /// Past [`RATIO_FREE`] bytes, how many times its own size an archive
    /// may inflate to.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_unpacked: 2 << 30,
            max_ratio: 100,
        }
    }
}

impl Limits {
    /// What an archive of `len` bytes may inflate to.
    fn allowed(&self, len: usize) -> u64 {
        let by_ratio = (len as u64).saturating_mul(self.max_ratio).max(RATIO_FREE);
        by_ratio.min(self.max_unpacked)
    }

    fn exceeded(&self, len: usize) -> Error {
        Error::new(
            Code::Tarball,
            format!(
                "the archive ({len} bytes) inflates to more than {} bytes, past the limits \
                 (brisk-max-unpacked-size={}, brisk-max-compression-ratio={}); refusing to \
                 extract it. If you trust this package, raise them in .npmrc.",
                self.allowed(len),
                self.max_unpacked,
                self.max_ratio
            ),
        )
    }
}
/// An inflated archive starts at this alignment in its buffer, so its file
/// data (at multiples of 512 bytes in a tar) is aligned for `O_DIRECT`.
const ALIGN: usize = 4096;
/// Files this big or bigger are written with `O_DIRECT`: each is a wait on
/// the disk, and a cold install was faster with this threshold than with a
/// smaller or a bigger one.
const DIRECT_MIN: usize = 256 << 10;
/// What `O_DIRECT` asks of the buffer's address (the logical block size of
/// common disks); the file's offset and length are kept to whole
/// filesystem blocks ([`ALIGN`]).
const DIRECT_MEM_ALIGN: usize = 512;

/// Idle inflate buffers kept: more than any machine's concurrent
/// extractions need. Each holds less than [`MAPPED_MIN`].
const INFLATE_BUFFERS: usize = 8;
const INFLATE_BYTES: usize = INFLATE_BUFFERS * MAPPED_MIN;
/// Archives inflating to this much or more get a mapping of their own,
/// in huge pages where the kernel gives them, unmapped right after: kept
/// in the pool, the biggest archives' buffers stayed resident to the end of
/// the install, a large part of its peak memory.
const MAPPED_MIN: usize = 8 << 20;

/// What the extractions into one store share: inflate buffers for archives
/// under [`MAPPED_MIN`] (each grows to the biggest archive it met, so an
/// install faults that much in once), and whether big files still go
/// straight to the disk.
#[derive(Debug)]
pub(crate) struct Extractor {
    buffers: Buffers,
    direct: DirectWrites,
    pub limits: Limits,
}

impl Extractor {
    pub fn new() -> Extractor {
        Extractor {
            buffers: Buffers::new(INFLATE_BUFFERS, INFLATE_BYTES),
            direct: DirectWrites::new(cfg!(target_os = "linux")),
            limits: Limits::default(),
        }
    }

    /// Extracts `tgz` (gzip'd or plain tar) into the existing directory
    /// `dest`. Blocking. Fails with `E_TARBALL` on a corrupt archive or an
    /// entry path that is absolute or contains `..`; the caller discards
    /// `dest` on error. `crc`: whether to check the gzip CRC-32 (see
    /// [`Crc`]).
    pub fn extract(&self, tgz: &[u8], dest: &Path, crc: Crc) -> Result<Extracted> {
        let allowed = self.limits.allowed(tgz.len());
        let too_big = || self.limits.exceeded(tgz.len());
        let write = |tar: &[u8]| {
            let items = read_entries(tar, allowed).map_err(|e| e.or(too_big()))?;
            write_entries(tar, &items, &Dest::open(dest, &self.direct))
        };
        // Streaming decides (and reports) whatever one call cannot take: a
        // big or lying trailer, several members, trailing bytes, bad data.
        let stream = || {
            stream_entries(tgz, allowed, &Dest::open(dest, &self.direct))
                .map_err(|e| e.or(too_big()))
        };
        if !tgz.starts_with(&[0x1f, 0x8b]) {
            return write(tgz);
        }
        let Some(size) = one_shot_size(tgz).filter(|&n| n as u64 <= allowed) else {
            return stream();
        };
        if size >= MAPPED_MIN {
            if let Some(mut map) = mapped(size) {
                return match inflate_whole(tgz, &mut map, crc) {
                    Some(n) => write(&map[..n]),
                    None => stream(),
                };
            }
        }
        let mut buf = self.buffers.take(size + ALIGN);
        // A reused buffer keeps its length: only new room is zeroed.
        if buf.len() < size + ALIGN {
            buf.resize(size + ALIGN, 0);
        }
        let at = buf.as_ptr().align_offset(ALIGN).min(ALIGN);
        let result = match inflate_whole(tgz, &mut buf[at..at + size], crc) {
            Some(n) => write(&buf[at..at + n]),
            None => stream(),
        };
        self.buffers.give(buf);
        result
    }
}

/// An extraction's failure: an error, or the archive growing past what
/// it may inflate to (reported by the caller, which knows the limits).
enum Failed {
    Error(Error),
    TooBig,
}

impl Failed {
    fn or(self, too_big: Error) -> Error {
        match self {
            Failed::Error(e) => e,
            Failed::TooBig => too_big,
        }
    }
}

impl From<Error> for Failed {
    fn from(e: Error) -> Failed {
        Failed::Error(e)
    }
}

fn bad(e: io::Error) -> Error {
    Error::new(Code::Tarball, format!("invalid tarball: {e}"))
}

/// The bytes extracting `tgz` inflates it into (0 for a plain tar, or when
/// its trailer cannot be believed).
pub(crate) fn inflated_size(tgz: &[u8]) -> usize {
    one_shot_size(tgz).unwrap_or(0)
}

/// The inflated size that a gzip'd `tgz`'s trailer claims (ISIZE: the size
/// mod 2^32, of the last member), if one libdeflate call should take it.
fn one_shot_size(tgz: &[u8]) -> Option<usize> {
    if !tgz.starts_with(&[0x1f, 0x8b]) {
        return None;
    }
    let t = &tgz[tgz.len().checked_sub(4)?..];
    let size = u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as usize;
    // Deflate cannot expand input more than 1032 times: a trailer claiming
    // more lies, and is not worth allocating for.
    (size <= ONE_SHOT_MAX && size <= tgz.len().saturating_mul(1032)).then_some(size)
}

/// Whether an extraction checks the gzip CRC-32 of what it inflates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Crc {
    Check,
    /// For archives whose bytes matched an integrity known before they
    /// were downloaded: the SHA-512 covers every byte the CRC would, and
    /// recomputing the CRC is a second pass over the inflated bytes.
    /// The inflated length is still checked against the trailer's.
    Skip,
}

/// Inflates the gzip'd `tgz` in one libdeflate call into `out`, exactly
/// its trailer's length; `None` on any error, for the streaming decoder to
/// report.
fn inflate_whole(tgz: &[u8], out: &mut [u8], crc: Crc) -> Option<usize> {
    thread_local! {
        // One per extracting thread instead of one per archive, which would
        // allocate and free it for every package.
        static DECOMPRESSOR: RefCell<libdeflater::Decompressor> =
            RefCell::new(libdeflater::Decompressor::new());
    }
    DECOMPRESSOR.with_borrow_mut(|d| match (crc, gzip_header_len(tgz)) {
        // Exactly the trailer's length, or the checked path decides.
        (Crc::Skip, Some(header)) => d
            .deflate_decompress(&tgz[header..], out)
            .ok()
            .filter(|&n| n == out.len()),
        _ => d.gzip_decompress(tgz, out).ok(),
    })
}

/// A fresh zeroed mapping of `len` bytes (page-aligned, so file data in it
/// is aligned for `O_DIRECT`), asking for huge pages: one fault per 2 MB
/// instead of per 4 KB (the kernel zeroes the same bytes either way).
/// `None` if the system refuses the mapping.
fn mapped(len: usize) -> Option<memmap2::MmapMut> {
    let map = memmap2::MmapOptions::new().len(len).map_anon().ok()?;
    #[cfg(target_os = "linux")]
    let _ = map.advise(memmap2::Advice::HugePage);
    Some(map)
}

/// The length of `gz`'s member header (RFC 1952, 2.3), if it is a
/// well-formed deflate member's with room for the 8-byte trailer after it.
fn gzip_header_len(gz: &[u8]) -> Option<usize> {
    const FHCRC: u8 = 0x02;
    const FEXTRA: u8 = 0x04;
    const FNAME: u8 = 0x08;
    const FCOMMENT: u8 = 0x10;
    let &[0x1f, 0x8b, 8, flags, ..] = gz else {
        return None;
    };
    if flags & 0xe0 != 0 {
        return None; // reserved bits
    }
    let mut at = 10;
    if flags & FEXTRA != 0 {
        let len = gz.get(at..at + 2)?;
        at += 2 + u16::from_le_bytes([len[0], len[1]]) as usize;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            at += gz.get(at..)?.iter().position(|&b| b == 0)? + 1;
        }
    }
    if flags & FHCRC != 0 {
        at += 2;
    }
    (at + 8 <= gz.len()).then_some(at)
}

/// One file worth creating.
struct Item {
    rel: String,
    data: Data,
    mode: u32,
}

enum Data {
    /// Contiguous bytes of the archive.
    Span(Range<usize>),
    /// A sparse entry, read out whole.
    Owned(Vec<u8>),
}

/// What one archive entry is, once its path is checked.
enum Kind {
    File {
        rel: String,
        /// The archive's permission bits.
        mode: u32,
    },
    /// Skipped: pax headers, links, devices, fifos (like pacote), and
    /// entries outside the package folder.
    Other,
}

/// Classifies `entry`, refusing a path that leaves the package or that is
/// not UTF-8 (two such names could land on one file, the last silently
/// winning).
fn classify<R: Read>(entry: &tar::Entry<R>, ignores: &mut Ignores) -> Result<Kind> {
    let kind = entry.header().entry_type();
    if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
        return Ok(Kind::Other);
    }
    let bytes = entry.path_bytes();
    let raw = std::str::from_utf8(&bytes).map_err(|_| {
        Error::new(
            Code::Tarball,
            format!(
                "path {:?} in tarball is not UTF-8; refusing to extract it",
                String::from_utf8_lossy(&bytes)
            ),
        )
    })?;
    let rel = package_path(raw).map_err(|why| {
        Error::new(
            Code::Tarball,
            format!("unsafe path {raw:?} in tarball ({why}); refusing to extract it"),
        )
    })?;
    let Some(rel) = rel else {
        return Ok(Kind::Other);
    };
    // Directories come only as files' parents: pacote extracts files and
    // no directory entries, so an empty folder in the archive is not made.
    // (Old (v7) archives mark directories with a trailing slash only.)
    if kind.is_dir() || (kind.is_file() && raw.ends_with('/')) {
        return Ok(Kind::Other);
    }
    if kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse() {
        let mode = entry.header().mode().map(|m| m & 0o777).unwrap_or(0);
        return Ok(match ignores.rename(rel) {
            Some(rel) => Kind::File { rel, mode },
            None => Kind::Other,
        });
    }
    Ok(Kind::Other)
}

/// Counts file data against what an archive may hold (a sparse entry is
/// small in the archive and as big as it claims on disk).
fn take_budget(left: &mut u64, size: u64) -> std::result::Result<(), Failed> {
    *left = left.checked_sub(size).ok_or(Failed::TooBig)?;
    Ok(())
}

/// The archive's directories and files, in archive order, paths checked,
/// holding at most `allowed` bytes of file data.
fn read_entries(tar: &[u8], allowed: u64) -> std::result::Result<Vec<Item>, Failed> {
    let mut archive = tar::Archive::new(Cursor::new(tar));
    let mut items = Vec::new();
    let mut left = allowed;
    let mut ignores = Ignores::default();
    for entry in archive.entries_with_seek().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let kind = entry.header().entry_type();
        match classify(&entry, &mut ignores)? {
            Kind::Other => {}
            Kind::File { rel, mode } => {
                take_budget(&mut left, entry.size())?;
                let data = if kind.is_gnu_sparse() {
                    let mut owned = Vec::new();
                    entry.read_to_end(&mut owned).map_err(bad)?;
                    Data::Owned(owned)
                } else {
                    let start = entry.raw_file_position();
                    let end = start.saturating_add(entry.size());
                    if end > tar.len() as u64 {
                        return Err(bad(io::ErrorKind::UnexpectedEof.into()).into());
                    }
                    Data::Span(start as usize..end as usize)
                };
                items.push(Item { rel, data, mode });
            }
        }
    }
    Ok(items)
}

/// Stops reading once more than `left` bytes came out: a decompression
/// bomb ends here, whatever its trailer claimed.
struct Capped<'a, R> {
    inner: R,
    left: u64,
    hit: &'a std::cell::Cell<bool>,
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        match self.left.checked_sub(n as u64) {
            Some(left) => self.left = left,
            None => {
                self.hit.set(true);
                return Err(io::Error::other("archive too big"));
            }
        }
        Ok(n)
    }
}

/// Extracts the gzip'd `tgz` entry by entry as it inflates, holding one
/// copy buffer at a time: for archives too big (or of unknown size) to
/// inflate in memory. The same rules as the in-memory path: a path listed
/// twice ends with its last contents, declared `bin` targets are executable.
fn stream_entries(
    tgz: &[u8],
    allowed: u64,
    out_dir: &Dest,
) -> std::result::Result<Extracted, Failed> {
    let hit = std::cell::Cell::new(false);
    let decoder = Capped {
        inner: flate2::read::GzDecoder::new(tgz),
        left: allowed,
        hit: &hit,
    };
    let failed = |e: io::Error| {
        if hit.get() {
            Failed::TooBig
        } else {
            bad(e).into()
        }
    };
    let mut archive = tar::Archive::new(decoder);
    let mut out = Extracted::default();
    let mut left = allowed;
    let mut ignores = Ignores::default();
    for entry in archive.entries().map_err(failed)? {
        let mut entry = entry.map_err(failed)?;
        match classify(&entry, &mut ignores)? {
            Kind::Other => {}
            Kind::File { rel, mode } => {
                take_budget(&mut left, entry.size())?;
                if let Some((parent, _)) = rel.rsplit_once('/') {
                    out_dir.make_dirs(parent, &mut out.dirs)?;
                }
                if !out.files.insert(rel.clone()) {
                    out_dir.remove_file(&rel)?; // listed again: the last one wins
                }
                out_dir
                    .write_stream(&rel, &mut entry, file_mode(mode))
                    .map_err(|e| match e {
                        Written::Read(e) => failed(e),
                        Written::Write(e) => e.into(),
                    })?;
            }
        }
    }
    // The tar ends before the gzip stream does: read on to its trailer, so
    // the CRC and length are checked as the in-memory path checks them.
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(failed)?;
    let read = |rel: &str| fs::read(out_dir.root.join(rel)).ok();
    for target in all_bin_targets(&out.files, read) {
        let path = out_dir.root.join(&target);
        set_mode(&path, 0o755).map_err(|e| Error::io(path.display(), e))?;
        // Our own new file in the staging folder: nothing links to it yet.
        let data = fs::read(&path).map_err(|e| Error::io(path.display(), e))?;
        if let Some(fixed) = unix_hashbang(&data) {
            out_dir.remove_file(&target)?;
            out_dir.write_file(&target, &fixed, 0o755)?;
        }
    }
    Ok(out)
}

/// Why [`Dest::write_stream`] failed: reading the archive, or writing.
enum Written {
    Read(io::Error),
    Write(Error),
}

/// Creates `items` under `dest`. A path listed twice is written once, with
/// its last contents and mode; declared `bin` targets are made executable.
fn write_entries(tar: &[u8], items: &[Item], out_dir: &Dest) -> Result<Extracted> {
    let mut last = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        last.insert(item.rel.as_str(), i);
    }
    let contents = |i: usize| match &items[i].data {
        Data::Span(r) => &tar[r.clone()],
        Data::Owned(v) => &v[..],
    };
    let files: BTreeSet<String> = last.keys().map(|k| k.to_string()).collect();
    let bins = all_bin_targets(&files, |rel| last.get(rel).map(|&i| contents(i).to_vec()));
    let mut out = Extracted::default();
    for (i, Item { rel, mode, .. }) in items.iter().enumerate() {
        if let Some((parent, _)) = rel.rsplit_once('/') {
            out_dir.make_dirs(parent, &mut out.dirs)?;
        }
        if last[rel.as_str()] != i {
            continue;
        }
        if bins.contains(rel) {
            let data = contents(i);
            let fixed = unix_hashbang(data);
            out_dir.write_file(rel, fixed.as_deref().unwrap_or(data), 0o755)?;
        } else {
            out_dir.write_file(rel, contents(i), file_mode(*mode))?;
        }
        out.files.insert(rel.clone());
    }
    Ok(out)
}

/// A file's mode as npm leaves it: pacote opens it with the archive's mode
/// or'ed with 0o666 under the default umask 022 (owner read-write, group and
/// others read, the archive's execute bits kept). Bins get 0o755 (bin-links).
fn file_mode(archive: u32) -> u32 {
    0o644 | (archive & 0o111)
}

/// pacote's `.gitignore` → `.npmignore` rename (npm pack reads a
/// `.gitignore` as the `.npmignore` when there is none).
#[derive(Default)]
struct Ignores {
    npmignore: std::collections::HashSet<String>,
}

impl Ignores {
    /// The path `rel` is written to; `None` drops it (a `.gitignore` after
    /// its folder's `.npmignore`).
    fn rename(&mut self, rel: String) -> Option<String> {
        let (dir, base) = match rel.rsplit_once('/') {
            Some((d, b)) => (Some(d), b),
            None => (None, rel.as_str()),
        };
        match base {
            ".npmignore" => {
                self.npmignore.insert(rel.clone());
                Some(rel)
            }
            ".gitignore" => {
                let ni = dir.map_or(".npmignore".to_string(), |d| format!("{d}/.npmignore"));
                (!self.npmignore.contains(&ni)).then_some(ni)
            }
            _ => Some(rel),
        }
    }
}

/// bin-links' fix: a `#!` line ending in CRLF (within the first 2048 bytes)
/// loses its `\r` (`/usr/bin/env: 'node\r'` otherwise). `None`: unchanged.
fn unix_hashbang(data: &[u8]) -> Option<Vec<u8>> {
    let head = &data[..data.len().min(2048)];
    let nl = head.iter().position(|&b| b == b'\n')?;
    let ok = head.starts_with(b"#!") && nl >= 4 && head[nl - 1] == b'\r';
    ok.then(|| [&data[..nl - 1], &data[nl..]].concat())
}

/// The bin targets of the package and of every package bundled in it
/// (`node_modules/[@scope/]name/package.json` at any depth), as paths among
/// `files`; `read` gives a file's bytes.
fn all_bin_targets(
    files: &BTreeSet<String>,
    read: impl Fn(&str) -> Option<Vec<u8>>,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for rel in files {
        let Some(base) = rel.strip_suffix("package.json") else {
            continue;
        };
        let dir = base.trim_end_matches('/');
        let parts: Vec<&str> = dir.split('/').collect();
        let n = parts.len();
        let package_dir = dir.is_empty()
            || (n >= 2 && parts[n - 2] == "node_modules" && !parts[n - 1].starts_with('@'))
            || (n >= 3 && parts[n - 3] == "node_modules" && parts[n - 2].starts_with('@'));
        if !package_dir || !(base.is_empty() || base.ends_with('/')) {
            continue;
        }
        let Some(data) = read(rel) else { continue };
        let inner = files.iter().filter_map(|f| f.strip_prefix(base));
        let has = |t: &str| files.contains(&format!("{base}{t}"));
        out.extend(
            bin_targets(&data, inner, has)
                .into_iter()
                .map(|t| format!("{base}{t}")),
        );
    }
    out
}

/// The package's declared executables that are among `files` (`has` tells
/// whether a path is one of them). Best effort: a malformed package.json
/// declares none.
fn bin_targets<'a>(
    package_json: &[u8],
    files: impl IntoIterator<Item = &'a str>,
    has: impl Fn(&str) -> bool,
) -> BTreeSet<String> {
    let text = package_json
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(package_json);
    let Ok(manifest) = serde_json::from_slice::<serde_json::Value>(text) else {
        return BTreeSet::new();
    };
    bins::package_bins(&manifest, files)
        .into_iter()
        .map(|(_, target)| target)
        .filter(|t| has(t))
        .collect()
}

/// The entry's path inside the package (first component stripped), `None`
/// for the package root itself or top-level files outside the package dir.
fn package_path(raw: &str) -> Result<Option<String>, &'static str> {
    let is_sep = |c: char| c == '/' || (cfg!(windows) && c == '\\');
    if raw.starts_with(is_sep) {
        return Err("absolute path");
    }
    let mut parts = Vec::new();
    for part in raw.split(is_sep) {
        match part {
            "" | "." => {}
            ".." => return Err("path escapes the package"),
            p if cfg!(windows) && p.contains(':') => return Err("drive or stream path"),
            p => parts.push(p),
        }
    }
    if parts.len() <= 1 {
        return Ok(None);
    }
    Ok(Some(parts[1..].join("/")))
}

/// The package dir being filled: by descriptor where the platform allows.
struct Dest<'a> {
    root: &'a Path,
    fd: Option<DirFd>,
    direct: &'a DirectWrites,
}

impl<'a> Dest<'a> {
    fn open(root: &'a Path, direct: &'a DirectWrites) -> Dest<'a> {
        Dest {
            root,
            fd: DirFd::open(root),
            direct,
        }
    }

    /// Creates `rel` and its missing ancestors (mode 0o755), recording them.
    fn make_dirs(&self, rel: &str, dirs: &mut BTreeSet<String>) -> Result<()> {
        if dirs.contains(rel) {
            return Ok(());
        }
        if let Some((parent, _)) = rel.rsplit_once('/') {
            self.make_dirs(parent, dirs)?;
        }
        let created = match &self.fd {
            Some(fd) => fd.mkdir(Path::new(rel), 0o755),
            None => {
                let mut builder = fs::DirBuilder::new();
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o755);
                builder.create(self.root.join(rel))
            }
        };
        let path = || self.root.join(rel);
        match created {
            // Created 0o755 unless the umask masked bits off: one syscall
            // per directory saved otherwise (thousands on a large tree).
            Ok(()) if umask() & 0o755 == 0 => {}
            Ok(()) => set_mode(&path(), 0o755).map_err(|e| Error::io(path().display(), e))?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path().is_dir() => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(conflict(rel)),
            Err(e) => return Err(Error::io(format!("creating {}", path().display()), e)),
        }
        dirs.insert(rel.to_string());
        Ok(())
    }

    /// Removes the file `rel` written earlier in this extraction.
    fn remove_file(&self, rel: &str) -> Result<()> {
        let path = self.root.join(rel);
        fs::remove_file(&path).map_err(|e| Error::io(format!("replacing {}", path.display()), e))
    }

    /// Writes the new file `rel` with `mode`, copying from `data` as it is
    /// read (through the page cache: a stream has no aligned buffer).
    fn write_stream(&self, rel: &str, data: &mut impl Read, mode: u32) -> Result<(), Written> {
        let path = || self.root.join(rel);
        let opened = self.open_new(rel, mode, false);
        let mut file = self.create(rel, opened).map_err(Written::Write)?;
        let mut buf = vec![0u8; 256 << 10];
        loop {
            let n = match data.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Written::Read(e)),
            };
            file.write_all(&buf[..n]).map_err(|e| {
                Written::Write(Error::io(format!("writing {}", path().display()), e))
            })?;
        }
        self.finish_mode(&file, rel, mode).map_err(Written::Write)
    }

    /// Opens the new file `rel` with `mode` (`O_DIRECT` only by descriptor).
    fn open_new(&self, rel: &str, mode: u32, direct: bool) -> io::Result<fs::File> {
        match &self.fd {
            Some(fd) => fd.create_new(Path::new(rel), mode, direct),
            None => {
                let mut opts = fs::OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut opts, mode);
                opts.open(self.root.join(rel))
            }
        }
    }

    /// [`Dest::open_new`], failing with what a user can act on.
    fn create(&self, rel: &str, opened: io::Result<fs::File>) -> Result<fs::File> {
        let path = || self.root.join(rel);
        match opened {
            Ok(f) => Ok(f),
            Err(_) if path().is_dir() => Err(conflict(rel)),
            Err(e) => Err(Error::io(format!("writing {}", path().display()), e)),
        }
    }

    /// Gives `file` its `mode` when the umask masked bits off (one syscall
    /// per file saved otherwise).
    fn finish_mode(&self, file: &fs::File, rel: &str, mode: u32) -> Result<()> {
        if umask() & mode != 0 {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                file.set_permissions(fs::Permissions::from_mode(mode))
                    .map_err(|e| Error::io(self.root.join(rel).display(), e))?;
            }
        }
        Ok(())
    }

    /// Writes the new file `rel` with `mode`.
    fn write_file(&self, rel: &str, data: &[u8], mode: u32) -> Result<()> {
        let path = || self.root.join(rel);
        let direct = data.len() >= DIRECT_MIN
            && (data.as_ptr() as usize).is_multiple_of(DIRECT_MEM_ALIGN)
            && self.direct.enabled()
            && self.fd.is_some();
        let mut file = match self.open_new(rel, mode, direct) {
            // Not on this filesystem (tmpfs before Linux 6.6, some FUSE);
            // Linux may have created the file before refusing the flag.
            Err(e) if direct && e.raw_os_error() == Some(libc::EINVAL) => {
                self.direct.disable();
                match fs::remove_file(path()) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => {
                        return Err(Error::io(format!("writing {}", path().display()), e))
                    }
                    _ => return self.write_file(rel, data, mode),
                }
            }
            opened => self.create(rel, opened)?,
        };
        let written = if direct {
            self.direct.write(&mut file, data, ALIGN)
        } else {
            file.write_all(data)
        };
        written.map_err(|e| Error::io(format!("writing {}", path().display()), e))?;
        self.finish_mode(&file, rel, mode)
    }
}

/// The process umask, read once from /proc (reading it with `umask(2)`
/// would have to change it, racing other threads). 0 where there is none.
fn umask() -> u32 {
    #[cfg(unix)]
    {
        static UMASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
        *UMASK.get_or_init(|| {
            fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("Umask:"))
                        .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
                })
                // Unknown: assume it masks, so modes are always set explicitly.
                .unwrap_or(0o777)
        })
    }
    #[cfg(not(unix))]
    0
}

fn conflict(rel: &str) -> Error {
    Error::new(
        Code::Tarball,
        format!("invalid tarball: {rel:?} is both a file and a directory"),
    )
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `len` bytes of a pattern, starting at an address `ALIGN` allows
    /// plus `skew`.
    fn aligned_data(len: usize, skew: usize) -> (Vec<u8>, Range<usize>) {
        let mut buf: Vec<u8> = (0..len + 2 * ALIGN).map(|i| (i % 251) as u8).collect();
        let at = buf.as_mut_ptr().align_offset(ALIGN) + skew;
        (buf, at..at + len)
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn direct_writes_land_whole_and_fall_back_when_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fd = DirFd::open(dir.path()).unwrap();
        let direct = DirectWrites::new(true);
        // Whole blocks plus a tail, and exactly whole blocks.
        for (name, len) in [("tail", 3 * ALIGN + 123), ("whole", 2 * ALIGN)] {
            let (buf, range) = aligned_data(len, 0);
            let Ok(mut file) = fd.create_new(Path::new(name), 0o644, true) else {
                return; // a filesystem without O_DIRECT: covered by the fallback below
            };
            direct.write(&mut file, &buf[range.clone()], ALIGN).unwrap();
            drop(file);
            assert_eq!(fs::read(dir.path().join(name)).unwrap(), &buf[range]);
            assert!(direct.enabled(), "{name}: taken directly");
        }
        // An address O_DIRECT refuses (ext4 does; tmpfs takes any): the
        // whole file goes through the page cache, and later files are not
        // tried directly.
        let (buf, range) = aligned_data(3 * ALIGN, 1);
        let mut file = fd.create_new(Path::new("skewed"), 0o644, true).unwrap();
        direct.write(&mut file, &buf[range.clone()], ALIGN).unwrap();
        drop(file);
        assert_eq!(fs::read(dir.path().join("skewed")).unwrap(), &buf[range]);
        if is_ext4(dir.path()) {
            assert!(!direct.enabled());
        }
    }

    #[cfg(target_os = "linux")]
    fn is_ext4(path: &Path) -> bool {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: `st` is a plain C struct filled by the kernel.
        let mut st: libc::statfs = unsafe { std::mem::zeroed() };
        unsafe { libc::statfs(c.as_ptr(), &mut st) == 0 && st.f_type == libc::EXT4_SUPER_MAGIC }
    }

    #[test]
    fn big_files_extract_whole_with_or_without_direct_writes() {
        let dir = tempfile::tempdir().unwrap();
        let extractor = Extractor::new();
        let sizes = [DIRECT_MIN - 1, DIRECT_MIN, DIRECT_MIN + 1, (1 << 20) + 777];
        let bodies: Vec<Vec<u8>> = sizes
            .iter()
            .map(|&n| (0..n).map(|i| (i % 253) as u8).collect())
            .collect();
        let names: Vec<String> = (0..sizes.len()).map(|i| format!("package/f{i}")).collect();
        let entries: Vec<_> = names
            .iter()
            .zip(&bodies)
            .map(|(n, b)| super::super::testutil::Entry::File(n, b, 0o644))
            .collect();
        let data = super::super::testutil::tgz(&entries);
        for round in ["direct", "after a refusal"] {
            let dest = dir.path().join(round.replace(' ', "-"));
            fs::create_dir(&dest).unwrap();
            extractor.extract(&data, &dest, Crc::Check).unwrap();
            for (i, body) in bodies.iter().enumerate() {
                assert_eq!(
                    &fs::read(dest.join(format!("f{i}"))).unwrap(),
                    body,
                    "{round}"
                );
            }
            extractor.direct.disable();
        }
    }

    #[test]
    fn package_paths() {
        assert_eq!(package_path("package/a/b.js"), Ok(Some("a/b.js".into())));
        assert_eq!(package_path("./package/./a//b"), Ok(Some("a/b".into())));
        assert_eq!(package_path("package/"), Ok(None));
        assert_eq!(package_path("README"), Ok(None));
        assert!(package_path("/abs/x").is_err());
        assert!(package_path("../evil").is_err());
        assert!(package_path("package/../../evil").is_err());
    }
}
