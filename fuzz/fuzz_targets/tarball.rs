//! Package archives from the network: extraction into the store must fail
//! cleanly on anything malformed, stay inside the limits, and never write
//! outside the cache dir.
//!
//! The first byte picks the form: odd → the rest is gzip'd here first (so
//! mutations reach the tar reader behind the gzip path), even → the rest is
//! given as is (plain tar, or gzip the fuzzer mangles).
#![no_main]

use std::fs;
use std::io::Write;
use std::path::{Component, Path};

use brisk::store::{Limits, Store};
use libfuzzer_sys::fuzz_target;

/// An SRI for the entry's key (the store does not hash the archive again).
const INTEGRITY: &str = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==";

/// Every path under `dir`, checking that none is a symlink or special file.
fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in fs::read_dir(dir).expect("reading a cache dir") {
        let path = e.expect("a dir entry").path();
        let meta = fs::symlink_metadata(&path).expect("stat");
        let t = meta.file_type();
        assert!(
            t.is_file() || t.is_dir(),
            "{} is neither file nor dir",
            path.display()
        );
        if t.is_dir() {
            walk(&path, out);
        }
        out.push(path);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let archive = if mode & 1 == 1 {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(rest).expect("gzip into memory");
        gz.finish().expect("gzip into memory")
    } else {
        rest.to_vec()
    };
    // sandbox/cache is the cache dir; anything else in sandbox escaped it.
    let sandbox = tempfile::tempdir().expect("a temp dir");
    let cache = sandbox.path().join("cache");
    let store = Store::open(&cache)
        .expect("opening the store")
        .with_limits(Limits {
            max_unpacked: 1 << 20,
            max_ratio: 100,
        });
    let result = store.insert_tarball(INTEGRITY, &archive);

    let names: Vec<_> = fs::read_dir(sandbox.path())
        .expect("reading the sandbox")
        .map(|e| e.expect("a dir entry").file_name())
        .collect();
    assert_eq!(names, ["cache"], "extraction wrote outside the cache dir");
    let mut all = Vec::new();
    walk(&cache, &mut all);
    let mut written = 0u64;
    for p in &all {
        written += fs::symlink_metadata(p)
            .map(|m| if m.is_file() { m.len() } else { 0 })
            .unwrap_or(0);
    }
    // File data is capped at the limit; the index file lists at most as much again.
    assert!(written <= 2 << 20, "wrote {written} bytes past the limit");
    let staged = fs::read_dir(cache.join("tmp"))
        .expect("reading tmp")
        .count();
    assert_eq!(staged, 0, "a staging dir was left behind");

    match result {
        Ok(pkg) => {
            assert!(pkg.dir.starts_with(&cache));
            let index = pkg.index().expect("a fresh entry's index reads");
            for rel in index.dirs.iter().chain(&index.files) {
                assert!(
                    rel.components().all(|c| matches!(c, Component::Normal(_))),
                    "index path {} is not plain relative",
                    rel.display()
                );
            }
            for f in &index.files {
                assert!(fs::symlink_metadata(pkg.dir.join(f)).is_ok_and(|m| m.is_file()));
            }
            for d in &index.dirs {
                assert!(fs::symlink_metadata(pkg.dir.join(d)).is_ok_and(|m| m.is_dir()));
            }
        }
        Err(e) => {
            // A refused archive leaves no entry behind.
            let _ = e.code;
            assert!(store.get(INTEGRITY).is_none());
        }
    }
});
