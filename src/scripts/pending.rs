//! Installed packages whose install scripts have not run (not trusted, or
//! `ignore-scripts`), remembered in `node_modules/.brisk-scripts` so that
//! trusting one later runs its scripts once, on a fresh private copy.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::lockfile;

/// Where the list lives, relative to the project.
pub const FILE: &str = "node_modules/.brisk-scripts";

/// Location → `name@version` of packages whose scripts are pending.
pub type Pending = BTreeMap<String, String>;

/// The recorded list (empty when there is none or it is unreadable).
pub fn read(cwd: &Path) -> Pending {
    let Ok(text) = std::fs::read_to_string(cwd.join(FILE)) else {
        return Pending::new();
    };
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    doc.get("pending")
        .and_then(|p| p.as_object())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Record `pending` (removes the file when empty).
pub fn write(cwd: &Path, pending: &Pending) -> Result<()> {
    let path = cwd.join(FILE);
    if pending.is_empty() {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path.display(), e)),
            _ => Ok(()),
        };
    }
    let doc = serde_json::json!({ "pending": pending });
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
    lockfile::write_atomic(&path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_empty_removes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("node_modules")).unwrap();
        assert!(read(dir.path()).is_empty());
        let p = Pending::from([("node_modules/a".into(), "a@1.0.0".into())]);
        write(dir.path(), &p).unwrap();
        assert_eq!(read(dir.path()), p);
        write(dir.path(), &Pending::new()).unwrap();
        assert!(!dir.path().join(FILE).exists());
    }
}
