//! `ci`'s old node_modules, set aside instead of removed: renamed into
//! `.brisk-ci-old-<pid>-<n>/` beside it before the install, put back if the
//! install fails (a failed `ci` loses nothing), removed once it succeeds.
//! One left by a process that died is removed by the next `ci` there.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::link;

const PREFIX: &str = ".brisk-ci-old-";

/// Moves `<cwd>/node_modules` aside; `None` when there is none.
pub(super) fn set_aside(cwd: &Path) -> Result<Option<PathBuf>> {
    remove_abandoned(cwd);
    let nm = cwd.join("node_modules");
    match fs::symlink_metadata(&nm) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(nm.display(), e)),
    }
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let aside = cwd.join(format!("{PREFIX}{}-{n}", std::process::id()));
    fs::create_dir(&aside).map_err(|e| Error::io(aside.display(), e))?;
    if let Err(e) = fs::rename(&nm, aside.join("node_modules")) {
        let _ = fs::remove_dir(&aside);
        return Err(Error::io(format!("moving {} aside", nm.display()), e));
    }
    Ok(Some(aside))
}

/// Removes what [`set_aside`] moved (the install succeeded).
pub(super) fn remove(aside: &Path) -> Result<()> {
    link::remove_dirs(&[aside.join("node_modules")])?;
    link::remove_dirs(&[aside.to_path_buf()])
}

/// Puts the old node_modules back in place of whatever the failed install
/// left there.
pub(super) fn put_back(aside: &Path, cwd: &Path) -> Result<()> {
    let nm = cwd.join("node_modules");
    link::remove_dirs(std::slice::from_ref(&nm))?;
    fs::rename(aside.join("node_modules"), &nm)
        .map_err(|e| Error::io(format!("putting {} back", nm.display()), e))?;
    let _ = fs::remove_dir(aside);
    Ok(())
}

/// Removes the set-aside folders of processes that are gone (killed before
/// they could remove or put back theirs).
fn remove_abandoned(cwd: &Path) {
    let Ok(entries) = fs::read_dir(cwd) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !alive(pid) {
            let _ = remove(&entry.path());
        }
    }
}

#[cfg(unix)]
fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // Signal 0 checks that the process exists without touching it.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn alive(_pid: u32) -> bool {
    true // left for the user to delete
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_aside_put_back_and_remove() {
        let t = tempfile::tempdir().unwrap();
        let cwd = t.path();
        assert!(set_aside(cwd).unwrap().is_none(), "no node_modules");
        fs::create_dir_all(cwd.join("node_modules/a")).unwrap();
        fs::write(cwd.join("node_modules/a/index.js"), "old").unwrap();
        let aside = set_aside(cwd).unwrap().unwrap();
        assert!(!cwd.join("node_modules").exists());
        // A failed install left a partial tree: the old one comes back.
        fs::create_dir_all(cwd.join("node_modules/b")).unwrap();
        put_back(&aside, cwd).unwrap();
        assert_eq!(
            fs::read(cwd.join("node_modules/a/index.js")).unwrap(),
            b"old"
        );
        assert!(!cwd.join("node_modules/b").exists());
        assert!(!aside.exists());
        let aside = set_aside(cwd).unwrap().unwrap();
        remove(&aside).unwrap();
        assert!(!aside.exists());
        assert_eq!(fs::read_dir(cwd).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_dead_process_leftover_is_removed_and_a_live_one_kept() {
        let t = tempfile::tempdir().unwrap();
        let cwd = t.path();
        // pid_max is at most 2^22 on Linux: this process cannot exist.
        let dead = cwd.join(format!("{PREFIX}{}-0", 1u32 << 30));
        let live = cwd.join(format!("{PREFIX}{}-7", std::process::id()));
        for d in [&dead, &live] {
            fs::create_dir_all(d.join("node_modules/x")).unwrap();
        }
        assert!(set_aside(cwd).unwrap().is_none());
        assert!(!dead.exists());
        assert!(live.join("node_modules/x").is_dir());
    }
}
