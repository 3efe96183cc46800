//! A project's .npmrc (a cloned repository's is not the user's own): the
//! ini decoding, `${VAR}` expansion and every setting built from it must
//! give a config or an error, never a panic.
#![no_main]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use brisk::config::{Config, ConfigOverrides};
use libfuzzer_sys::fuzz_target;

/// One project dir for the whole run (the file is rewritten each time).
fn project() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temp dir").keep())
}

fuzz_target!(|data: &[u8]| {
    let dir = project();
    std::fs::write(dir.join(".npmrc"), data).expect("writing .npmrc");
    // No HOME of the machine's: only the project's .npmrc is read.
    let env: HashMap<String, String> = [
        ("HOME", dir.join("no-home").display().to_string()),
        ("TOKEN", "secret".to_string()),
        ("REGISTRY", "https://registry.example.com/".to_string()),
        ("EMPTY", String::new()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let Ok(config) = Config::load(dir, &ConfigOverrides::default(), &env) else {
        return;
    };
    for name in ["pkg", "@scope/pkg", "@other/x"] {
        let registry = config.registry_for(name).to_string();
        let _ = config.auth_header(&registry);
        let url = format!("{registry}{name}/-/pkg-1.0.0.tgz");
        let _ = config.tarball_auth_header(&url, name);
    }
    let _ = config.auth_header("https://registry.npmjs.org/pkg");
});
