//! The per-entry index file: the package's directories and files, written at
//! extraction time so the cloner never walks the store.
//!
//! Format: the line `brisk-index 1\n`, then one record per path: `d` or `f`,
//! the `/`-separated relative path, a NUL byte. Directories come first,
//! sorted (so parents precede children), then files, sorted.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Code, Error, Result};

use super::extract::Extracted;

const HEADER: &[u8] = b"brisk-index 1\n";

/// An entry's contents, relative to [`super::StoredPackage::dir`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileIndex {
    /// Directories, parents before children.
    pub dirs: Vec<PathBuf>,
    /// Regular files.
    pub files: Vec<PathBuf>,
}

pub(crate) fn write(path: &Path, extracted: &Extracted) -> Result<()> {
    let mut out = HEADER.to_vec();
    let records =
        (extracted.dirs.iter().map(|d| (b'd', d))).chain(extracted.files.iter().map(|f| (b'f', f)));
    for (kind, rel) in records {
        out.push(kind);
        out.extend_from_slice(rel.as_bytes());
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
    let body = data.strip_prefix(HEADER).ok_or_else(corrupt)?;
    let mut index = FileIndex::default();
    for record in body.split(|&b| b == 0) {
        let Some((&kind, rel)) = record.split_first() else {
            continue; // the empty tail after the last NUL
        };
        let rel = PathBuf::from(std::str::from_utf8(rel).map_err(|_| corrupt())?);
        match kind {
            b'd' => index.dirs.push(rel),
            b'f' => index.files.push(rel),
            _ => return Err(corrupt()),
        }
    }
    Ok(index)
}
