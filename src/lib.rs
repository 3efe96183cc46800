//! brisk: a fast npm-compatible package installer.
//!
//! Data flows one way: config → project → lockfile → resolve → tree →
//! lockfile (write) → fetch/store → link (into a fresh node_modules, each
//! package as soon as it is stored). Every stage is plain Rust; the napi
//! layer (`binding`, behind the `node` feature) only converts and delegates.

pub mod error;

mod bounded;
pub mod cancel;
pub mod config;
mod date;
mod dirfd;
pub mod fetch;
mod free;
pub mod git;
pub mod link;
pub mod locale;
pub mod lockfile;
pub mod name;
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

pub use error::{Code, Error, Result};
