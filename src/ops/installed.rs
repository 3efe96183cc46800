//! What node_modules holds: read from the hidden lockfile before an
//! install, recorded (with the up-to-date stamp) after it.

use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::lockfile::{self, Lockfile, RenderOptions};
use crate::tree::{NodeId, Tree};

use super::context::Context;
use super::plan::Outside;
use super::task::joined;
use super::{uptodate, Call};

/// The hidden lockfile's packages: what is installed now (None = unknown).
/// When node_modules' folders changed since the last install, each entry is
/// checked against the package.json in its folder; one that differs (the
/// folder deleted or replaced) is marked so that the plan reinstalls it.
pub fn read(cwd: &Path) -> Option<HashMap<String, Map<String, Value>>> {
    if !cwd.join("node_modules").exists() {
        return Some(HashMap::new());
    }
    let lock = Lockfile::read_hidden(&cwd.join(lockfile::HIDDEN)).ok()??;
    let mut packages: HashMap<String, Map<String, Value>> = lock.packages.into_iter().collect();
    if !uptodate::folders_unchanged(cwd) {
        packages.par_iter_mut().for_each(|(loc, entry)| {
            if crate::tree::in_node_modules(loc) && !on_disk(cwd, loc, entry) {
                entry.insert("version".into(), Value::Null);
            }
        });
    }
    Some(packages)
}

/// Is the package the hidden lockfile lists at `loc` still there?
fn on_disk(cwd: &Path, loc: &str, entry: &Map<String, Value>) -> bool {
    let dir = cwd.join(loc);
    if entry.get("link").and_then(Value::as_bool) == Some(true) {
        return std::fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink());
    }
    let Ok(text) = std::fs::read(dir.join("package.json")) else {
        return false;
    };
    let Ok(found) = serde_json::from_slice::<Map<String, Value>>(&text) else {
        return false;
    };
    let name = entry
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_else(|| lockfile::folder_name(loc));
    found.get("version") == entry.get("version")
        && found.get("name").and_then(Value::as_str) == Some(name)
}

/// The hidden lockfile (node_modules/.package-lock.json) for `included`.
pub fn render_hidden(tree: &Tree, included: &[bool]) -> String {
    lockfile::render(
        tree,
        RenderOptions {
            omit_resolved: false,
            hidden: true,
        },
        |id| included[id],
    )
}

/// The hidden lockfile, rendered on the blocking pool while packages are
/// fetched and cloned (rendered after the last clone, it would run alone on
/// one core, on the path to the answer), for the nodes it was rendered for.
pub type Rendering = tokio::task::JoinHandle<Result<(Vec<bool>, String)>>;

/// What to record as installed after reify.
pub enum Hidden {
    /// The hidden lockfile rendered for the nodes reify expected to keep.
    Full(Rendering),
    /// A `--workspace` install: the scope's packages as the tree says,
    /// and outside it what was there already.
    Scoped(Outside),
    /// Unknown (a `--workspace` install over a node_modules no hidden
    /// lockfile describes): nothing is recorded, and the next install
    /// checks every folder.
    Unknown,
    /// Rendered already (the linked layout), with the number of packages.
    Rendered(String, usize),
}

/// Record what is installed, for npm (the hidden lockfile) and for the next
/// run's up-to-date check. Call after package-lock.json is written.
pub async fn record(
    ctx: &Context,
    call: &Call,
    tree: &Tree,
    included: &[bool],
    hidden: Hidden,
) -> Result<()> {
    let (hidden, packages) = match hidden {
        Hidden::Unknown => return Ok(()),
        Hidden::Rendered(text, packages) => (text, packages),
        Hidden::Full(task) => {
            let (guess, mut hidden) = joined(task).await?;
            if guess != included {
                // Optional packages that failed to fetch or build were dropped.
                hidden = render_hidden(tree, included);
            }
            (hidden, included.iter().skip(1).filter(|i| **i).count())
        }
        Hidden::Scoped(outside) => {
            let keep = |id: NodeId| included[id] && (outside.scope[id] || outside.in_place[id]);
            let packages =
                (1..tree.nodes.len()).filter(|&id| keep(id)).count() + outside.kept_entries.len();
            let text = lockfile::render_with(
                tree,
                RenderOptions {
                    omit_resolved: false,
                    hidden: true,
                },
                keep,
                outside.kept_entries,
            );
            (text, packages)
        }
    };
    let cwd = &ctx.cwd;
    std::fs::create_dir_all(cwd.join("node_modules"))
        .map_err(|e| Error::io(cwd.join("node_modules").display(), e))?;
    lockfile::write_atomic(&cwd.join(lockfile::HIDDEN), &hidden)?;
    stamp(ctx, call, tree, packages)
}

/// Record the up-to-date stamp for `tree` (its linked folders watched) with
/// `packages` installed.
pub fn stamp(ctx: &Context, call: &Call, tree: &Tree, packages: usize) -> Result<()> {
    let folders: Vec<String> = (tree.nodes.iter())
        .filter(|n| n.alive)
        .filter_map(|n| n.path.clone())
        .collect();
    let fingerprint = uptodate::fingerprint(&call.options, &ctx.config);
    uptodate::record(&ctx.cwd, &fingerprint, &folders, packages)
}
