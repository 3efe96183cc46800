use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};

use super::testutil::{gunzip, gzip, simple_package, tgz, Entry};
use super::*;
use crate::error::Code;

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn tmp_is_empty(store: &Store) -> bool {
    fs::read_dir(store.tmp_dir()).unwrap().next().is_none()
}

fn paths(v: &[&str]) -> Vec<PathBuf> {
    v.iter().map(PathBuf::from).collect()
}

#[test]
fn extracts_files_modes_and_index() {
    let cache = tempfile::tempdir().unwrap();
    let store = Store::open(cache.path()).unwrap();
    let data = tgz(&[
        // No directory entries for lib/ or lib/deep/: parents are created.
        Entry::File(
            "node-pkg/package.json",
            br#"{"name":"x","version":"1.0.0"}"#,
            0o664,
        ),
        Entry::File("node-pkg/lib/deep/a.js", b"old", 0o644),
        Entry::File("node-pkg/lib/deep/a.js", b"new", 0o644), // duplicate: last wins
        Entry::File("node-pkg/run.sh", b"#!/bin/sh\n", 0o700),
        Entry::Dir("node-pkg/empty/"),
        Entry::Symlink("node-pkg/link", "/etc/passwd"),
        Entry::File("stray-top-level-file", b"ignored", 0o644),
    ]);
    let sri = sha512_sri(&data);
    assert!(store.get(&sri).is_none());
    let pkg = store.insert_tarball(&sri, &data).unwrap();

    assert_eq!(fs::read(pkg.dir.join("lib/deep/a.js")).unwrap(), b"new");
    assert_eq!(mode(&pkg.dir.join("package.json")), 0o644);
    assert_eq!(mode(&pkg.dir.join("lib/deep/a.js")), 0o644);
    // npm's mode: the archive's | 0o666 under umask 022 (its x bits kept).
    assert_eq!(mode(&pkg.dir.join("run.sh")), 0o744);
    assert_eq!(mode(&pkg.dir.join("lib")), 0o755);
    // pacote makes no folder for a directory entry: only files' parents.
    assert!(!pkg.dir.join("empty").exists());
    assert!(fs::symlink_metadata(pkg.dir.join("link")).is_err());
    assert!(!pkg.dir.join("index").exists(), "the index is outside pkg/");

    let index = pkg.index().unwrap();
    assert_eq!(index.dirs, paths(&["lib", "lib/deep"]));
    assert_eq!(
        index.files,
        paths(&["lib/deep/a.js", "package.json", "run.sh"])
    );

    // The layout: store/v4/sha512/<2 hex>/<rest>/pkg, and get() finds it.
    let hex = verify(&data, &sri).unwrap().to_hex();
    let expected = cache
        .path()
        .join("store/v4/sha512")
        .join(&hex[..2])
        .join(&hex[2..])
        .join("pkg");
    assert_eq!(pkg.dir, expected);
    assert_eq!(store.get(&sri), Some(pkg));
    assert!(tmp_is_empty(&store));
}

#[test]
fn bins_are_made_executable() {
    let cache = tempfile::tempdir().unwrap();
    let store = Store::open(cache.path()).unwrap();

    let string_bin = tgz(&[
        Entry::File(
            "package/package.json",
            br#"{"name":"@scope/tool","bin":"./cli.js","weird":[1,{"x":null}]}"#,
            0o644,
        ),
        Entry::File("package/cli.js", b"#!/usr/bin/env node\n", 0o644),
        Entry::File("package/other.js", b"", 0o644),
    ]);
    let pkg = store
        .insert_tarball(&sha512_sri(&string_bin), &string_bin)
        .unwrap();
    assert_eq!(mode(&pkg.dir.join("cli.js")), 0o755);
    assert_eq!(mode(&pkg.dir.join("other.js")), 0o644);

    let map_bin = tgz(&[
        Entry::File(
            "package/package.json",
            br#"{"name":"m","bin":{"a":"bin/a.js","evil":"../../../etc/passwd","n":5}}"#,
            0o644,
        ),
        Entry::File("package/bin/a.js", b"", 0o644),
    ]);
    let pkg = store
        .insert_tarball(&sha512_sri(&map_bin), &map_bin)
        .unwrap();
    assert_eq!(mode(&pkg.dir.join("bin/a.js")), 0o755);

    let dir_bin = tgz(&[
        Entry::File(
            "package/package.json",
            br#"{"name":"d","directories":{"bin":"./tools"}}"#,
            0o644,
        ),
        Entry::File("package/tools/x", b"", 0o644),
        Entry::File("package/tools/sub/y", b"", 0o644),
        Entry::File("package/lib.js", b"", 0o644),
    ]);
    let pkg = store
        .insert_tarball(&sha512_sri(&dir_bin), &dir_bin)
        .unwrap();
    assert_eq!(mode(&pkg.dir.join("tools/x")), 0o755);
    assert_eq!(mode(&pkg.dir.join("tools/sub/y")), 0o755);
    assert_eq!(mode(&pkg.dir.join("lib.js")), 0o644);
}

#[test]
fn package_bins_follow_npm() {
    let m = serde_json::json!({"name": "@s/foo", "bin": "./a//b.js"});
    assert_eq!(package_bins(&m, []), vec![("foo".into(), "a/b.js".into())]);
    let m = serde_json::json!({"bin": {"x/y": "../c.js", "": "d.js"}});
    assert_eq!(package_bins(&m, []), vec![("y".into(), "c.js".into())]);
    let m = serde_json::json!({"directories": {"bin": "bin"}});
    let files = ["bin/a", "bin/.hidden", "lib/b"];
    assert_eq!(package_bins(&m, files), vec![("a".into(), "bin/a".into())]);
}

#[test]
fn unsafe_paths_are_rejected_and_nothing_is_kept() {
    for bad in ["../evil", "/abs/evil", "package/../../evil"] {
        let cache = tempfile::tempdir().unwrap();
        let store = Store::open(cache.path()).unwrap();
        let data = tgz(&[
            Entry::File("package/package.json", b"{}", 0o644),
            Entry::File(bad, b"pwned", 0o644),
        ]);
        let sri = sha512_sri(&data);
        let err = store.insert_tarball(&sri, &data).unwrap_err();
        assert_eq!(err.code, Code::Tarball, "{bad}: {err}");
        assert!(err.message.contains("unsafe path"), "{err}");
        assert!(store.get(&sri).is_none());
        assert!(tmp_is_empty(&store), "{bad}: staging left behind");
        assert!(!cache.path().join("evil").exists());
        assert!(!cache.path().join("tmp/evil").exists());
        let entries = cache.path().join("store/v4");
        assert!(fs::read_dir(entries).unwrap().next().is_none());
    }
}

#[test]
fn corrupt_gzip_is_a_tarball_error() {
    let cache = tempfile::tempdir().unwrap();
    let store = Store::open(cache.path()).unwrap();
    let mut data = simple_package("x");
    data.truncate(data.len() / 2);
    let err = store.insert_tarball(&sha512_sri(&data), &data).unwrap_err();
    assert_eq!(err.code, Code::Tarball);
    assert!(store.get(&sha512_sri(&data)).is_none());
    assert!(tmp_is_empty(&store));
}

/// A member whose CRC-32 is wrong fails the checked path; bytes that
/// matched an expected integrity skip the CRC (their header parsed past
/// every optional field), but not the trailer's length.
#[test]
fn expected_archives_skip_only_the_crc() {
    let cache = tempfile::tempdir().unwrap();
    let store = Store::open(cache.path()).unwrap();
    let plain = simple_package("x");
    // Optional header fields: extra (3 bytes), name, comment, header CRC.
    let mut data = vec![0x1f, 0x8b, 8, 0x02 | 0x04 | 0x08 | 0x10, 0, 0, 0, 0, 0, 255];
    data.extend_from_slice(&[3, 0, 1, 2, 3]);
    data.extend_from_slice(b"x.tar\0a comment\0");
    data.extend_from_slice(&[0xab, 0xcd]);
    data.extend_from_slice(&plain[10..]);
    let n = data.len();
    data[n - 8] ^= 0xff; // the CRC-32

    let err = store.insert_tarball(&sha512_sri(&data), &data).unwrap_err();
    assert_eq!(err.code, Code::Tarball, "{}", err.message);
    let pkg = store.insert_expected(&sha512_sri(&data), &data).unwrap();
    assert_eq!(
        fs::read(pkg.dir.join("index.js")).unwrap(),
        b"module.exports = 1\n"
    );

    // A trailer claiming one byte less: the checked path decides, and fails.
    let mut short = plain.clone();
    let n = short.len();
    short[n - 4] = short[n - 4].wrapping_sub(1);
    let err = store
        .insert_expected(&sha512_sri(&short), &short)
        .unwrap_err();
    assert_eq!(err.code, Code::Tarball, "{}", err.message);
    assert!(store.get(&sha512_sri(&short)).is_none());
    assert!(tmp_is_empty(&store));
}

/// The tar inside a valid gzip stream, cut mid-entry.
#[test]
fn truncated_archive_is_a_tarball_error() {
    let cache = tempfile::tempdir().unwrap();
    let store = Store::open(cache.path()).unwrap();
    let big = vec![b'x'; 10_000];
    let mut tar = gunzip(&tgz(&[Entry::File("package/big.js", &big, 0o644)]));
    tar.truncate(512 + 4096); // the header and part of the data
    let data = gzip(&tar);
    let err = store.insert_tarball(&sha512_sri(&data), &data).unwrap_err();
    assert_eq!(err.code, Code::Tarball, "{}", err.message);
    assert!(store.get(&sha512_sri(&data)).is_none());
    assert!(tmp_is_empty(&store));
}

/// A plain tar; a gzip member followed by stray bytes (its trailer is then
/// not where the one-shot inflate looks, so the streaming decoder takes
/// over), also when those bytes claim an archive big enough for a mapping
/// of its own; an archive that gets one; and inflate buffers reused from a
/// bigger archive to a smaller one, which must not leak the bigger one's
/// bytes.
#[test]
fn plain_tars_trailing_bytes_and_reused_buffers() {
    let cache = tempfile::tempdir().unwrap();
    let store = Store::open(cache.path()).unwrap();
    let read = |pkg: &StoredPackage, rel: &str| fs::read(pkg.dir.join(rel)).unwrap();

    let plain = gunzip(&simple_package("plain"));
    let pkg = store.insert_tarball(&sha512_sri(&plain), &plain).unwrap();
    assert_eq!(read(&pkg, "index.js"), b"module.exports = 1\n");

    let mut trailing = simple_package("trailing");
    trailing.extend_from_slice(b"\0\0\0\0junk");
    let pkg = store
        .insert_tarball(&sha512_sri(&trailing), &trailing)
        .unwrap();
    assert!(read(&pkg, "package.json").starts_with(br#"{"name":"trailing""#));

    // 16 KB that do not compress, then a "trailer" claiming 9 MB.
    let mut x = 0x2545_f491_u32;
    let noise: Vec<u8> = (0..16 << 10)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let mut lying = tgz(&[Entry::File("package/noise.bin", &noise, 0o644)]);
    lying.extend_from_slice(&(9u32 << 20).to_le_bytes());
    let pkg = store.insert_tarball(&sha512_sri(&lying), &lying).unwrap();
    assert_eq!(read(&pkg, "noise.bin"), noise);

    for size in [9 << 20, 3 << 20, 1000, 10] {
        let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let data = tgz(&[Entry::File("package/data.bin", &body, 0o644)]);
        let pkg = store.insert_tarball(&sha512_sri(&data), &data).unwrap();
        assert_eq!(read(&pkg, "data.bin"), body);
        assert_eq!(pkg.index().unwrap().files, paths(&["data.bin"]));
    }
}

#[test]
fn sha1_entries_use_their_own_layout() {
    let cache = tempfile::tempdir().unwrap();
    let store = Store::open(cache.path()).unwrap();
    let data = simple_package("old");
    let sri = digest(Algorithm::Sha1, &data).to_sri();
    assert!(sri.starts_with("sha1-"));
    let pkg = store.insert_tarball(&sri, &data).unwrap();
    assert!(pkg.dir.starts_with(cache.path().join("store/v4/sha1")));
    assert!(store.get(&sri).is_some());
    // Several hashes: the strongest one is the key.
    let both = format!("{sri} {}", sha512_sri(&data));
    assert!(store.get(&both).is_none());
    let pkg = store.insert_tarball(&both, &data).unwrap();
    assert!(pkg.dir.starts_with(cache.path().join("store/v4/sha512")));
    assert_eq!(store.get(&both), Some(pkg));
}

#[test]
fn two_stores_insert_the_same_entry_concurrently() {
    let cache = tempfile::tempdir().unwrap();
    let data = Arc::new(simple_package("race"));
    let sri = sha512_sri(&data);
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (data, sri, barrier) = (data.clone(), sri.clone(), barrier.clone());
            let root = cache.path().to_path_buf();
            std::thread::spawn(move || {
                let store = Store::open(&root).unwrap();
                barrier.wait();
                store.insert_tarball(&sri, &data).unwrap()
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(results.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(
        fs::read(results[0].dir.join("index.js")).unwrap(),
        b"module.exports = 1\n"
    );
    let store = Store::open(cache.path()).unwrap();
    assert!(tmp_is_empty(&store));
    assert_eq!(
        store.get(&sri).unwrap().index().unwrap().files,
        paths(&["index.js", "package.json"])
    );
}

#[test]
fn integrity_helpers() {
    assert_eq!(
        sha512_sri(b""),
        "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
    );
    let sha1 = "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=";
    assert_eq!(verify(b"", sha1).unwrap().algorithm, Algorithm::Sha1);
    // Without padding, with options, with an unknown algorithm alongside.
    assert!(verify(b"", "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk").is_ok());
    assert!(verify(b"", &format!("md5-abc {sha1}?opt")).is_ok());
    // Mismatch names both hashes.
    let err = verify(b"x", sha1).unwrap_err();
    assert_eq!(err.code, Code::Integrity);
    assert!(err.message.contains(sha1) && err.message.contains("got sha1-"));
    // The strongest algorithm decides: a matching sha1 does not rescue a
    // wrong sha512; any of several sha512 digests may match.
    let wrong512 = sha512_sri(b"other");
    assert!(verify(b"", &format!("{sha1} {wrong512}")).is_err());
    assert!(verify(b"", &format!("{wrong512} {}", sha512_sri(b""))).is_ok());
    // Unusable strings.
    for bad in ["", "   ", "sha512-", "sha512-!!!", "md5-abc", "sha512-YWJj"] {
        assert_eq!(Sri::parse(bad).unwrap_err().code, Code::Integrity, "{bad}");
    }
}

/// An entry left incomplete (no index: tampered with, or written by
/// something else) is moved aside and replaced; inserting a complete entry
/// again keeps it.
#[test]
fn an_incomplete_entry_is_replaced() {
    let cache = tempfile::tempdir().unwrap();
    let store = Store::open(cache.path()).unwrap();
    let data = simple_package("junk");
    let sri = sha512_sri(&data);
    let first = store.insert_tarball(&sri, &data).unwrap();
    let entry = first.dir.parent().unwrap().to_path_buf();
    fs::remove_file(entry.join("index")).unwrap();
    fs::write(first.dir.join("stray.js"), "x").unwrap();
    assert!(store.get(&sri).is_none());
    let again = store.insert_tarball(&sri, &data).unwrap();
    assert_eq!(again, first);
    assert!(!again.dir.join("stray.js").exists());
    assert_eq!(
        again.index().unwrap().files,
        paths(&["index.js", "package.json"])
    );
    assert_eq!(store.insert_tarball(&sri, &data).unwrap(), first);
}

/// Every file under `dir` with its mode and contents.
fn listing(dir: &Path) -> Vec<(PathBuf, u32, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p.clone());
                out.push((p.strip_prefix(dir).unwrap().into(), mode(&p), Vec::new()));
            } else {
                let data = fs::read(&p).unwrap();
                out.push((p.strip_prefix(dir).unwrap().into(), mode(&p), data));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn archives_too_big_for_memory_extract_streaming_with_the_same_result() {
    let entries = [
        Entry::File(
            "package/package.json",
            br#"{"name":"s","bin":{"s":"bin/s.js"}}"#,
            0o644,
        ),
        Entry::File("package/bin/s.js", b"#!/usr/bin/env node\n", 0o644),
        Entry::File("package/lib/a.js", b"old", 0o644),
        Entry::File("package/lib/a.js", b"new", 0o600), // duplicate: last wins
        Entry::File("package/run.sh", b"#!/bin/sh\n", 0o700),
        Entry::Dir("package/empty/"),
    ];
    let honest = tgz(&entries);
    // The same archive with a trailer claiming 4 GiB - 1: too big to
    // inflate in memory, so it streams (the CRC is still checked).
    let mut lying = honest.clone();
    let n = lying.len();
    lying[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    let cache = tempfile::tempdir().unwrap();
    let store = Store::open(cache.path()).unwrap();
    let a = store.insert_tarball(&sha512_sri(&honest), &honest).unwrap();
    let err = store
        .insert_tarball(&sha512_sri(&lying), &lying)
        .unwrap_err();
    assert_eq!(err.code, Code::Tarball, "a wrong ISIZE is corrupt: {err}");
    // A well-formed archive whose size the trailer cannot tell: two gzip
    // members (the streaming decoder reads the first, as before).
    let tar = gunzip(&honest);
    let mut two = gzip(&tar);
    two.extend(gzip(b""));
    let b = store.insert_tarball(&sha512_sri(&two), &two).unwrap();
    assert_eq!(listing(&a.dir), listing(&b.dir));
    let (ia, ib) = (a.index().unwrap(), b.index().unwrap());
    assert_eq!((ia.dirs, ia.files), (ib.dirs, ib.files));
    assert_eq!(mode(&b.dir.join("bin/s.js")), 0o755);
    assert_eq!(fs::read(b.dir.join("lib/a.js")).unwrap(), b"new");
}

#[test]
fn a_decompression_bomb_is_refused_whatever_its_trailer_says() {
    let zeros = vec![0u8; 3 << 20];
    let bomb = tgz(&[
        Entry::File("package/package.json", br#"{"name":"z"}"#, 0o644),
        Entry::File("package/zeros", &zeros, 0o644),
    ]);
    let limits = Limits {
        max_unpacked: 1 << 20,
        max_ratio: 100,
    };
    let mut lying = bomb.clone();
    let n = lying.len();
    lying[n - 4..].copy_from_slice(&1000u32.to_le_bytes());
    for (what, data) in [("honest trailer", &bomb), ("lying trailer", &lying)] {
        let cache = tempfile::tempdir().unwrap();
        let store = Store::open(cache.path()).unwrap().with_limits(limits);
        let err = store.insert_tarball(&sha512_sri(data), data).unwrap_err();
        assert_eq!(err.code, Code::Tarball, "{what}: {err}");
        assert!(
            err.message.contains("brisk-max-unpacked-size"),
            "{what}: {err}"
        );
        assert!(store.get(&sha512_sri(data)).is_none());
        assert!(tmp_is_empty(&store), "{what}: nothing left behind");
    }
    // Within the limits it installs; the ratio limit spares small archives.
    let cache = tempfile::tempdir().unwrap();
    let store = Store::open(cache.path()).unwrap();
    assert_eq!(store.limits(), Limits::default());
    let pkg = store.insert_tarball(&sha512_sri(&bomb), &bomb).unwrap();
    assert_eq!(fs::metadata(pkg.dir.join("zeros")).unwrap().len(), 3 << 20);
    // A plain tar's file data counts too.
    let tar = gunzip(&bomb);
    let store = Store::open(cache.path()).unwrap().with_limits(limits);
    let err = store.insert_tarball(&sha512_sri(&tar), &tar).unwrap_err();
    assert_eq!(err.code, Code::Tarball, "{err}");
}

#[test]
fn names_that_are_not_utf8_are_refused() {
    let mut tar = tar::Builder::new(Vec::new());
    for name in [&b"package/a\xff.js"[..], &b"package/a\xfe.js"[..]] {
        let mut header = tar::Header::new_old();
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_size(1);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        tar.append(&header, &b"x"[..]).unwrap();
    }
    let data = gzip(&tar.into_inner().unwrap());
    let cache = tempfile::tempdir().unwrap();
    let store = Store::open(cache.path()).unwrap();
    let err = store.insert_tarball(&sha512_sri(&data), &data).unwrap_err();
    assert_eq!(err.code, Code::Tarball);
    assert!(err.message.contains("UTF-8"), "{err}");
}

/// The index records each file's size and mtime and reads them back.
#[test]
fn index_round_trips_stamps() {
    use std::os::unix::fs::MetadataExt;
    let cache = tempfile::tempdir().unwrap();
    let store = Store::open(cache.path()).unwrap();
    let data = simple_package("stamped");
    let pkg = store.insert_tarball(&sha512_sri(&data), &data).unwrap();
    let index = pkg.index().unwrap();
    assert!(index.checkable());
    assert_eq!(index.stamps.len(), index.files.len());
    for (rel, s) in index.files.iter().zip(&index.stamps) {
        let m = fs::metadata(pkg.dir.join(rel)).unwrap();
        assert_eq!(s.size, m.size());
        let ns = i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec());
        assert_eq!(s.mtime_ns, ns, "{}", rel.display());
    }
    let text = fs::read(pkg.dir.parent().unwrap().join("index")).unwrap();
    assert!(text.starts_with(b"brisk-index 2\n"));
}

/// A write through a hardlink (same size, even) is found; the entry is
/// moved aside, never linked, and can be inserted again.
#[test]
fn a_file_written_through_a_hardlink_is_found_and_set_aside() {
    let cache = tempfile::tempdir().unwrap();
    let store = Store::open(cache.path()).unwrap();
    let data = simple_package("edited");
    let sri = sha512_sri(&data);
    let pkg = store.insert_tarball(&sri, &data).unwrap();
    let parsed = Sri::parse(&sri).unwrap();
    let Found::Intact(found) = store.find(&parsed) else {
        panic!("an untouched entry is intact")
    };
    assert_eq!(found.dir, pkg.dir);

    let proj = cache.path().join("proj-index.js");
    fs::hard_link(pkg.dir.join("index.js"), &proj).unwrap();
    let len = fs::metadata(&proj).unwrap().len() as usize;
    std::thread::sleep(std::time::Duration::from_millis(20));
    fs::write(&proj, "x".repeat(len)).unwrap(); // in place, same size
    assert_eq!(
        pkg.check(None).unwrap(),
        Check::Changed(pkg.dir.join("index.js"))
    );
    assert_eq!(
        store.find(&parsed),
        Found::Changed(pkg.dir.join("index.js"))
    );
    assert!(store.get(&sri).is_none(), "moved out of the store");
    assert_eq!(fs::read_dir(store.tmp_dir()).unwrap().count(), 1);
    let again = store.insert_tarball(&sri, &data).unwrap();
    assert!(matches!(store.find(&parsed), Found::Intact(_)));
    assert_ne!(
        fs::read(again.dir.join("index.js")).unwrap(),
        fs::read(&proj).unwrap()
    );
}

/// With `since`, a status change after it counts (a script that put the
/// mtime back, a chmod); before it, not.
#[test]
fn a_status_change_since_the_clock_is_found() {
    use std::os::unix::fs::PermissionsExt;
    let cache = tempfile::tempdir().unwrap();
    let store = Store::open(cache.path()).unwrap();
    let data = simple_package("chmodded");
    let pkg = store.insert_tarball(&sha512_sri(&data), &data).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let since = store.clock().unwrap();
    assert!(matches!(pkg.check(Some(since)).unwrap(), Check::Intact(_)));
    std::thread::sleep(std::time::Duration::from_millis(20));
    let file = pkg.dir.join("package.json");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o666)).unwrap();
    assert!(matches!(pkg.check(None).unwrap(), Check::Intact(_)));
    assert_eq!(pkg.check(Some(since)).unwrap(), Check::Changed(file));
}

/// An entry with a format-1 index (no stamps) cannot be checked: it is
/// moved aside and fetched again.
#[test]
fn an_old_index_is_re_extracted() {
    let cache = tempfile::tempdir().unwrap();
    let store = Store::open(cache.path()).unwrap();
    let data = simple_package("old");
    let sri = sha512_sri(&data);
    let pkg = store.insert_tarball(&sri, &data).unwrap();
    let index = pkg.dir.parent().unwrap().join("index");
    fs::write(&index, b"brisk-index 1\nfindex.js\0fpackage.json\0").unwrap();
    let old = pkg.index().unwrap();
    assert_eq!(old.files, paths(&["index.js", "package.json"]));
    assert!(!old.checkable());
    assert_eq!(pkg.check(None).unwrap(), Check::Unverifiable);
    assert_eq!(store.find(&Sri::parse(&sri).unwrap()), Found::Missing);
    assert!(store.get(&sri).is_none());
}
