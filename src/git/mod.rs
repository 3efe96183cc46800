//! Git dependencies, as npm installs them: parse the specifier
//! ([`parse`]), resolve its committish to a commit ([`resolve`]), and clone
//! and pack that commit into a tarball for the store ([`pack`]). Runs the
//! `git` command (like pacote), never prompting for credentials.
//!
//! Typical use by the resolver and fetcher:
//!
//! ```ignore
//! let spec = git::parse(raw).unwrap();            // None: not a git spec
//! let sha = git::resolve(&spec).await?;           // E_GIT / E_NO_MATCHING_VERSION
//! let resolved = spec.resolved_url(&sha);         // lockfile `resolved`
//! let key = resolved.clone();                    // + a marker if prepare ran
//! let integrity = match git::cache::lookup(store.root(), &key) {
//!     Some(i) if store.get(&i).is_some() => i,
//!     _ => {
//!         let out = git::pack(&spec, &sha, &tgz, &opts).await?;
//!         store.insert_tarball(&out.integrity, &std::fs::read(&tgz)?)?;
//!         git::cache::record(store.root(), &key, &out.integrity)?;
//!         out.integrity
//!     }
//! };
//! ```

pub mod cache;
mod cmd;
mod fetch;
mod resolve;
mod spec;

pub use fetch::{needs_prepare, pack, PackOptions, PackResult, PrepareHook};
pub use resolve::{ls_remote, resolve, Refs};
pub use spec::{parse, GitSpec, Host, Hosted};

#[cfg(test)]
mod tests;
