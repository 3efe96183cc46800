use super::*;
use std::fs;

/// A fake machine: a home dir, a project dir, and an env map.
struct Fixture {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    project: PathBuf,
    env: HashMap<String, String>,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let project = tmp.path().join("project");
        fs::create_dir_all(&home).unwrap();
        fs::create_dir_all(&project).unwrap();
        let env = [("HOME".to_string(), home.display().to_string())].into();
        Fixture {
            _tmp: tmp,
            home,
            project,
            env,
        }
    }
    fn user_rc(&self, text: &str) {
        fs::write(self.home.join(".npmrc"), text).unwrap();
    }
    fn project_rc(&self, text: &str) {
        fs::write(self.project.join(".npmrc"), text).unwrap();
    }
    fn env(&mut self, k: &str, v: &str) {
        self.env.insert(k.to_string(), v.to_string());
    }
    fn load(&self) -> Config {
        self.load_with(&ConfigOverrides::default())
    }
    fn load_with(&self, o: &ConfigOverrides) -> Config {
        Config::load(&self.project, o, &self.env).unwrap()
    }
}

#[test]
fn defaults() {
    let f = Fixture::new();
    let c = f.load();
    assert_eq!(c.registry, DEFAULT_REGISTRY);
    assert!(c.scoped_registries.is_empty());
    assert_eq!(c.cache_dir, f.home.join(".cache/brisk"));
    assert!(!c.legacy_peer_deps && !c.strict_peer_deps && !c.ignore_scripts);
    assert!(!c.omit_lockfile_registry_resolved);
    assert!(c.omit.is_empty());
    assert!(c.user_agent.starts_with("brisk/"));
    assert_eq!(c.auth_header("https://registry.npmjs.org/react"), None);
}

#[test]
fn layering_precedence() {
    let mut f = Fixture::new();
    let global = f.home.join("global-npmrc");
    fs::write(
        &global,
        "registry=https://global.example\nlegacy-peer-deps=true\nignore-scripts=true\n",
    )
    .unwrap();
    f.env("npm_config_globalconfig", &global.display().to_string());
    let c = f.load();
    assert_eq!(c.registry, "https://global.example/");
    assert!(c.legacy_peer_deps && c.ignore_scripts);

    f.user_rc("registry=https://user.example/\nlegacy-peer-deps=false\n");
    let c = f.load();
    assert_eq!(c.registry, "https://user.example/");
    assert!(!c.legacy_peer_deps);
    assert!(c.ignore_scripts, "untouched keys come from lower layers");

    f.project_rc("registry=https://project.example/\n");
    assert_eq!(f.load().registry, "https://project.example/");

    f.env("npm_config_registry", "https://env.example/");
    assert_eq!(f.load().registry, "https://env.example/");

    let o = ConfigOverrides {
        registry: Some("https://cli.example".into()),
        ignore_scripts: Some(false),
        ..Default::default()
    };
    let c = f.load_with(&o);
    assert_eq!(c.registry, "https://cli.example/");
    assert!(!c.ignore_scripts);
}

#[test]
fn userconfig_env_replaces_home_npmrc() {
    let mut f = Fixture::new();
    f.user_rc("strict-peer-deps=true\n");
    let other = f.home.join("other-rc");
    fs::write(&other, "legacy-peer-deps=true\n").unwrap();
    f.env("NPM_CONFIG_USERCONFIG", &other.display().to_string());
    let c = f.load();
    assert!(c.legacy_peer_deps);
    assert!(
        !c.strict_peer_deps,
        "$HOME/.npmrc is not read when userconfig is set"
    );
}

#[test]
fn env_keys_are_case_insensitive_and_dashed() {
    let mut f = Fixture::new();
    f.project_rc("legacy-peer-deps=false\n");
    f.env("NPM_CONFIG_LEGACY_PEER_DEPS", "true");
    f.env("npm_config_omit_lockfile_registry_resolved", "1");
    f.env("npm_config_strict_peer_deps", ""); // empty: ignored
    f.env("npm_config_//env.example/:_authToken", "envtok");
    let c = f.load();
    assert!(c.legacy_peer_deps);
    assert!(c.omit_lockfile_registry_resolved);
    assert!(!c.strict_peer_deps);
    assert_eq!(
        c.auth_header("https://env.example/pkg").as_deref(),
        Some("Bearer envtok")
    );
}

#[test]
fn env_expansion_in_keys_and_values() {
    let mut f = Fixture::new();
    f.env("TOKEN", "t0k");
    f.env("HOST", "npm.corp.example");
    f.project_rc(
        "registry=https://${HOST}/\n//${HOST}/:_authToken=${TOKEN}\n@a:registry=${NOPE}\n",
    );
    let err = Config::load(&f.project, &ConfigOverrides::default(), &f.env).unwrap_err();
    assert_eq!(
        err.code,
        Code::Config,
        "unset ${{NOPE}} stays literal: not a URL"
    );
    f.project_rc("registry=https://${HOST}/\n//${HOST}/:_authToken=${TOKEN}\n");
    let c = f.load();
    assert_eq!(c.registry, "https://npm.corp.example/");
    assert_eq!(
        c.auth_header("https://npm.corp.example/foo").as_deref(),
        Some("Bearer t0k")
    );
}

#[test]
fn scoped_registries() {
    let f = Fixture::new();
    f.project_rc("@corp:registry=https://npm.corp.example/npm\nregistry=https://r.example/\n");
    let c = f.load();
    assert_eq!(
        c.registry_for("@corp/util"),
        "https://npm.corp.example/npm/"
    );
    assert_eq!(c.registry_for("@other/util"), "https://r.example/");
    assert_eq!(c.registry_for("react"), "https://r.example/");
    assert_eq!(c.registry_for("@corp"), "https://r.example/");
}

#[test]
fn auth_matching() {
    let mut f = Fixture::new();
    f.env("PW", "c2VjcmV0"); // base64("secret")
    f.project_rc(
        "\
//a.example/:_authToken=tokA
//a.example/private/:_authToken=tokPriv
//b.example:8443/:_authToken=tokB
//c.example/:username=bob
//c.example/:_password=${PW}
//d.example/scope/:_auth=YWxpY2U6cHc=
//e.example/:username=nopass
",
    );
    let c = f.load();
    let h = |u: &str| c.auth_header(u);
    assert_eq!(h("https://a.example/react").as_deref(), Some("Bearer tokA"));
    assert_eq!(
        h("https://A.EXAMPLE/react/-/react-1.0.0.tgz").as_deref(),
        Some("Bearer tokA")
    );
    assert_eq!(
        h("https://a.example/private/x").as_deref(),
        Some("Bearer tokPriv")
    );
    assert_eq!(
        h("https://a.example/privateer/x").as_deref(),
        Some("Bearer tokA")
    );
    assert_eq!(h("https://other.example/react"), None);
    assert_eq!(h("https://a.example.evil.com/react"), None);
    assert_eq!(
        h("https://b.example:8443/x").as_deref(),
        Some("Bearer tokB")
    );
    assert_eq!(
        h("https://b.example/x"),
        None,
        "another port is another host"
    );
    assert_eq!(h("https://b.example:9443/x"), None);
    let bob = base64::engine::general_purpose::STANDARD.encode("bob:secret");
    assert_eq!(h("https://c.example/p"), Some(format!("Basic {bob}")));
    assert_eq!(
        h("https://d.example/scope/pkg").as_deref(),
        Some("Basic YWxpY2U6cHc=")
    );
    assert_eq!(h("https://d.example/pkg"), None);
    assert_eq!(
        h("https://e.example/pkg"),
        None,
        "username without password"
    );
    assert_eq!(
        h("https://a.example:443/react").as_deref(),
        Some("Bearer tokA")
    );
    assert_eq!(h("not a url"), None);
}

#[test]
fn top_level_auth_only_for_default_registry() {
    let f = Fixture::new();
    f.project_rc("registry=https://r.example/npm/\n_authToken=legacy\n");
    let c = f.load();
    assert_eq!(
        c.auth_header("https://r.example/npm/x").as_deref(),
        Some("Bearer legacy")
    );
    assert_eq!(c.auth_header("https://r.example/other/x"), None);
    assert_eq!(c.auth_header("https://registry.npmjs.org/x"), None);

    // A nerf-darted token for the registry wins over the legacy one.
    f.project_rc(
        "registry=https://r.example/npm/\n_authToken=legacy\n//r.example/npm/:_authToken=new\n",
    );
    assert_eq!(
        f.load().auth_header("https://r.example/npm/x").as_deref(),
        Some("Bearer new")
    );
}

#[test]
fn debug_redacts_tokens() {
    let f = Fixture::new();
    f.project_rc("//a.example/:_authToken=supersecret\n_auth=dXNlcjpwYXNz\n");
    let c = f.load();
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("supersecret"), "{dbg}");
    assert!(!dbg.contains("dXNlcjpwYXNz"), "{dbg}");
    assert!(dbg.contains("//a.example/"));
}

#[test]
fn cache_dir_rules() {
    let mut f = Fixture::new();
    assert_eq!(f.load().cache_dir, f.home.join(".cache/brisk"));
    if cfg!(target_os = "linux") {
        f.env("XDG_CACHE_HOME", "/xdg");
        assert_eq!(f.load().cache_dir, PathBuf::from("/xdg/brisk"));
    }
    f.user_rc("cache=/npm/cache\ncache-dir=~/c1\n");
    assert_eq!(
        f.load().cache_dir,
        f.home.join("c1"),
        "npm's `cache` is not ours"
    );
    f.project_rc("brisk-cache-dir=rel/cache\n");
    assert_eq!(f.load().cache_dir, f.project.join("rel/cache"));
    f.env("npm_config_brisk_cache_dir", "/env/cache");
    assert_eq!(f.load().cache_dir, PathBuf::from("/env/cache"));
    f.env("BRISK_CACHE_DIR", "/brisk/cache");
    assert_eq!(f.load().cache_dir, PathBuf::from("/brisk/cache"));
    let o = ConfigOverrides {
        cache_dir: Some("/opt/cache".into()),
        ..Default::default()
    };
    assert_eq!(f.load_with(&o).cache_dir, PathBuf::from("/opt/cache"));
}

#[test]
fn brisk_cache_dir_beats_cache_dir_in_same_file() {
    let f = Fixture::new();
    f.project_rc("cache-dir=/a\nbrisk-cache-dir=/b\n");
    assert_eq!(f.load().cache_dir, PathBuf::from("/b"));
    f.user_rc("brisk-cache-dir=/user\n");
    f.project_rc("cache-dir=/project\n");
    assert_eq!(
        f.load().cache_dir,
        PathBuf::from("/project"),
        "higher layer wins"
    );
}

#[test]
fn quoted_and_commented_lines() {
    let f = Fixture::new();
    f.project_rc(
        "\
# a comment
; another
registry = \"https://q.example/\"
legacy-peer-deps = true # trailing
//q.example/:_authToken='a#b;c'
",
    );
    let c = f.load();
    assert_eq!(c.registry, "https://q.example/");
    assert!(c.legacy_peer_deps);
    assert_eq!(
        c.auth_header("https://q.example/x").as_deref(),
        Some("Bearer a#b;c")
    );
}

#[test]
fn omit_rules() {
    let mut f = Fixture::new();
    f.project_rc("omit[]=dev\nomit[]=optional\nomit[]=bogus\n");
    assert_eq!(f.load().omit, vec!["dev", "optional"]);
    f.project_rc("omit=peer\ninclude=peer\n");
    assert!(f.load().omit.is_empty());
    f.project_rc("production=true\n");
    assert_eq!(f.load().omit, vec!["dev"]);
    f.project_rc("");
    f.env("NODE_ENV", "production");
    assert_eq!(f.load().omit, vec!["dev"]);
    let o = ConfigOverrides {
        omit: Some(vec!["optional".into()]),
        ..Default::default()
    };
    assert_eq!(f.load_with(&o).omit, vec!["optional"]);
    let bad = ConfigOverrides {
        omit: Some(vec!["devv".into()]),
        ..Default::default()
    };
    let err = Config::load(&f.project, &bad, &f.env).unwrap_err();
    assert_eq!(err.code, Code::Config);
    assert!(err.message.contains("devv"));
}

#[test]
fn booleans_follow_nopt() {
    let f = Fixture::new();
    f.project_rc("legacy-peer-deps\nstrict-peer-deps=0\nignore-scripts=yes\n");
    let c = f.load();
    assert!(c.legacy_peer_deps, "bare key is true");
    assert!(!c.strict_peer_deps);
    assert!(c.ignore_scripts);
}

#[test]
fn invalid_registry_is_a_config_error() {
    let f = Fixture::new();
    f.project_rc("registry=registry.npmjs.org\n");
    let err = Config::load(&f.project, &ConfigOverrides::default(), &f.env).unwrap_err();
    assert_eq!(err.code, Code::Config);
    assert!(err.message.contains(".npmrc"), "{}", err.message);
}

#[test]
fn user_agent_picks_node_version_from_npm() {
    let mut f = Fixture::new();
    f.env(
        "npm_config_user_agent",
        "npm/10.2.0 node/v20.10.0 linux x64 workspaces/false",
    );
    let ua = f.load().user_agent;
    assert!(
        ua.starts_with(&format!(
            "brisk/{} node/v20.10.0 ",
            env!("CARGO_PKG_VERSION")
        )),
        "{ua}"
    );
}

#[test]
fn save_settings() {
    let f = Fixture::new();
    let c = f.load();
    assert!(c.save && !c.save_exact);
    assert_eq!(c.save_prefix, "^");
    f.project_rc("save-prefix=~\nsave-exact=true\nsave=false\n");
    let c = f.load();
    assert!(!c.save && c.save_exact);
    assert_eq!(c.save_prefix, "~");
    let c = f.load_with(&ConfigOverrides {
        save_exact: Some(false),
        save: Some(true),
        ..Default::default()
    });
    assert!(c.save && !c.save_exact);
}
