//! git dependencies (in progress).
