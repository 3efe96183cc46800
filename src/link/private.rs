//! Private copies for packages whose scripts run: every file is a reflink
//! (copy-on-write) or a plain copy, never a hardlink, so a script writing
//! into its package folder cannot reach the cache.

use rayon::prelude::*;

use crate::cancel::CancelToken;
use crate::error::Result;

use super::{check_relative, create_dirs, fsops, io_err, LinkJob, LinkStats, Method};

/// Materialize `jobs` as private copies (reflink where the filesystem
/// supports it, else copy). Existing destination files (possibly hardlinks
/// into the cache) are unlinked and re-created, never written through.
pub fn clone_private(jobs: &[LinkJob], cancel: &CancelToken) -> Result<LinkStats> {
    cancel.check()?;
    create_dirs(jobs, true)?;
    jobs.par_iter().try_for_each(|job| -> Result<()> {
        cancel.check()?;
        job.files.par_iter().try_for_each(|rel| {
            check_relative(rel)?;
            let (src, dst) = (job.src.join(rel), job.dest.join(rel));
            fsops::place_with_fallback(&src, &dst, Method::Reflink)
                .map_err(|e| io_err(&src, &dst, Method::Reflink, e))
        })
    })?;
    Ok(LinkStats {
        packages: jobs.len(),
        files: jobs.iter().map(|j| j.files.len()).sum(),
        method: Method::Copy,
    })
}

/// Make the files under `dir` (but not under `skip`) private copies in
/// place: a regular file with more than one hard link (into the cache) is
/// copied (reflinked where possible) beside itself and renamed over the
/// original, so the cache's inode is never written. Symlinks are left as
/// they are. For packages installed as links whose scripts now run.
pub fn unshare_files(dir: &std::path::Path, skip: &[std::path::PathBuf]) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(crate::error::Error::io(dir.display(), e)),
    };
    for entry in entries {
        let path = entry
            .map_err(|e| crate::error::Error::io(dir.display(), e))?
            .path();
        if skip.contains(&path) {
            continue;
        }
        let meta = std::fs::symlink_metadata(&path)
            .map_err(|e| crate::error::Error::io(path.display(), e))?;
        if meta.is_dir() {
            unshare_files(&path, skip)?;
        } else if meta.is_file() && meta.nlink() > 1 {
            let mut name = std::ffi::OsString::from(".brisk-private-");
            name.push(path.file_name().unwrap_or_default());
            let tmp = path.with_file_name(name);
            fsops::place_with_fallback(&path, &tmp, Method::Reflink)
                .map_err(|e| io_err(&path, &tmp, Method::Reflink, e))?;
            std::fs::rename(&tmp, &path).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                crate::error::Error::io(path.display(), e)
            })?;
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn unshare_breaks_hardlinks_and_keeps_content_and_mode() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("cache.js");
        std::fs::write(&cache, "original").unwrap();
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o755)).unwrap();
        let pkg = root.path().join("pkg");
        std::fs::create_dir_all(pkg.join("lib")).unwrap();
        std::fs::create_dir_all(pkg.join("node_modules/dep")).unwrap();
        std::fs::hard_link(&cache, pkg.join("lib/a.js")).unwrap();
        std::fs::hard_link(&cache, pkg.join("node_modules/dep/b.js")).unwrap();
        unshare_files(&pkg, &[pkg.join("node_modules")]).unwrap();
        let a = std::fs::metadata(pkg.join("lib/a.js")).unwrap();
        assert_eq!(a.nlink(), 1);
        assert_eq!(a.mode() & 0o777, 0o755);
        std::fs::write(pkg.join("lib/a.js"), "changed").unwrap();
        assert_eq!(std::fs::read_to_string(&cache).unwrap(), "original");
        // Skipped: the nested package is still linked.
        assert_eq!(
            std::fs::metadata(pkg.join("node_modules/dep/b.js"))
                .unwrap()
                .nlink(),
            2
        );
    }
}
