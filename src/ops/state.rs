//! The nothing-changed fast path. After an install, brisk records the size
//! and modification time of package.json, package-lock.json and the hidden
//! lockfile, plus the options that shape node_modules. If all still match,
//! the next install answers "up to date" after a few `stat` calls, without
//! parsing anything or walking node_modules.

use std::path::Path;
use std::time::UNIX_EPOCH;

use crate::config::Config;
use crate::error::Result;
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
    format!(
        "brisk {}\n{files}\nomit={}\nlegacy-peer-deps={}\nscripts={}\n",
        env!("CARGO_PKG_VERSION"),
        omit.join(","),
        config.legacy_peer_deps,
        // Allowing scripts that were skipped must run them.
        match (config.ignore_scripts, config.allow_scripts) {
            (true, _) => "ignore",
            (false, true) => "allow",
            (false, false) => "trusted",
        },
    )
}

/// Record the fingerprint, the package.json of each linked folder
/// (workspaces, `file:` folders; relative to `cwd`) and the number of
/// installed packages.
pub fn record(cwd: &Path, fingerprint: &str, folders: &[String], packages: usize) -> Result<()> {
    let mut text = fingerprint.to_string();
    for folder in folders {
        let file = format!("{folder}/package.json");
        let stamp = stamp(&cwd.join(&file)).unwrap_or_default();
        text.push_str(&format!("watch {file}={stamp}\n"));
    }
    text.push_str(&format!("packages={packages}\n"));
    lockfile::write_atomic(&cwd.join(FILE), &text)
}

/// The installed package count when nothing changed since [`record`].
pub fn current(cwd: &Path, fingerprint: &str) -> Option<usize> {
    let s = std::fs::read_to_string(cwd.join(FILE)).ok()?;
    let mut rest = s.strip_prefix(fingerprint)?;
    while let Some(watch) = rest.strip_prefix("watch ") {
        let (line, tail) = watch.split_once('\n')?;
        let (file, recorded) = line.rsplit_once('=')?;
        if stamp(&cwd.join(file)).unwrap_or_default() != recorded {
            return None;
        }
        rest = tail;
    }
    rest.strip_prefix("packages=")?.trim_end().parse().ok()
}
