//! `brisk add` / `brisk remove` (the `add` / `remove` options of
//! `install`): edit package.json in memory, install with the edited
//! project, and write package.json and package-lock.json only once the
//! install succeeded, so a failed add leaves both files as they were.
//!
//! Each registry package is picked first (dist-tag, range or version, the
//! way the resolver picks), which gives the spec to save (`^1.2.3`).
//! Resolution then pins the root's dependency to exactly the picked
//! version, and the saved spec replaces it before the lockfile is written.

use std::path::PathBuf;
use std::sync::Arc;

use futures_util::future::join_all;

use crate::error::{Code, Error, Result};
use crate::lockfile;
use crate::project::edit::{Manifest, SaveType};
use crate::project::request::Request;
use crate::project::Project;
use crate::registry::{pick_version_with, PickOptions};
use crate::spec::Spec;
use crate::tree::{Package, ROOT};

use super::context::Context;
use super::ideal::{lockfile_text, Ideal};
use super::lookahead::tarball_manifest;
use super::Options;

/// Is this install an add or a remove?
pub(super) fn requested(o: &Options) -> bool {
    !o.add.is_empty() || !o.remove.is_empty()
}

/// A package.json edit waiting for the install to succeed.
pub(super) struct Edit {
    /// The files that change: (path, new text).
    files: Vec<(PathBuf, String)>,
    /// The root package with the specs as saved (None: the root's
    /// package.json is not edited).
    saved_root: Option<Package>,
    /// Edited workspaces (`-w`): folder and package with the specs as saved.
    saved_folders: Vec<(String, Package)>,
    /// Resolution used other specs than the saved ones (picked versions).
    pinned: bool,
    /// False with `--no-save` / `save=false`: install, but write neither
    /// package.json nor package-lock.json (npm's behaviour).
    pub save: bool,
    warnings: Vec<String>,
}

/// The package.json files `add`/`remove` edit, as npm picks them: the
/// root's, or with `-w <name|folder>` (repeatable) / `--workspaces` those
/// workspaces' (and the root's too with `--include-workspace-root`).
/// `None` is the root; `Some((name, folder))` a workspace.
pub(super) fn edit_targets(ctx: &Context, o: &Options) -> Result<Vec<Option<(String, String)>>> {
    let chosen = super::scope::chosen(o, &ctx.workspaces, &ctx.cwd)?;
    let mut out = Vec::new();
    if chosen.is_none() || o.include_workspace_root {
        out.push(None);
    }
    out.extend(chosen.unwrap_or_default().into_iter().map(Some));
    Ok(out)
}

/// Apply the removals and additions of `o` to package.json in memory (the
/// root's or the workspaces' of `-w`) and make `ctx.project` (and
/// `ctx.folders`) the project to resolve.
pub(super) async fn edit_in_memory(ctx: &mut Context, o: &Options) -> Result<Edit> {
    let save_type = o.save_type.as_deref().map(SaveType::parse).transpose()?;
    let targets = edit_targets(ctx, o)?;
    let mut requests = Vec::with_capacity(o.add.len());
    for arg in &o.add {
        // A bare `x-1.0.0.tgz` is a file, as npm-package-arg reads it.
        let parsed = match Spec::parse("", arg) {
            Ok(Spec::File { .. }) => Err(Error::new(Code::Unsupported, "a tarball")),
            _ => Request::parse(arg),
        };
        requests.push(match parsed {
            Ok(r) => r,
            Err(e) if e.code == Code::Unsupported => {
                Request::parse(&name_bare(ctx, arg, e).await?)?
            }
            Err(e) => return Err(e),
        });
    }
    let removals = o
        .remove
        .iter()
        .map(|arg| Request::parse(arg).map(|r| r.name))
        .collect::<Result<Vec<_>>>()?;
    for target in &targets {
        let (own_name, dir) = match target {
            None => (ctx.project.name.clone(), ctx.cwd.clone()),
            Some((name, folder)) => (Some(name.clone()), ctx.cwd.join(folder)),
        };
        if let Some(r) = requests.iter().find(|r| Some(&r.name) == own_name.as_ref()) {
            return Err(Error::new(
                Code::Config,
                format!(
                    "refusing to add {} as a dependency of itself (the package in {} has that name)",
                    r.name,
                    dir.display()
                ),
            ));
        }
    }
    let versions = pick_versions(ctx, o, &requests).await?;
    let prefix = if ctx.config.save_exact {
        String::new()
    } else {
        ctx.config.save_prefix.clone()
    };
    let mut edit = Edit {
        files: Vec::new(),
        saved_root: None,
        saved_folders: Vec::new(),
        pinned: false,
        save: ctx.config.save,
        warnings: Vec::new(),
    };
    let mut folders = (*ctx.folders).clone();
    for target in targets {
        let folder = target.as_ref().map(|(_, path)| path.as_str()).unwrap_or("");
        let dir = ctx.cwd.join(folder);
        let path = dir.join("package.json");
        let original = match std::fs::read_to_string(&path) {
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    && !o.add.is_empty()
                    && target.is_none() =>
            {
                String::new()
            }
            read => read.map_err(|e| {
                Error::new(
                    Code::Manifest,
                    format!("cannot read {}: {e}", path.display()),
                )
            })?,
        };
        let mut saved = Manifest::parse(if original.is_empty() {
            "{}\n"
        } else {
            &original
        })?;
        for name in &removals {
            // `brisk remove name@1` removes `name`, like npm.
            saved.remove(name);
        }
        let mut pins = Vec::new();
        for (r, version) in requests.iter().zip(&versions) {
            match version {
                Some(v) => {
                    saved.add(&r.name, &r.saved_spec(v, &prefix), save_type);
                    pins.push((r.name.clone(), r.exact_spec(v)));
                }
                None => saved.add(&r.name, &rebased(&r.raw, folder), save_type),
            }
        }
        let text = saved.render();
        let saved_project = Project::parse(&dir, &text)?;
        let mut resolving = saved.clone();
        for (name, spec) in &pins {
            resolving.replace_spec(name, spec);
        }
        let resolving = resolving.render();
        edit.pinned |= resolving != text;
        edit.warnings.extend(saved.warnings.iter().cloned());
        let resolving = Project::parse(&dir, &resolving)?;
        match target {
            None => {
                ctx.set_project(resolving)?;
                edit.saved_root = Some(Package::from_project(&saved_project));
            }
            Some((name, folder)) => {
                resolving.check_specs()?;
                folders.insert(folder.clone(), resolving);
                let mut pkg = Package::from_project(&saved_project);
                if pkg.name.is_empty() {
                    pkg.name = name;
                }
                edit.saved_folders.push((folder, pkg));
            }
        }
        if text != original {
            edit.files.push((path, text));
        }
    }
    ctx.folders = Arc::new(folders);
    Ok(edit)
}

/// A `file:` spec typed relative to the project, as saved in the
/// package.json of `folder` (npm saves paths relative to the package that
/// depends on them).
fn rebased(raw: &str, folder: &str) -> String {
    let Some(path) = raw.strip_prefix("file:") else {
        return raw.to_string();
    };
    if folder.is_empty() || path.starts_with('/') {
        return raw.to_string();
    }
    let up = "../".repeat(folder.split('/').filter(|s| !s.is_empty()).count());
    format!("file:{up}{}", path.trim_start_matches("./"))
}

/// `brisk add ../x`, `brisk add github:u/r`, `brisk add https://…/x.tgz`:
/// like npm, name the dependency after the package found there
/// (`x@file:../x`). `unnamed` is the error for anything else.
async fn name_bare(ctx: &Context, arg: &str, unnamed: Error) -> Result<String> {
    let spec = Spec::parse("", arg)?.rebase("", &ctx.cwd);
    // Where the package's tarball is (a folder is read in place).
    let url = match &spec {
        Spec::Directory { .. } => None,
        Spec::File { path } => Some(format!("file://{}", ctx.cwd.join(path).display())),
        Spec::Url { url } => Some(url.clone()),
        Spec::Git { raw } => {
            let git = crate::git::parse(raw).ok_or(unnamed)?;
            Some(git.resolved_url(&crate::git::resolve(&git).await?))
        }
        _ => return Err(unnamed),
    };
    let name = match (url, &spec) {
        (Some(url), _) => package_name(tarball_manifest(&ctx.fetcher, &url).await?.0),
        (None, Spec::Directory { path }) => Project::load(&ctx.cwd.join(path))?.name,
        (None, _) => None,
    };
    let name = name.ok_or_else(|| {
        Error::new(
            Code::Manifest,
            format!("cannot add {arg}: the package there has no name"),
        )
    })?;
    Ok(match spec {
        Spec::Directory { path } | Spec::File { path } => format!("{name}@file:{path}"),
        _ => format!("{name}@{arg}"),
    })
}

fn package_name(manifest: serde_json::Map<String, serde_json::Value>) -> Option<String> {
    manifest.get("name")?.as_str().map(str::to_string)
}

/// The version each registry request gets (fetched concurrently).
async fn pick_versions(
    ctx: &Context,
    o: &Options,
    requests: &[Request],
) -> Result<Vec<Option<String>>> {
    let client = ctx.registry();
    let pick = PickOptions {
        node_version: o.node_version.clone(),
        before: ctx.config.before,
    };
    let picks = requests.iter().map(|r| {
        let client = &client;
        let pick = &pick;
        async move {
            let Some((real, wanted)) = &r.registry else {
                return Ok(None);
            };
            // A workspace of the project (`brisk add @scope/shared -w web`):
            // its own version, saved as a range as npm saves it.
            if let Some(version) = workspace_version(ctx, real, &r.name, wanted) {
                return Ok(Some(version));
            }
            let packument = client.packument(real).await?;
            let m = pick_version_with(&packument, wanted, pick)?;
            Ok(Some(m.version.clone()))
        }
    });
    join_all(picks)
        .await
        .into_iter()
        .zip(requests)
        .map(|(r, req): (Result<_>, _)| {
            r.map_err(|mut e| {
                let arg = match req.raw.as_str() {
                    "" => req.name.clone(),
                    raw => format!("{}@{raw}", req.name),
                };
                e.message = format!("{} (brisk add {arg})", e.message);
                e
            })
        })
        .collect()
}

/// The version of the workspace named `real` when the request names it
/// (not an alias) with a tag or a range that version satisfies.
fn workspace_version(ctx: &Context, real: &str, name: &str, wanted: &str) -> Option<String> {
    if real != name {
        return None;
    }
    let (_, folder) = ctx.workspaces.iter().find(|(n, _)| n == real)?;
    let version = ctx.folder_project(folder).ok()?.version?;
    let v = nodejs_semver::Version::parse(&version).ok()?;
    let fits = match nodejs_semver::Range::parse(wanted) {
        Ok(range) => range.satisfies(&v),
        // A tag (`latest`, or a bare name).
        Err(_) => true,
    };
    fits.then_some(version)
}

impl Edit {
    /// Put the saved specs into the resolved tree's root and decide what
    /// package-lock.json becomes.
    pub fn apply(&self, ctx: &Context, ideal: &mut Ideal) {
        ideal.warnings.extend(self.warnings.iter().cloned());
        // Not shared yet: no copy.
        let tree = Arc::make_mut(&mut ideal.tree);
        if let Some(root) = &self.saved_root {
            tree.nodes[ROOT].pkg = Arc::new(root.clone());
        }
        for (folder, pkg) in &self.saved_folders {
            for n in tree.nodes.iter_mut() {
                if n.alive && n.path.as_deref() == Some(folder.as_str()) {
                    n.pkg = Arc::new(pkg.clone());
                }
            }
        }
        if !self.save {
            ideal.lockfile = None;
        } else if self.pinned {
            // Resolved with pinned specs: the lockfile must say the saved
            // ones. (Without pins, resolution already used the saved specs.)
            ideal.lockfile = lockfile_text(ctx, &ideal.tree);
        }
    }

    /// Write the package.json files (after the install succeeded), each
    /// atomically.
    pub fn write(&self) -> Result<()> {
        if !self.save {
            return Ok(());
        }
        for (path, text) in &self.files {
            lockfile::write_atomic(path, text)?;
        }
        Ok(())
    }
}
