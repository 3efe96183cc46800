use super::*;
use crate::lockfile::Lockfile;
use crate::tree::{EdgeOptions, Package};
use serde_json::{json, Value};

/// A tree from lockfile `packages` under a root with `deps`.
fn tree(packages: Value, deps: Value) -> Tree {
    let mut all = json!({ "": { "name": "root", "dependencies": deps.clone() } });
    all.as_object_mut()
        .unwrap()
        .extend(packages.as_object().unwrap().clone());
    let text = json!({ "name": "root", "lockfileVersion": 3, "requires": true, "packages": all });
    let lock = Lockfile::parse(&text.to_string()).unwrap();
    let root = Package {
        name: "root".into(),
        dependencies: serde_json::from_value(deps).unwrap(),
        ..Default::default()
    };
    lock.to_tree(root, EdgeOptions::default()).unwrap()
}

fn keys(l: &Layout) -> Vec<&str> {
    l.entries.iter().map(|e| e.key.as_str()).collect()
}

#[test]
fn hash_is_npms_shake256_base64url() {
    let mut lines = vec!["ms@2.1.3::https://registry.npmjs.org/ms/-/ms-2.1.3.tgz".to_string()];
    assert_eq!(hash_lines(&mut lines), "dMsxawcprWf7ZP5jTrgAlg");
    let mut two = vec![
        "once@1.4.0->wrappy@1.0.2::https://registry.npmjs.org/wrappy/-/wrappy-1.0.2.tgz"
            .to_string(),
        "once@1.4.0::https://registry.npmjs.org/once/-/once-1.4.0.tgz".to_string(),
    ];
    assert_eq!(hash_lines(&mut two), "y0U9YmJloWpicCt2ORu5pA");
}

/// npm 11 `install --install-strategy=linked` from a lockfile without
/// `resolved` (its keys then hash `::null`): react-dom's peer on react
/// comes first, so loose-envify is reached through react.
#[test]
fn keys_match_npm_for_a_lockfile_without_resolved() {
    let t = tree(
        json!({"node_modules/debug":{"version":"4.3.4","dependencies":{"ms":"2.1.2"},"peerDependenciesMeta":{"supports-color":{"optional":true}}},"node_modules/js-tokens":{"version":"4.0.0"},"node_modules/loose-envify":{"version":"1.4.0","dependencies":{"js-tokens":"^3.0.0 || ^4.0.0"},"bin":{"loose-envify":"cli.js"}},"node_modules/lru-cache":{"version":"6.0.0","dependencies":{"yallist":"^4.0.0"}},"node_modules/ms":{"version":"2.1.2"},"node_modules/react":{"version":"18.2.0","dependencies":{"loose-envify":"^1.1.0"}},"node_modules/react-dom":{"version":"18.2.0","dependencies":{"loose-envify":"^1.1.0","scheduler":"^0.23.0"},"peerDependencies":{"react":"^18.2.0"}},"node_modules/scheduler":{"version":"0.23.2","dependencies":{"loose-envify":"^1.1.0"}},"node_modules/semver":{"version":"7.5.4","dependencies":{"lru-cache":"^6.0.0"},"bin":{"semver":"bin/semver.js"}},"node_modules/yallist":{"version":"4.0.0"}}),
        json!({"debug":"4.3.4","semver":"7.5.4","react-dom":"18.2.0","react":"18.2.0"}),
    );
    let included = vec![true; t.nodes.len()];
    let l = layout(&t, &included, &LayoutOptions::default()).unwrap();
    assert_eq!(
        keys(&l),
        [
            "debug@4.3.4-uLhglxxblRqa8sGwgWNEzg",
            "js-tokens@4.0.0-jXYvZQ9Rcb_bVwsFnmDRHg",
            "loose-envify@1.4.0-0vsi-hXAin6UyNQ92lwFDg",
            "lru-cache@6.0.0-xp-zT9hceRAcTMdktCRpHA",
            "ms@2.1.2-2nyJ_dng73Z_Iu8LVAXKsA",
            "react-dom@18.2.0-3dbHsUFd6JHfk5aQim0D5A",
            "react@18.2.0-LCS-xILJXOwCCifz5nZEMg",
            "scheduler@0.23.2-pRmAwXS1nPUYzLhdVIXr5g",
            "semver@7.5.4-5YDjs6WzCMce7a8f8kxtiQ",
            "yallist@4.0.0-aNho0Mq4vv7mrs65qYS2nw",
        ]
    );
    let rd = l.entries.iter().find(|e| e.name == "react-dom").unwrap();
    let names: Vec<&str> = rd.deps.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["loose-envify", "react", "scheduler"]);
    assert_eq!(
        l.target_location(&rd.deps[1].1),
        "node_modules/.store/react@18.2.0-LCS-xILJXOwCCifz5nZEMg/node_modules/react"
    );
    let top: Vec<String> = l.top.iter().map(TopLink::location).collect();
    assert_eq!(
        top,
        [
            "node_modules/debug",
            "node_modules/react",
            "node_modules/react-dom",
            "node_modules/semver"
        ]
    );
}

#[test]
fn one_entry_per_key_and_scoped_aliased_names() {
    let t = tree(
        json!({
            "node_modules/a": {"version":"1.0.0","resolved":"https://r/a-1.0.0.tgz","dependencies":{"b":"^1"}},
            "node_modules/b": {"version":"1.0.0","resolved":"https://r/b-1.0.0.tgz"},
            "node_modules/c": {"version":"1.0.0","resolved":"https://r/c-1.0.0.tgz","dependencies":{"b":"^2"}},
            "node_modules/c/node_modules/b": {"version":"2.0.0","resolved":"https://r/b-2.0.0.tgz"},
            "node_modules/al": {"name":"@s/real","version":"3.0.0","resolved":"https://r/real-3.0.0.tgz"},
        }),
        json!({"a":"1","c":"1","al":"npm:@s/real@3"}),
    );
    let included = vec![true; t.nodes.len()];
    let l = layout(&t, &included, &LayoutOptions::default()).unwrap();
    assert_eq!(l.entries.len(), 5);
    let real = l.entries.iter().find(|e| e.name == "@s/real").unwrap();
    assert!(real.key.starts_with("@s/real@3.0.0-"));
    let al = l.top.iter().find(|t| t.name == "al").unwrap();
    assert_eq!(l.target_location(&al.target), real.location());
    assert_eq!(
        relative("node_modules/@s", &real.location()),
        format!("../.store/{}/node_modules/@s/real", real.key)
    );
    // c's b is 2.0.0, a's is 1.0.0.
    let dep_version = |name: &str| {
        let e = l.entries.iter().find(|e| e.name == name).unwrap();
        let Target::Entry(i) = &e.deps[0].1 else {
            panic!()
        };
        t.nodes[l.entries[*i].node].pkg.version.clone()
    };
    assert_eq!(dep_version("a"), "1.0.0");
    assert_eq!(dep_version("c"), "2.0.0");
}

#[test]
fn a_version_that_is_a_path_is_refused() {
    let t = tree(
        json!({"node_modules/a": {"version":"../../x","resolved":"https://r/a.tgz"}}),
        json!({"a":"*"}),
    );
    let included = vec![true; t.nodes.len()];
    let err = layout(&t, &included, &LayoutOptions::default()).unwrap_err();
    assert_eq!(err.code, Code::Io);
}
