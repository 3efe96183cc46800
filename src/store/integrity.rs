//! Subresource Integrity (SRI) strings as npm writes them (`sha512-<base64>`,
//! `sha1-<base64>` for old packages, several hashes separated by spaces).
//!
//! Hand-written over `sha1`/`sha2` rather than the `ssri` crate because ssri 9
//! panics on an SRI with no hashes, rejects a whole string when one algorithm
//! is unknown (npm ignores it), and compares base64 text rather than the
//! decoded bytes (so padding differences fail). We also need a streaming
//! hasher for exactly the algorithm we verify against; that is ~100 lines.
//!
//! Verification follows npm's `ssri.checkData`: pick the strongest algorithm
//! present; the data is valid if any digest of that algorithm matches.

use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use sha1::Digest as _;

use crate::error::{Code, Error, Result};

/// Accepts digests with or without `=` padding.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Hash algorithms npm uses, ordered weakest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    /// The SRI name: `sha512`, `sha1`, ...
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn parse(name: &str) -> Option<Algorithm> {
        Some(match name {
            "sha1" => Algorithm::Sha1,
            "sha256" => Algorithm::Sha256,
            "sha384" => Algorithm::Sha384,
            "sha512" => Algorithm::Sha512,
            _ => return None,
        })
    }

    fn output_len(self) -> usize {
        match self {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha384 => 48,
            Algorithm::Sha512 => 64,
        }
    }
}

/// One hash: an algorithm and the raw digest bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Digest {
    pub algorithm: Algorithm,
    pub bytes: Vec<u8>,
}

impl Digest {
    /// `sha512-<base64>`.
    pub fn to_sri(&self) -> String {
        format!("{}-{}", self.algorithm.name(), STANDARD.encode(&self.bytes))
    }

    /// Lowercase hex of the digest bytes.
    pub fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(self.bytes.len() * 2);
        for b in &self.bytes {
            s.push(HEX[(b >> 4) as usize] as char);
            s.push(HEX[(b & 15) as usize] as char);
        }
        s
    }
}

/// A parsed SRI string: the hashes of its strongest algorithm, in input order
/// (weaker hashes are never used for verification, so they are dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sri {
    hashes: Vec<Digest>,
}

impl Sri {
    /// Parses an SRI string. Unknown algorithms, `?options` suffixes and
    /// malformed digests are ignored like npm does; `E_INTEGRITY` when no
    /// usable hash remains.
    pub fn parse(s: &str) -> Result<Sri> {
        let mut hashes: Vec<Digest> = Vec::new();
        for token in s.split_whitespace() {
            let token = token.split('?').next().unwrap_or("");
            let Some((algo, b64)) = token.split_once('-') else {
                continue;
            };
            let Some(algorithm) = Algorithm::parse(algo) else {
                continue;
            };
            let Ok(bytes) = LENIENT.decode(b64) else {
                continue;
            };
            if bytes.len() != algorithm.output_len() {
                continue;
            }
            match hashes.first() {
                Some(h) if h.algorithm > algorithm => continue,
                Some(h) if h.algorithm < algorithm => hashes.clear(),
                _ => {}
            }
            hashes.push(Digest { algorithm, bytes });
        }
        if hashes.is_empty() {
            return Err(Error::new(
                Code::Integrity,
                format!("invalid integrity string {s:?}: expected e.g. \"sha512-<base64>\""),
            ));
        }
        Ok(Sri { hashes })
    }

    /// The strongest algorithm present (the one verification uses).
    pub fn algorithm(&self) -> Algorithm {
        self.hashes[0].algorithm
    }

    /// The digests of the strongest algorithm (usually exactly one).
    pub fn digests(&self) -> &[Digest] {
        &self.hashes
    }

    /// Whether `actual` (a digest of the data) satisfies this SRI.
    pub fn matches(&self, actual: &Digest) -> bool {
        self.hashes.iter().any(|h| h == actual)
    }

    /// A streaming hasher for the algorithm verification needs.
    pub fn hasher(&self) -> Hasher {
        Hasher::new(self.algorithm())
    }
}

/// Incremental hashing, fed chunk by chunk as a download streams in.
#[derive(Clone)]
pub enum Hasher {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl Hasher {
    pub fn new(algorithm: Algorithm) -> Hasher {
        match algorithm {
            Algorithm::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Sha384 => Hasher::Sha384(sha2::Sha384::new()),
            Algorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    pub fn finish(self) -> Digest {
        let (algorithm, bytes) = match self {
            Hasher::Sha1(h) => (Algorithm::Sha1, h.finalize().to_vec()),
            Hasher::Sha256(h) => (Algorithm::Sha256, h.finalize().to_vec()),
            Hasher::Sha384(h) => (Algorithm::Sha384, h.finalize().to_vec()),
            Hasher::Sha512(h) => (Algorithm::Sha512, h.finalize().to_vec()),
        };
        Digest { algorithm, bytes }
    }
}

/// The digest of `data` with `algorithm`.
pub fn digest(algorithm: Algorithm, data: &[u8]) -> Digest {
    let mut h = Hasher::new(algorithm);
    h.update(data);
    h.finish()
}

/// `sha512-<base64>` of `data` (what npm writes into lockfiles).
pub fn sha512_sri(data: &[u8]) -> String {
    digest(Algorithm::Sha512, data).to_sri()
}

/// Checks `data` against an SRI string (npm semantics, see the module doc).
/// Returns the matching digest; `E_INTEGRITY` naming expected and actual
/// hashes on a mismatch or an unusable SRI string.
pub fn verify(data: &[u8], integrity: &str) -> Result<Digest> {
    let sri = Sri::parse(integrity)?;
    let actual = digest(sri.algorithm(), data);
    if sri.matches(&actual) {
        Ok(actual)
    } else {
        Err(mismatch(integrity, &actual))
    }
}

/// The `E_INTEGRITY` error for a mismatch (callers prefix the package name).
pub(crate) fn mismatch(expected: &str, actual: &Digest) -> Error {
    Error::new(
        Code::Integrity,
        format!(
            "integrity check failed: expected {expected}, got {}",
            actual.to_sri()
        ),
    )
}
