use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::*;
use crate::error::Code;

/// Write a fake cached package under `store/<name>` and return its job for `dest`.
fn fake_pkg(store: &Path, name: &str, dest: &Path, files: &[(&str, &str, u32)]) -> LinkJob {
    let src = store.join(name.replace('/', "+"));
    let mut dirs = BTreeSet::new();
    let mut rels = Vec::new();
    for (rel, body, mode) in files {
        let p = src.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, body).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(*mode)).unwrap();
        let mut a = Path::new(rel).parent();
        while let Some(d) = a.filter(|d| !d.as_os_str().is_empty()) {
            dirs.insert(d.to_path_buf());
            a = d.parent();
        }
        rels.push(PathBuf::from(rel));
    }
    LinkJob {
        src,
        dest: dest.join(name),
        dirs: dirs.into_iter().collect(),
        files: rels,
    }
}

fn sample(store: &Path, nm: &Path) -> Vec<LinkJob> {
    vec![
        fake_pkg(
            store,
            "a",
            nm,
            &[
                ("package.json", "{\"name\":\"a\"}", 0o644),
                ("bin/cli.js", "#!/usr/bin/env node\n", 0o755),
                ("lib/deep/x.js", "module.exports = 1", 0o644),
            ],
        ),
        // 0o666 survives only if the copy sets the mode past the umask.
        fake_pkg(
            store,
            "@s/b",
            nm,
            &[("index.js", "b", 0o600), ("w.js", "w", 0o666)],
        ),
        fake_pkg(
            store,
            "a/node_modules/c",
            nm,
            &[("package.json", "{\"name\":\"c\"}", 0o644)],
        ),
        fake_pkg(store, "empty", nm, &[]),
    ]
}

fn opts(method: Option<Method>) -> LinkOptions {
    LinkOptions {
        method,
        cancel: CancelToken::new(),
    }
}

/// Every file of every job: same bytes and mode at the destination.
fn assert_identical(jobs: &[LinkJob]) {
    for j in jobs {
        assert!(j.dest.is_dir(), "{}", j.dest.display());
        for f in &j.files {
            let (s, d) = (j.src.join(f), j.dest.join(f));
            assert_eq!(
                fs::read(&s).unwrap(),
                fs::read(&d).unwrap(),
                "{}",
                d.display()
            );
            let (sm, dm) = (fs::metadata(&s).unwrap(), fs::metadata(&d).unwrap());
            assert_eq!(sm.mode() & 0o7777, dm.mode() & 0o7777, "{}", d.display());
        }
    }
}

#[test]
fn hardlinks_on_same_fs() {
    let t = tempfile::tempdir().unwrap();
    let jobs = sample(&t.path().join("store"), &t.path().join("proj/node_modules"));
    let stats = clone_packages(&jobs, &opts(None)).unwrap();
    assert_eq!(stats.method, Method::Hardlink);
    assert_eq!((stats.packages, stats.files), (4, 6));
    assert_identical(&jobs);
    assert!(t.path().join("proj/node_modules/empty").is_dir());
    for j in &jobs {
        for f in &j.files {
            let (s, d) = (
                fs::metadata(j.src.join(f)).unwrap(),
                fs::metadata(j.dest.join(f)).unwrap(),
            );
            assert_eq!((s.dev(), s.ino()), (d.dev(), d.ino()));
            assert!(d.nlink() > 1);
        }
    }
}

#[test]
fn copy_method_makes_independent_files() {
    let t = tempfile::tempdir().unwrap();
    let jobs = sample(&t.path().join("store"), &t.path().join("nm"));
    let stats = clone_packages(&jobs, &opts(Some(Method::Copy))).unwrap();
    assert_eq!(stats.method, Method::Copy);
    assert_identical(&jobs);
    let (s, d) = (
        jobs[0].src.join("package.json"),
        jobs[0].dest.join("package.json"),
    );
    assert_ne!(
        fs::metadata(&s).unwrap().ino(),
        fs::metadata(&d).unwrap().ino()
    );
    assert_eq!(fs::metadata(&d).unwrap().nlink(), 1);
    fs::write(&d, "changed").unwrap();
    assert_eq!(fs::read_to_string(&s).unwrap(), "{\"name\":\"a\"}");
}

#[test]
fn reflink_forced_either_clones_or_fails_with_io() {
    let t = tempfile::tempdir().unwrap();
    let jobs = sample(&t.path().join("store"), &t.path().join("nm"));
    match clone_packages(&jobs, &opts(Some(Method::Reflink))) {
        Ok(stats) => {
            assert_eq!(stats.method, Method::Reflink);
            assert_identical(&jobs);
        }
        Err(e) => {
            assert_eq!(e.code, Code::Io);
            assert!(e.message.contains("reflink"), "{}", e.message);
        }
    }
}

#[test]
fn existing_destinations_are_replaced() {
    let t = tempfile::tempdir().unwrap();
    let nm = t.path().join("nm");
    let jobs = sample(&t.path().join("store"), &nm);
    // Old contents in the way: a stale file, a directory where a file goes,
    // a file where a directory goes, and a symlink where a package root goes.
    fs::create_dir_all(nm.join("a/lib")).unwrap();
    fs::write(nm.join("a/package.json"), "old").unwrap();
    fs::create_dir_all(nm.join("a/bin/cli.js/inner")).unwrap();
    fs::write(nm.join("a/lib/deep"), "file in the way").unwrap();
    let elsewhere = t.path().join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    fs::create_dir_all(nm.join("@s")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, nm.join("@s/b")).unwrap();

    for method in [None, Some(Method::Copy), None] {
        clone_packages(&jobs, &opts(method)).unwrap();
        assert_identical(&jobs);
    }
    assert!(!fs::symlink_metadata(nm.join("@s/b")).unwrap().is_symlink());
    assert_eq!(
        fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "wrote through a symlink"
    );
}

#[test]
fn copy_over_hardlink_does_not_touch_the_store() {
    let t = tempfile::tempdir().unwrap();
    let jobs = sample(&t.path().join("store"), &t.path().join("nm"));
    clone_packages(&jobs, &opts(Some(Method::Hardlink))).unwrap();
    // Copying over a hardlinked destination must unlink it, not write into it.
    let s = jobs[0].src.join("bin/cli.js");
    let before = fs::read(&s).unwrap();
    clone_packages(&jobs, &opts(Some(Method::Copy))).unwrap();
    assert_eq!(fs::metadata(&s).unwrap().nlink(), 1);
    fs::write(jobs[0].dest.join("bin/cli.js"), "patched").unwrap();
    assert_eq!(fs::read(&s).unwrap(), before);
    assert_eq!(fs::metadata(&s).unwrap().mode() & 0o777, 0o755);
}

/// A store on another filesystem (tmpfs at /dev/shm): auto falls back to a
/// copy, forced hardlink fails with E_IO.
#[test]
fn cross_device_falls_back_to_copy() {
    let shm = Path::new("/dev/shm");
    let t = tempfile::tempdir().unwrap();
    let Ok(s) = tempfile::tempdir_in(shm) else {
        eprintln!("skipped: no /dev/shm");
        return;
    };
    if fs::metadata(shm).unwrap().dev() == fs::metadata(t.path()).unwrap().dev() {
        eprintln!("skipped: /dev/shm is on the same filesystem");
        return;
    }
    let jobs = sample(s.path(), &t.path().join("nm"));
    let e = clone_packages(&jobs, &opts(Some(Method::Hardlink))).unwrap_err();
    assert_eq!(e.code, Code::Io);
    assert!(e.message.contains("hardlink"), "{}", e.message);
    let stats = clone_packages(&jobs, &opts(None)).unwrap();
    assert!(
        matches!(stats.method, Method::Copy | Method::Reflink),
        "{stats:?}"
    );
    assert_identical(&jobs);
    let d = jobs[0].dest.join("package.json");
    assert_eq!(fs::metadata(&d).unwrap().nlink(), 1);
}

/// ext4 allows 65,000 links per inode: the file past that gets copied.
/// `cargo test --lib link::tests::too_many_links -- --ignored`
#[test]
#[ignore]
fn too_many_links_copies_that_file() {
    let t = tempfile::tempdir().unwrap();
    let jobs = sample(&t.path().join("store"), &t.path().join("nm"));
    let src = jobs[1].src.join("index.js");
    let spam = t.path().join("spam");
    fs::create_dir(&spam).unwrap();
    let mut n = 0;
    loop {
        match fs::hard_link(&src, spam.join(n.to_string())) {
            Ok(()) => n += 1,
            Err(e) if e.raw_os_error() == Some(libc::EMLINK) => break,
            Err(e) => panic!("{e}"),
        }
        assert!(n < 200_000, "no link limit on this filesystem");
    }
    // Probe on the saturated file itself (first job), then on a later file.
    for order in [vec![jobs[1].clone(), jobs[0].clone()], jobs.clone()] {
        let _ = fs::remove_dir_all(t.path().join("nm"));
        let stats = clone_packages(&order, &opts(None)).unwrap();
        assert_eq!(stats.method, Method::Hardlink);
        assert_identical(&order);
        assert_eq!(
            fs::metadata(jobs[1].dest.join("index.js")).unwrap().nlink(),
            1
        );
        assert!(
            fs::metadata(jobs[0].dest.join("package.json"))
                .unwrap()
                .nlink()
                > 1
        );
    }
}

#[test]
fn cancelled_before_start() {
    let t = tempfile::tempdir().unwrap();
    let jobs = sample(&t.path().join("store"), &t.path().join("nm"));
    let o = opts(None);
    o.cancel.cancel();
    assert_eq!(clone_packages(&jobs, &o).unwrap_err().code, Code::Cancelled);
}

#[test]
fn missing_source_is_io_error_with_path() {
    let t = tempfile::tempdir().unwrap();
    let mut jobs = sample(&t.path().join("store"), &t.path().join("nm"));
    jobs[1].files.push("gone.js".into());
    let e = clone_packages(&jobs, &opts(None)).unwrap_err();
    assert_eq!(e.code, Code::Io);
    assert!(e.message.contains("gone.js"), "{}", e.message);
}

#[test]
fn escaping_relative_path_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    let mut jobs = sample(&t.path().join("store"), &t.path().join("nm"));
    jobs[0].files.push("../../evil".into());
    assert_eq!(
        clone_packages(&jobs, &opts(None)).unwrap_err().code,
        Code::Io
    );
    assert!(!t.path().join("evil").exists());
}

/// A whole node_modules goes package by package, scopes split too, and
/// no symlink in it (a package, a scope, a bin) is followed.
#[test]
fn remove_dirs_splits_node_modules_and_follows_no_link() {
    let t = tempfile::tempdir().unwrap();
    let outside = t.path().join("outside");
    fs::create_dir_all(outside.join("pkg/lib")).unwrap();
    fs::write(outside.join("pkg/lib/index.js"), "x").unwrap();
    let nm = t.path().join("proj/node_modules");
    for dir in ["a/node_modules/b/lib", "@s/c/lib", "@s/d", ".bin"] {
        fs::create_dir_all(nm.join(dir)).unwrap();
    }
    for file in [
        "a/index.js",
        "a/node_modules/b/lib/x.js",
        "@s/c/lib/y.js",
        ".package-lock.json",
    ] {
        fs::write(nm.join(file), "x").unwrap();
    }
    std::os::unix::fs::symlink(outside.join("pkg"), nm.join("linked")).unwrap();
    std::os::unix::fs::symlink(&outside, nm.join("@ext")).unwrap();
    std::os::unix::fs::symlink(outside.join("pkg"), nm.join("@s/e")).unwrap();
    std::os::unix::fs::symlink("../a/index.js", nm.join(".bin/a")).unwrap();
    remove_dirs(std::slice::from_ref(&nm)).unwrap();
    assert!(fs::symlink_metadata(&nm).is_err());
    assert!(t.path().join("proj").is_dir());
    assert_eq!(fs::read(outside.join("pkg/lib/index.js")).unwrap(), b"x");
    // Missing is fine, and so is a file where node_modules was.
    remove_dirs(std::slice::from_ref(&nm)).unwrap();
    fs::write(&nm, "not a folder").unwrap();
    remove_dirs(std::slice::from_ref(&nm)).unwrap();
    assert!(fs::symlink_metadata(&nm).is_err());
}

#[test]
fn remove_dirs_removes_and_ignores_missing() {
    let t = tempfile::tempdir().unwrap();
    let jobs = sample(&t.path().join("store"), &t.path().join("nm"));
    clone_packages(&jobs, &opts(None)).unwrap();
    let link = t.path().join("nm/linked");
    std::os::unix::fs::symlink(&jobs[0].src, &link).unwrap();
    let paths = vec![jobs[0].dest.clone(), t.path().join("nm/nope"), link.clone()];
    remove_dirs(&paths).unwrap();
    assert!(!jobs[0].dest.exists());
    assert!(fs::symlink_metadata(&link).is_err());
    assert!(
        jobs[0].src.join("package.json").exists(),
        "followed a symlink"
    );
    assert!(jobs[1].dest.join("index.js").exists());
}

// ---- .bin links ----

fn bin(pkg_dir: &Path, bins: &[(&str, &str)]) -> BinJob {
    BinJob {
        pkg_dir: pkg_dir.to_path_buf(),
        bins: bins
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        chmod: false,
        files_at: None,
    }
}

fn write(p: &Path, body: &str) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, body).unwrap();
}

#[test]
fn bins_basic_scoped_and_nested() {
    let t = tempfile::tempdir().unwrap();
    let nm = t.path().join("node_modules");
    write(&nm.join("a/bin/cli.js"), "a-cli");
    write(&nm.join("@s/b/b.js"), "b-cli");
    write(&nm.join("a/node_modules/c/c.js"), "c-cli");
    let jobs = [
        bin(&nm.join("a"), &[("a", "./bin/cli.js")]),
        bin(&nm.join("@s/b"), &[("bee", "b.js"), ("@s/b", "b.js")]),
        bin(&nm.join("a/node_modules/c"), &[("c", "c.js")]),
    ];
    assert_eq!(link_bins(&jobs).unwrap(), 4);
    let check = |link: PathBuf, target: &str, body: &str| {
        assert_eq!(fs::read_link(&link).unwrap(), Path::new(target));
        assert_eq!(fs::read_to_string(&link).unwrap(), body);
    };
    check(nm.join(".bin/a"), "../a/bin/cli.js", "a-cli");
    check(nm.join(".bin/bee"), "../@s/b/b.js", "b-cli");
    check(nm.join(".bin/b"), "../@s/b/b.js", "b-cli");
    check(nm.join("a/node_modules/.bin/c"), "../c/c.js", "c-cli");
    assert!(!nm.join(".bin/c").exists());
}

#[test]
fn bins_first_by_depth_then_path_wins_and_missing_files_get_no_link() {
    let t = tempfile::tempdir().unwrap();
    let nm = t.path().join("node_modules");
    for f in ["aaa/x.js", "aaa/s.js", "tool/t.js", "zzz/z.js", "@s/p/y.js"] {
        write(&nm.join(f), "x");
    }
    // npm's bin-links: the first by path wins, even over the package named
    // like the bin; a scope is not a level deeper; a missing file claims
    // the name and gets no link.
    let scoped = [
        bin(&nm.join("@s/p"), &[("tool2", "y.js")]),
        bin(&nm.join("a"), &[("tool2", "y.js"), ("gone", "nope.js")]),
        bin(&nm.join("b"), &[("gone", "y.js")]),
    ];
    write(&nm.join("a/y.js"), "x");
    write(&nm.join("b/y.js"), "x");
    link_bins(&scoped).unwrap();
    assert_eq!(
        fs::read_link(nm.join(".bin/tool2")).unwrap(),
        Path::new("../@s/p/y.js")
    );
    assert!(fs::symlink_metadata(nm.join(".bin/gone")).is_err());
    let jobs = [
        bin(&nm.join("aaa"), &[("tool", "x.js"), ("shared", "s.js")]),
        bin(&nm.join("tool"), &[("tool", "t.js")]),
        bin(&nm.join("zzz"), &[("shared", "z.js")]),
    ];
    for _ in 0..2 {
        link_bins(&jobs).unwrap();
        assert_eq!(
            fs::read_link(nm.join(".bin/tool")).unwrap(),
            Path::new("../aaa/x.js")
        );
        assert_eq!(
            fs::read_link(nm.join(".bin/shared")).unwrap(),
            Path::new("../aaa/s.js")
        );
    }
    // Same answer whatever the input order.
    let rev: Vec<BinJob> = jobs.iter().rev().cloned().collect();
    link_bins(&rev).unwrap();
    assert_eq!(
        fs::read_link(nm.join(".bin/shared")).unwrap(),
        Path::new("../aaa/s.js")
    );
}

#[test]
fn bins_bad_names_and_paths_are_skipped() {
    let t = tempfile::tempdir().unwrap();
    let nm = t.path().join("node_modules");
    write(&nm.join("p/lib/ok.js"), "x");
    let jobs = [bin(
        &nm.join("p"),
        &[
            ("../evil", "x.js"),
            ("..", "x.js"),
            ("a/b", "x.js"),
            ("up", "../../etc/passwd"),
            ("abs", "/etc/passwd"),
            ("drive", "C:\\x.js"),
            ("empty", "./"),
            ("ok", ".\\lib\\.\\ok.js"),
        ],
    )];
    assert_eq!(link_bins(&jobs).unwrap(), 1);
    assert_eq!(
        fs::read_link(nm.join(".bin/ok")).unwrap(),
        Path::new("../p/lib/ok.js")
    );
    let names: Vec<_> = fs::read_dir(nm.join(".bin"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["ok"]);
    assert!(!t.path().join("evil").exists());
}

#[test]
fn bins_replace_existing_links_and_files() {
    let t = tempfile::tempdir().unwrap();
    let nm = t.path().join("node_modules");
    write(&nm.join("p/new.js"), "new");
    fs::create_dir_all(nm.join(".bin")).unwrap();
    std::os::unix::fs::symlink("../p/old.js", nm.join(".bin/one")).unwrap();
    fs::write(nm.join(".bin/two"), "a file").unwrap();
    let jobs = [bin(&nm.join("p"), &[("one", "new.js"), ("two", "new.js")])];
    assert_eq!(link_bins(&jobs).unwrap(), 2);
    assert_eq!(fs::read_to_string(nm.join(".bin/one")).unwrap(), "new");
    assert_eq!(fs::read_to_string(nm.join(".bin/two")).unwrap(), "new");
}

// ---- timing (no assertion on time) ----

/// `cargo test --lib link::tests::bench -- --ignored --nocapture`
/// Env: `BRISK_BENCH=2000x40` (packages x files), `BRISK_BENCH_DIR=/dev/shm`.
#[test]
#[ignore]
fn bench_clone_vs_serial_loop() {
    let (pkgs, per): (usize, usize) = std::env::var("BRISK_BENCH")
        .ok()
        .and_then(|s| {
            s.split_once('x')
                .map(|(a, b)| (a.parse().unwrap(), b.parse().unwrap()))
        })
        .unwrap_or((2000, 40));
    let t = match std::env::var("BRISK_BENCH_DIR") {
        Ok(d) => tempfile::tempdir_in(d).unwrap(),
        Err(_) => tempfile::tempdir().unwrap(),
    };
    let store = t.path().join("store");
    let mut jobs = Vec::new();
    for p in 0..pkgs {
        let src = store.join(format!("p{p}"));
        let mut files = Vec::new();
        let dirs: Vec<PathBuf> = vec!["lib".into(), "lib/sub".into(), "dist".into()];
        for d in &dirs {
            fs::create_dir_all(src.join(d)).unwrap();
        }
        for f in 0..per {
            let rel = PathBuf::from(match f % 4 {
                0 => format!("f{f}.js"),
                1 => format!("lib/f{f}.js"),
                2 => format!("lib/sub/f{f}.js"),
                _ => format!("dist/f{f}.js"),
            });
            fs::write(src.join(&rel), format!("// {p} {f}\n")).unwrap();
            files.push(rel);
        }
        let name = if p % 5 == 0 {
            format!("@s{}/p{p}", p % 7)
        } else {
            format!("p{p}")
        };
        jobs.push(LinkJob {
            src,
            dest: PathBuf::from(name),
            dirs,
            files,
        });
    }
    let at = |root: &Path| -> Vec<LinkJob> {
        jobs.iter()
            .map(|j| LinkJob {
                dest: root.join(&j.dest),
                ..j.clone()
            })
            .collect()
    };
    let serial = |b: &[LinkJob]| {
        for j in b {
            fs::create_dir_all(&j.dest).unwrap();
            for d in &j.dirs {
                fs::create_dir_all(j.dest.join(d)).unwrap();
            }
            for f in &j.files {
                fs::hard_link(j.src.join(f), j.dest.join(f)).unwrap();
            }
        }
    };
    println!(
        "{pkgs} packages x {per} files, {} rayon threads, in {}",
        rayon::current_num_threads(),
        t.path().display()
    );
    for round in 0..4 {
        let (a, b) = (
            at(&t.path().join("par/node_modules")),
            at(&t.path().join("ser/node_modules")),
        );
        let mut times = [std::time::Duration::ZERO; 2];
        for which in [round % 2, 1 - round % 2] {
            let s = Instant::now();
            match which {
                0 => drop(clone_packages(&a, &opts(None)).unwrap()),
                _ => serial(&b),
            }
            times[which] = s.elapsed();
        }
        let s = Instant::now();
        clone_packages(&a, &opts(None)).unwrap();
        let again = s.elapsed();
        let s = Instant::now();
        remove_dirs(&[t.path().join("par"), t.path().join("ser")]).unwrap();
        let rm = s.elapsed();
        println!(
            "round {round}: clone_packages {:?}, serial loop {:?}, clone_packages over existing {:?}, remove both {:?}",
            times[0], times[1], again, rm
        );
    }
}

/// Packages cloned one at a time in any order (a nested package before the
/// one it sits in, from several threads) into a tree nothing else wrote:
/// roots and their missing parents are made as each package arrives, and
/// the method is probed once.
#[test]
fn cloner_takes_packages_in_any_order() {
    let t = tempfile::tempdir().unwrap();
    let nm = t.path().join("proj/node_modules");
    let mut jobs = sample(&t.path().join("store"), &nm);
    jobs.reverse(); // "a/node_modules/c" before "a"
    let cloner = Cloner::new(&opts(None), true);
    jobs.par_iter()
        .for_each(|j| cloner.clone_package(j).unwrap());
    assert_eq!(cloner.method(), Method::Hardlink);
    assert_identical(&jobs);
    let c = nm.join("a/node_modules/c/package.json");
    assert!(fs::metadata(c).unwrap().nlink() > 1);
}

#[test]
fn only_package_folders_inside_node_modules_may_be_written() {
    for ok in [
        "node_modules/a",
        "node_modules/@s/b",
        "node_modules/a/node_modules/@s/b/node_modules/c",
        "packages/w/node_modules/a",
    ] {
        check_location(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in [
        "node_modules/../../PWNED",
        "node_modules/a/../../x",
        "node_modules/@s/..",
        "node_modules/a/b",
        "node_modules/.bin",
        "node_modules",
        "/etc/node_modules/a",
        "../outside/node_modules/a",
        "packages/w",
        "node_modules//a",
        "node_modules/./a",
        "",
    ] {
        let e = check_location(bad).unwrap_err();
        assert_eq!(e.code, Code::Io, "{bad}");
    }
}
