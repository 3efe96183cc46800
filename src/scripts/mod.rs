//! Lifecycle scripts, secure by default.
//!
//! Dependencies' `preinstall`, `install` and `postinstall` scripts (and
//! `node-gyp rebuild` for a package with a `binding.gyp` and no
//! `install`/`preinstall`, npm's rule) run only for packages the project
//! trusts ([`Policy`]): `trustedDependencies` or `pnpm.onlyBuiltDependencies`
//! in package.json, or every package with `allow-scripts`. `ignore-scripts`
//! runs nothing, the root's scripts included.
//!
//! Order (npm's arborist `rebuild.js`): every `preinstall`, then every
//! `install`, then every `postinstall`; each phase sorted by depth
//! (shallowest first) then location, run in parallel up to the CPU count,
//! each with its package folder as cwd. The root project's own scripts
//! ([`root`]) run after the dependencies', and the workspaces' own
//! ([`workspaces`]) between the two.
//!
//! A package whose scripts may run is linked as a private copy, never
//! hardlinked into the cache (a script writing into its folder would
//! otherwise change the cache). Packages whose scripts were skipped are
//! remembered ([`pending`]) so that trusting them later runs them once.

mod deps;
mod env;
pub mod pending;
mod policy;
pub mod quote;
pub mod root;
mod run;
pub mod workspaces;

pub use deps::{install_scripts, run_dependency_scripts, DepOutcome, DepPackage};
pub use env::{bin_dirs, Runner};
pub use policy::Policy;

/// The dependency install events, in the order npm runs them.
pub const INSTALL_EVENTS: [&str; 3] = ["preinstall", "install", "postinstall"];

/// The install script npm uses for a `binding.gyp` package without one.
pub const GYP_INSTALL: &str = "node-gyp rebuild";
