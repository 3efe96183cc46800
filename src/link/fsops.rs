//! Single-file filesystem operations used by the cloner: hardlink, reflink,
//! copy, with replacement of whatever already sits at the destination.
//!
//! Invariant: nothing here ever opens an existing destination for writing or
//! changes its mode. A destination may be a hardlink into the cache, so it is
//! only ever unlinked and re-created (`O_CREAT|O_EXCL` for copies and clones).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use super::Method;

/// Whether `err` means "this method does not work here" (as opposed to a
/// real failure such as a missing source or a full disk).
pub(crate) fn is_unsupported(err: &io::Error) -> bool {
    match err.raw_os_error() {
        Some(c) => {
            c == libc::EXDEV
                || c == libc::EPERM
                || c == libc::EMLINK
                || c == libc::ENOTSUP
                || c == libc::EOPNOTSUPP
                || c == libc::EINVAL
                || c == libc::ENOTTY
                || c == libc::ENOSYS
        }
        None => err.kind() == io::ErrorKind::Unsupported,
    }
}

/// Whether `err` is "too many links" on the source inode: a per-file
/// condition, so the method itself still works for other files.
pub(crate) fn is_too_many_links(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::EMLINK)
}

/// Put `src` at `dst` with exactly `method`, replacing an existing `dst`.
/// A destination that already is a hardlink to `src` is left alone.
pub(crate) fn place_exact(src: &Path, dst: &Path, method: Method) -> io::Result<()> {
    match place_once(src, dst, method) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if method == Method::Hardlink && same_inode(src, dst) {
                return Ok(());
            }
            remove_any(dst)?;
            place_once(src, dst, method)
        }
        r => r,
    }
}

/// Put `src` at `dst` starting with `method` and falling down the chain
/// hardlink → reflink → copy when a method is unsupported for this file.
pub(crate) fn place_with_fallback(src: &Path, dst: &Path, method: Method) -> io::Result<()> {
    match place_exact(src, dst, method) {
        Err(e) if is_unsupported(&e) && method != Method::Copy => {
            let next = if method == Method::Hardlink {
                Method::Reflink
            } else {
                Method::Copy
            };
            place_with_fallback(src, dst, next)
        }
        r => r,
    }
}

fn place_once(src: &Path, dst: &Path, method: Method) -> io::Result<()> {
    match method {
        Method::Hardlink => fs::hard_link(src, dst),
        Method::Reflink => reflink(src, dst),
        Method::Copy => copy(src, dst),
    }
}

fn same_inode(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (fs::symlink_metadata(a), fs::symlink_metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        false
    }
}

/// Remove whatever is at `path` (file, symlink or directory tree).
/// A missing path is fine.
/// The relative path from the folder `from` to `to` (both absolute).
pub(crate) fn relative(from: &Path, to: &Path) -> PathBuf {
    let (f, t): (Vec<_>, Vec<_>) = (from.components().collect(), to.components().collect());
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    out
}

pub(crate) fn remove_any(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
    .or_else(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            Ok(())
        } else {
            Err(e)
        }
    })
}

/// The entries of `dir` when it is a real directory (not a symlink to
/// one); `None` when it is something else or gone.
pub(crate) fn dir_entries(dir: &Path) -> io::Result<Option<Vec<PathBuf>>> {
    let gone = |e: &io::Error| e.kind() == io::ErrorKind::NotFound;
    match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Ok(None),
        Err(e) if gone(&e) => return Ok(None),
        Err(e) => return Err(e),
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if gone(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    entries
        .map(|e| e.map(|e| e.path()))
        .collect::<io::Result<_>>()
        .map(Some)
}

/// Create one directory whose parent is expected to exist. An existing
/// directory is fine; a file or symlink in the way is replaced; a missing
/// ancestor is created.
pub(crate) fn make_dir(path: &Path) -> io::Result<()> {
    match fs::create_dir(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if fs::symlink_metadata(path)?.is_dir() {
                return Ok(());
            }
            remove_any(path)?;
            fs::create_dir(path)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir_all(path),
        Err(e) => Err(e),
    }
}

/// Open `src` and create a brand-new `dst` (never an existing file).
fn open_pair(src: &Path, dst: &Path) -> io::Result<(File, File, fs::Permissions)> {
    let s = File::open(src)?;
    let perm = s.metadata()?.permissions();
    let mut oo = OpenOptions::new();
    oo.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        oo.mode(perm.mode() & 0o7777);
    }
    let d = oo.open(dst)?;
    Ok((s, d, perm))
}

/// Plain copy preserving mode bits. `io::copy` between files uses
/// `copy_file_range`/`sendfile` on Linux.
fn copy(src: &Path, dst: &Path) -> io::Result<()> {
    let (mut s, mut d, perm) = open_pair(src, dst)?;
    let res = io::copy(&mut s, &mut d).and_then(|_| d.set_permissions(perm));
    if res.is_err() {
        drop(d);
        let _ = fs::remove_file(dst);
    }
    res.map(|_| ())
}

/// Copy-on-write clone (`ioctl(FICLONE)`), Linux only.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn reflink(src: &Path, dst: &Path) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let (s, d, perm) = open_pair(src, dst)?;
    // SAFETY: both descriptors are open for the duration of the call.
    let rc = unsafe { libc::ioctl(d.as_raw_fd(), libc::FICLONE, s.as_raw_fd()) };
    let res = if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        d.set_permissions(perm)
    };
    if res.is_err() {
        drop(d);
        let _ = fs::remove_file(dst);
    }
    res
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn reflink(_src: &Path, _dst: &Path) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}
