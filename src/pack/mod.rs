//! `npm pack` for a directory: the npm-packlist file set, written as a
//! deterministic gzip'd tarball under `package/` that [`crate::store`] can
//! ingest. Used for git dependencies (after the clone) and reusable for
//! `file:` directories.
//!
//! Blocking (filesystem walk, gzip): call off the async runtime.
//!
//! Not implemented from npm-packlist: bundled dependencies (`node_modules`
//! is always left out, even for `bundleDependencies`), workspaces' own
//! package.json rules, the global ignore file, `patchedDependencies`.

mod rules;
mod walk;

use std::fs;
use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::error::{Code, Error, Result};
use crate::store::sha512_sri;

/// `npm pack`'s fixed mtime for every entry: 1985-10-26T08:15:00Z.
const NPM_MTIME: u64 = 499_162_500;

/// What [`pack_dir`] produced.
#[derive(Debug, Clone)]
pub struct Packed {
    /// The package's package.json, as read from the directory.
    pub manifest: Value,
    /// `sha512-…` of the tarball bytes (the store's key).
    pub integrity: String,
    /// The packed files, relative to the package root, in tarball order.
    pub files: Vec<String>,
    /// Size of the tarball in bytes.
    pub size: u64,
}

/// The files `npm pack` would include from `dir`, `/`-separated, relative to
/// `dir`, in npm's order. Reads `dir/package.json` if there is one.
/// Errors: `E_MANIFEST` (package.json is not JSON), `E_IO`.
pub fn packlist(dir: &Path) -> Result<Vec<String>> {
    let manifest = read_manifest(dir)?;
    walk::packlist(dir, manifest.as_ref())
}

/// Packs `dir` into a gzip'd tarball at `dest` (written to a temp file
/// beside it, then renamed). Errors: `E_MANIFEST` when `dir` has no valid
/// package.json, `E_IO`.
pub fn pack_dir(dir: &Path, dest: &Path) -> Result<Packed> {
    let manifest = read_manifest(dir)?.ok_or_else(|| {
        Error::new(
            Code::Manifest,
            format!(
                "{} has no package.json, so it is not a package that can be installed",
                dir.display()
            ),
        )
    })?;
    if !manifest.is_object() {
        return Err(Error::new(
            Code::Manifest,
            format!("{}/package.json is not a JSON object", dir.display()),
        ));
    }
    let files = walk::packlist(dir, Some(&manifest))?;
    let (integrity, size) = write_tarball(dir, &files, dest)?;
    Ok(Packed {
        manifest,
        integrity,
        files,
        size,
    })
}

/// Writes `files` (relative to `dir`) as `package/<file>` entries of a
/// gzip'd tarball at `dest`, atomically. Entries carry npm's fixed mtime,
/// mode 0644 (0755 when executable) and no owner, so the same files always
/// give the same bytes. Returns the tarball's sha512 SRI and its size.
pub fn write_tarball(dir: &Path, files: &[String], dest: &Path) -> Result<(String, u64)> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(gz);
    for rel in files {
        let path = dir.join(rel);
        let data = fs::read(&path).map_err(|e| Error::io(path.display(), e))?;
        let meta = fs::metadata(&path).map_err(|e| Error::io(path.display(), e))?;
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(if is_executable(&meta) { 0o755 } else { 0o644 });
        header.set_mtime(NPM_MTIME);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, format!("package/{rel}"), data.as_slice())
            .map_err(|e| Error::io(format!("adding {rel} to the tarball"), e))?;
    }
    let bytes = builder
        .into_inner()
        .and_then(|gz| gz.finish())
        .map_err(|e| Error::io("compressing the package tarball", e))?;
    let parent = dest.parent().filter(|p| !p.as_os_str().is_empty());
    let parent = parent.unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(parent)
        .map_err(|e| Error::io(format!("creating a temp file in {}", parent.display()), e))?;
    tmp.write_all(&bytes)
        .map_err(|e| Error::io(tmp.path().display(), e))?;
    tmp.persist(dest)
        .map_err(|e| Error::io(dest.display(), e.error))?;
    Ok((sha512_sri(&bytes), bytes.len() as u64))
}

fn read_manifest(dir: &Path) -> Result<Option<Value>> {
    let path = dir.join("package.json");
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path.display(), e)),
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        Error::new(
            Code::Manifest,
            format!("{} is not valid JSON: {e}", path.display()),
        )
    })
}

#[cfg(unix)]
fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &fs::Metadata) -> bool {
    false
}

#[cfg(test)]
pub(crate) mod tests;
