//! brisk: a fast npm-compatible package installer.
//!
//! Data flows one way: config → project → lockfile → resolve → tree →
//! lockfile (write) → fetch/store → link (into a fresh node_modules, each
//! package as soon as it is stored). Every stage is plain Rust; the napi
//! layer (`binding`, behind the `node` feature) only converts and delegates.

pub mod error;

pub mod cancel;
pub mod config;
mod dirfd;
pub mod fetch;
pub mod git;
pub mod link;
pub mod lockfile;
pub mod ops;
pub mod pack;
pub mod platform;
pub mod project;
pub mod registry;
pub mod resolve;
pub mod scripts;
pub mod spec;
pub mod store;
pub mod tree;

#[cfg(feature = "node")]
mod binding;

/// mimalloc for Rust's allocations (Node's own are untouched): glibc's
/// malloc made the cloner's threads queue on arena locks and grew its
/// heaps a page-range at a time (`mprotect`). Built without transparent
/// huge pages: with them a p4 peaked 25 MB higher, no faster.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub use error::{Code, Error, Result};
