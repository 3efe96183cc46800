//! Git tests against repositories made at test time (file:// only, no
//! network).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::*;
use crate::error::Code;
use crate::pack::tests::tgz_entries;

/// Runs git for fixture setup, isolated from the user's config.
fn sh(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "core.hooksPath=/dev/null",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
}

fn manifest(version: &str, extra: &str) -> String {
    format!(r#"{{"name":"gp","version":"{version}","files":["lib"]{extra}}}"#)
}

/// A bare repository and its commits:
/// main: a (tag v1.0.0, annotated) → b (v1.2.0) → b2 (untagged) → d (v2.0.0, HEAD);
/// feature: b → c; prep: b → p (has a prepare script); nopkg: orphan n.
struct Fixture {
    _tmp: tempfile::TempDir,
    bare: PathBuf,
    a: String,
    b: String,
    b2: String,
    c: String,
    d: String,
    p: String,
    n: String,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let w = tmp.path().join("work");
        fs::create_dir(&w).unwrap();
        sh(&w, &["init", "-q"]);
        write(
            &w,
            &[
                ("package.json", &manifest("1.0.0", "")),
                ("lib/index.js", "module.exports = 1\n"),
                ("lib/index.test.js", "test\n"),
                ("lib/.npmignore", "*.test.js\n"),
                ("README.md", "# gp\n"),
                ("src/index.ts", "export {}\n"),
                (".npmignore", "lib/\n"),
            ],
        );
        let commit = |msg: &str| {
            sh(&w, &["add", "-A"]);
            sh(&w, &["commit", "-q", "-m", msg]);
            sh(&w, &["rev-parse", "HEAD"])
        };
        let a = commit("a");
        sh(&w, &["tag", "-a", "v1.0.0", "-m", "v1.0.0"]);
        write(&w, &[("package.json", &manifest("1.2.0", ""))]);
        let b = commit("b");
        sh(&w, &["tag", "v1.2.0"]);
        sh(&w, &["tag", "not-a-version"]);
        write(&w, &[("README.md", "# gp, docs\n")]);
        let b2 = commit("b2");
        write(&w, &[("package.json", &manifest("2.0.0", ""))]);
        let d = commit("d");
        sh(&w, &["tag", "v2.0.0"]);

        sh(&w, &["checkout", "-q", "-b", "feature", &b]);
        write(&w, &[("lib/feature.js", "feature\n")]);
        let c = commit("c");

        sh(&w, &["checkout", "-q", "-b", "prep", &b]);
        let scripts = r#","scripts":{"prepare":"node build.js"}"#;
        write(&w, &[("package.json", &manifest("1.3.0", scripts))]);
        let p = commit("p");

        sh(&w, &["checkout", "-q", "--orphan", "nopkg"]);
        sh(&w, &["rm", "-rq", "--cached", "."]);
        for f in ["package.json", ".npmignore"] {
            fs::remove_file(w.join(f)).unwrap();
        }
        let n = commit("n");
        sh(&w, &["checkout", "-q", "-f", "main"]);

        let bare = tmp.path().join("repo.git");
        sh(tmp.path(), &["clone", "-q", "--bare", "work", "repo.git"]);
        Fixture {
            _tmp: tmp,
            bare,
            a,
            b,
            b2,
            c,
            d,
            p,
            n,
        }
    }

    fn spec(&self, fragment: &str) -> GitSpec {
        let raw = format!("git+file://{}{fragment}", self.bare.display());
        parse(&raw).unwrap()
    }
}

async fn resolved(fx: &Fixture, fragment: &str) -> Result<String, crate::Error> {
    resolve(&fx.spec(fragment)).await
}

#[tokio::test]
async fn resolves_head_branches_tags_shas_and_ranges() {
    let fx = Fixture::new();
    assert_eq!(resolved(&fx, "").await.unwrap(), fx.d);
    assert_eq!(resolved(&fx, "#main").await.unwrap(), fx.d);
    assert_eq!(resolved(&fx, "#feature").await.unwrap(), fx.c);
    // Annotated tags resolve to the commit, not the tag object.
    assert_eq!(resolved(&fx, "#v1.0.0").await.unwrap(), fx.a);
    assert_eq!(resolved(&fx, "#refs/tags/v1.0.0").await.unwrap(), fx.a);
    assert_eq!(resolved(&fx, "#v1.2.0").await.unwrap(), fx.b);
    assert_eq!(resolved(&fx, &format!("#{}", fx.b2)).await.unwrap(), fx.b2);
    // A short sha is not advertised: resolved through a clone.
    assert_eq!(
        resolved(&fx, &format!("#{}", &fx.a[..8])).await.unwrap(),
        fx.a
    );
    assert_eq!(resolved(&fx, "#semver:^1").await.unwrap(), fx.b);
    assert_eq!(resolved(&fx, "#semver:1.0.x").await.unwrap(), fx.a);
    assert_eq!(resolved(&fx, "#semver:*").await.unwrap(), fx.d);
    assert_eq!(resolved(&fx, "#semver:%5E2").await.unwrap(), fx.d);
}

#[tokio::test]
async fn unknown_refs_and_ranges_are_no_matching_version() {
    let fx = Fixture::new();
    let err = resolved(&fx, "#no-such-branch").await.unwrap_err();
    assert_eq!(err.code, Code::NoMatchingVersion, "{err}");
    assert!(err.message.contains("no-such-branch"), "{err}");
    let err = resolved(&fx, "#semver:^5").await.unwrap_err();
    assert_eq!(err.code, Code::NoMatchingVersion, "{err}");
    assert!(err.message.contains("v1.2.0"), "lists the tags: {err}");
    let err = resolved(&fx, "#semver:not a range!").await.unwrap_err();
    assert_eq!(err.code, Code::Manifest, "{err}");
}

#[tokio::test]
async fn a_missing_repository_is_e_git() {
    let t = tempfile::tempdir().unwrap();
    let spec = parse(&format!("git+file://{}/nope.git", t.path().display())).unwrap();
    let err = resolve(&spec).await.unwrap_err();
    assert_eq!(err.code, Code::Git, "{err}");
    assert!(err.message.contains("nope.git"), "{err}");
    let err = pack(
        &spec,
        &"a".repeat(40),
        &t.path().join("x.tgz"),
        &Default::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, Code::Git, "{err}");
    assert!(!t.path().join("x.tgz").exists());
}

fn names(tgz: &Path) -> Vec<String> {
    let mut v: Vec<String> = tgz_entries(&fs::read(tgz).unwrap())
        .into_iter()
        .map(|e| e.0)
        .collect();
    v.sort();
    v
}

fn opts_in(tmp: &Path) -> PackOptions {
    PackOptions {
        prepare: None,
        tmp_dir: Some(tmp.to_path_buf()),
    }
}

fn is_empty_dir(dir: &Path) -> bool {
    fs::read_dir(dir).unwrap().next().is_none()
}

#[tokio::test]
async fn packs_a_commit_like_npm_pack_and_cleans_up() {
    let fx = Fixture::new();
    let out = tempfile::tempdir().unwrap();
    let clones = tempfile::tempdir().unwrap();
    let tgz = out.path().join("gp.tgz");
    let spec = fx.spec("#semver:^1");
    let sha = resolve(&spec).await.unwrap();
    let res = pack(&spec, &sha, &tgz, &opts_in(clones.path()))
        .await
        .unwrap();
    assert_eq!(res.manifest["version"], "1.2.0");
    assert!(!res.prepare_skipped);
    // files: ["lib"] wins over the root .npmignore; lib/.npmignore applies.
    assert_eq!(
        names(&tgz),
        [
            "package/README.md",
            "package/lib/index.js",
            "package/package.json"
        ]
    );
    assert_eq!(
        res.integrity,
        crate::store::sha512_sri(&fs::read(&tgz).unwrap())
    );
    assert!(is_empty_dir(clones.path()), "the temp clone is removed");

    // Same commit, same bytes.
    let again = pack(
        &spec,
        &sha,
        &out.path().join("2.tgz"),
        &opts_in(clones.path()),
    )
    .await
    .unwrap();
    assert_eq!(again.integrity, res.integrity);

    let feature = pack(&spec, &fx.c, &tgz, &opts_in(clones.path()))
        .await
        .unwrap();
    assert!(feature.files.contains(&"lib/feature.js".to_string()));
    assert!(names(&tgz).contains(&"package/lib/feature.js".to_string()));
}

#[tokio::test]
async fn falls_back_to_a_full_fetch_when_the_server_refuses_a_sha() {
    let fx = Fixture::new();
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("clone");
    // Protocol v0 only serves advertised tips; b2 is not one.
    super::fetch::checkout(&fx.spec(""), &fx.b2, &dir, &["-c", "protocol.version=0"])
        .await
        .unwrap();
    let head = sh(&dir, &["rev-parse", "HEAD"]);
    assert_eq!(head, fx.b2);
    assert_eq!(
        fs::read_to_string(dir.join("README.md")).unwrap(),
        "# gp, docs\n"
    );
}

#[tokio::test]
async fn prepare_runs_through_the_hook_or_is_reported_skipped() {
    let fx = Fixture::new();
    let out = tempfile::tempdir().unwrap();
    let clones = tempfile::tempdir().unwrap();
    let tgz = out.path().join("p.tgz");
    let spec = fx.spec("#prep");

    let res = pack(&spec, &fx.p, &tgz, &opts_in(clones.path()))
        .await
        .unwrap();
    assert!(res.prepare_skipped);
    assert!(!names(&tgz).contains(&"package/lib/built.js".to_string()));

    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let hook: PrepareHook = Arc::new(move |dir: PathBuf| {
        seen.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            assert!(dir.join("package.json").is_file());
            fs::write(dir.join("lib/built.js"), "built\n").unwrap();
            Ok(())
        })
    });
    let opts = PackOptions {
        prepare: Some(hook),
        tmp_dir: Some(clones.path().to_path_buf()),
    };
    let res = pack(&spec, &fx.p, &tgz, &opts).await.unwrap();
    assert!(!res.prepare_skipped);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(names(&tgz).contains(&"package/lib/built.js".to_string()));

    // Packages without build scripts never call the hook.
    pack(&spec, &fx.b, &tgz, &opts).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // A failing hook fails the pack and still removes the clone.
    let failing: PrepareHook =
        Arc::new(|_| Box::pin(async { Err(crate::Error::new(Code::Io, "prepare failed")) }));
    let opts = PackOptions {
        prepare: Some(failing),
        tmp_dir: Some(clones.path().to_path_buf()),
    };
    let err = pack(&spec, &fx.p, &tgz, &opts).await.unwrap_err();
    assert_eq!(err.message, "prepare failed");
    assert!(is_empty_dir(clones.path()));
}

#[tokio::test]
async fn a_commit_without_package_json_is_e_manifest() {
    let fx = Fixture::new();
    let t = tempfile::tempdir().unwrap();
    let clones = tempfile::tempdir().unwrap();
    let tgz = t.path().join("n.tgz");
    let err = pack(&fx.spec("#nopkg"), &fx.n, &tgz, &opts_in(clones.path()))
        .await
        .unwrap_err();
    assert_eq!(err.code, Code::Manifest, "{err}");
    assert!(err.message.contains("no package.json"), "{err}");
    assert!(!tgz.exists());
    assert!(is_empty_dir(clones.path()));

    // A sha the repository does not have.
    let err = pack(&fx.spec(""), &"0".repeat(40), &tgz, &opts_in(clones.path()))
        .await
        .unwrap_err();
    assert_eq!(err.code, Code::Git, "{err}");
    assert!(is_empty_dir(clones.path()));
}

#[tokio::test]
async fn path_subdirectories_are_packed() {
    let t = tempfile::tempdir().unwrap();
    let w = t.path().join("mono");
    fs::create_dir(&w).unwrap();
    sh(&w, &["init", "-q"]);
    write(
        &w,
        &[
            ("package.json", r#"{"name":"root","private":true}"#),
            (
                "packages/a/package.json",
                r#"{"name":"a","version":"0.1.0"}"#,
            ),
            ("packages/a/index.js", ""),
        ],
    );
    sh(&w, &["add", "-A"]);
    sh(&w, &["commit", "-q", "-m", "m"]);
    let raw = format!("git+file://{}#main::path:packages/a", w.display());
    let spec = parse(&raw).unwrap();
    assert_eq!(spec.subdir.as_deref(), Some("packages/a"));
    let sha = resolve(&spec).await.unwrap();
    let tgz = t.path().join("a.tgz");
    let res = pack(&spec, &sha, &tgz, &Default::default()).await.unwrap();
    assert_eq!(res.manifest["name"], "a");
    assert_eq!(names(&tgz), ["package/index.js", "package/package.json"]);
}

#[test]
fn refs_parse_peels_tags_and_prefers_tags_over_branches() {
    let out = "1111111111111111111111111111111111111111\tHEAD\n\
               1111111111111111111111111111111111111111\trefs/heads/main\n\
               2222222222222222222222222222222222222222\trefs/heads/v1\n\
               3333333333333333333333333333333333333333\trefs/tags/v1\n\
               4444444444444444444444444444444444444444\trefs/tags/v1^{}\n\
               5555555555555555555555555555555555555555\trefs/pull/7/head\n";
    let refs = Refs::parse(out);
    assert_eq!(
        refs.lookup("HEAD"),
        Some("1111111111111111111111111111111111111111")
    );
    assert_eq!(
        refs.lookup("main"),
        Some("1111111111111111111111111111111111111111")
    );
    assert_eq!(
        refs.lookup("v1"),
        Some("4444444444444444444444444444444444444444")
    );
    assert_eq!(
        refs.lookup("refs/heads/v1"),
        Some("2222222222222222222222222222222222222222")
    );
    assert_eq!(
        refs.lookup("refs/pull/7/head"),
        Some("5555555555555555555555555555555555555555")
    );
    assert_eq!(refs.lookup("nope"), None);
}

#[test]
fn a_satisfying_version_at_head_wins_over_a_higher_one() {
    let out = "1111111111111111111111111111111111111111\tHEAD\n\
               1111111111111111111111111111111111111111\trefs/tags/v1.1.0\n\
               2222222222222222222222222222222222222222\trefs/tags/v1.5.0\n";
    let refs = Refs::parse(out);
    let range = nodejs_semver::Range::parse("^1").unwrap();
    assert_eq!(refs.pick_range(&range).unwrap().0, "v1.1.0");
    let range = nodejs_semver::Range::parse(">=1.2").unwrap();
    assert_eq!(refs.pick_range(&range).unwrap().0, "v1.5.0");
}

mod parsing {
    use super::super::*;

    fn p(raw: &str) -> GitSpec {
        parse(raw).unwrap_or_else(|| panic!("{raw} should be a git spec"))
    }

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn github_shortcuts_and_shorthand() {
        for raw in [
            "github:user/repo#v1.0.0",
            "user/repo#v1.0.0",
            "git+ssh://git@github.com/user/repo.git#v1.0.0",
            "git+https://github.com/user/repo.git#v1.0.0",
            "git://github.com/user/repo.git#v1.0.0",
            "https://github.com/user/repo#v1.0.0",
            "git@github.com:user/repo.git#v1.0.0",
            "git+ssh://git@github.com:user/repo.git#v1.0.0",
        ] {
            let s = p(raw);
            let h = s
                .hosted
                .as_ref()
                .unwrap_or_else(|| panic!("{raw} is hosted"));
            assert_eq!(
                (h.host, h.user.as_str(), h.project.as_str()),
                (Host::Github, "user", "repo")
            );
            assert_eq!(s.committish.as_deref(), Some("v1.0.0"), "{raw}");
            assert_eq!(
                s.resolved_url(SHA),
                format!("git+ssh://git@github.com/user/repo.git#{SHA}"),
                "{raw}"
            );
            assert_eq!(
                s.clone_urls(),
                [
                    "https://github.com/user/repo.git",
                    "git@github.com:user/repo.git"
                ]
            );
        }
        let s = p("user/repo");
        assert_eq!(s.committish, None);
        assert_eq!(s.url, "https://github.com/user/repo.git");
    }

    #[test]
    fn other_hosts() {
        let s = p("gitlab:group/sub/proj#main");
        let h = s.hosted.as_ref().unwrap();
        assert_eq!(
            (h.host, h.user.as_str(), h.project.as_str()),
            (Host::Gitlab, "group/sub", "proj")
        );
        assert_eq!(
            s.resolved_url(SHA),
            format!("git+ssh://git@gitlab.com/group/sub/proj.git#{SHA}")
        );
        let s = p("bitbucket:team/proj");
        assert_eq!(
            s.resolved_url(SHA),
            format!("git+ssh://git@bitbucket.org/team/proj.git#{SHA}")
        );
        // Credentials keep npm on https.
        let s = p("git+https://tok:x-oauth@github.com/user/repo.git");
        assert_eq!(
            s.resolved_url(SHA),
            format!("git+https://tok:x-oauth@github.com/user/repo.git#{SHA}")
        );
        assert_eq!(
            s.clone_urls(),
            ["https://tok:x-oauth@github.com/user/repo.git"]
        );
    }

    #[test]
    fn plain_git_urls_keep_their_form() {
        let s = p("git+https://git.example.com/a/b.git#dev");
        assert!(s.hosted.is_none());
        assert_eq!(s.url, "https://git.example.com/a/b.git");
        assert_eq!(s.committish.as_deref(), Some("dev"));
        assert_eq!(
            s.resolved_url(SHA),
            format!("git+https://git.example.com/a/b.git#{SHA}")
        );

        let s = p("git+ssh://git@git.example.com/a/b.git");
        assert_eq!(s.url, "ssh://git@git.example.com/a/b.git");
        assert_eq!(
            s.resolved_url(SHA),
            format!("git+ssh://git@git.example.com/a/b.git#{SHA}")
        );

        let s = p("git+ssh://git@git.example.com:a/b.git#x");
        assert_eq!(s.url, "git@git.example.com:a/b.git");
        let s = p("git+ssh://git@git.example.com:2222/a/b.git");
        assert_eq!(s.url, "ssh://git@git.example.com:2222/a/b.git");

        let s = p("git://git.example.com/a/b.git#semver:^1.2");
        assert_eq!(s.url, "git://git.example.com/a/b.git");
        assert_eq!(s.range.as_deref(), Some("^1.2"));
        assert_eq!(s.committish, None);
        assert_eq!(
            s.resolved_url(SHA),
            format!("git://git.example.com/a/b.git#{SHA}")
        );

        let s = p("git+file:///srv/repos/x.git#main");
        assert_eq!(s.url, "file:///srv/repos/x.git");
        assert_eq!(
            s.resolved_url(SHA),
            format!("git+file:///srv/repos/x.git#{SHA}")
        );
    }

    #[test]
    fn committish_parts() {
        let s = p("github:u/r#semver:%3E%3D1.0.0::path:packages/x/");
        assert_eq!(s.range.as_deref(), Some(">=1.0.0"));
        assert_eq!(s.subdir.as_deref(), Some("packages/x"));
        assert!(parse("github:u/r#main::semver:^1").is_none());
        assert!(parse("github:u/r#a::b").is_none());
        assert!(parse("github:u/r#path:../../etc").is_none());
        assert_eq!(p("github:u/r#").committish, None);
    }

    #[test]
    fn not_git_specs() {
        for raw in [
            "^1.2.3",
            "latest",
            "1.0.0",
            "npm:foo@1",
            "file:../foo",
            "./foo/bar",
            "/abs/path",
            "https://example.com/pkg.tgz",
            "https://github.com/user/repo/archive/main.tar.gz",
            "foo/bar/baz",
            "@scope/name",
            "link:../x",
            "github:@scope/name",
        ] {
            assert!(parse(raw).is_none(), "{raw} is not a git spec");
        }
    }
}
