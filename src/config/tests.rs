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

// ---- npm keys read for other stages --------------------------------------

#[test]
fn script_and_save_keys_defaults_and_values() {
    let f = Fixture::new();
    let c = f.load();
    assert!(!c.save_exact && !c.foreground_scripts && !c.engine_strict && !c.allow_scripts);
    assert_eq!(c.save_prefix, "^");
    assert_eq!(c.script_shell, None);

    f.project_rc(
        "save-exact=true\nsave-prefix=~\nallow-scripts=true\n\
         script-shell=/bin/bash\nforeground-scripts\nengine-strict=true\n",
    );
    let c = f.load();
    assert!(c.save_exact && c.foreground_scripts && c.engine_strict && c.allow_scripts);
    assert_eq!(c.save_prefix, "~");
    assert_eq!(c.script_shell.as_deref(), Some("/bin/bash"));

    f.project_rc("save-prefix=\"\"\nscript-shell=\n");
    let c = f.load();
    assert_eq!(c.save_prefix, "");
    assert_eq!(c.script_shell, None, "empty means the default shell");
}

// ---- ${VAR} expansion ----------------------------------------------------

#[test]
fn env_expansion_optional_form_and_escapes() {
    let mut f = Fixture::new();
    f.env("TOK", "abc");
    f.env("EMPTY", "");
    f.project_rc(
        "\
//a.example/:_authToken=${TOK}
//b.example/:_authToken=pre-${UNSET?}-post
//c.example/:_authToken=${UNSET}
//d.example/:_authToken=\\${TOK}
//e.example/:_authToken=x${EMPTY}y
save-prefix=${UNSET?}
",
    );
    let c = f.load();
    let h = |u: &str| c.auth_header(u);
    assert_eq!(h("https://a.example/x").as_deref(), Some("Bearer abc"));
    assert_eq!(
        h("https://b.example/x").as_deref(),
        Some("Bearer pre--post")
    );
    assert_eq!(
        h("https://c.example/x").as_deref(),
        Some("Bearer ${UNSET}"),
        "an unset variable without `?` stays literal, as in npm"
    );
    assert_eq!(h("https://d.example/x").as_deref(), Some("Bearer ${TOK}"));
    assert_eq!(
        h("https://e.example/x").as_deref(),
        Some("Bearer xy"),
        "a set-but-empty variable expands to nothing"
    );
    assert_eq!(c.save_prefix, "");
}

#[test]
fn env_expansion_in_env_layer() {
    let mut f = Fixture::new();
    f.env("REG_HOST", "r.example");
    f.env("npm_config_registry", "https://${REG_HOST}/npm/");
    assert_eq!(f.load().registry, "https://r.example/npm/");
}

// ---- auth forms ----------------------------------------------------------

#[test]
fn auth_forms_per_host_and_path() {
    let mut f = Fixture::new();
    let b64 = base64::engine::general_purpose::STANDARD;
    f.env("PASS", &b64.encode("p@ss"));
    f.project_rc(&format!(
        "\
//tok.example/npm/:_authToken=T1
//basic.example/:_auth={}
//userpass.example:8080/repo/:username=alice
//userpass.example:8080/repo/:_password=${{PASS}}
//both.example/:_authToken=wins
//both.example/:_auth=loses
",
        b64.encode("bob:pw")
    ));
    let c = f.load();
    let h = |u: &str| c.auth_header(u);
    assert_eq!(h("https://tok.example/npm/a").as_deref(), Some("Bearer T1"));
    assert_eq!(h("https://tok.example/other/a"), None, "path-scoped token");
    assert_eq!(h("https://tok.example/npmx/a"), None);
    assert_eq!(h("http://tok.example/npm/a").as_deref(), Some("Bearer T1"));
    assert_eq!(
        h("https://basic.example/a"),
        Some(format!("Basic {}", b64.encode("bob:pw")))
    );
    assert_eq!(
        h("http://userpass.example:8080/repo/x/-/x-1.0.0.tgz"),
        Some(format!("Basic {}", b64.encode("alice:p@ss"))),
        "_password is base64 and is decoded before re-encoding user:pass"
    );
    assert_eq!(h("http://userpass.example/repo/x"), None, "port matters");
    assert_eq!(h("https://both.example/a").as_deref(), Some("Bearer wins"));
}

#[test]
fn legacy_top_level_auth_is_for_the_default_registry_only() {
    let f = Fixture::new();
    let b64 = base64::engine::general_purpose::STANDARD;
    f.project_rc(&format!(
        "registry=https://r.example/\n@s:registry=https://s.example/\n_auth={}\n",
        b64.encode("u:p")
    ));
    let c = f.load();
    let basic = format!("Basic {}", b64.encode("u:p"));
    assert_eq!(c.auth_header("https://r.example/pkg"), Some(basic.clone()));
    assert_eq!(c.auth_header("https://s.example/@s/pkg"), None);
    assert_eq!(c.auth_header("https://registry.npmjs.org/pkg"), None);
    assert_eq!(
        c.tarball_auth_header("https://s.example/@s/pkg/-/pkg-1.0.0.tgz", "@s/pkg"),
        None
    );

    // Default registry left at npmjs: the legacy token goes there only.
    f.project_rc("_authToken=npmtok\n");
    let c = f.load();
    assert_eq!(
        c.auth_header("https://registry.npmjs.org/react").as_deref(),
        Some("Bearer npmtok")
    );
    assert_eq!(c.auth_header("https://r.example/react"), None);
}

#[test]
fn tarball_auth_follows_npm_same_host_rule() {
    let f = Fixture::new();
    f.project_rc(
        "registry=https://r.example/npm/\n//r.example/npm/:_authToken=T\n\
         @s:registry=https://s.example/api/\n//s.example/api/:_authToken=S\n",
    );
    let c = f.load();
    let t = |u: &str, name: &str| c.tarball_auth_header(u, name);
    assert_eq!(
        t("https://r.example/npm/a/-/a-1.0.0.tgz", "a").as_deref(),
        Some("Bearer T")
    );
    assert_eq!(
        t("https://r.example/files/a-1.0.0.tgz", "a").as_deref(),
        Some("Bearer T"),
        "same host as the package's registry: npm sends the registry's token"
    );
    assert_eq!(t("https://cdn.example/a-1.0.0.tgz", "a"), None);
    assert_eq!(t("https://r.example:8443/npm/a-1.0.0.tgz", "a"), None);
    assert_eq!(
        t("https://s.example/files/b.tgz", "@s/b").as_deref(),
        Some("Bearer S")
    );
    assert_eq!(
        t("https://s.example/files/b.tgz", "b"),
        None,
        "an unscoped package's registry is r.example"
    );
    assert_eq!(
        t("https://r.example/files/b.tgz", "@s/b"),
        None,
        "the scope's registry is on another host"
    );
}

// ---- TLS -----------------------------------------------------------------

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/__test__/tls");

fn fixture_pem(name: &str) -> String {
    fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap()
}

#[test]
fn strict_ssl_and_ca_defaults() {
    let f = Fixture::new();
    let c = f.load();
    assert!(c.net.strict_ssl);
    assert_eq!(c.net.ca_count(), None);
    f.project_rc("strict-ssl=false\n");
    assert!(!f.load().net.strict_ssl);
    f.project_rc("ca=null\n");
    assert_eq!(f.load().net.ca_count(), None);
}

#[test]
fn cafile_with_several_certificates() {
    let f = Fixture::new();
    let bundle = f.home.join("bundle.pem");
    fs::write(
        &bundle,
        format!(
            "{}\r\n{}",
            fixture_pem("other-ca.pem"),
            fixture_pem("ca.pem")
        ),
    )
    .unwrap();
    f.project_rc("cafile=~/bundle.pem\n");
    let c = f.load();
    assert_eq!(c.net.ca_count(), Some(2));
    assert!(c.net.ca_source().unwrap().contains("bundle.pem"));
    // cafile wins over ca when both are set (npm flattens cafile last).
    f.project_rc(&format!(
        "ca=\"{}\"\ncafile={}\n",
        fixture_pem("ca.pem").replace('\n', "\\n"),
        bundle.display()
    ));
    assert_eq!(f.load().net.ca_count(), Some(2));
}

#[test]
fn ca_inline_string_and_list() {
    let f = Fixture::new();
    let escaped = |n: &str| fixture_pem(n).trim_end().replace('\n', "\\n");
    // Quoted: JSON unescapes `\n`. Unquoted: the literal `\n` is turned into newlines.
    f.project_rc(&format!("ca=\"{}\"\n", escaped("ca.pem")));
    assert_eq!(f.load().net.ca_count(), Some(1));
    f.project_rc(&format!("ca={}\n", escaped("ca.pem")));
    assert_eq!(f.load().net.ca_count(), Some(1));
    f.project_rc(&format!(
        "ca[]=\"{}\"\nca[]=\"{}\"\n",
        escaped("ca.pem"),
        escaped("other-ca.pem")
    ));
    assert_eq!(f.load().net.ca_count(), Some(2));
}

#[test]
fn bad_tls_values_are_config_errors_naming_the_source() {
    let f = Fixture::new();
    let load_err = || Config::load(&f.project, &ConfigOverrides::default(), &f.env).unwrap_err();

    f.project_rc("cafile=/nonexistent/ca.pem\n");
    let err = load_err();
    assert_eq!(err.code, Code::Config);
    assert!(
        err.message.contains("/nonexistent/ca.pem"),
        "{}",
        err.message
    );
    assert!(err.message.contains(".npmrc"), "{}", err.message);

    let junk = f.home.join("junk.pem");
    fs::write(&junk, "not a certificate\n").unwrap();
    f.project_rc(&format!("cafile={}\n", junk.display()));
    let err = load_err();
    assert_eq!(err.code, Code::Config);
    assert!(err.message.contains("junk.pem"), "{}", err.message);
    assert!(err.message.contains("no certificate"), "{}", err.message);

    fs::write(
        &junk,
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let err = load_err();
    assert_eq!(err.code, Code::Config);
    assert!(err.message.contains("junk.pem"), "{}", err.message);

    f.project_rc("ca=hello\n");
    let err = load_err();
    assert_eq!(err.code, Code::Config);
    assert!(err.message.contains("ca (set in"), "{}", err.message);
}

#[test]
fn http_client_builds_with_ca_and_rejects_undecodable_der() {
    let f = Fixture::new();
    f.project_rc(&format!("cafile={}/ca.pem\nstrict-ssl=false\n", FIXTURES));
    let c = f.load();
    crate::registry::http_client(&c).unwrap();

    // Valid base64 in PEM armour that is not a certificate: the TLS layer
    // refuses it when the client is built.
    let junk = f.home.join("der.pem");
    fs::write(
        &junk,
        "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    f.project_rc(&format!("cafile={}\n", junk.display()));
    let err = crate::registry::http_client(&f.load()).unwrap_err();
    assert_eq!(err.code, Code::Config, "{}", err.message);
    assert!(err.message.contains("der.pem"), "{}", err.message);
}

// ---- proxies -------------------------------------------------------------

#[test]
fn proxy_precedence_npmrc_over_env() {
    let mut f = Fixture::new();
    let c = f.load();
    assert_eq!(c.net.proxy_for("https://registry.npmjs.org/x"), None);

    f.env("HTTPS_PROXY", "http://env-https:3128");
    f.env("http_proxy", "http://env-http:3128");
    let c = f.load();
    assert_eq!(
        c.net.proxy_for("https://r.example/x").as_deref(),
        Some("http://env-https:3128/")
    );
    assert_eq!(
        c.net.proxy_for("http://r.example/x").as_deref(),
        Some("http://env-https:3128/"),
        "npm: https_proxy first, for http:// targets too"
    );
    f.env.remove("HTTPS_PROXY");
    let c = f.load();
    assert_eq!(c.net.proxy_for("https://r.example/x"), None);
    assert_eq!(
        c.net.proxy_for("http://r.example/x").as_deref(),
        Some("http://env-http:3128/")
    );

    f.project_rc("proxy=http://rc-proxy:8080\n");
    let c = f.load();
    assert_eq!(
        c.net.proxy_for("https://r.example/x").as_deref(),
        Some("http://rc-proxy:8080/"),
        ".npmrc proxy applies to every request and beats the environment"
    );
    assert_eq!(
        c.net.proxy_for("http://r.example/x").as_deref(),
        Some("http://rc-proxy:8080/")
    );

    f.project_rc("proxy=http://rc-proxy:8080\nhttps-proxy=rc-https:8443\n");
    let c = f.load();
    assert_eq!(
        c.net.proxy_for("http://r.example/x").as_deref(),
        Some("http://rc-https:8443/"),
        "https-proxy wins over proxy; a missing scheme means http://"
    );

    f.project_rc("proxy=false\n");
    assert_eq!(
        f.load().net.proxy_for("http://r.example/x").as_deref(),
        Some("http://env-http:3128/"),
        "proxy=false is falsy: npm falls back to the environment"
    );
}

#[test]
fn noproxy_matches_domain_suffixes() {
    let mut f = Fixture::new();
    f.project_rc("proxy=http://p:1\nnoproxy=internal.example, .corp.example,127.0.0.1\n");
    let c = f.load();
    let p = |u: &str| c.net.proxy_for(u).is_some();
    assert!(!p("https://internal.example/x"));
    assert!(!p("https://npm.internal.example/x"));
    assert!(!p("https://a.b.corp.example:8443/x"));
    assert!(!p("http://127.0.0.1:4873/x"));
    assert!(p("https://xinternal.example/x"));
    assert!(p("https://example/x"));
    assert!(p("https://registry.npmjs.org/x"));

    // Without `noproxy`, NO_PROXY from the environment applies.
    f.project_rc("proxy=http://p:1\n");
    f.env("NO_PROXY", "npmjs.org");
    let c = f.load();
    assert!(c.net.proxy_for("https://registry.npmjs.org/x").is_none());
    assert!(c.net.proxy_for("https://r.example/x").is_some());
    // `noproxy` replaces NO_PROXY.
    f.project_rc("proxy=http://p:1\nnoproxy[]=r.example\n");
    let c = f.load();
    assert!(c.net.proxy_for("https://registry.npmjs.org/x").is_some());
    assert!(c.net.proxy_for("https://r.example/x").is_none());
    f.project_rc("proxy=http://p:1\nnoproxy=*\n");
    assert!(f.load().net.proxy_for("https://r.example/x").is_none());
}

#[test]
fn invalid_proxy_is_a_config_error_without_credentials() {
    let mut f = Fixture::new();
    f.project_rc("https-proxy=socks5://user:hunter2@p:1080\n");
    let err = Config::load(&f.project, &ConfigOverrides::default(), &f.env).unwrap_err();
    assert_eq!(err.code, Code::Config);
    assert!(
        err.message.contains("https-proxy (set in"),
        "{}",
        err.message
    );
    assert!(err.message.contains("socks5"), "{}", err.message);
    assert!(!err.message.contains("hunter2"), "{}", err.message);

    f.project_rc("proxy=http://[bad\n");
    let err = Config::load(&f.project, &ConfigOverrides::default(), &f.env).unwrap_err();
    assert_eq!(err.code, Code::Config);
    assert!(err.message.contains("proxy (set in"), "{}", err.message);

    f.project_rc("");
    f.env("HTTPS_PROXY", "ftp://p:21");
    let err = Config::load(&f.project, &ConfigOverrides::default(), &f.env).unwrap_err();
    assert_eq!(err.code, Code::Config);
    assert!(err.message.contains("HTTPS_PROXY"), "{}", err.message);
}

#[test]
fn debug_never_shows_proxy_or_registry_credentials() {
    let f = Fixture::new();
    f.project_rc(
        "https-proxy=http://me:hunter2@proxy.example:3128\n//r.example/:_password=c2VjcmV0\n\
         //r.example/:username=me\nregistry=https://u:pw1@r.example/\n@s:registry=https://u:pw2@s.example/\n",
    );
    let c = f.load();
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("hunter2"), "{dbg}");
    assert!(!dbg.contains("c2VjcmV0"), "{dbg}");
    assert!(!dbg.contains("pw1") && !dbg.contains("pw2"), "{dbg}");
    assert!(dbg.contains("proxy.example:3128"), "{dbg}");
}

#[test]
fn redact_credentials_in_text() {
    assert_eq!(
        redact_credentials("GET https://u:p@r.example/a failed (http://x:y@p:1)"),
        "GET https://***@r.example/a failed (http://***@p:1)"
    );
    assert_eq!(
        redact_credentials("https://r.example/a@1.0.0"),
        "https://r.example/a@1.0.0",
        "an @ in the path is not userinfo"
    );
    assert_eq!(redact_credentials("no url here"), "no url here");
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

#[test]
fn fetch_settings_defaults_and_npm_keys() {
    use std::time::Duration;
    let mut f = Fixture::new();
    let p = f.load().net.fetch;
    assert_eq!(p, FetchPolicy::default());
    assert_eq!(p.retries, 2);
    assert_eq!(p.min_timeout, Duration::from_millis(250));
    assert_eq!(p.timeout, Some(Duration::from_secs(300)));
    assert_eq!(p.idle_timeout, FetchPolicy::IDLE_TIMEOUT);
    assert!(!p.timeout_set);

    f.project_rc(
        "fetch-retries=5\nfetch-retry-factor=10\nfetch-retry-mintimeout=10000\nfetch-retry-maxtimeout=60000\nfetch-timeout=1500\n",
    );
    let p = f.load().net.fetch;
    assert_eq!(p.retries, 5);
    assert_eq!(p.factor, 10.0);
    assert_eq!(p.min_timeout, Duration::from_secs(10));
    assert_eq!(p.max_timeout, Duration::from_secs(60));
    assert_eq!(p.timeout, Some(Duration::from_millis(1500)));
    assert_eq!(
        p.idle_timeout,
        Duration::from_millis(1500),
        "fetch-timeout also sets the idle timeout"
    );
    assert!(p.timeout_set);

    // The environment layer wins, as for every key; 0 turns fetch-timeout off.
    f.env("npm_config_fetch_retries", "0");
    f.env("npm_config_fetch_timeout", "0");
    let p = f.load().net.fetch;
    assert_eq!((p.retries, p.timeout), (0, None));
    assert_eq!(p.idle_timeout, FetchPolicy::IDLE_TIMEOUT);
}

#[test]
fn bad_fetch_settings_are_config_errors_naming_the_source() {
    for rc in [
        "fetch-retries=many\n",
        "fetch-timeout=-1\n",
        "fetch-retry-mintimeout\n",
        "fetch-retry-factor=NaN\n",
    ] {
        let f = Fixture::new();
        f.project_rc(rc);
        let err = Config::load(&f.project, &ConfigOverrides::default(), &f.env).unwrap_err();
        assert_eq!(err.code, Code::Config, "{rc}");
        let key = rc.split(['=', '\n']).next().unwrap();
        assert!(
            err.message.contains(key) && err.message.contains(".npmrc"),
            "{rc}: {}",
            err.message
        );
    }
}

#[test]
fn before_and_min_release_age() {
    let day = 86_400_000;
    let mut f = Fixture::new();
    assert_eq!(f.load().before, None);
    f.project_rc("before=2024-05-01\n");
    assert_eq!(
        f.load().before,
        crate::date::parse_iso("2024-05-01T00:00:00Z")
    );

    // min-release-age is days before now; with both, the earlier date wins.
    f.project_rc("min-release-age=3\n");
    let now = crate::date::now_ms();
    let cutoff = f.load().before.unwrap();
    assert!((now - 3 * day - 60_000..=now - 3 * day + 60_000).contains(&cutoff));
    f.project_rc("min-release-age=3\nbefore=2024-05-01\n");
    assert_eq!(f.load().before, crate::date::parse_iso("2024-05-01"));
    f.project_rc("min-release-age=3\nbefore=2999-01-01\n");
    assert!(f.load().before.unwrap() <= now - 3 * day + 60_000);
    f.project_rc("min-release-age=0\n");
    assert_eq!(f.load().before, None, "0 is off, as in npm");

    // Options override .npmrc's `before` like any key.
    f.project_rc("before=2024-05-01\n");
    let c = f.load_with(&ConfigOverrides {
        before: Some("2020-01-02T03:04:05Z".into()),
        ..Default::default()
    });
    assert_eq!(c.before, crate::date::parse_iso("2020-01-02T03:04:05Z"));
    f.env("npm_config_min_release_age", "1.5");
    let cutoff = f.load().before.unwrap();
    assert_eq!(
        cutoff,
        crate::date::parse_iso("2024-05-01").unwrap(),
        "earlier"
    );
    assert!(format!("{:?}", f.load()).contains("2024-05-01T00:00:00.000Z"));

    for (rc, key) in [
        ("before=last tuesday\n", "before"),
        ("min-release-age=a week\n", "min-release-age"),
        ("min-release-age=-2\n", "min-release-age"),
    ] {
        let f = Fixture::new();
        f.project_rc(rc);
        let err = Config::load(&f.project, &ConfigOverrides::default(), &f.env).unwrap_err();
        assert_eq!(err.code, Code::Config);
        assert!(err.message.contains(key), "{}", err.message);
    }
}

#[test]
fn install_strategy_from_npmrc_env_and_options() {
    let mut f = Fixture::new();
    assert_eq!(f.load().install_strategy, InstallStrategy::Hoisted);
    assert!(!f.load().global_virtual_store);
    f.project_rc("install-strategy=linked\nglobal-virtual-store=true\n");
    let c = f.load();
    assert_eq!(c.install_strategy, InstallStrategy::Linked);
    assert!(c.global_virtual_store);
    f.env("npm_config_install_strategy", "hoisted");
    assert_eq!(f.load().install_strategy, InstallStrategy::Hoisted);
    let o = ConfigOverrides {
        install_strategy: Some("linked".into()),
        global_virtual_store: Some(false),
        ..Default::default()
    };
    let c = f.load_with(&o);
    assert_eq!(c.install_strategy, InstallStrategy::Linked);
    assert!(!c.global_virtual_store);
    f.project_rc("install-strategy=nested\n");
    f.env("npm_config_install_strategy", "shallow");
    let err = Config::load(&f.project, &ConfigOverrides::default(), &f.env).unwrap_err();
    assert_eq!(err.code, Code::Config);
    assert!(err.detail().contains("\"shallow\""), "{}", err.detail());
}
