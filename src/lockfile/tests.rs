use super::*;
use std::sync::Arc;

fn pkg(name: &str, version: &str) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        integrity: Some(format!("sha512-{name}")),
        resolved: Some(format!("https://r/{name}/-/{name}-{version}.tgz")),
        license: Some("MIT".into()),
        ..Default::default()
    }
}

fn sample() -> Tree {
    let mut root = pkg("proj", "1.0.0");
    root.integrity = None;
    root.resolved = None;
    root.license = None;
    root.dependencies.insert("a".into(), "^1.0.0".into());
    root.dev_dependencies
        .insert("alias".into(), "npm:b@^2".into());
    let mut tree = Tree::new(root, EdgeOptions::default());
    let mut a = pkg("a", "1.2.0");
    a.dependencies.insert("b".into(), "^1".into());
    a.bin.insert("a".into(), "cli.js".into());
    let a = tree.add(ROOT, "a", Arc::new(a));
    tree.add(a, "b", Arc::new(pkg("b", "1.0.0")));
    tree.add(ROOT, "alias", Arc::new(pkg("b", "2.1.0")));
    tree.compute_flags();
    tree
}

#[test]
fn round_trip_and_npm_shape() {
    let tree = sample();
    let text = render(&tree, RenderOptions::default(), |_| true);
    let lock = Lockfile::parse(&text).unwrap();
    assert_eq!(lock.version, 3);
    let keys: Vec<&str> = lock.packages.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        vec![
            "",
            "node_modules/a",
            "node_modules/a/node_modules/b",
            "node_modules/alias"
        ]
    );
    let alias = &lock.packages["node_modules/alias"];
    assert_eq!(alias["name"], "b");
    assert_eq!(alias["dev"], true);
    let a = &lock.packages["node_modules/a"];
    assert!(a.get("dev").is_none());
    let order: Vec<&str> = a.keys().map(String::as_str).collect();
    assert_eq!(
        order,
        vec![
            "version",
            "resolved",
            "integrity",
            "license",
            "dependencies",
            "bin"
        ]
    );
    assert!(text.ends_with("}\n"));
    assert!(text.starts_with(
        "{\n  \"name\": \"proj\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 3,"
    ));

    // Reading it back gives the same tree, and it is in sync.
    let root = tree.root().pkg.as_ref().clone();
    let back = lock.to_tree(root, EdgeOptions::default()).unwrap();
    assert_eq!(render(&back, RenderOptions::default(), |_| true), text);
    let project = crate::project::Project::parse(
        Path::new("/p"),
        r#"{"name":"proj","version":"1.0.0","dependencies":{"a":"^1.0.0"},"devDependencies":{"alias":"npm:b@^2"}}"#,
    )
    .unwrap();
    assert!(in_sync(&lock, &back, &project).is_ok());
    let changed = crate::project::Project::parse(
        Path::new("/p"),
        r#"{"dependencies":{"a":"^2.0.0"},"devDependencies":{"alias":"npm:b@^2"}}"#,
    )
    .unwrap();
    assert!(in_sync(&lock, &back, &changed).is_err());
}

#[test]
fn hidden_and_omit_resolved() {
    let tree = sample();
    let text = render(
        &tree,
        RenderOptions {
            omit_resolved: true,
            hidden: true,
        },
        |id| tree.nodes[id].name != "alias",
    );
    let lock = Lockfile::parse(&text).unwrap();
    assert!(!lock.packages.contains_key(""));
    assert!(!lock.packages.contains_key("node_modules/alias"));
    assert!(lock.packages["node_modules/a"].get("resolved").is_none());
}

#[test]
fn malformed() {
    for bad in [
        "{",
        "[]",
        "{}",
        r#"{"lockfileVersion":3,"packages":{"x":1}}"#,
    ] {
        assert!(Lockfile::parse(bad).is_err(), "{bad}");
    }
    let lock = Lockfile::parse(
        r#"{"lockfileVersion":3,"packages":{"node_modules/a/node_modules/b":{"version":"1.0.0"}}}"#,
    )
    .unwrap();
    let e = lock
        .to_tree(Package::default(), EdgeOptions::default())
        .unwrap_err();
    assert_eq!(e.code, Code::Lockfile);
}

#[test]
fn required_tarballs_skip_what_may_not_install() {
    let text = r#"{"lockfileVersion":3,"packages":{
        "": {"name":"app","dependencies":{"a":"1"}},
        "packages/ws": {"name":"ws","version":"1.0.0"},
        "node_modules/ws": {"resolved":"packages/ws","link":true},
        "node_modules/d": {"version":"1.0.0","resolved":"https://r.test/d/-/d-1.0.0.tgz","integrity":"sha512-d","dev":true},
        "node_modules/o": {"version":"1.0.0","resolved":"https://r.test/o/-/o-1.0.0.tgz","integrity":"sha512-o","optional":true},
        "node_modules/p": {"version":"1.0.0","resolved":"https://r.test/p/-/p-1.0.0.tgz","integrity":"sha512-p","peer":true},
        "node_modules/g": {"version":"1.0.0","resolved":"git+ssh://git@github.com/x/g.git#abc","integrity":"sha512-g"},
        "node_modules/n": {"version":"1.0.0","resolved":"https://r.test/n/-/n-1.0.0.tgz"},
        "node_modules/f": {"version":"1.0.0","resolved":"file:f-1.0.0.tgz","integrity":"sha512-f"},
        "node_modules/alias": {"name":"real","version":"2.0.0","resolved":"https://r.test/real/-/real-2.0.0.tgz","integrity":"sha512-r"},
        "node_modules/alias/node_modules/b": {"version":"1.0.0","resolved":"https://r.test/b/-/b-1.0.0.tgz","integrity":"sha512-b"},
        "node_modules/b/node_modules/c": {"version":"1.0.0","inBundle":true},
        "node_modules/omitted": {"version":"3.0.0","integrity":"sha512-x"}
    }}"#;
    let lock = Lockfile::parse(text).unwrap();
    let got: Vec<String> = lock.required_tarballs().map(|p| p.id()).collect();
    assert_eq!(got, ["real@2.0.0", "b@1.0.0", "omitted@3.0.0"]);
}

#[test]
fn locations_and_dependency_names_that_are_paths_are_refused() {
    let lock =
        |packages: &str| format!(r#"{{"lockfileVersion":3,"packages":{{"":{{}},{packages}}}}}"#);
    for bad in [
        r#""node_modules/../../../PWNED":{"version":"1.0.0"}"#,
        r#""node_modules/a/node_modules/..":{"version":"1.0.0"}"#,
        r#""node_modules/@s/..":{"version":"1.0.0"}"#,
        r#""node_modules/a/b":{"version":"1.0.0"}"#,
        r#""/abs/node_modules/a":{"version":"1.0.0"}"#,
        r#""node_modules/a":{"version":"1.0.0","dependencies":{"../../../PWNED":"npm:b@^1"}}"#,
        r#""node_modules/a":{"version":"1.0.0","optionalDependencies":{"@s/..":"1"}}"#,
    ] {
        let e = Lockfile::parse(&lock(bad)).unwrap_err();
        assert!(e.contains("the entry"), "{bad}: {e}");
    }
    // A workspace, a folder outside the project and scoped and nested
    // packages are fine.
    let ok = lock(
        r#""packages/a":{"version":"1.0.0"},"../outside":{"version":"1.0.0"},
           "packages/a/node_modules/@s/b":{"version":"1.0.0"},
           "node_modules/a/node_modules/b":{"version":"1.0.0","dependencies":{"@s/c":"^1"}}"#,
    );
    Lockfile::parse(&ok).unwrap();
}

#[test]
fn store_locations_only_in_the_hidden_lockfile_and_only_plain() {
    let with = |loc: &str| {
        serde_json::json!({ "lockfileVersion": 3, "packages": { loc: { "version": "1.0.0" } } })
            .to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lock.json");
    let ok = "node_modules/.store/@s/a@1.0.0-AbC_d-e/node_modules/@s/a";
    assert!(
        Lockfile::parse(&with(ok)).is_err(),
        "package-lock.json has no store"
    );
    std::fs::write(&file, with(ok)).unwrap();
    assert!(Lockfile::read_hidden(&file).unwrap().is_some());
    for bad in [
        "node_modules/.store/../x@1.0.0-h/node_modules/x",
        "node_modules/.store/a@1.0.0-h/node_modules/../../x",
        "node_modules/.store/a/node_modules/a",
        "node_modules/.store/a@../node_modules/a",
    ] {
        std::fs::write(&file, with(bad)).unwrap();
        assert!(Lockfile::read_hidden(&file).is_err(), "{bad}");
    }
}
