//! A directory descriptor for `*at` syscalls by package-relative path, so
//! the kernel walks only the few components inside a package instead of a
//! long absolute path per file (measurably faster on big trees). Linux only:
//! elsewhere [`DirFd::open`] returns `None` and callers use paths.

use std::fs::File;
use std::io;
use std::path::Path;

pub(crate) struct DirFd(#[cfg(target_os = "linux")] std::os::unix::io::RawFd);

/// What [`DirFd::stat`] reports (times in nanoseconds since the epoch).
pub(crate) struct Stat {
    pub size: u64,
    pub mtime_ns: i128,
    pub ctime_ns: i128,
}

#[cfg(target_os = "linux")]
fn c_path(rel: &Path) -> io::Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    Ok(std::ffi::CString::new(rel.as_os_str().as_bytes())?)
}

#[cfg(target_os = "linux")]
fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc >= 0 {
        Ok(rc)
    } else {
        Err(io::Error::last_os_error())
    }
}

impl DirFd {
    /// Open `path` as an `O_PATH` directory descriptor; `None` if that fails
    /// or the platform has no fast path (callers then use absolute paths).
    pub(crate) fn open(path: &Path) -> Option<DirFd> {
        #[cfg(target_os = "linux")]
        {
            let c = c_path(path).ok()?;
            let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC;
            // SAFETY: `c` is a valid NUL-terminated string.
            let fd = unsafe { libc::open(c.as_ptr(), flags) };
            (fd >= 0).then_some(DirFd(fd))
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = path;
            None
        }
    }

    /// `fstatat(rel)`, not following a symlink.
    pub(crate) fn stat(&self, rel: &Path) -> io::Result<Stat> {
        #[cfg(target_os = "linux")]
        {
            let c = c_path(rel)?;
            // SAFETY: `st` is a plain C struct filled by the kernel; the
            // descriptor is open and `c` is NUL-terminated.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            check(unsafe {
                libc::fstatat(self.0, c.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW)
            })?;
            let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
            Ok(Stat {
                size: st.st_size as u64,
                mtime_ns: ns(st.st_mtime, st.st_mtime_nsec),
                ctime_ns: ns(st.st_ctime, st.st_ctime_nsec),
            })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = rel;
            Err(io::Error::from(io::ErrorKind::Unsupported))
        }
    }

    /// `mkdirat(rel, mode)`; the parent must exist.
    pub(crate) fn mkdir(&self, rel: &Path, mode: u32) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            let c = c_path(rel)?;
            // SAFETY: the descriptor is open and `c` is NUL-terminated.
            check(unsafe { libc::mkdirat(self.0, c.as_ptr(), mode as libc::mode_t) }).map(drop)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (rel, mode);
            Err(io::Error::from(io::ErrorKind::Unsupported))
        }
    }

    /// A brand-new file at `rel` (`O_CREAT|O_EXCL`, never an existing file
    /// or a symlink's target), open for writing, created with `mode`;
    /// `direct` adds `O_DIRECT` (writes bypass the page cache).
    pub(crate) fn create_new(&self, rel: &Path, mode: u32, direct: bool) -> io::Result<File> {
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::io::FromRawFd;
            let c = c_path(rel)?;
            let mut flags =
                libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
            if direct {
                flags |= libc::O_DIRECT;
            }
            // SAFETY: the descriptor is open and `c` is NUL-terminated; the
            // returned descriptor is owned by the `File`.
            let fd =
                check(unsafe { libc::openat(self.0, c.as_ptr(), flags, mode as libc::c_uint) })?;
            Ok(unsafe { File::from_raw_fd(fd) })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (rel, mode, direct);
            Err(io::Error::from(io::ErrorKind::Unsupported))
        }
    }

    /// `linkat(src/rel, dst/rel)`. An existing destination that is the same
    /// inode is kept; another file or symlink there is unlinked and linked
    /// again. Any other error (a directory in the way, too many links…) is
    /// returned for the caller to retry through the path-based functions.
    pub(crate) fn link(&self, dst: &DirFd, rel: &Path) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            let c = c_path(rel)?;
            let p = c.as_ptr();
            let stat = |fd| {
                // SAFETY: `st` is a plain C struct filled by the kernel.
                let mut st: libc::stat = unsafe { std::mem::zeroed() };
                let rc = unsafe { libc::fstatat(fd, p, &mut st, libc::AT_SYMLINK_NOFOLLOW) };
                check(rc).map(|_| st)
            };
            // SAFETY (all calls below): both descriptors are open and `p` is
            // a NUL-terminated path that outlives the calls.
            match check(unsafe { libc::linkat(self.0, p, dst.0, p, 0) }) {
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                    let (s, d) = (stat(self.0)?, stat(dst.0)?);
                    if (s.st_dev, s.st_ino) == (d.st_dev, d.st_ino) {
                        return Ok(());
                    }
                    if d.st_mode & libc::S_IFMT == libc::S_IFDIR {
                        return Err(e);
                    }
                    check(unsafe { libc::unlinkat(dst.0, p, 0) })?;
                    check(unsafe { libc::linkat(self.0, p, dst.0, p, 0) }).map(drop)
                }
                r => r.map(drop),
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (dst, rel);
            Err(io::Error::from(io::ErrorKind::Unsupported))
        }
    }
}

#[cfg(target_os = "linux")]
impl Drop for DirFd {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor.
        unsafe { libc::close(self.0) };
    }
}
