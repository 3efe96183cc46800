//! The cloner: materializes cached packages into `node_modules`.
//!
//! A [`Cloner`] clones each package as one unit (root, subdirectories, then
//! files, one `linkat`/clone/copy each, the files of big packages in
//! parallel), so packages can be cloned as they arrive. The method is
//! decided once, by probing the first real file. [`clone_packages`] clones
//! a known set in parallel, after creating their roots in order.
//!
//! Methods: hardlink (default when it works), reflink (`ioctl(FICLONE)`), copy.
//! A file already hardlinked into `node_modules` is never written through:
//! existing destinations are unlinked and re-created, never opened for writing
//! and never chmod-ed.
//!
//! Also here: [`link_bins`] (`node_modules/.bin` symlinks, npm's layout) and
//! [`remove_dirs`] (fast parallel removal of package directories).

mod bins;
pub(crate) mod fsops;
mod private;

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use rayon::prelude::*;

use crate::cancel::CancelToken;
use crate::dirfd::DirFd;
use crate::error::{Code, Error, Result};

pub use bins::clean_name as safe_bin_name;
pub use bins::{link_bins, BinJob};
pub use private::{clone_private, unshare_files};

/// One package to materialize.
#[derive(Debug, Clone)]
pub struct LinkJob {
    /// The package's contents in the cache.
    pub src: PathBuf,
    /// Absolute destination, e.g. `/proj/node_modules/@scope/name`.
    pub dest: PathBuf,
    /// Relative directories inside the package, parents first (the package
    /// root itself need not be listed).
    pub dirs: Vec<PathBuf>,
    /// Relative file paths inside the package.
    pub files: Vec<PathBuf>,
}

/// How files get from the cache into `node_modules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `link(2)`: same inode, no data written. Needs the same filesystem.
    Hardlink,
    /// Copy-on-write clone (`FICLONE`; btrfs, XFS with reflink, bcachefs…).
    Reflink,
    /// A full copy, mode bits preserved.
    Copy,
}

/// Options for [`clone_packages`].
#[derive(Debug, Clone, Default)]
pub struct LinkOptions {
    /// `None` = auto: probe hardlink, then reflink, then copy, once per call,
    /// and fall back per file when a method fails for that file only.
    /// `Some(m)` = use exactly `m` and fail (`E_IO`) if it does not work here
    /// (a hardlink hitting "too many links" still copies that one file).
    pub method: Option<Method>,
    /// Checked between packages.
    pub cancel: CancelToken,
}

/// What [`clone_packages`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkStats {
    /// Packages processed.
    pub packages: usize,
    /// Files placed.
    pub files: usize,
    /// The method chosen for this call (individual files may have fallen
    /// back, e.g. on "too many links").
    pub method: Method,
}

/// The threads that clone, link and remove: more than the cores, because
/// this work is the kernel's and often waits on the disk (inode tables and
/// bitmaps read back after the page cache dropped them); with one thread
/// per core, such a wait idles the core. Callers run their parallel
/// filesystem work inside it (`pool().install`); nested `par_iter`s stay in
/// it. Not for packages that trickle in: idle rayon workers spin
/// (`sched_yield`) before they sleep (the early linker in `ops::early_link`
/// has threads of its own).
pub fn pool() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads())
            .thread_name(|i| format!("brisk-link-{i}"))
            .build()
            .expect("cannot start the cloner's threads")
    })
}

/// The cores this process may use (2 when unknown).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// How many threads clone at most: 4 per core (see [`pool`]).
pub fn threads() -> usize {
    (cores() * 4).clamp(4, 64)
}

/// Refuses (`E_IO`) a package folder location, relative to the project,
/// that brisk must not create or remove: anything but plain components, a
/// `node_modules` component and package names after it. The last line of
/// defence against a tree (from a lockfile, a packument, a tarball) that
/// would put a path out of the project where a package name belongs.
pub fn check_location(loc: &str) -> Result<()> {
    let refuse = |why: &str| {
        Err(Error::new(
            Code::Io,
            format!("refusing to write {loc:?}: {why}; nothing was changed"),
        ))
    };
    let plain = |p: &str| !p.is_empty() && p != "." && p != ".." && !p.contains(['\\', '\0']);
    if !loc.split('/').all(plain) {
        return refuse("it is not a plain path inside the project");
    }
    let Some(names) = crate::name::installed_names(loc) else {
        return refuse("it is not inside a node_modules folder");
    };
    for name in names {
        if let Err(why) = crate::name::check(name) {
            return refuse(&format!("{name:?} is not a package name ({why})"));
        }
    }
    Ok(())
}

/// Materialize `jobs` from the cache into their destinations.
///
/// Existing destination files are replaced; extra files already present in a
/// destination are left alone (remove stale package dirs first with
/// [`remove_dirs`]). Errors: `E_IO` naming the path, `E_CANCELLED`.
pub fn clone_packages(jobs: &[LinkJob], opts: &LinkOptions) -> Result<LinkStats> {
    opts.cancel.check()?;
    // Roots first, parents before children: whatever sits where a parent
    // goes (a symlink, a file) is replaced before anything is created
    // inside it.
    create_dirs(jobs, false)?;
    let cloner = Cloner::new(opts, false);
    jobs.par_iter()
        .try_for_each(|job| cloner.clone_package(job))?;
    Ok(LinkStats {
        packages: jobs.len(),
        files: jobs.iter().map(|j| j.files.len()).sum(),
        method: cloner.method(),
    })
}

/// Clones packages one at a time, from any thread, each as a unit: its
/// root, its subdirectories, then its files. No pass waits for all
/// packages, and two threads rarely queue on the same directory's lock
/// (creating every package root in `node_modules` in one pass ran on one
/// core: the kernel serializes entries added to one directory).
///
/// The method is decided by the first file placed (see [`LinkOptions`])
/// and kept for every later package.
pub struct Cloner {
    forced: Option<Method>,
    cancel: CancelToken,
    /// Create each package root, and its missing parents, with the package.
    /// Only for a tree this install created, where nothing foreign can sit
    /// where a parent goes; otherwise [`clone_packages`] creates the roots
    /// first, in order.
    make_roots: bool,
    /// Place a package's files in parallel (on the current rayon pool).
    parallel_files: bool,
    method: OnceLock<Method>,
    probing: Mutex<()>,
}

impl Cloner {
    pub fn new(opts: &LinkOptions, make_roots: bool) -> Cloner {
        Cloner {
            forced: opts.method,
            cancel: opts.cancel.clone(),
            make_roots,
            parallel_files: true,
            method: OnceLock::new(),
            probing: Mutex::new(()),
        }
    }

    /// Place each package's files in order, on the calling thread: for
    /// callers that clone many packages at once on threads of their own.
    pub fn files_in_order(mut self) -> Cloner {
        self.parallel_files = false;
        self
    }

    /// The method chosen (before any file: the forced one, or hardlink).
    pub fn method(&self) -> Method {
        self.method
            .get()
            .copied()
            .unwrap_or(self.forced.unwrap_or(Method::Hardlink))
    }

    /// Clone one package. Errors: `E_IO` naming the path, `E_CANCELLED`.
    pub fn clone_package(&self, job: &LinkJob) -> Result<()> {
        self.cancel.check()?;
        if self.make_roots {
            fsops::make_dir(&job.dest)
                .map_err(|e| Error::io(format!("cannot create {}", job.dest.display()), e))?;
        }
        let dest_fd = DirFd::open(&job.dest);
        for d in &job.dirs {
            check_relative(d)?;
            if dest_fd
                .as_ref()
                .is_some_and(|fd| fd.mkdir(d, 0o777).is_ok())
            {
                continue;
            }
            let path = job.dest.join(d);
            fsops::make_dir(&path)
                .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
        }
        let Some(first) = job.files.first() else {
            return Ok(());
        };
        check_relative(first)?;
        let (method, probed) = self.method_for(job, first)?;
        let fds = match method {
            Method::Hardlink => DirFd::open(&job.src).zip(dest_fd),
            _ => None,
        };
        let strict = self.forced.is_some();
        let rest = &job.files[usize::from(probed)..];
        let place = |rel: &PathBuf| place(job, fds.as_ref(), rel, method, strict);
        if self.parallel_files {
            rest.par_iter().with_min_len(8).try_for_each(place)
        } else {
            rest.iter().try_for_each(place)
        }
    }

    /// The method, probing it with `rel` of `job` if no file was placed yet
    /// (then `true`: that file is in place).
    fn method_for(&self, job: &LinkJob, rel: &Path) -> Result<(Method, bool)> {
        if let Some(&m) = self.method.get() {
            return Ok((m, false));
        }
        let _one_at_a_time = self.probing.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&m) = self.method.get() {
            return Ok((m, false));
        }
        let m = probe_method(&job.src.join(rel), &job.dest.join(rel), self.forced)?;
        let _ = self.method.set(m);
        Ok((m, true))
    }
}

/// Place one file of `job`: first a relative `linkat` through the package's
/// dir descriptors when hardlinking, then (on any error) the path-based route
/// that replaces existing files and falls back per file.
fn place(
    job: &LinkJob,
    fds: Option<&(DirFd, DirFd)>,
    rel: &Path,
    method: Method,
    strict: bool,
) -> Result<()> {
    check_relative(rel)?;
    if let Some((s, d)) = fds {
        if s.link(d, rel).is_ok() {
            return Ok(());
        }
    }
    let (src, dst) = (job.src.join(rel), job.dest.join(rel));
    let res = if strict {
        match fsops::place_exact(&src, &dst, method) {
            Err(e) if fsops::is_too_many_links(&e) => {
                fsops::place_with_fallback(&src, &dst, Method::Reflink)
            }
            r => r,
        }
    } else {
        fsops::place_with_fallback(&src, &dst, method)
    };
    res.map_err(|e| io_err(&src, &dst, method, e))
}

/// Decide the method with one real file (which is placed for good).
fn probe_method(src: &Path, dst: &Path, forced: Option<Method>) -> Result<Method> {
    let chain: &[Method] = match forced {
        Some(m) => &[m][..],
        None => &[Method::Hardlink, Method::Reflink, Method::Copy],
    };
    let mut last = None;
    for &m in chain {
        match fsops::place_exact(src, dst, m) {
            Ok(()) => return Ok(m),
            // The inode is saturated, not the method: hardlinks work here.
            Err(e) if m == Method::Hardlink && fsops::is_too_many_links(&e) => {
                fsops::place_with_fallback(src, dst, Method::Reflink)
                    .map_err(|e| io_err(src, dst, m, e))?;
                return Ok(m);
            }
            Err(e) if fsops::is_unsupported(&e) && m != Method::Copy => last = Some((m, e)),
            Err(e) => return Err(io_err(src, dst, m, e)),
        }
    }
    let (m, e) = last.expect("chain is never empty");
    Err(Error::new(
        Code::Io,
        format!(
            "cannot {} {} to {}: {e}; this filesystem pair does not support it, \
             use the automatic method or copy",
            verb(m),
            src.display(),
            dst.display()
        ),
    ))
}

fn verb(m: Method) -> &'static str {
    match m {
        Method::Hardlink => "hardlink",
        Method::Reflink => "reflink",
        Method::Copy => "copy",
    }
}

fn io_err(src: &Path, dst: &Path, m: Method, e: io::Error) -> Error {
    Error::io(
        format!("cannot {} {} to {}", verb(m), src.display(), dst.display()),
        e,
    )
}

/// Reject relative paths that would leave the package (a corrupt cache entry).
fn check_relative(rel: &Path) -> Result<()> {
    if rel
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        Ok(())
    } else {
        Err(Error::new(
            Code::Io,
            format!(
                "invalid path {:?} in a cached package; clear the cache entry and retry",
                rel
            ),
        ))
    }
}

/// Create destination directories once: package roots and their parents
/// (`node_modules`, `@scope`, nested `node_modules`), and with `subdirs`
/// every package's subdirectories too. Sorted and grouped by depth; each
/// level is created in parallel after the level above it.
fn create_dirs(jobs: &[LinkJob], subdirs: bool) -> Result<()> {
    let mut all: Vec<PathBuf> = Vec::with_capacity(jobs.len() * 2);
    for job in jobs {
        if let Some(p) = job.dest.parent() {
            all.push(p.to_path_buf());
            // `node_modules/@scope/name`: also `node_modules` itself.
            let scoped = p
                .file_name()
                .is_some_and(|n| n.as_encoded_bytes().starts_with(b"@"));
            if let (true, Some(g)) = (scoped, p.parent()) {
                all.push(g.to_path_buf());
            }
        }
        all.push(job.dest.clone());
        for d in job.dirs.iter().filter(|_| subdirs) {
            check_relative(d)?;
            all.push(job.dest.join(d));
        }
    }
    all.sort_unstable();
    all.dedup();
    let mut levels: BTreeMap<usize, Vec<PathBuf>> = BTreeMap::new();
    for d in all {
        levels.entry(d.components().count()).or_default().push(d);
    }
    for level in levels.values() {
        level.par_iter().with_min_len(16).try_for_each(|d| {
            fsops::make_dir(d).map_err(|e| Error::io(format!("cannot create {}", d.display()), e))
        })?;
    }
    Ok(())
}

/// Make each `(link, folder)`: a relative symlink at `link` (whatever was
/// there is replaced) to the absolute `folder`, as npm links workspaces and
/// `file:` folders.
pub fn link_folders(links: &[(PathBuf, PathBuf)]) -> Result<()> {
    links.par_iter().try_for_each(|(link, folder)| {
        let parent = link.parent().unwrap_or(Path::new("."));
        let rel = fsops::relative(parent, folder);
        std::fs::create_dir_all(parent)
            .and_then(|()| fsops::remove_any(link))
            .and_then(|()| std::os::unix::fs::symlink(&rel, link))
            .map_err(|e| {
                Error::io(
                    format!("cannot link {} to {}", link.display(), rel.display()),
                    e,
                )
            })
    })
}

/// Remove package directories in parallel, on the cloner's [`pool`].
/// Missing paths are fine; a file or symlink at a path is removed itself (a
/// symlink is never followed). A `node_modules` folder is removed package
/// by package (a scope's packages too), in parallel: unlinking waits on
/// inode tables read back from disk, and one thread leaves the cores idle.
pub fn remove_dirs(paths: &[PathBuf]) -> Result<()> {
    pool().install(|| {
        paths
            .par_iter()
            .try_for_each(|p| remove_tree(p, p.file_name() == Some("node_modules".as_ref())))
    })
}

/// Removes `path`; with `split`, a real directory there has its entries
/// removed in parallel first, `@scope` folders split again.
fn remove_tree(path: &Path, split: bool) -> Result<()> {
    let failed = |e| Error::io(format!("cannot remove {}", path.display()), e);
    if split {
        if let Some(entries) = fsops::dir_entries(path).map_err(failed)? {
            entries.par_iter().try_for_each(|e| {
                let scope = e
                    .file_name()
                    .is_some_and(|n| n.as_encoded_bytes().starts_with(b"@"));
                remove_tree(e, scope)
            })?;
        }
    }
    fsops::remove_any(path).map_err(failed)
}

#[cfg(all(test, unix))]
mod tests;
