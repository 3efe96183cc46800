//! A package's executables, read from its `package.json` the way npm's
//! `npm-normalize-package-bin` and `@npmcli/package-json` do.

use serde_json::Value;

/// The `(command name, relative file path)` pairs a package declares.
///
/// - `"bin": "cli.js"` → the unscoped package name (`@s/foo` → `foo`);
/// - `"bin": { "a": "./a.js" }` → each entry (names reduced to their basename);
/// - no `bin` but `"directories": { "bin": "dir" }` → every file in `files`
///   under `dir` (not starting with `.`), named after its basename.
///
/// Targets are normalized like npm (`./x` → `x`, `..` cannot climb above the
/// package root, `\` → `/`). `files` are package-relative paths with `/`
/// separators; targets are not checked for existence here.
pub fn package_bins<'a>(
    manifest: &Value,
    files: impl IntoIterator<Item = &'a str>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    match manifest.get("bin") {
        Some(Value::String(target)) => {
            if let Some(Value::String(name)) = manifest.get("name") {
                push(&mut out, name, target);
            }
        }
        Some(Value::Object(map)) => {
            for (name, target) in map {
                if let Value::String(target) = target {
                    push(&mut out, name, target);
                }
            }
        }
        _ => {
            let Some(Value::String(dir)) = manifest.pointer("/directories/bin") else {
                return out;
            };
            let dir = normalize(dir);
            let prefix = if dir.is_empty() {
                String::new()
            } else {
                format!("{dir}/")
            };
            for file in files {
                if let Some(rest) = file.strip_prefix(&prefix) {
                    if !rest.is_empty() && !rest.starts_with('.') {
                        push(&mut out, basename(rest), file);
                    }
                }
            }
        }
    }
    out
}

fn push(out: &mut Vec<(String, String)>, name: &str, target: &str) {
    let name = normalize(basename(&name.replace(['\\', ':'], "/")));
    let target = normalize(target);
    if !name.is_empty() && !target.is_empty() {
        out.push((name, target));
    }
}

fn basename(path: &str) -> &str {
    path.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

/// `path.join('/', p).slice(1)`: resolves `.` and `..` without escaping.
pub(crate) fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}
