//! Cloning packages into a fresh `node_modules` while the rest are still
//! downloading and extracting, instead of after the last one lands.
//!
//! Only for a fresh install (no `node_modules` yet): nothing there can be
//! lost, and if the install fails the caller removes `node_modules` again.
//! Packages that need a private copy (trusted packages with scripts) are
//! left to the link stage, which also links bins and folders after all.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use crate::cancel::CancelToken;
use crate::error::{Code, Error, Result};
use crate::link::{self, Cloner, LinkJob, LinkOptions};
use crate::store::StoredPackage;
use crate::tree::NodeId;

/// A package in the cache, and where it goes.
pub(super) struct ToLink {
    pub package: StoredPackage,
    pub dest: PathBuf,
    pub id: NodeId,
    /// Declares install scripts.
    pub scripted: bool,
    /// Its scripts may run (so it gets a private copy if it has any).
    pub trusted: bool,
    /// Check the cache entry's files before linking them (`.npmrc`
    /// `verify-store-integrity`, on by default).
    pub verify: bool,
}

/// A package's clone job, read from its cache entry's index.
pub(super) struct CloneJob {
    pub job: LinkJob,
    pub id: NodeId,
    /// Has install scripts (or a `binding.gyp`): a script candidate.
    pub candidate: bool,
    /// A candidate whose scripts may run: it gets a private copy, since
    /// its scripts may write into its folder.
    pub private: bool,
    /// A file of the cache entry that was changed since it was stored
    /// (through a hardlink in some project): the entry must not be linked
    /// but restored from its tarball first.
    pub changed: Option<PathBuf>,
    pub package: StoredPackage,
}

/// Reads a package's index and checks its cache entry's files against the
/// stamps recorded at extraction (one `stat` each, on the thread that then
/// links the same inodes).
pub(super) fn read_job(t: ToLink) -> Result<CloneJob> {
    let index = t.package.index()?;
    let changed = match t.verify.then(|| t.package.changed_file(&index, None)) {
        None => None,
        Some(Some(changed)) => changed,
        Some(None) => Some(t.package.dir.join("package.json")), // no stamps: re-extract
    };
    let gyp = index.files.iter().any(|f| f.as_os_str() == "binding.gyp");
    let candidate = t.scripted || gyp;
    Ok(CloneJob {
        job: LinkJob {
            src: t.package.dir.clone(),
            dest: t.dest,
            dirs: index.dirs,
            files: index.files,
        },
        id: t.id,
        candidate,
        private: candidate && t.trusted,
        changed,
        package: t.package,
    })
}

/// What the early linker cloned.
#[derive(Default)]
pub(super) struct Early {
    pub linked: HashSet<NodeId>,
    /// Script candidates among `linked`.
    pub candidates: Vec<NodeId>,
}

/// A package queued this many deep per cloner thread starts another one.
const BACKLOG_PER_THREAD: usize = 8;

/// Clones each package as it is sent, on threads of its own that block on
/// the queue: as many as cores while packages trickle in (a cold install),
/// more, up to [`link::threads`], once a backlog builds (a warm cache sends
/// every package at once, and a thread waiting on the disk leaves its core
/// to another). Each package's files are placed in order by one thread.
///
/// Not rayon: its idle workers spin (`sched_yield`) before they sleep,
/// and a cold install wakes them for every package.
pub(super) struct EarlyLinker {
    tx: mpsc::Sender<ToLink>,
    shared: Arc<Shared>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    max_threads: usize,
}

/// What the cloner threads share.
struct Shared {
    rx: Mutex<mpsc::Receiver<ToLink>>,
    /// Sent and not yet taken by a thread.
    queued: AtomicUsize,
    cloner: Cloner,
    /// Stops the other clones at the first error.
    stop: CancelToken,
    early: Mutex<Early>,
    failure: Mutex<Option<Error>>,
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// Clone what arrives until the queue closes; after a failure, only
    /// drain it.
    fn run(&self) {
        loop {
            let Ok(t) = locked(&self.rx).recv() else {
                return;
            };
            self.queued.fetch_sub(1, Ordering::Relaxed);
            if self.stop.is_cancelled() {
                continue;
            }
            // A changed entry is left to the link stage, which restores it.
            let cloned = read_job(t).and_then(|p| {
                if p.private || p.changed.is_some() {
                    return Ok(None);
                }
                self.cloner.clone_package(&p.job).map(|()| Some(p))
            });
            match cloned {
                Ok(Some(p)) => {
                    let mut e = locked(&self.early);
                    e.linked.insert(p.id);
                    if p.candidate {
                        e.candidates.push(p.id);
                    }
                }
                Ok(None) => {}
                Err(err) => self.fail(err),
            }
        }
    }

    fn fail(&self, err: Error) {
        locked(&self.failure).get_or_insert(err);
        self.stop.cancel();
    }
}

impl EarlyLinker {
    pub fn start(cancel: CancelToken) -> EarlyLinker {
        let (tx, rx) = mpsc::channel::<ToLink>();
        let stop = cancel.child();
        let opts = LinkOptions {
            method: None,
            cancel: stop.clone(),
        };
        let shared = Arc::new(Shared {
            rx: Mutex::new(rx),
            queued: AtomicUsize::new(0),
            // node_modules did not exist: every root is ours to create.
            cloner: Cloner::new(&opts, true).files_in_order(),
            stop,
            early: Mutex::default(),
            failure: Mutex::default(),
        });
        let linker = EarlyLinker {
            tx,
            shared,
            threads: Mutex::default(),
            max_threads: link::threads(),
        };
        for _ in 0..link::cores() {
            linker.grow_to(link::cores());
        }
        if locked(&linker.threads).is_empty() {
            linker.shared.fail(Error::new(
                Code::Io,
                "cannot start a thread to clone packages",
            ));
        }
        linker
    }

    /// One more cloner thread if fewer than `want` (and the maximum) run;
    /// none if the system refuses one.
    fn grow_to(&self, want: usize) {
        let mut threads = locked(&self.threads);
        if threads.len() >= want.min(self.max_threads) {
            return;
        }
        let shared = self.shared.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("brisk-clone-{}", threads.len()))
            .spawn(move || shared.run());
        if let Ok(handle) = spawned {
            threads.push(handle);
        }
    }

    /// Queue a package (ignored once the linker has failed: `finish` says
    /// why).
    pub fn send(&self, t: ToLink) {
        if self.shared.stop.is_cancelled() {
            return;
        }
        let backlog = self.shared.queued.fetch_add(1, Ordering::Relaxed) + 1;
        let _ = self.tx.send(t);
        self.grow_to(backlog.div_ceil(BACKLOG_PER_THREAD));
    }

    /// Waits for everything sent to be cloned.
    pub async fn finish(self) -> Result<Early> {
        let EarlyLinker {
            tx,
            shared,
            threads,
            ..
        } = self;
        drop(tx);
        let threads = threads.into_inner().unwrap_or_else(|e| e.into_inner());
        super::task::joined(tokio::task::spawn_blocking(move || {
            for t in threads {
                t.join()
                    .map_err(|_| Error::new(Code::Io, "a thread cloning packages panicked"))?;
            }
            if let Some(err) = locked(&shared.failure).take() {
                return Err(err);
            }
            Ok(std::mem::take(&mut *locked(&shared.early)))
        }))
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testutil::simple_package;
    use crate::store::{sha512_sri, Store};

    /// `count` packages in a fresh store, each with where it goes.
    fn packages(root: &std::path::Path, count: usize) -> Vec<ToLink> {
        let store = Store::open(&root.join("cache")).unwrap();
        (0..count)
            .map(|id| {
                let tgz = simple_package(&format!("p{id}"));
                ToLink {
                    package: store.insert_tarball(&sha512_sri(&tgz), &tgz).unwrap(),
                    dest: root.join(format!("proj/node_modules/@s{}/p{id}", id % 7)),
                    id,
                    scripted: false,
                    trusted: false,
                    verify: true,
                }
            })
            .collect()
    }

    /// A burst of packages (a warm cache) starts more cloner threads than
    /// cores, and every package lands whole.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_backlog_adds_threads_and_everything_is_cloned() {
        let t = tempfile::tempdir().unwrap();
        let all = packages(t.path(), 200);
        let linker = EarlyLinker::start(CancelToken::new());
        for p in all {
            linker.send(p);
        }
        let started = locked(&linker.threads).len();
        assert!(
            started > link::cores().min(link::threads()),
            "{started} threads"
        );
        let early = linker.finish().await.unwrap();
        assert_eq!(early.linked.len(), 200);
        for id in 0..200 {
            let dir = t
                .path()
                .join(format!("proj/node_modules/@s{}/p{id}", id % 7));
            let manifest = std::fs::read_to_string(dir.join("package.json")).unwrap();
            assert!(manifest.contains(&format!("\"p{id}\"")));
            assert!(dir.join("index.js").is_file());
        }
    }

    /// The first failure stops the linker and is what `finish` returns;
    /// packages sent after it are not cloned.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failure_stops_the_linker() {
        let t = tempfile::tempdir().unwrap();
        let mut all = packages(t.path(), 3);
        // A file where a package's scope folder goes.
        std::fs::create_dir_all(t.path().join("proj/node_modules")).unwrap();
        std::fs::write(t.path().join("proj/node_modules/blocker"), "").unwrap();
        all[0].dest = t.path().join("proj/node_modules/blocker/p0");
        let linker = EarlyLinker::start(CancelToken::new());
        linker.send(all.remove(0));
        while !linker.shared.stop.is_cancelled() {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        for p in all {
            linker.send(p);
        }
        let err = linker.finish().await.err().expect("the clone must fail");
        assert_eq!(err.code, Code::Io, "{err}");
        assert!(!t.path().join("proj/node_modules/@s1/p1").exists());
    }
}
