//! Packument JSON from a registry: the trimmer, the lazy index, manifest
//! parsing and version picking must never panic, and the trimmed document
//! (what the packument cache stores) must read back to the same packument.
#![no_main]

use brisk::registry::{pick_version, pick_version_with, Packument, PickOptions};
use libfuzzer_sys::fuzz_target;

const SPECS: &[&str] = &[
    "^1.0.0",
    "*",
    "",
    "latest",
    "next",
    "1.0.0",
    "v1.0.0",
    "=1.0.0",
    ">=0.1.0 <2",
    "~0.1.4",
    "1.x || >=2.5.0",
    "^0.0.1-beta.1",
    "x",
];

fn exercise(p: &Packument) {
    let versions: Vec<&str> = p.versions().collect();
    for v in versions.iter().take(64) {
        let _ = p.published(v);
        let _ = p.manifest(v);
    }
    for m in p.manifests().take(64) {
        let _ = serde_json::to_string(&**m);
    }
    let opts = PickOptions {
        node_version: Some("20.11.0".into()),
        before: Some(1_700_000_000_000),
    };
    for spec in SPECS {
        let _ = pick_version(p, spec);
        let _ = pick_version_with(p, spec, &opts);
    }
    for tag in p.dist_tags.keys().take(8) {
        let _ = pick_version_with(p, tag, &opts);
    }
}

fn same(a: &Packument, b: &Packument) {
    assert_eq!(a.name, b.name);
    assert_eq!(a.dist_tags, b.dist_tags);
    assert_eq!(
        a.versions().collect::<Vec<_>>(),
        b.versions().collect::<Vec<_>>()
    );
    for v in a.versions().take(64) {
        assert_eq!(a.published(v), b.published(v), "publish time of {v:?}");
        assert_eq!(a.manifest(v), b.manifest(v), "manifest of {v:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = Packument::from_slice(data) {
        exercise(&p);
    }
    for keep_time in [false, true] {
        let Ok((p, cut)) = Packument::from_registry_with(data, keep_time) else {
            continue;
        };
        exercise(&p);
        let again = Packument::from_bytes(cut).expect("a trimmed packument reads back");
        same(&p, &again);
    }
});
