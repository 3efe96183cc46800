//! gunzip + untar of an in-memory tarball into a directory, npm-style:
//! the first path component is stripped, only files and directories are
//! created, modes are normalized, `bin` targets are made executable.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;

use crate::error::{Code, Error, Result};

use super::bins;

/// What an extraction created, as package-relative `/`-separated paths.
/// `dirs` are sorted, so parents come before their children.
#[derive(Debug, Default)]
pub(crate) struct Extracted {
    pub dirs: BTreeSet<String>,
    pub files: BTreeSet<String>,
}

/// Extracts `tgz` (gzip'd or plain tar) into the existing directory `dest`.
/// Blocking. Fails with `E_TARBALL` on a corrupt archive or an entry path
/// that is absolute or contains `..`; the caller discards `dest` on error.
pub(crate) fn extract(tgz: &[u8], dest: &Path) -> Result<Extracted> {
    let reader: Box<dyn Read + '_> = if tgz.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::GzDecoder::new(tgz))
    } else {
        Box::new(tgz)
    };
    let mut archive = tar::Archive::new(reader);
    let bad = |e: io::Error| Error::new(Code::Tarball, format!("invalid tarball: {e}"));
    let mut out = Extracted::default();
    let mut buf = Vec::new();
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let rel = package_path(&raw).map_err(|why| {
            Error::new(
                Code::Tarball,
                format!("unsafe path {raw:?} in tarball ({why}); refusing to extract it"),
            )
        })?;
        let Some(rel) = rel else { continue };
        // Old (v7) archives mark directories with a trailing slash only.
        if kind.is_dir() || (kind.is_file() && raw.ends_with('/')) {
            make_dirs(dest, &rel, &mut out.dirs)?;
        } else if kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse() {
            if let Some((parent, _)) = rel.rsplit_once('/') {
                make_dirs(dest, parent, &mut out.dirs)?;
            }
            let exec = entry
                .header()
                .mode()
                .map(|m| m & 0o111 != 0)
                .unwrap_or(false);
            buf.clear();
            entry.read_to_end(&mut buf).map_err(bad)?;
            let existed = out.files.contains(&rel);
            write_file(
                &dest.join(&rel),
                &buf,
                if exec { 0o755 } else { 0o644 },
                existed,
            )?;
            out.files.insert(rel);
        }
        // Symlinks, hard links, devices and fifos are skipped, like pacote.
    }
    make_bins_executable(dest, &out.files);
    Ok(out)
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

/// Creates `rel` and its missing ancestors (mode 0o755), recording them.
fn make_dirs(dest: &Path, rel: &str, dirs: &mut BTreeSet<String>) -> Result<()> {
    if dirs.contains(rel) {
        return Ok(());
    }
    if let Some((parent, _)) = rel.rsplit_once('/') {
        make_dirs(dest, parent, dirs)?;
    }
    let path = dest.join(rel);
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o755);
    match builder.create(&path) {
        // Created 0o755 unless the umask masked bits off: one syscall per
        // directory saved otherwise (~20,000 on a large tree).
        #[cfg(unix)]
        Ok(()) if umask() & 0o755 == 0 => {}
        Ok(()) => set_mode(&path, 0o755).map_err(|e| Error::io(path.display(), e))?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(conflict(rel));
        }
        Err(e) => return Err(Error::io(format!("creating {}", path.display()), e)),
    }
    dirs.insert(rel.to_string());
    Ok(())
}

/// The process umask, read once from /proc (reading it with `umask(2)`
/// would have to change it, racing other threads).
#[cfg(unix)]
fn umask() -> u32 {
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

/// Writes a file (replacing an earlier duplicate entry) with `mode`.
fn write_file(path: &Path, data: &[u8], mode: u32, existed: bool) -> Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, mode);
    let mut file = match opts.open(path) {
        Ok(f) => f,
        Err(_) if path.is_dir() => return Err(conflict(&path.display().to_string())),
        Err(e) => return Err(Error::io(format!("writing {}", path.display()), e)),
    };
    file.write_all(data)
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    // Only when the umask masked bits off, or a duplicate entry kept its old
    // mode: one syscall per file saved otherwise (130k on a large tree).
    #[cfg(unix)]
    if umask() & mode != 0 || existed {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io(path.display(), e))?;
    }
    #[cfg(not(unix))]
    let _ = (mode, existed);
    Ok(())
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

/// chmod 0o755 the package's declared executables. Best effort: a missing
/// or malformed package.json, or a bin pointing nowhere, is not an error.
fn make_bins_executable(dest: &Path, files: &BTreeSet<String>) {
    if !files.contains("package.json") {
        return;
    }
    let Ok(text) = fs::read(dest.join("package.json")) else {
        return;
    };
    let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&text);
    let Ok(manifest) = serde_json::from_slice::<serde_json::Value>(text) else {
        return;
    };
    for (_, target) in bins::package_bins(&manifest, files.iter().map(String::as_str)) {
        if files.contains(&target) {
            let _ = set_mode(&dest.join(&target), 0o755);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::package_path;

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
