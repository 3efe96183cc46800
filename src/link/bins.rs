//! `node_modules/.bin` symlinks, in npm's layout:
//! `<X>/node_modules/.bin/<bin>` → `../<name>/<path>` (`../@scope/name/<path>`).

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::fsops;
use crate::error::{Error, Result};

/// The bins of one installed package.
#[derive(Debug, Clone)]
pub struct BinJob {
    /// Absolute `<X>/node_modules/<name>` (name may be `@scope/name`).
    pub pkg_dir: PathBuf,
    /// `(bin name, path inside the package)`, as in package.json's `bin`.
    pub bins: Vec<(String, String)>,
    /// Make the targets executable: for linked folders (the user's own
    /// files, never the cache's), as npm does.
    pub chmod: bool,
    /// Where the package's files are, when not (yet) at `pkg_dir`: a
    /// folder built in a staging directory, its dependency links not yet
    /// resolvable. A bin whose file is missing there is skipped.
    pub files_at: Option<PathBuf>,
}

/// One link to create.
struct Link {
    /// The bin's file exists in the package.
    present: bool,
    pkg_dir: PathBuf,
    target: PathBuf,
}

/// Is there already a link at `at` into another package that is still
/// there (npm's link-gently neither skips nor clobbers it)?
fn foreign_link(at: &Path, link: &Link) -> bool {
    let Ok(old) = fs::read_link(at) else {
        return false;
    };
    if old == link.target {
        return false;
    }
    let Some(dir) = at.parent() else {
        return false;
    };
    let Ok(resolved) = fs::canonicalize(dir.join(&old)) else {
        return false; // dangling: replaced
    };
    let mine = fs::canonicalize(&link.pkg_dir).unwrap_or_else(|_| link.pkg_dir.clone());
    !resolved.starts_with(&mine)
}

/// Create the `.bin` symlinks of `jobs`; returns how many links are in place.
///
/// Sanitizing (like npm): a leading `./` is stripped, `\` counts as `/`;
/// bin names with path separators, `.`/`..`, and paths that are absolute or
/// contain `..` are skipped without error. A bin name `@scope/x` becomes `x`.
/// Conflicts in one `.bin` dir follow npm's bin-links: packages are taken
/// shallowest first, then by path in locale order, and the first to claim a
/// name keeps it (even when its file is missing: then nobody gets the link,
/// as npm skips a bin whose file is not there). An existing link into another
/// package that is still installed is kept (npm does not clobber it);
/// one into the same package, or dangling, is replaced.
/// Targets are chmod-ed only for `chmod` jobs (others may be hardlinks into
/// the cache, which already made bin targets executable).
pub fn link_bins(jobs: &[BinJob]) -> Result<usize> {
    let mut order: Vec<&BinJob> = jobs.iter().collect();
    // npm's node depth: how many node_modules folders deep (a scope is not a level).
    let depth = |j: &BinJob| {
        let nm = std::ffi::OsStr::new("node_modules");
        j.pkg_dir
            .components()
            .filter(|c| c.as_os_str() == nm)
            .count()
    };
    order.sort_by(|a, b| {
        depth(a).cmp(&depth(b)).then_with(|| {
            crate::locale::locale_cmp(&a.pkg_dir.to_string_lossy(), &b.pkg_dir.to_string_lossy())
        })
    });

    let mut links: HashMap<(PathBuf, String), Link> = HashMap::new();
    for job in order {
        let Some((bin_dir, pkg_rel)) = split_pkg_dir(&job.pkg_dir) else {
            continue;
        };
        for (name, path) in &job.bins {
            let (Some(name), Some(path)) = (clean_name(name), clean_path(path)) else {
                continue;
            };
            if job.chmod {
                make_executable(&job.pkg_dir.join(&path));
            }
            let present = job
                .files_at
                .as_ref()
                .unwrap_or(&job.pkg_dir)
                .join(&path)
                .exists();
            let target = Path::new("..").join(&pkg_rel).join(path);
            let key = (bin_dir.clone(), name.to_string());
            links.entry(key).or_insert(Link {
                present,
                pkg_dir: job.pkg_dir.clone(),
                target,
            });
        }
    }
    links.retain(|(dir, name), link| link.present && !foreign_link(&dir.join(name), link));

    let dirs: BTreeSet<&PathBuf> = links.keys().map(|(d, _)| d).collect();
    for d in dirs {
        fsops::make_dir(d).map_err(|e| Error::io(format!("cannot create {}", d.display()), e))?;
    }
    links.par_iter().try_for_each(|((dir, name), link)| {
        let at = dir.join(name);
        symlink_replace(&link.target, &at).map_err(|e| {
            Error::io(
                format!("cannot link {} -> {}", at.display(), link.target.display()),
                e,
            )
        })
    })?;
    Ok(links.len())
}

/// Add the execute bits where the read bits are (a missing file is left
/// for the dangling link).
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(m) = fs::metadata(path) {
        let mode = m.permissions().mode();
        let want = mode | ((mode & 0o444) >> 2);
        if m.is_file() && want != mode {
            let _ = fs::set_permissions(path, fs::Permissions::from_mode(want));
        }
    }
}

/// `<X>/node_modules/[@scope/]name` → (`<X>/node_modules/.bin`, `[@scope/]name`).
fn split_pkg_dir(pkg_dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let name = pkg_dir.file_name()?;
    let parent = pkg_dir.parent()?;
    let scope = parent.file_name()?;
    if scope.as_encoded_bytes().starts_with(b"@") {
        Some((parent.parent()?.join(".bin"), Path::new(scope).join(name)))
    } else {
        Some((parent.join(".bin"), PathBuf::from(name)))
    }
}

/// A safe bin name (its part after a scope), or `None` to skip it.
pub fn clean_name(name: &str) -> Option<&str> {
    let n = match name.strip_prefix('@').and_then(|r| r.split_once('/')) {
        Some((_, n)) => n,
        None => name,
    };
    let bad = n.is_empty() || n == "." || n == ".." || n.contains(['/', '\\', ':', '\0']);
    (!bad).then_some(n)
}

/// A normalized relative path inside the package, or `None` to skip it.
fn clean_path(path: &str) -> Option<String> {
    let p = path.replace('\\', "/");
    if p.starts_with('/') || p.contains('\0') {
        return None;
    }
    let mut parts = Vec::new();
    for (i, seg) in p.split('/').enumerate() {
        match seg {
            "" | "." => {}
            ".." => return None,
            s if i == 0 && s.ends_with(':') => return None, // `C:/…`
            s => parts.push(s),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Create `at` → `target`, replacing whatever is at `at` unless it already
/// is that very link.
fn symlink_replace(target: &Path, at: &Path) -> io::Result<()> {
    match symlink(target, at) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if fs::read_link(at).is_ok_and(|t| t == target) {
                return Ok(());
            }
            fsops::remove_any(at)?;
            symlink(target, at)
        }
        r => r,
    }
}

#[cfg(unix)]
fn symlink(target: &Path, at: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, at)
}

#[cfg(windows)]
fn symlink(target: &Path, at: &Path) -> io::Result<()> {
    std::os::windows::fs::symlink_file(target, at)
}
