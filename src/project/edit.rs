//! Editing `package.json` the way `npm install <pkg>` / `npm uninstall <pkg>`
//! do (arborist's add-rm-pkg-deps, reify's spec update and
//! @npmcli/package-json's updateDependencies), while keeping the file's own
//! formatting: indentation (spaces or tabs), line endings, a byte-order
//! mark and the presence or absence of the final newline.
//!
//! npm's rules, reproduced here:
//! - with a save type, the name moves to that section (prod leaves dev,
//!   peer and optional; dev leaves prod; optional leaves prod and peer; peer
//!   leaves prod and optional, and updates a devDependencies copy);
//! - without one, an existing dependency keeps its section(s) (dev, then
//!   optional, then prod, then peer) and gets the new spec there;
//! - on every save each dependency section is sorted (`localeCompare 'en'`),
//!   empty sections are dropped, and a new section goes at the end.
//!
//! One deliberate difference: npm always ends a formatted file with a
//! newline; brisk keeps the file's own ending, so an add followed by a
//! remove gives the original bytes back.

use serde_json::{Map, Value};

use crate::error::{Code, Error, Result};
use crate::locale::locale_cmp;

/// Where `--save-*` puts a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveType {
    Prod,
    Dev,
    Optional,
    Peer,
}

impl SaveType {
    /// `prod`, `dev`, `optional`, `peer` (the JS API's `saveType`).
    pub fn parse(s: &str) -> Result<SaveType> {
        match s {
            "prod" => Ok(SaveType::Prod),
            "dev" => Ok(SaveType::Dev),
            "optional" => Ok(SaveType::Optional),
            "peer" => Ok(SaveType::Peer),
            other => Err(Error::new(
                Code::Config,
                format!("invalid saveType '{other}': expected prod, dev, optional or peer"),
            )),
        }
    }

    /// The package.json key of the section.
    pub fn key(self) -> &'static str {
        match self {
            SaveType::Prod => DEPS,
            SaveType::Dev => DEV,
            SaveType::Optional => OPT,
            SaveType::Peer => PEER,
        }
    }
}

const DEPS: &str = "dependencies";
const DEV: &str = "devDependencies";
const OPT: &str = "optionalDependencies";
const PEER: &str = "peerDependencies";
const PEER_META: &str = "peerDependenciesMeta";
/// npm's order for inferring where an existing dependency lives.
const INFER_ORDER: [SaveType; 4] = [
    SaveType::Dev,
    SaveType::Optional,
    SaveType::Prod,
    SaveType::Peer,
];
/// The sections npm sorts and prunes on save.
const SECTIONS: [&str; 4] = [DEPS, OPT, DEV, PEER];

/// How the file was written, so it can be written back the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Format {
    bom: bool,
    /// Empty for a one-line (minified) file.
    indent: String,
    /// `\n` or `\r\n`.
    newline: String,
    /// What followed the closing brace (`""`, `\n`, `\r\n`).
    ending: String,
    minified: bool,
}

/// The indentation and line ending a JSON file was written with, as
/// json-parse-even-better-errors detects them; None for a one-line file.
pub fn json_style(text: &str) -> Option<(String, String)> {
    let f = Format::detect(text);
    (!f.minified).then_some((f.indent, f.newline))
}

impl Format {
    /// json-parse-even-better-errors' detection: the newline and the
    /// indentation right after the opening brace.
    fn detect(text: &str) -> Format {
        let bom = text.starts_with('\u{feff}');
        let body = text.trim_start_matches('\u{feff}');
        let ending = if body.ends_with("\r\n") {
            "\r\n"
        } else if body.ends_with('\n') {
            "\n"
        } else {
            ""
        };
        let after = body.trim_start().strip_prefix('{').unwrap_or("");
        let newline = if after.starts_with("\r\n") {
            Some("\r\n")
        } else if after.starts_with('\n') {
            Some("\n")
        } else {
            None
        };
        match newline {
            Some(nl) => {
                let rest = after.trim_start_matches(['\r', '\n']);
                let indent: String = rest
                    .chars()
                    .take_while(|c| *c == ' ' || *c == '\t')
                    .collect();
                Format {
                    bom,
                    indent: if indent.is_empty() {
                        "  ".into()
                    } else {
                        indent
                    },
                    newline: nl.into(),
                    ending: ending.into(),
                    minified: false,
                }
            }
            None => Format {
                bom,
                indent: if body.trim() == "{}" { "  " } else { "" }.into(),
                newline: if ending.is_empty() { "\n" } else { ending }.into(),
                ending: ending.into(),
                // `{}` alone: npm writes it formatted with two spaces.
                minified: body.trim() != "{}",
            },
        }
    }
}

/// A package.json being edited.
#[derive(Debug, Clone)]
pub struct Manifest {
    doc: Map<String, Value>,
    original: Map<String, Value>,
    format: Format,
    /// npm's "Removing dependencies.x in favor of devDependencies.x".
    pub warnings: Vec<String>,
}

impl Manifest {
    /// Parse package.json text (`E_MANIFEST` when it is not a JSON object).
    pub fn parse(text: &str) -> Result<Manifest> {
        let body = text.trim_start_matches('\u{feff}');
        let doc = match serde_json::from_str::<Value>(body) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                return Err(Error::new(
                    Code::Manifest,
                    "package.json must hold a JSON object",
                ))
            }
            Err(e) => {
                return Err(Error::new(
                    Code::Manifest,
                    format!("package.json is not valid JSON ({e}). Fix the file and try again."),
                ))
            }
        };
        for key in SECTIONS {
            if !matches!(
                doc.get(key),
                None | Some(Value::Object(_)) | Some(Value::Null)
            ) {
                return Err(Error::new(
                    Code::Manifest,
                    format!("package.json \"{key}\" must be an object"),
                ));
            }
        }
        Ok(Manifest {
            original: doc.clone(),
            doc,
            format: Format::detect(text),
            warnings: Vec::new(),
        })
    }

    /// The spec of `name` in section `key`, if any.
    pub fn get(&self, key: &str, name: &str) -> Option<&str> {
        self.doc.get(key)?.as_object()?.get(name)?.as_str()
    }

    fn has(&self, key: &str, name: &str) -> bool {
        self.doc
            .get(key)
            .and_then(Value::as_object)
            .is_some_and(|m| m.contains_key(name))
    }

    fn set(&mut self, key: &str, name: &str, spec: &str) {
        let section = self
            .doc
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !section.is_object() {
            *section = Value::Object(Map::new());
        }
        if let Value::Object(m) = section {
            m.insert(name.to_string(), Value::String(spec.to_string()));
        }
    }

    /// Delete `name` from section `key` (dropping the section when it
    /// empties); `replaced_by` adds npm's warning.
    fn delete(&mut self, key: &str, name: &str, replaced_by: Option<&str>) {
        if !self.has(key, name) {
            return;
        }
        if let Some(by) = replaced_by {
            self.warnings
                .push(format!("Removing {key}.{name} in favor of {by}.{name}"));
        }
        if let Some(Value::Object(m)) = self.doc.get_mut(key) {
            m.shift_remove(name);
            if m.is_empty() {
                self.doc.shift_remove(key);
            }
        }
        if key == PEER {
            if let Some(Value::Object(meta)) = self.doc.get_mut(PEER_META) {
                meta.shift_remove(name);
                if meta.is_empty() {
                    self.doc.shift_remove(PEER_META);
                }
            }
        }
    }

    /// Where an existing dependency lives (npm's inferSaveType), `None`
    /// when it is not a dependency yet.
    pub fn infer(&self, name: &str) -> Option<SaveType> {
        INFER_ORDER.into_iter().find(|t| self.has(t.key(), name))
    }

    /// Save `name` with `spec` (already in its saved form, e.g. `^1.2.3`).
    pub fn add(&mut self, name: &str, spec: &str, save_type: Option<SaveType>) {
        let t = save_type
            .or_else(|| self.infer(name))
            .unwrap_or(SaveType::Prod);
        let to = Some(t.key());
        match t {
            SaveType::Prod => {
                self.delete(DEV, name, to);
                self.delete(PEER, name, to);
            }
            SaveType::Dev => self.delete(DEPS, name, to),
            SaveType::Optional => {
                self.delete(PEER, name, to);
                // npm keeps optional dependencies out of `dependencies`.
                self.delete(DEPS, name, None);
            }
            SaveType::Peer => {
                self.delete(DEPS, name, to);
                self.delete(OPT, name, to);
            }
        }
        self.set(t.key(), name, spec);
        if save_type == Some(SaveType::Prod) {
            self.delete(OPT, name, None);
        }
        if t == SaveType::Peer {
            if let Some(Value::Object(meta)) = self.doc.get_mut(PEER_META) {
                if let Some(Value::Object(m)) = meta.get_mut(name) {
                    if m.get("optional") == Some(&Value::Bool(true)) {
                        m.insert("optional".into(), Value::Bool(false));
                    }
                }
            }
            if self.has(DEV, name) {
                self.set(DEV, name, spec);
            }
        }
        if save_type.is_none() {
            // reify: the new spec goes everywhere the dependency already is;
            // a dev copy leaves peer/optional ranges alone when they still
            // overlap.
            if self.has(DEV, name) {
                for key in [PEER, OPT] {
                    let overlap = self.get(key, name).is_some_and(|old| intersects(old, spec));
                    if self.has(key, name) && !overlap {
                        self.set(key, name, spec);
                    }
                }
            } else {
                for key in [DEPS, PEER, OPT] {
                    if self.has(key, name) {
                        self.set(key, name, spec);
                    }
                }
            }
        }
    }

    /// Give `name` the spec `spec` in every section that has it (no moves,
    /// no warnings).
    pub fn replace_spec(&mut self, name: &str, spec: &str) {
        for key in SECTIONS {
            if self.has(key, name) {
                self.set(key, name, spec);
            }
        }
    }

    /// Remove `name` from every dependency section (npm's `rm`); absent
    /// names are not an error.
    pub fn remove(&mut self, name: &str) {
        for key in [DEV, OPT, DEPS, PEER] {
            self.delete(key, name, None);
        }
        if let Some(Value::Array(bundled)) = self.doc.get_mut("bundleDependencies") {
            bundled.retain(|v| v.as_str() != Some(name));
            if bundled.is_empty() {
                self.doc.shift_remove("bundleDependencies");
            }
        }
    }

    /// The document npm would save: sorted sections, no empty ones, no
    /// optional dependency repeated in `dependencies`.
    pub fn document(&self) -> Map<String, Value> {
        let mut doc = self.doc.clone();
        for key in SECTIONS {
            if let Some(Value::Object(m)) = doc.get_mut(key) {
                let mut entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
                entries.sort_by(|a, b| locale_cmp(&a.0, &b.0));
                m.extend(entries);
            }
        }
        let optional: Vec<String> = match doc.get(OPT) {
            Some(Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        };
        if let Some(Value::Object(deps)) = doc.get_mut(DEPS) {
            for name in &optional {
                deps.shift_remove(name);
            }
        }
        for key in SECTIONS {
            if matches!(doc.get(key), Some(Value::Object(m)) if m.is_empty()) {
                doc.shift_remove(key);
            }
        }
        // A name that was both a prod and a peer dependency stays both.
        let both: Vec<String> = match (self.original.get(DEPS), self.original.get(PEER)) {
            (Some(Value::Object(p)), Some(Value::Object(peer))) => peer
                .keys()
                .filter(|n| p.contains_key(*n))
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
        for name in both {
            if let Some(spec) = doc.get(PEER).and_then(|m| m.get(&name)).cloned() {
                if let Value::Object(deps) = doc
                    .entry(DEPS.to_string())
                    .or_insert_with(|| Value::Object(Map::new()))
                {
                    deps.insert(name, spec);
                }
            }
        }
        doc
    }

    /// The file text, formatted like the original.
    pub fn render(&self) -> String {
        let doc = Value::Object(self.document());
        let f = &self.format;
        let mut out = String::new();
        if f.bom {
            out.push('\u{feff}');
        }
        if f.minified {
            out.push_str(&serde_json::to_string(&doc).expect("JSON values serialize"));
        } else {
            let mut buf = Vec::new();
            let fmt = serde_json::ser::PrettyFormatter::with_indent(f.indent.as_bytes());
            let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
            serde::Serialize::serialize(&doc, &mut ser).expect("JSON values serialize");
            let text = String::from_utf8(buf).expect("serde_json writes UTF-8");
            if f.newline == "\n" {
                out.push_str(&text);
            } else {
                out.push_str(&text.replace('\n', &f.newline));
            }
        }
        out.push_str(&f.ending);
        out
    }
}

/// Do two specs allow a common version? Non-range specs count as not
/// overlapping (npm then writes the new spec).
fn intersects(a: &str, b: &str) -> bool {
    use nodejs_semver::Range;
    match (Range::parse(a), Range::parse(b)) {
        (Ok(x), Ok(y)) => x.allows_any(&y),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
