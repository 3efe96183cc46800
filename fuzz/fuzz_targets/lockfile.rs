//! package-lock.json (v1, v2, v3): parsing, the entry checks, reading
//! entries into packages and building the tree, then rendering it again,
//! must return errors, never panic.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use brisk::lockfile::{self, Lockfile, RenderOptions};
use brisk::project::Project;
use brisk::tree::{EdgeOptions, Package};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(lock) = Lockfile::parse(text) else {
        return;
    };
    let _ = lock.locked_versions();
    let _ = lock.locked();
    let _ = lock.required_tarballs().count();
    // The root entry stands in for package.json (same dependency maps).
    let dir = Path::new("/nonexistent/brisk-fuzz");
    let raw = lock.packages.get("").cloned().unwrap_or_default();
    let project = match Project::from_map(dir, raw) {
        Ok(p) => p,
        Err(_) => Project::from_map(dir, Default::default()).expect("an empty package.json"),
    };
    let Ok(overrides) = brisk::tree::Overrides::of_project(&project) else {
        return;
    };
    let opts = EdgeOptions {
        overrides,
        root_dir: Arc::new(PathBuf::from(dir)),
        ..Default::default()
    };
    let Ok(tree) = lock.to_tree(Package::from_project(&project), opts) else {
        return;
    };
    let _ = lockfile::in_sync(&lock, &tree, &project);
    for hidden in [false, true] {
        let opts = RenderOptions {
            omit_resolved: hidden,
            hidden,
        };
        let text = lockfile::render(&tree, opts, |_| true);
        // What brisk writes, it must read back.
        Lockfile::parse(&text).expect("a rendered lockfile parses");
    }
});
