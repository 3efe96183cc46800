//! Peer dependency conflicts: npm's ERESOLVE rules (error for the project's
//! own dependencies or with --strict-peer-deps, unless --force; else warn).

use super::*;

fn run_opts(mem: &Mem, root: Package, strict: bool, force: bool) -> Result<Resolution> {
    let opts = ResolveOptions {
        strict_peer_deps: strict,
        force,
        ..Default::default()
    };
    resolve_with(mem, root, opts)
}

fn registry() -> Mem {
    let mut m = Mem::default();
    m.add("host", "1.0.0", &[], &[]);
    m.add("host", "2.0.0", &[], &[]);
    m.add("plugin", "1.0.0", &[], &[("host", "^2.0.0")]);
    m.add("x", "1.0.0", &[("host", "1"), ("plugin", "1")], &[]);
    m
}

#[test]
fn a_root_dependency_conflict_is_eresolve_unless_forced() {
    let m = registry();
    let root = || root(&[("host", "^1.0.0"), ("plugin", "1")], &[]);
    let e = run_opts(&m, root(), false, false).unwrap_err();
    assert_eq!(e.code, Code::PeerConflict);
    for want in [
        "ERESOLVE unable to resolve dependency tree",
        "While resolving: root@1.0.0",
        "Found: host@1.0.0\nnode_modules/host\n  host@\"^1.0.0\" from the root project",
        "Could not resolve dependency:\npeer host@\"^2.0.0\" from plugin@1.0.0\nnode_modules/plugin\n  plugin@\"1\" from the root project",
        "--force or --legacy-peer-deps",
    ] {
        assert!(e.message.contains(want), "{want:?} not in:\n{}", e.message);
    }
    // --force: the plugin goes in without its peer, with a warning.
    let r = run_opts(&m, root(), false, true).unwrap();
    assert_eq!(
        layout(&r),
        vec!["node_modules/host@1.0.0", "node_modules/plugin@1.0.0"]
    );
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(r.warnings[0].starts_with("ERESOLVE overriding peer dependency"));
}

#[test]
fn a_transitive_conflict_warns_unless_strict() {
    let m = registry();
    // The root pins host@1, so x's plugin cannot get host@2 anywhere: as in
    // npm, the plugin is placed as if x's host served it, and warns.
    let rt = || root(&[("host", "^1.0.0"), ("x", "1")], &[]);
    let r = run_opts(&m, rt(), false, false).unwrap();
    assert_eq!(
        layout(&r),
        vec![
            "node_modules/host@1.0.0",
            "node_modules/plugin@1.0.0",
            "node_modules/x@1.0.0",
        ]
    );
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    let w = &r.warnings[0];
    for want in [
        "ERESOLVE overriding peer dependency",
        "While resolving: plugin@1.0.0",
        "Found: host@1.0.0\nnode_modules/host\n  host@\"^1.0.0\" from the root project\n  host@\"1\" from x@1.0.0",
        "peer host@\"^2.0.0\" from plugin@1.0.0\nnode_modules/plugin\n  plugin@\"1\" from x@1.0.0",
    ] {
        assert!(w.contains(want), "{want:?} not in:\n{w}");
    }
    let e = run_opts(&m, rt(), true, false).unwrap_err();
    assert_eq!(e.code, Code::PeerConflict);
    assert!(e.message.contains("--no-strict-peer-deps"), "{}", e.message);
    // --force wins over --strict-peer-deps, as in npm.
    assert!(run_opts(&m, rt(), true, true).is_ok());
}

#[test]
fn a_peer_replaces_a_copy_its_other_dependent_can_nest() {
    // x wants host@1 and plugin (peer host@^2): npm puts plugin and host@2
    // at the top and gives x its own host@1, with no conflict.
    let m = registry();
    let r = run_opts(&m, root(&[("x", "1")], &[]), false, false).unwrap();
    assert_eq!(
        layout(&r),
        vec![
            "node_modules/host@2.0.0",
            "node_modules/plugin@1.0.0",
            "node_modules/x@1.0.0",
            "node_modules/x/node_modules/host@1.0.0",
        ]
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}
