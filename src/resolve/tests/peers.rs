//! Peer dependency conflicts: npm's ERESOLVE rules.
