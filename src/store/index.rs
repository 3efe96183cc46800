//! The per-entry index file: the package's directories and files, written at
//! extraction time so the cloner never walks the store, with each file's
//! size and mtime so a later write through a hardlink is detected.
//!
//! Format 2: the line `brisk-index 2\n`, then one NUL-terminated record per
//! path: `d<path>` for a directory, `f<size> <mtime ns> <path>` for a file
//! (paths `/`-separated, relative). Directories come first, sorted (so
//! parents precede children), then files, sorted. Format 1 (`brisk-index
//! 1\n`, `f<path>` records, no stamps) is still read: it cannot be checked.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::dirfd::DirFd;
use crate::error::{Code, Error, Result};

use super::extract::Extracted;

const HEADER: &[u8] = b"brisk-index 2\n";
const HEADER_V1: &[u8] = b"brisk-index 1\n";

/// What a file looked like when it was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i128,
}

/// A file's [`Stamp`] and its status-change time (ns), from one `fstatat`.
pub(crate) fn stamp_at(fd: Option<&DirFd>, dir: &Path, rel: &Path) -> io::Result<(Stamp, i128)> {
    let st = match fd {
        Some(fd) => fd.stat(rel)?,
        None => {
            use std::os::unix::fs::MetadataExt;
            let m = fs::symlink_metadata(dir.join(rel))?;
            crate::dirfd::Stat {
                size: m.size(),
                mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
                ctime_ns: i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
            }
        }
    };
    Ok((
        Stamp {
            size: st.size,
            mtime_ns: st.mtime_ns,
        },
        st.ctime_ns,
    ))
}

/// An entry's contents, relative to [`super::StoredPackage::dir`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileIndex {
    /// Directories, parents before children.
    pub dirs: Vec<PathBuf>,
    /// Regular files.
    pub files: Vec<PathBuf>,
    /// Each file's stamp, in `files` order; empty for a format-1 index,
    /// which cannot be checked.
    pub stamps: Vec<Stamp>,
}

impl FileIndex {
    /// Can [`super::StoredPackage::check`] tell whether a file changed?
    pub fn checkable(&self) -> bool {
        self.stamps.len() == self.files.len()
    }
}

/// Writes the index of the files extracted under `pkg_dir`, stamping each
/// (one `fstatat` per file).
pub(crate) fn write(path: &Path, pkg_dir: &Path, extracted: &Extracted) -> Result<()> {
    let mut out = HEADER.to_vec();
    for d in &extracted.dirs {
        out.push(b'd');
        out.extend_from_slice(d.as_bytes());
        out.push(0);
    }
    let fd = DirFd::open(pkg_dir);
    for f in &extracted.files {
        let (s, _) = stamp_at(fd.as_ref(), pkg_dir, Path::new(f))
            .map_err(|e| Error::io(pkg_dir.join(f).display(), e))?;
        out.extend_from_slice(format!("f{} {} ", s.size, s.mtime_ns).as_bytes());
        out.extend_from_slice(f.as_bytes());
        out.push(0);
    }
    fs::write(path, out).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

pub(crate) fn read(path: &Path) -> Result<FileIndex> {
    let data = fs::read(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    let corrupt = || {
        Error::new(
            Code::Io,
            format!(
                "corrupt cache entry index {}: delete {} and retry",
                path.display(),
                path.parent().unwrap_or(path).display()
            ),
        )
    };
    let (body, stamped) = match data.strip_prefix(HEADER) {
        Some(body) => (body, true),
        None => (data.strip_prefix(HEADER_V1).ok_or_else(corrupt)?, false),
    };
    let mut index = FileIndex::default();
    for record in body.split(|&b| b == 0) {
        let Some((&kind, rest)) = record.split_first() else {
            continue; // the empty tail after the last NUL
        };
        let text = std::str::from_utf8(rest).map_err(|_| corrupt())?;
        match kind {
            b'd' => index.dirs.push(PathBuf::from(text)),
            b'f' if stamped => {
                let mut parts = text.splitn(3, ' ');
                let mut num = || parts.next().ok_or_else(corrupt);
                let size = num()?.parse().map_err(|_| corrupt())?;
                let mtime_ns = num()?.parse().map_err(|_| corrupt())?;
                let rel = num()?;
                index.stamps.push(Stamp { size, mtime_ns });
                index.files.push(PathBuf::from(rel));
            }
            b'f' => index.files.push(PathBuf::from(text)),
            _ => return Err(corrupt()),
        }
    }
    Ok(index)
}
