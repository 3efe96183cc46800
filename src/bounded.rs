//! Reading a file the project names (package.json, a lockfile, an .npmrc,
//! a CA bundle) with a bound: a cloned repository is not fully trusted, and
//! one whose file is a symlink to a device or a fifo, or is enormous, gets
//! an error instead of a read that never ends or fills memory.

use std::io::{self, Read};
use std::path::Path;

/// Far more than any real manifest, lockfile or CA bundle.
pub const MAX: u64 = 512 << 20;

/// The bytes of the regular file `path`, up to [`MAX`].
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    read_max(path, MAX)
}

/// The bytes of the regular file `path`: `InvalidInput` for anything else
/// (a device, a fifo, a folder), `FileTooLarge` past `max` bytes (checked
/// as it is read too: the file may grow).
pub fn read_max(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let mut open = std::fs::OpenOptions::new();
    open.read(true);
    // Opening a fifo for reading would wait for a writer; non-blocking, it
    // opens at once and is refused below (a regular file reads as usual).
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut open, libc::O_NONBLOCK);
    let file = open.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let too_big = || {
        io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("bigger than {max} bytes"),
        )
    };
    if meta.len() > max {
        return Err(too_big());
    }
    let mut out = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1).read_to_end(&mut out)?;
    if out.len() as u64 > max {
        return Err(too_big());
    }
    Ok(out)
}

/// [`read`] as UTF-8 text.
pub fn read_to_string(path: &Path) -> io::Result<String> {
    String::from_utf8(read(path)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_fifos_are_refused_files_are_read() {
        assert!(read(Path::new("/dev/zero")).is_err());
        let fifo_dir = tempfile::tempdir().unwrap();
        let fifo = fifo_dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert_eq!(read(&fifo).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x");
        std::fs::write(&f, "hello").unwrap();
        assert_eq!(read_to_string(&f).unwrap(), "hello");
        assert!(read(dir.path()).is_err(), "a directory");
        assert_eq!(
            read(&dir.path().join("missing")).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }
}
