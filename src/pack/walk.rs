//! The npm-packlist walk (npm 10's npm-packlist 8–10): which files of a
//! package directory `npm pack` puts in the tarball.
//!
//! Each directory level has rule sets applied in order — built-in defaults,
//! the root package.json (`files`), `.npmignore` (else `.gitignore`), strict
//! rules — and an entry starts from what the parent level decided about
//! `dir/entry`. Within the sets the last matching rule wins. A directory is
//! walked when it passes as a directory, or when a negation could match
//! something below it (ignore-walk's partial match).

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};

use super::rules::Rule;

/// Excluded everywhere unless re-included (npm-packlist's `defaults`).
const DEFAULTS: &[&str] = &[
    ".npmignore",
    ".gitignore",
    "**/.git",
    "**/.svn",
    "**/.hg",
    "**/CVS",
    "**/.git/**",
    "**/.svn/**",
    "**/.hg/**",
    "**/CVS/**",
    "/.lock-wscript",
    "/.wafpickle-*",
    "/build/config.gypi",
    "npm-debug.log",
    "**/.npmrc",
    ".*.swp",
    ".DS_Store",
    "**/.DS_Store/**",
    "._*",
    "**/._*/**",
    "*.orig",
    "/archived-packages/**",
];

/// The root's strict rules, applied last (after any required files).
const ROOT_STRICT: &[&str] = &[
    "/.git",
    "!/package.json",
    "!/readme{,.*[^~$]}",
    "!/copying{,.*[^~$]}",
    "!/license{,.*[^~$]}",
    "!/licence{,.*[^~$]}",
    "/.git",
    "/node_modules",
    ".npmrc",
    "/package-lock.json",
    "/yarn.lock",
    "/pnpm-lock.yaml",
];

struct Level {
    /// This directory's name (unused for the root).
    basename: String,
    sets: Vec<Vec<Rule>>,
}

/// The package's file list, `/`-separated and relative to `dir`, in npm's
/// order. `manifest` is the package.json (`files`, `main`, `browser`, `bin`);
/// `None` when there is none, which packs like an empty manifest.
pub(crate) fn packlist(dir: &Path, manifest: Option<&Value>) -> Result<Vec<String>> {
    let empty = Value::Object(Default::default());
    let manifest = manifest.unwrap_or(&empty);
    let defaults: Vec<Rule> = DEFAULTS.iter().filter_map(|r| Rule::parse(r)).collect();
    let (files_rules, strict, required) = package_rules(dir, manifest);
    let mut walker = Walker {
        defaults,
        levels: Vec::new(),
        out: Vec::new(),
    };
    walker.walk(dir, "", Some((files_rules, strict)), required)?;
    let mut out = walker.out;
    out.sort_by(|a, b| npm_order(a, b));
    Ok(out)
}

struct Walker {
    defaults: Vec<Rule>,
    levels: Vec<Level>,
    out: Vec<String>,
}

impl Walker {
    /// Walks `abs` (= `rel` under the root). `root_rules` is the root's
    /// package.json and strict sets; other levels get strict defaults plus
    /// the `required` files directly inside them.
    fn walk(
        &mut self,
        abs: &Path,
        rel: &str,
        root_rules: Option<(Option<Vec<Rule>>, Vec<Rule>)>,
        required: Vec<String>,
    ) -> Result<()> {
        let mut entries = Vec::new();
        let read = fs::read_dir(abs).map_err(|e| Error::io(abs.display(), e))?;
        for entry in read {
            let entry = entry.map_err(|e| Error::io(abs.display(), e))?;
            if let Ok(name) = entry.file_name().into_string() {
                entries.push(name);
            }
        }
        entries.sort();
        let read_ignore = |name: &str| -> Result<Option<Vec<Rule>>> {
            if !entries.iter().any(|e| e == name) {
                return Ok(None);
            }
            let path = abs.join(name);
            match fs::read(&path) {
                Ok(bytes) => Ok(Some(Rule::parse_all(&String::from_utf8_lossy(&bytes)))),
                // A directory named .npmignore is not an ignore file.
                Err(_) if path.is_dir() => Ok(None),
                Err(e) => Err(Error::io(path.display(), e)),
            }
        };
        let mut npmignore = read_ignore(".npmignore")?;
        let mut gitignore = read_ignore(".gitignore")?;
        let (files_rules, strict) = match root_rules {
            Some((files, strict)) => (files, strict),
            None => {
                let mut strict: Vec<Rule> = Rule::parse("/.git").into_iter().collect();
                strict.extend(
                    required
                        .iter()
                        .filter_map(|f| Rule::parse(&format!("!{f}"))),
                );
                (None, strict)
            }
        };
        // package.json `files` overrides both ignore files; .npmignore
        // overrides .gitignore (even an empty one).
        if files_rules.is_some() {
            npmignore = None;
            gitignore = None;
        } else if npmignore.is_some() {
            gitignore = None;
        }
        let sets = [
            Some(self.defaults.clone()),
            files_rules,
            npmignore,
            gitignore,
            Some(strict),
        ];
        let basename = rel.rsplit('/').next().unwrap_or("").to_string();
        self.levels.push(Level {
            basename,
            sets: sets.into_iter().flatten().collect(),
        });
        let result = self.walk_entries(abs, rel, &entries, &required);
        self.levels.pop();
        result
    }

    fn walk_entries(
        &mut self,
        abs: &Path,
        rel: &str,
        entries: &[String],
        required: &[String],
    ) -> Result<()> {
        for name in entries {
            // npm-packlist refuses names that break on Windows.
            if name.contains('*') {
                continue;
            }
            let as_file = filter(&self.levels, name, false);
            let as_dir = filter(&self.levels, name, true);
            if !as_file && !as_dir {
                continue;
            }
            let path = abs.join(name);
            let meta = fs::symlink_metadata(&path).map_err(|e| Error::io(path.display(), e))?;
            let child_rel = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if meta.is_dir() && as_dir {
                let inside = required
                    .iter()
                    .filter_map(|f| f.strip_prefix(name.as_str())?.strip_prefix('/'))
                    .filter(|f| !f.contains('/'))
                    .map(str::to_string)
                    .collect();
                self.walk(&path, &child_rel, None, inside)?;
            } else if meta.is_file() && as_file {
                self.out.push(child_rel);
            }
            // Symlinks and special files are never packed.
        }
        Ok(())
    }
}

/// ignore-walk's `filterEntry`: the parent's verdict on `dir/entry`, then
/// this level's rules in order (the last match wins).
fn filter(levels: &[Level], entry: &str, partial: bool) -> bool {
    let Some((last, parents)) = levels.split_last() else {
        return true;
    };
    let mut included = true;
    if !parents.is_empty() {
        included = filter(parents, &format!("{}/{}", last.basename, entry), partial);
        if !included && partial {
            return false;
        }
    }
    for rule in last.sets.iter().flatten() {
        if rule.negate != included && rule.applies(entry, partial) {
            included = rule.negate;
        }
    }
    included
}

/// The root's `files` rule set (if the manifest has `files`), its strict
/// rules, and the required files (plain files named in `files`).
fn package_rules(dir: &Path, manifest: &Value) -> (Option<Vec<Rule>>, Vec<Rule>, Vec<String>) {
    let mut strict_head = Vec::new();
    let mut required = Vec::new();
    let files_rules = manifest
        .get("files")
        .and_then(Value::as_array)
        .map(|files| {
            let mut rules = vec!["*".to_string()];
            for file in files.iter().filter_map(Value::as_str) {
                let mut file = file
                    .strip_prefix("./")
                    .map_or(file.to_string(), |f| format!("/{f}"));
                if file.ends_with("/*") {
                    file.push('*');
                }
                let bangs = file.bytes().take_while(|&b| b == b'!').count();
                let bare = &file[bangs..];
                let inverse = format!("!{file}");
                match fs::symlink_metadata(dir.join(bare.trim_start_matches('/'))) {
                    Ok(meta) if meta.is_file() => {
                        if bangs == 0 {
                            required.push(bare.trim_start_matches('/').to_string());
                        }
                        strict_head.push(inverse);
                    }
                    Ok(meta) if meta.is_dir() => {
                        rules.push(format!("{inverse}/**"));
                        rules.push(inverse);
                    }
                    Ok(_) => {}
                    Err(_) => rules.push(inverse),
                }
            }
            rules.iter().filter_map(|r| Rule::parse(r)).collect()
        });
    let mut strict: Vec<String> = strict_head.into_iter().rev().collect();
    strict.extend(ROOT_STRICT.iter().map(|s| s.to_string()));
    for key in ["browser", "main"] {
        if let Some(path) = manifest.get(key).and_then(Value::as_str) {
            strict.push(format!("!/{}", clean(path)));
        }
    }
    match manifest.get("bin") {
        Some(Value::String(path)) => strict.push(format!("!/{}", clean(path))),
        Some(Value::Object(bins)) => {
            for path in bins.values().filter_map(Value::as_str) {
                strict.push(format!("!/{}", clean(path)));
            }
        }
        _ => {}
    }
    let strict = strict.iter().filter_map(|r| Rule::parse(r)).collect();
    (files_rules, strict, required)
}

/// `./lib/x.js` → `lib/x.js` (as npm-normalize-package-bin cleans paths).
fn clean(path: &str) -> &str {
    let mut p = path.trim_start_matches('/');
    while let Some(rest) = p.strip_prefix("./") {
        p = rest.trim_start_matches('/');
    }
    p
}

/// npm-packlist's sort (for compressibility): extension, basename, path.
fn npm_order(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(p: &str) -> (String, String, String) {
        let base = p.rsplit('/').next().unwrap_or(p);
        let ext = match base.rfind('.') {
            Some(i) if i > 0 => &base[i..],
            _ => "",
        };
        (ext.to_lowercase(), base.to_lowercase(), p.to_lowercase())
    }
    parts(a).cmp(&parts(b)).then_with(|| a.cmp(b))
}
