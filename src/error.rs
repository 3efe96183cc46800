//! One error type for every stage, carrying a stable `code` that the binding
//! hands to JavaScript as `err.code`.

use std::fmt;

/// Stable error codes. The string form (`E_…`) is part of the public API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// A package (or a packument) does not exist in the registry.
    NotFound,
    /// The package exists but no version matches the requested range or tag.
    NoMatchingVersion,
    /// A tarball's content does not match its integrity.
    Integrity,
    /// Connection failures, timeouts, unexpected HTTP status codes.
    Network,
    /// A malformed or unusable `package-lock.json`.
    Lockfile,
    /// `--frozen-lockfile` / `ci`: the lockfile does not match package.json.
    FrozenLockfile,
    /// A malformed `package.json` or an invalid dependency specifier.
    Manifest,
    /// `link`: a package the lockfile needs is not in the cache.
    NotCached,
    /// The operation was cancelled through an AbortSignal.
    Cancelled,
    /// A tarball that cannot be extracted (bad gzip/tar, path escaping the package).
    Tarball,
    /// A dependency specifier brisk does not support yet (git, file:, …).
    Unsupported,
    /// Invalid options or configuration (.npmrc, CLI flags).
    Config,
    /// Filesystem failures.
    Io,
    /// A git dependency's repository cannot be read (unknown, unreachable,
    /// no access) or `git` itself is missing.
    Git,
    /// A lifecycle script failed (or could not start).
    Script,
    /// package.json `overrides` changes a dependency the root declares
    /// itself (npm's EOVERRIDE).
    Override,
    /// A peer dependency conflict npm reports as ERESOLVE.
    PeerConflict,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::NotFound => "E_NOT_FOUND",
            Code::NoMatchingVersion => "E_NO_MATCHING_VERSION",
            Code::Integrity => "E_INTEGRITY",
            Code::Network => "E_NETWORK",
            Code::Lockfile => "E_LOCKFILE",
            Code::FrozenLockfile => "E_FROZEN_LOCKFILE",
            Code::Manifest => "E_MANIFEST",
            Code::NotCached => "E_NOT_CACHED",
            Code::Cancelled => "E_CANCELLED",
            Code::Tarball => "E_TARBALL",
            Code::Unsupported => "E_UNSUPPORTED",
            Code::Config => "E_CONFIG",
            Code::Io => "E_IO",
            Code::Git => "E_GIT",
            Code::Script => "E_SCRIPT",
            Code::Override => "E_OVERRIDE",
            Code::PeerConflict => "E_PEER_CONFLICT",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Error {
    pub code: Code,
    pub message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
        }
    }

    /// An I/O error with the path it happened on.
    pub fn io(context: impl fmt::Display, err: std::io::Error) -> Self {
        Error::new(Code::Io, format!("{context}: {err}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for Error {}

/// Shorthand: `err!(Code::Manifest, "bad {}", x)`.
#[macro_export]
macro_rules! err {
    ($code:expr, $($arg:tt)*) => {
        $crate::error::Error::new($code, format!($($arg)*))
    };
}
