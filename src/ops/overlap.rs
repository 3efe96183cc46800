//! Cloning packages into a fresh `node_modules` while the rest are still
//! downloading and extracting, instead of after the last one lands.
//!
//! Only for a fresh install (no `node_modules` yet): nothing there can be
//! lost, and if the install fails the caller removes `node_modules` again.
//! Packages that need a private copy (trusted packages with scripts) are
//! left to the link stage, which also links bins and folders after all.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{mpsc, Mutex};

use crate::cancel::CancelToken;
use crate::error::Result;
use crate::link::{Cloner, LinkJob, LinkOptions};
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
}

/// A package's clone job, read from its cache entry's index.
pub(super) struct Prepared {
    pub job: LinkJob,
    pub id: NodeId,
    /// Has install scripts (or a `binding.gyp`): a script candidate.
    pub candidate: bool,
    /// A candidate whose scripts may run: it gets a private copy, since
    /// its scripts may write into its folder.
    pub private: bool,
}

pub(super) fn prepare(t: ToLink) -> Result<Prepared> {
    let index = t.package.index()?;
    let gyp = index.files.iter().any(|f| f.as_os_str() == "binding.gyp");
    let candidate = t.scripted || gyp;
    Ok(Prepared {
        job: LinkJob {
            src: t.package.dir,
            dest: t.dest,
            dirs: index.dirs,
            files: index.files,
        },
        id: t.id,
        candidate,
        private: candidate && t.trusted,
    })
}

/// What the early linker cloned.
#[derive(Default)]
pub(super) struct Early {
    pub linked: HashSet<NodeId>,
    /// Script candidates among `linked`.
    pub candidates: Vec<NodeId>,
}

/// A blocking task cloning each package as it is sent, as its own rayon
/// task (no batches: a batch waited for its slowest package).
pub(super) struct EarlyLinker {
    tx: mpsc::Sender<ToLink>,
    task: tokio::task::JoinHandle<Result<Early>>,
}

impl EarlyLinker {
    pub fn start(cancel: CancelToken) -> EarlyLinker {
        let (tx, rx) = mpsc::channel::<ToLink>();
        let task = tokio::task::spawn_blocking(move || {
            // Stops the other clones at the first error.
            let stop = cancel.child();
            let opts = LinkOptions {
                method: None,
                cancel: stop.clone(),
            };
            // node_modules did not exist: every root is ours to create.
            let cloner = Cloner::new(&opts, true);
            let early = Mutex::new(Early::default());
            let failure = Mutex::new(None);
            let (cloner, early_ref, failure_ref) = (&cloner, &early, &failure);
            // In place: this thread waits on the channel, the cloner's pool
            // clones.
            crate::link::pool().in_place_scope(|s| {
                for t in rx.iter().take_while(|_| !stop.is_cancelled()) {
                    let stop = &stop;
                    s.spawn(move |_| {
                        let cloned = prepare(t).and_then(|p| {
                            if p.private {
                                return Ok(None);
                            }
                            cloner.clone_package(&p.job).map(|()| Some(p))
                        });
                        match cloned {
                            Ok(Some(p)) => {
                                let mut e = early_ref.lock().unwrap_or_else(|e| e.into_inner());
                                e.linked.insert(p.id);
                                if p.candidate {
                                    e.candidates.push(p.id);
                                }
                            }
                            Ok(None) => {}
                            Err(err) => {
                                let mut f = failure_ref.lock().unwrap_or_else(|e| e.into_inner());
                                f.get_or_insert(err);
                                stop.cancel();
                            }
                        }
                    });
                }
            });
            let failure = failure.into_inner().unwrap_or_else(|e| e.into_inner());
            match failure {
                Some(err) => Err(err),
                None => Ok(early.into_inner().unwrap_or_else(|e| e.into_inner())),
            }
        });
        EarlyLinker { tx, task }
    }

    /// Queue a package (ignored once the linker has failed: `finish` says
    /// why).
    pub fn send(&self, t: ToLink) {
        let _ = self.tx.send(t);
    }

    /// Waits for everything sent to be cloned.
    pub async fn finish(self) -> Result<Early> {
        drop(self.tx);
        super::reify::joined(self.task).await
    }
}
