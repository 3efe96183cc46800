//! The nothing-changed fast path. After an install, brisk records the size
//! and modification time of package.json, package-lock.json and the hidden
//! lockfile, plus the options that shape node_modules. If all still match,
//! the next install answers "up to date" after a few `stat` calls, without
//! parsing anything or walking node_modules. It also records the
//! modification times of `node_modules` and its scope folders (as npm
//! compares them with its hidden lockfile): a package folder deleted,
//! added or replaced since changes them, and the next install repairs it.

use std::path::Path;
use std::time::UNIX_EPOCH;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::lockfile;

use super::Options;

pub const FILE: &str = "node_modules/.brisk-state";

fn stamp(path: &Path) -> Option<String> {
    let m = std::fs::metadata(path).ok()?;
    let t = m.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some(format!("{}:{}", m.len(), t.as_nanos()))
}

/// Everything the up-to-date answer depends on, as one line each.
pub fn fingerprint(o: &Options, config: &Config) -> String {
    let cwd = &o.cwd;
    let mut omit = config.omit.clone();
    omit.sort();
    let files = ["package.json", lockfile::FILE, lockfile::HIDDEN]
        .iter()
        .map(|f| format!("{f}={}", stamp(&cwd.join(f)).unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("\n");
    // `-w`: what a limited install recorded answers only for the same
    // workspaces (a full install's record, for any).
    let mut scope = o.workspaces.clone();
    scope.sort();
    format!(
        "brisk {}\n{files}\nomit={}\nlegacy-peer-deps={}\nscripts={}\nworkspaces={}\nstrategy={:?}{}\n",
        env!("CARGO_PKG_VERSION"),
        omit.join(","),
        config.legacy_peer_deps,
        // Allowing scripts that were skipped must run them.
        match (config.ignore_scripts, config.allow_scripts) {
            (true, _) => "ignore",
            (false, true) => "allow",
            (false, false) => "trusted",
        },
        scope.join(","),
        config.install_strategy,
        if config.global_virtual_store { " global-virtual-store" } else { "" },
    )
}

/// Record the fingerprint, the package.json of each linked folder
/// (workspaces, `file:` folders; relative to `cwd`) and the number of
/// installed packages.
pub fn record(cwd: &Path, fingerprint: &str, folders: &[String], packages: usize) -> Result<()> {
    let path = cwd.join(FILE);
    // Created first, then rewritten in place: creating it changes
    // node_modules' own time, rewriting it does not.
    let write = |text: &str| std::fs::write(&path, text).map_err(|e| Error::io(path.display(), e));
    write("")?;
    let mut watched: Vec<String> = folders
        .iter()
        .map(|folder| format!("{folder}/package.json"))
        .collect();
    for nm in std::iter::once("node_modules".to_string())
        .chain(folders.iter().map(|f| format!("{f}/node_modules")))
    {
        let Ok(entries) = std::fs::read_dir(cwd.join(&nm)) else {
            continue;
        };
        watched.push(nm.clone());
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            // Scope folders, and the linked strategy's store.
            let store = nm == "node_modules" && name == ".store";
            if (name.starts_with('@') || store) && entry.file_type().is_ok_and(|t| t.is_dir()) {
                watched.push(format!("{nm}/{name}"));
            }
        }
    }
    let mut text = fingerprint.to_string();
    for file in watched {
        let stamp = stamp(&cwd.join(&file)).unwrap_or_default();
        text.push_str(&format!("watch {file}={stamp}\n"));
    }
    text.push_str(&format!("packages={packages}\n"));
    write(&text)
}

/// A `watch <path>=<stamp>` line: the path, and whether it still has that
/// stamp.
fn watch<'a>(cwd: &Path, line: &'a str) -> Option<(&'a str, bool)> {
    let (path, recorded) = line.strip_prefix("watch ")?.rsplit_once('=')?;
    Some((path, stamp(&cwd.join(path)).unwrap_or_default() == recorded))
}

/// The installed package count when nothing changed since [`record`].
pub fn current(cwd: &Path, fingerprint: &str) -> Option<usize> {
    let s = std::fs::read_to_string(cwd.join(FILE)).ok()?;
    for line in s.strip_prefix(fingerprint)?.lines() {
        match watch(cwd, line) {
            Some((_, true)) => {}
            Some((_, false)) => return None,
            None => return line.strip_prefix("packages=")?.parse().ok(),
        }
    }
    None
}

/// Whether `node_modules` and the folders recorded with it (scope folders,
/// linked folders' node_modules) are as the last install left them: if
/// not, a package folder may have been deleted, added or replaced since,
/// and the hidden lockfile cannot be taken at its word. False when nothing
/// was recorded.
pub fn folders_unchanged(cwd: &Path) -> bool {
    let Ok(s) = std::fs::read_to_string(cwd.join(FILE)) else {
        return false;
    };
    let mut folders = s
        .lines()
        .filter_map(|line| watch(cwd, line))
        .filter(|(path, _)| !path.ends_with("package.json"))
        .peekable();
    folders.peek().is_some() && folders.all(|(_, same)| same)
}
