//! One error type for every stage, carrying a stable `code` that the binding
//! hands to JavaScript as `err.code`.

use std::fmt;
use std::sync::Arc;

/// Defines [`Code`] from one list: each variant and its string form. With
/// the `node` feature it is also a napi string enum, so the generated
/// TypeScript types list every code. (Docs are `#[doc = "…"]`: napi copies
/// a `///` comment passed through a macro with its `r"` prefix.)
macro_rules! codes {
    ($($(#[doc = $doc:tt])* $name:ident = $s:literal,)*) => {
        /// Stable error codes. The string form (`E_…`) is part of the public API.
        #[cfg(feature = "node")]
        #[napi_derive::napi(string_enum)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[doc = $doc])* #[napi(value = $s)] $name,)*
        }

        /// Stable error codes. The string form (`E_…`) is part of the public API.
        #[cfg(not(feature = "node"))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[doc = $doc])* $name,)*
        }

        impl Code {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$name => $s,)*
                }
            }
        }
    };
}

codes! {
    #[doc = "A package (or a packument) does not exist in the registry."]
    NotFound = "E_NOT_FOUND",
    #[doc = "The package exists but no version matches the requested range or tag."]
    NoMatchingVersion = "E_NO_MATCHING_VERSION",
    #[doc = "A tarball's content does not match its integrity."]
    Integrity = "E_INTEGRITY",
    #[doc = "Connection failures, timeouts, unexpected HTTP status codes."]
    Network = "E_NETWORK",
    #[doc = "A malformed or unusable `package-lock.json`."]
    Lockfile = "E_LOCKFILE",
    #[doc = "`--frozen-lockfile` / `ci`: the lockfile does not match package.json."]
    FrozenLockfile = "E_FROZEN_LOCKFILE",
    #[doc = "A malformed `package.json` or an invalid dependency specifier."]
    Manifest = "E_MANIFEST",
    #[doc = "`link`: a package the lockfile needs is not in the cache."]
    NotCached = "E_NOT_CACHED",
    #[doc = "The operation was cancelled through an AbortSignal."]
    Cancelled = "E_CANCELLED",
    #[doc = "A tarball that cannot be extracted (bad gzip/tar, path escaping the package)."]
    Tarball = "E_TARBALL",
    #[doc = "A request brisk does not carry out: a global install, an install strategy other than hoisted, a dependency kind it cannot read."]
    Unsupported = "E_UNSUPPORTED",
    #[doc = "Invalid options or configuration (.npmrc, CLI flags)."]
    Config = "E_CONFIG",
    #[doc = "Filesystem failures."]
    Io = "E_IO",
    #[doc = "A git dependency's repository cannot be read (unknown, unreachable, no access) or `git` itself is missing."]
    Git = "E_GIT",
    #[doc = "A lifecycle script failed (or could not start)."]
    Script = "E_SCRIPT",
    #[doc = "package.json `overrides` changes a dependency the root declares itself (npm's EOVERRIDE)."]
    Override = "E_OVERRIDE",
    #[doc = "A peer dependency conflict npm reports as ERESOLVE."]
    PeerConflict = "E_PEER_CONFLICT",
    #[doc = "A package's `engines.node` excludes the running Node.js and `engine-strict` is set (npm's EBADENGINE)."]
    BadEngine = "E_BAD_ENGINE",
    #[doc = "`ls`: the installed tree has problems (a missing dependency, a version its range does not accept): npm's ELSPROBLEMS."]
    LsProblems = "E_LS_PROBLEMS",
    #[doc = "`why`: no installed package matches what was asked for."]
    NotInstalled = "E_NOT_INSTALLED",
}

/// What went wrong underneath an [`Error`] (an I/O error, …).
pub type Source = Arc<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone)]
pub struct Error {
    pub code: Code,
    /// What failed, in brisk's words, with what to do about it.
    pub message: String,
    /// The underlying error, kept as itself rather than as text.
    pub source: Option<Source>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            source: None,
        }
    }

    /// An I/O error with the path it happened on.
    pub fn io(context: impl fmt::Display, err: std::io::Error) -> Self {
        Error::new(Code::Io, context.to_string()).with_source(err)
    }

    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// The message followed by the underlying error, for people.
    pub fn detail(&self) -> String {
        match &self.source {
            Some(source) => format!("{}: {source}", self.message),
            None => self.message.clone(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.detail())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// Shorthand: `err!(Code::Manifest, "bad {}", x)`.
#[macro_export]
macro_rules! err {
    ($code:expr, $($arg:tt)*) => {
        $crate::error::Error::new($code, format!($($arg)*))
    };
}
