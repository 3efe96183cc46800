//! `.npmrc` parsing the way npm's `ini` package (v4) decodes it, plus npm's
//! `${VAR}` environment expansion.
//!
//! Differences from generic ini crates that matter for `.npmrc`:
//! - a key is everything up to the first `=` (so `//host/:_authToken=x` works);
//! - `key[]=v` builds arrays; a key without `=` means `true`;
//! - unquoted values end at the first unescaped `;` or `#`;
//! - `"…"` values are JSON strings, `'…'` values are taken literally;
//! - `[section]` headers start a section; keys inside sections are not
//!   top-level config keys, so they are dropped here (npm ignores them too).

use std::collections::HashMap;

/// One decoded value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IniValue {
    /// A plain string (already unquoted and unescaped).
    Str(String),
    /// `true`/`false` (a bare `key` is `true`).
    Bool(bool),
    /// `key[]=a`, `key[]=b`.
    List(Vec<String>),
    /// The literal `null`.
    Null,
}

impl IniValue {
    fn to_item(&self) -> String {
        match self {
            IniValue::Str(s) => s.clone(),
            IniValue::Bool(b) => b.to_string(),
            IniValue::Null => "null".to_string(),
            IniValue::List(l) => l.join(","),
        }
    }
}

/// Decodes `.npmrc` text into top-level `key → value` pairs, in file order
/// (a later duplicate key wins, as in npm).
pub fn decode(text: &str) -> Vec<(String, IniValue)> {
    let mut out: Vec<(String, IniValue)> = Vec::new();
    let mut in_section = false;
    for line in text.split(['\r', '\n']) {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with(';') || trimmed.starts_with('#') {
            continue;
        }
        if is_section(line) {
            in_section = true;
            continue;
        }
        let (raw_key, raw_value) = match line.find('=') {
            Some(0) => continue, // `^([^=]+)` needs at least one key character
            Some(i) => (&line[..i], Some(&line[i + 1..])),
            None => (line, None),
        };
        if in_section {
            continue;
        }
        let key_raw = unsafe_value(raw_key);
        let is_array = key_raw.len() > 2 && key_raw.ends_with("[]");
        let key = if is_array {
            key_raw[..key_raw.len() - 2].to_string()
        } else {
            key_raw
        };
        if key == "__proto__" {
            continue;
        }
        let value = match raw_value {
            None => IniValue::Bool(true),
            Some(v) => match unsafe_value(v).as_str() {
                "true" => IniValue::Bool(true),
                "false" => IniValue::Bool(false),
                "null" => IniValue::Null,
                s => IniValue::Str(s.to_string()),
            },
        };
        let existing = out.iter().position(|(k, _)| *k == key);
        match (is_array, existing) {
            (true, Some(i)) => {
                let item = value.to_item();
                match &mut out[i].1 {
                    IniValue::List(l) => l.push(item),
                    other => *other = IniValue::List(vec![other.to_item(), item]),
                }
            }
            (true, None) => out.push((key, IniValue::List(vec![value.to_item()]))),
            (false, Some(i)) => match &mut out[i].1 {
                // npm pushes onto an existing array even without `[]`.
                IniValue::List(l) => l.push(value.to_item()),
                other => *other = value,
            },
            (false, None) => out.push((key, value)),
        }
    }
    out
}

/// `^\[([^\]]*)\]\s*$`
fn is_section(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('[') else {
        return false;
    };
    match rest.find(']') {
        Some(i) => rest[i + 1..].trim().is_empty(),
        None => false,
    }
}

/// npm ini's `unsafe()`: unquote, or cut at the first unescaped `;`/`#`.
fn unsafe_value(val: &str) -> String {
    let val = val.trim();
    let quoted = val.len() >= 2
        && ((val.starts_with('"') && val.ends_with('"'))
            || (val.starts_with('\'') && val.ends_with('\'')));
    if quoted {
        if val.starts_with('\'') {
            let inner = &val[1..val.len() - 1];
            // npm then tries JSON.parse on the inner text; a JSON string
            // literal inside single quotes is unusual, keep the literal.
            return match serde_json::from_str::<String>(inner) {
                Ok(s) => s,
                Err(_) => inner.to_string(),
            };
        }
        return match serde_json::from_str::<String>(val) {
            Ok(s) => s,
            Err(_) => val.to_string(),
        };
    }
    let mut out = String::with_capacity(val.len());
    let mut esc = false;
    for c in val.chars() {
        if esc {
            if matches!(c, '\\' | ';' | '#') {
                out.push(c);
            } else {
                out.push('\\');
                out.push(c);
            }
            esc = false;
        } else if c == ';' || c == '#' {
            break;
        } else if c == '\\' {
            esc = true;
        } else {
            out.push(c);
        }
    }
    if esc {
        out.push('\\');
    }
    out.trim().to_string()
}

/// npm's `envReplace`: `${NAME}` → the variable's value (left as-is when the
/// variable is not set), `${NAME?}` → the value or an empty string. A
/// backslash before `$` escapes it (pairs of backslashes collapse).
pub fn env_replace(s: &str, env: &HashMap<String, String>) -> String {
    if !s.contains("${") {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        // Find a run of backslashes followed by `${`.
        let start = i;
        let mut j = i;
        while j < s.len() && bytes[j] == b'\\' {
            j += 1;
        }
        if j + 1 < s.len() && bytes[j] == b'$' && bytes[j + 1] == b'{' {
            // `(?<!\\)` is implied: we consumed every backslash before `$`.
            let name_start = j + 2;
            let close = s[name_start..].find('}').map(|k| name_start + k);
            if let Some(close) = close {
                let inner = &s[name_start..close];
                let (name, optional) = match inner.strip_suffix('?') {
                    Some(n) => (n, true),
                    None => (inner, false),
                };
                let valid = !name.is_empty() && !name.contains(['$', '{', '}', '?']);
                if valid {
                    let esc = j - start;
                    if esc % 2 == 1 {
                        // Escaped: drop half the backslashes (+1), keep `${…}` literal.
                        out.push_str(&s[start + esc.div_ceil(2)..=close]);
                    } else {
                        out.push_str(&"\\".repeat(esc / 2));
                        match env.get(name) {
                            Some(v) => out.push_str(v),
                            None if optional => {}
                            None => out.push_str(&format!("${{{name}}}")),
                        }
                    }
                    i = close + 1;
                    continue;
                }
            }
        }
        if j > i {
            out.push_str(&s[i..j]);
            i = j;
        } else {
            let c = s[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(v: &'a [(String, IniValue)], k: &str) -> Option<&'a IniValue> {
        v.iter().find(|(key, _)| key == k).map(|(_, v)| v)
    }

    #[test]
    fn decodes_npm_style_ini() {
        let text = "\
; comment
# another comment
registry = https://r.example/ ; trailing comment
//r.example/:_authToken=abc#def
quoted=\"a;b#c\"
single='x;y'
escaped=a\\;b
flag
off=false
omit[]=dev
omit[]=optional
   indented = yes
=nokey
[section]
inside=1
";
        let v = decode(text);
        assert_eq!(
            get(&v, "registry"),
            Some(&IniValue::Str("https://r.example/".into()))
        );
        assert_eq!(
            get(&v, "//r.example/:_authToken"),
            Some(&IniValue::Str("abc".into()))
        );
        assert_eq!(get(&v, "quoted"), Some(&IniValue::Str("a;b#c".into())));
        assert_eq!(get(&v, "single"), Some(&IniValue::Str("x;y".into())));
        assert_eq!(get(&v, "escaped"), Some(&IniValue::Str("a;b".into())));
        assert_eq!(get(&v, "flag"), Some(&IniValue::Bool(true)));
        assert_eq!(get(&v, "off"), Some(&IniValue::Bool(false)));
        assert_eq!(
            get(&v, "omit"),
            Some(&IniValue::List(vec!["dev".into(), "optional".into()]))
        );
        assert_eq!(get(&v, "indented"), Some(&IniValue::Str("yes".into())));
        assert_eq!(get(&v, "inside"), None);
        assert!(v.iter().all(|(k, _)| !k.is_empty()));
    }

    #[test]
    fn later_duplicate_wins() {
        let v = decode("a=1\r\na=2\n");
        assert_eq!(get(&v, "a"), Some(&IniValue::Str("2".into())));
    }

    #[test]
    fn env_expansion() {
        let env: HashMap<String, String> = [("TOKEN".to_string(), "s3cr3t".to_string())].into();
        assert_eq!(env_replace("${TOKEN}", &env), "s3cr3t");
        assert_eq!(env_replace("a-${TOKEN}-b", &env), "a-s3cr3t-b");
        assert_eq!(env_replace("${MISSING}", &env), "${MISSING}");
        assert_eq!(env_replace("${MISSING?}", &env), "");
        assert_eq!(env_replace("\\${TOKEN}", &env), "${TOKEN}");
        assert_eq!(env_replace("\\\\${TOKEN}", &env), "\\s3cr3t");
        assert_eq!(env_replace("$TOKEN", &env), "$TOKEN");
        assert_eq!(env_replace("${TOKEN", &env), "${TOKEN");
        assert_eq!(env_replace("é${TOKEN}é", &env), "és3cr3té");
    }
}
