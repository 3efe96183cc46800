//! A git dependency at a commit → the tarball `npm pack` would make of it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::Value;

use crate::error::{Code, Error, Result};
use crate::pack;

use super::cmd::{git, git_ok};
use super::resolve::unreachable;
use super::GitSpec;

/// Prepares a cloned package before packing, given its directory: npm runs
/// `npm install` (dev dependencies included) there, which runs `prepare`.
pub type PrepareHook = Arc<dyn Fn(PathBuf) -> BoxFuture<'static, Result<()>> + Send + Sync>;

/// How [`pack`] works.
#[derive(Clone, Default)]
pub struct PackOptions {
    /// Called when the package needs preparing (see [`needs_prepare`]);
    /// without it such a package is packed as committed and
    /// [`PackResult::prepare_skipped`] is set.
    pub prepare: Option<PrepareHook>,
    /// Where the temporary clone goes (default: the system temp dir). The
    /// clone is removed when [`pack`] returns, on success or failure.
    pub tmp_dir: Option<PathBuf>,
}

impl std::fmt::Debug for PackOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackOptions")
            .field("prepare", &self.prepare.is_some())
            .field("tmp_dir", &self.tmp_dir)
            .finish()
    }
}

/// What [`pack`] produced.
#[derive(Debug, Clone)]
pub struct PackResult {
    /// The package's package.json (after preparing, if that ran).
    pub manifest: Value,
    /// `sha512-…` of the tarball written to `dest_tgz`.
    pub integrity: String,
    /// The packed files, relative to the package root.
    pub files: Vec<String>,
    /// The package has build scripts npm would run before packing, and no
    /// [`PackOptions::prepare`] hook was given: the caller should warn.
    pub prepare_skipped: bool,
}

/// Does npm prepare this package before packing it? pacote does when it
/// has workspaces or any of the `build`, `preinstall`, `install`,
/// `postinstall`, `prepack`, `prepare` scripts.
pub fn needs_prepare(manifest: &Value) -> bool {
    if manifest.get("workspaces").is_some() {
        return true;
    }
    let Some(scripts) = manifest.get("scripts").and_then(Value::as_object) else {
        return false;
    };
    [
        "build",
        "preinstall",
        "install",
        "postinstall",
        "prepack",
        "prepare",
    ]
    .iter()
    .any(|s| {
        scripts
            .get(*s)
            .is_some_and(|v| v.as_str().is_some_and(|v| !v.is_empty()))
    })
}

/// Clones `spec` at commit `sha`, prepares it (see [`PackOptions`]) and
/// packs it like `npm pack` into a gzip'd tarball at `dest_tgz` (written
/// atomically), ready for [`crate::store::Store::insert_tarball`] with the
/// returned integrity. The same commit always gives the same bytes (unless a
/// prepare hook makes different files).
///
/// Errors: `E_GIT` (unreachable repository, unknown commit),
/// `E_MANIFEST` (no package.json at that commit / in the `path:` subdir),
/// the hook's error, `E_IO`.
pub async fn pack(
    spec: &GitSpec,
    sha: &str,
    dest_tgz: &Path,
    opts: &PackOptions,
) -> Result<PackResult> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("brisk-git-");
    let tmp = match &opts.tmp_dir {
        Some(dir) => builder.tempdir_in(dir),
        None => builder.tempdir(),
    }
    .map_err(|e| Error::io("creating a temp dir for a git clone", e))?;
    let repo = tmp.path().join("repo");
    checkout(spec, sha, &repo, &[]).await?;

    let pkg_dir = match &spec.subdir {
        Some(sub) => repo.join(sub),
        None => repo.clone(),
    };
    let where_ = match &spec.subdir {
        Some(sub) => format!("{} at {sha}, path {sub}", spec.display_name()),
        None => format!("{} at {sha}", spec.display_name()),
    };
    let manifest = read_manifest(&pkg_dir, &where_).await?;
    let mut prepare_skipped = false;
    if needs_prepare(&manifest) {
        match &opts.prepare {
            Some(hook) => hook(pkg_dir.clone()).await?,
            None => prepare_skipped = true,
        }
    }
    let dest = dest_tgz.to_path_buf();
    let dir = pkg_dir.clone();
    let packed = tokio::task::spawn_blocking(move || pack::pack_dir(&dir, &dest))
        .await
        .map_err(|e| Error::new(Code::Io, format!("packing {where_} panicked: {e}")))??;
    drop(tmp);
    Ok(PackResult {
        manifest: packed.manifest,
        integrity: packed.integrity,
        files: packed.files,
        prepare_skipped,
    })
}

async fn read_manifest(dir: &Path, where_: &str) -> Result<Value> {
    let path = dir.join("package.json");
    let bytes = match tokio::fs::read(&path).await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::new(
                Code::Manifest,
                format!("git dependency {where_} has no package.json, so it is not an npm package"),
            ))
        }
        Err(e) => return Err(Error::io(path.display(), e)),
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err(Error::new(
            Code::Manifest,
            format!("package.json of git dependency {where_} is not a JSON object"),
        )),
        Err(e) => Err(Error::new(
            Code::Manifest,
            format!("package.json of git dependency {where_} is not valid JSON: {e}"),
        )),
    }
}

/// Checks out commit `sha` of `spec` into the new directory `dir`: a
/// shallow fetch of just that commit, else (servers that refuse fetching
/// by sha) every ref; then submodules. `config` is extra `-c` pairs for
/// the fetches (tests force the fallback with them).
pub(crate) async fn checkout(spec: &GitSpec, sha: &str, dir: &Path, config: &[&str]) -> Result<()> {
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| Error::io(dir.display(), e))?;
    git_ok(&["init", "-q", "."], Some(dir), "git init").await?;
    let mut failures = Vec::new();
    let mut fetched = false;
    for url in spec.clone_urls() {
        let mut args: Vec<&str> = config.to_vec();
        args.extend(["fetch", "-q", "--depth", "1", "--", &url, sha]);
        match git(&args, Some(dir)).await? {
            Ok(_) => {
                fetched = true;
                break;
            }
            Err(f) => {
                let mut args: Vec<&str> = config.to_vec();
                args.extend(["fetch", "-q", "--", &url, "+refs/*:refs/remotes/all/*"]);
                match git(&args, Some(dir)).await? {
                    Ok(_) => {
                        fetched = true;
                        break;
                    }
                    Err(full) => {
                        failures.push(format!("{url}: {} / {}", f.summary(), full.summary()))
                    }
                }
            }
        }
    }
    if !fetched {
        return Err(unreachable(spec, &failures));
    }
    let rev = format!("{sha}^{{commit}}");
    if git(&["rev-parse", "--verify", "--quiet", &rev], Some(dir))
        .await?
        .is_err()
    {
        return Err(Error::new(
            Code::Git,
            format!(
                "git repository {} has no commit {sha}; it may have been force-pushed away \
                 (update the dependency, or delete it from package-lock.json to re-resolve)",
                spec.display_name()
            ),
        ));
    }
    git_ok(
        &["checkout", "-q", "--detach", sha],
        Some(dir),
        &format!("checking out {sha} of {}", spec.display_name()),
    )
    .await?;
    if dir.join(".gitmodules").is_file() {
        git_ok(
            &["submodule", "update", "-q", "--init", "--recursive"],
            Some(dir),
            &format!("fetching the submodules of {}", spec.display_name()),
        )
        .await?;
    }
    Ok(())
}
