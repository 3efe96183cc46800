//! Preparing a git dependency as npm does before packing it: an install in
//! the clone (devDependencies included), whose root lifecycle runs its
//! `prepare` script. Only for packages the project trusts with scripts
//! (`trustedDependencies`, `--allow-scripts`); others are packed as
//! committed.

use std::path::PathBuf;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::{Call, Summary};
use crate::error::Result;
use crate::git::PrepareHook;
use crate::project::Project;
use crate::scripts::Policy;

/// The install run in a clone (`ops::install`, passed in so that this file
/// and the operations do not import each other).
pub type Installer = fn(Call) -> BoxFuture<'static, Result<Summary>>;

/// The hook the fetcher calls with a clone that needs preparing (None under
/// `--ignore-scripts`).
pub fn hook(call: &Call, policy: Policy, install: Installer) -> Option<PrepareHook> {
    if policy.ignore {
        return None;
    }
    let base = call.options.clone();
    let cancel = call.cancel.clone();
    let policy = Arc::new(policy);
    Some(Arc::new(move |dir: PathBuf| {
        let trusted = Project::load(&dir)
            .ok()
            .and_then(|p| p.name)
            .is_some_and(|name| policy.allows(&name));
        let mut o = base.clone();
        o.cwd = dir;
        o.clean = false;
        o.lockfile_only = false;
        o.frozen_lockfile = false;
        o.workspaces.clear();
        o.add.clear();
        o.remove.clear();
        o.config.omit = Some(Vec::new());
        let call = Call {
            options: o,
            progress: None,
            cancel: cancel.clone(),
        };
        Box::pin(async move {
            if trusted {
                install(call).await?;
            }
            Ok(())
        })
    }))
}
