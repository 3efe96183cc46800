//! A project's package.json: parsing (dependency maps, names, overrides)
//! and the spec check must return errors, never panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(project) = brisk::project::Project::parse(Path::new("/nonexistent/project"), text)
    else {
        return;
    };
    let _ = project.check_specs();
    let _ = project.workspace_patterns();
    let root = brisk::tree::Package::from_project(&project);
    let Ok(overrides) = brisk::tree::Overrides::of_project(&project) else {
        return;
    };
    let _ = overrides.check_root(&root, false);
    let _ = overrides.check_root(&root, true);
    // The root's edges, with the overrides applied, are what a resolve starts from.
    let opts = brisk::tree::EdgeOptions {
        overrides,
        ..Default::default()
    };
    let _ = brisk::tree::edges_of(&root, true, None, &opts);
});
