//! npm's shell quoting of extra arguments (`@npmcli/run-script`'s
//! `escape.sh`), so `brisk run x -- args` runs what `npm run x -- args` runs.

/// `arg` as one word for `sh -c`: unchanged when it has no special
/// character, else single-quoted (`'` becomes `'\''`).
pub fn sh(arg: &str) -> String {
    if arg.is_empty() {
        return "''".into();
    }
    if !arg.contains([
        '\t', '\n', '\r', ' ', '"', '#', '$', '&', '\'', '(', ')', '*', ';', '<', '>', '?', '\\',
        '`', '|', '~',
    ]) {
        return arg.into();
    }
    let quoted = format!("'{}'", arg.replace('\'', "'\\''"));
    // npm drops the empty '' pairs this makes around leading quotes.
    let mut s = quoted.as_str();
    while s.starts_with("''") && s.len() > 2 {
        s = &s[2..];
    }
    s.replace("\\'''", "\\'")
}

/// `script` with `args` appended as npm appends them.
pub fn with_args(script: &str, args: &[String]) -> String {
    let mut out = script.to_string();
    for a in args {
        out.push(' ');
        out.push_str(&sh(a));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_npm_escape_sh() {
        assert_eq!(sh(""), "''");
        assert_eq!(sh("plain-arg_1.2/x@y%z+=:,"), "plain-arg_1.2/x@y%z+=:,");
        assert_eq!(sh("a b"), "'a b'");
        assert_eq!(sh("d'e"), "'d'\\''e'");
        assert_eq!(sh("'quoted'"), "\\''quoted'\\'");
        assert_eq!(sh("$(rm -rf /)"), "'$(rm -rf /)'");
        assert_eq!(
            with_args("echo", &["a b".into(), "".into()]),
            "echo 'a b' ''"
        );
    }
}
