//! Dependency specs as package.json, lockfiles and `brisk add` give them:
//! npm-package-arg's rules, git specs and package names, never a panic.
#![no_main]

use std::path::Path;

use brisk::spec::Spec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A NUL splits the input into dependency name and spec.
    let (name, raw) = text.split_once('\0').unwrap_or(("pkg", text));
    let _ = brisk::name::check(name);
    let _ = brisk::name::check(raw);
    if let Ok(spec) = Spec::parse(name, raw) {
        let _ = spec.satisfied_by(name, "1.2.3");
        let _ = spec.satisfied_by(name, "0.0.0-beta.1");
        let _ = spec
            .clone()
            .rebase("node_modules/a", Path::new("/nonexistent/project"));
        let _ = spec.rebase("packages/b", Path::new("/nonexistent/project"));
    }
    let _ = brisk::spec::Req::parse(raw).matches("1.2.3");
    if let Some(git) = brisk::git::parse(raw) {
        let _ = git.clone_urls();
        let _ = git.resolved_url("0123456789abcdef0123456789abcdef01234567");
        let _ = git.display_name();
        if let Some(h) = &git.hosted {
            let _ = (h.https_url(), h.ssh_url(), h.shortcut());
        }
    }
    for arg in [text, raw] {
        if let Ok(req) = brisk::project::request::Request::parse(arg) {
            let _ = req.saved_spec("1.2.3", "^");
            let _ = req.saved_spec("2.0.0-rc.1", "~");
            let _ = req.exact_spec("1.2.3");
        }
    }
});
