use std::fs;
use std::io::Read;
use std::path::Path;

use super::*;

/// Writes `(path, contents)` pairs under `dir`, creating parents.
fn write(dir: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn list(dir: &Path) -> Vec<String> {
    sorted(packlist(dir).unwrap())
}

/// (path, mode, contents) of every entry of a .tgz.
pub(crate) fn tgz_entries(bytes: &[u8]) -> Vec<(String, u32, String)> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut out = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mode = entry.header().mode().unwrap();
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        out.push((path, mode, text));
    }
    out
}

#[test]
fn without_rules_everything_but_the_builtin_exclusions() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            ("package.json", r#"{"name":"a","version":"1.0.0"}"#),
            ("index.js", ""),
            ("lib/util.js", ""),
            (".git/HEAD", ""),
            ("sub/.git", ""),
            ("node_modules/dep/index.js", ""),
            (".npmrc", "x"),
            ("lib/.npmrc", "x"),
            ("package-lock.json", "{}"),
            ("yarn.lock", ""),
            ("a.orig", ""),
            (".DS_Store", ""),
            ("npm-debug.log", ""),
            (".foo.swp", ""),
            ("build/config.gypi", ""),
            ("build/ok.js", ""),
            ("lib/package-lock.json", "{}"),
            (".eslintrc", ""),
        ],
    );
    assert_eq!(
        list(t.path()),
        [
            ".eslintrc",
            "build/ok.js",
            "index.js",
            "lib/package-lock.json",
            "lib/util.js",
            "package.json",
        ]
    );
}

#[test]
fn npmignore_wins_over_gitignore_and_supports_negation() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            ("package.json", r#"{"name":"a"}"#),
            (".gitignore", "dist/\n"),
            (".npmignore", "# tests\ntest/\n*.log\n!keep.log\n"),
            ("dist/out.js", ""),
            ("test/a.test.js", ""),
            ("x.log", ""),
            ("keep.log", ""),
            ("index.js", ""),
        ],
    );
    assert_eq!(
        list(t.path()),
        ["dist/out.js", "index.js", "keep.log", "package.json"]
    );
}

#[test]
fn gitignore_applies_without_npmignore_at_every_level() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            ("package.json", r#"{"name":"a"}"#),
            (".gitignore", "dist/\n/coverage\n"),
            ("dist/out.js", ""),
            ("coverage/x", ""),
            ("lib/coverage/y", ""),
            ("lib/.gitignore", "*.tmp\n"),
            ("lib/a.tmp", ""),
            ("lib/a.js", ""),
        ],
    );
    assert_eq!(
        list(t.path()),
        ["lib/a.js", "lib/coverage/y", "package.json"]
    );
}

#[test]
fn empty_npmignore_still_disables_gitignore() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            ("package.json", r#"{"name":"a"}"#),
            (".gitignore", "dist\n"),
            (".npmignore", ""),
            ("dist/out.js", ""),
        ],
    );
    assert_eq!(list(t.path()), ["dist/out.js", "package.json"]);
}

#[test]
fn files_is_an_allow_list_plus_the_always_included() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            (
                "package.json",
                r#"{"name":"a","files":["lib","dist/*.js","./types/index.d.ts","!lib/secret.js"],
                   "main":"./main.js","bin":{"a":"bin/cli.js"},"browser":"browser.js"}"#,
            ),
            // Root ignore files lose to `files`...
            (".npmignore", "lib/\n"),
            ("lib/a.js", ""),
            ("lib/secret.js", ""),
            ("lib/deep/b.js", ""),
            // ...but ignore files inside included directories still apply.
            ("lib/deep/.npmignore", "*.md\n"),
            ("lib/deep/notes.md", ""),
            ("dist/x.js", ""),
            ("dist/x.map", ""),
            ("types/index.d.ts", ""),
            ("types/other.d.ts", ""),
            ("main.js", ""),
            ("bin/cli.js", ""),
            ("browser.js", ""),
            ("README.md", ""),
            ("LICENSE", ""),
            ("licence.txt", ""),
            ("CHANGELOG.md", ""),
            ("src/index.ts", ""),
            ("README.md~", ""),
            ("docs/README.md", ""),
            ("lib/.npmrc", ""),
        ],
    );
    assert_eq!(
        list(t.path()),
        [
            "LICENSE",
            "README.md",
            "bin/cli.js",
            "browser.js",
            "dist/x.js",
            "lib/a.js",
            "lib/deep/b.js",
            "licence.txt",
            "main.js",
            "package.json",
            "types/index.d.ts",
        ]
    );
}

#[test]
fn a_single_nested_file_in_files_pulls_in_only_that_file() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            (
                "package.json",
                r#"{"name":"a","files":["lib/sub/keep.js"]}"#,
            ),
            ("lib/sub/keep.js", ""),
            ("lib/sub/other.js", ""),
            ("lib/top.js", ""),
            ("test/keep.js", ""),
        ],
    );
    assert_eq!(list(t.path()), ["lib/sub/keep.js", "package.json"]);
}

#[test]
fn files_cannot_force_in_npmrc_or_node_modules() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            (
                "package.json",
                r#"{"name":"a","files":[".npmrc","node_modules","package-lock.json","x.js"]}"#,
            ),
            (".npmrc", ""),
            ("node_modules/d/index.js", ""),
            ("package-lock.json", "{}"),
            ("x.js", ""),
        ],
    );
    assert_eq!(list(t.path()), ["package.json", "x.js"]);
}

#[cfg(unix)]
#[test]
fn symlinks_are_never_packed() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[("package.json", r#"{"name":"a"}"#), ("real.js", "")],
    );
    std::os::unix::fs::symlink("real.js", t.path().join("link.js")).unwrap();
    assert_eq!(list(t.path()), ["package.json", "real.js"]);
}

#[test]
fn order_is_by_extension_then_name() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            ("package.json", r#"{"name":"a"}"#),
            ("b.js", ""),
            ("a.md", ""),
            ("lib/a.js", ""),
            ("LICENSE", ""),
        ],
    );
    assert_eq!(
        packlist(t.path()).unwrap(),
        ["LICENSE", "lib/a.js", "b.js", "package.json", "a.md"]
    );
}

#[test]
fn pack_dir_writes_a_deterministic_tarball_the_store_ingests() {
    let t = tempfile::tempdir().unwrap();
    let pkg = t.path().join("pkg");
    write(
        &pkg,
        &[
            (
                "package.json",
                r#"{"name":"a","version":"1.0.0","bin":"cli.js"}"#,
            ),
            ("cli.js", "#!/usr/bin/env node\n"),
            ("index.js", "module.exports = 1\n"),
            (".npmignore", "ignored.txt\n"),
            ("ignored.txt", ""),
        ],
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(pkg.join("cli.js"), fs::Permissions::from_mode(0o755)).unwrap();
    }
    let dest = t.path().join("a.tgz");
    let packed = pack_dir(&pkg, &dest).unwrap();
    assert_eq!(packed.manifest["name"], "a");
    let bytes = fs::read(&dest).unwrap();
    assert_eq!(packed.size, bytes.len() as u64);
    assert_eq!(packed.integrity, sha512_sri(&bytes));
    let entries = tgz_entries(&bytes);
    let names: Vec<_> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        names,
        ["package/cli.js", "package/index.js", "package/package.json"]
    );
    #[cfg(unix)]
    assert_eq!(entries[0].1, 0o755);
    assert_eq!(entries[1].1, 0o644);
    assert_eq!(entries[1].2, "module.exports = 1\n");

    // Same files, same bytes: the integrity is a stable cache key.
    let again = pack_dir(&pkg, &t.path().join("b.tgz")).unwrap();
    assert_eq!(again.integrity, packed.integrity);

    let store = crate::store::Store::open(&t.path().join("cache")).unwrap();
    let stored = store.insert_tarball(&packed.integrity, &bytes).unwrap();
    assert!(stored.dir.join("index.js").is_file());
    assert!(!stored.dir.join("ignored.txt").exists());
}

#[test]
fn pack_dir_without_package_json_is_a_manifest_error() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), &[("index.js", "")]);
    let err = pack_dir(t.path(), &t.path().join("x.tgz")).unwrap_err();
    assert_eq!(err.code, Code::Manifest);
    assert!(err.message.contains("no package.json"), "{}", err.message);
    assert!(!t.path().join("x.tgz").exists());

    write(t.path(), &[("package.json", "{nope")]);
    let err = pack_dir(t.path(), &t.path().join("x.tgz")).unwrap_err();
    assert_eq!(err.code, Code::Manifest);
}
