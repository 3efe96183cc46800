//! package.json `overrides` as npm applies them (arborist's OverrideSet).

use super::*;
use crate::lockfile::{in_sync, render, Lockfile, RenderOptions};
use crate::project::Project;

/// The project, its root package and the resolution (or the error).
fn resolve_project(mem: &Mem, package_json: &str) -> (Project, Result<Resolution>) {
    let project = Project::parse(std::path::Path::new("/p"), package_json).unwrap();
    let opts = ResolveOptions {
        edges: crate::tree::EdgeOptions {
            overrides: crate::tree::Overrides::of_project(&project).unwrap(),
            ..Default::default()
        },
        ..Default::default()
    };
    let r = resolve_with(mem, Package::from_project(&project), opts);
    (project, r)
}

fn registry() -> Mem {
    let mut m = Mem::default();
    for v in ["1.0.0", "2.0.0", "1.1.0"] {
        m.add("b", v, &[], &[]);
    }
    m.add("a", "1.0.0", &[("b", "^1.0.0")], &[]);
    m.add("c", "1.0.0", &[("b", "^1.0.0")], &[]);
    m.add("d", "1.0.0", &[("b", "^2.0.0")], &[]);
    m.add("x", "1.0.0", &[("y", "^1.0.0")], &[]);
    m.add("y", "1.0.0", &[("b", "^1.0.0")], &[]);
    m
}

#[test]
fn top_level_override_applies_below_the_root() {
    let (_, r) = resolve_project(
        &registry(),
        r#"{"dependencies":{"a":"1","d":"1"},"overrides":{"b":"1.0.0"}}"#,
    );
    // d's b@^2 is overridden too: a bare name matches every range.
    assert_eq!(
        layout(&r.unwrap()),
        vec![
            "node_modules/a@1.0.0",
            "node_modules/b@1.0.0",
            "node_modules/d@1.0.0"
        ]
    );
}

#[test]
fn range_keys_only_match_intersecting_specs() {
    let (_, r) = resolve_project(
        &registry(),
        r#"{"dependencies":{"a":"1","d":"1"},"overrides":{"b@^1":"1.0.0"}}"#,
    );
    assert_eq!(
        layout(&r.unwrap()),
        vec![
            "node_modules/a@1.0.0",
            "node_modules/b@1.0.0",
            "node_modules/d@1.0.0",
            "node_modules/d/node_modules/b@2.0.0",
        ]
    );
}

#[test]
fn nested_override_applies_only_under_its_parent() {
    // a and c both want b@^1; only a's copy is overridden (a comes first,
    // so its b@2 takes the top level and c's b@^1 nests).
    let (_, r) = resolve_project(
        &registry(),
        r#"{"dependencies":{"a":"1","c":"1"},"overrides":{"a":{"b":"2.0.0"}}}"#,
    );
    assert_eq!(
        layout(&r.unwrap()),
        vec![
            "node_modules/a@1.0.0",
            "node_modules/b@2.0.0",
            "node_modules/c@1.0.0",
            "node_modules/c/node_modules/b@1.1.0",
        ]
    );
}

#[test]
fn nested_override_reaches_the_whole_subtree() {
    // x -> y -> b: the rule under x applies to y's dependency too, even
    // though y is hoisted next to x; c's b is untouched.
    let (_, r) = resolve_project(
        &registry(),
        r#"{"dependencies":{"c":"1","x":"1"},"overrides":{"x":{"b":"1.0.0"}}}"#,
    );
    let r = r.unwrap();
    assert_eq!(
        layout(&r),
        vec![
            "node_modules/b@1.1.0",
            "node_modules/c@1.0.0",
            "node_modules/x@1.0.0",
            "node_modules/y@1.0.0",
            "node_modules/y/node_modules/b@1.0.0",
        ]
    );
}

#[test]
fn dollar_references_use_the_root_spec() {
    let (_, r) = resolve_project(
        &registry(),
        r#"{"dependencies":{"a":"1","b":"2.0.0"},"overrides":{"b":"$b"}}"#,
    );
    // a's b@^1 becomes b@2.0.0, served by the root's copy.
    assert_eq!(
        layout(&r.unwrap()),
        vec!["node_modules/a@1.0.0", "node_modules/b@2.0.0"]
    );
    let project = Project::parse(
        std::path::Path::new("/p"),
        r#"{"dependencies":{"a":"1"},"overrides":{"b":"$nope"}}"#,
    )
    .unwrap();
    let e = crate::tree::Overrides::of_project(&project).unwrap_err();
    assert_eq!(e.code, Code::Manifest);
    assert!(e.message.contains("$nope"), "{}", e.message);
}

#[test]
fn overriding_a_direct_dependency_is_eoverride() {
    let (_, r) = resolve_project(
        &registry(),
        r#"{"dependencies":{"b":"^1.0.0"},"overrides":{"b":"2.0.0"}}"#,
    );
    let e = r.unwrap_err();
    assert_eq!(e.code, Code::Override);
    assert!(e.message.contains("b@^1.0.0"), "{}", e.message);
    // The same spec is allowed, and its nested rules apply below it.
    let (_, r) = resolve_project(
        &registry(),
        r#"{"dependencies":{"a":"^1.0.0"},"overrides":{"a":{".":"^1.0.0","b":"2.0.0"}}}"#,
    );
    assert_eq!(
        layout(&r.unwrap()),
        vec!["node_modules/a@1.0.0", "node_modules/b@2.0.0"]
    );
    // A range key that does not intersect the root's spec does not apply.
    let (_, r) = resolve_project(
        &registry(),
        r#"{"dependencies":{"b":"^1.0.0"},"overrides":{"b@^2":"2.0.0"}}"#,
    );
    assert!(r.is_ok());
}

#[test]
fn lockfile_keeps_the_override_sets_and_goes_stale_when_they_change() {
    let mem = registry();
    let pj = |overrides: &str| {
        format!(
            r#"{{"name":"p","version":"1.0.0","dependencies":{{"c":"1","x":"1"}},"overrides":{overrides}}}"#
        )
    };
    let (project, r) = resolve_project(&mem, &pj(r#"{"x":{"b":"1.0.0"}}"#));
    let tree = r.unwrap().tree;
    let text = render(&tree, RenderOptions::default(), |_| true);
    let lock = Lockfile::parse(&text).unwrap();
    assert!(!text.contains("overrides"), "npm records no overrides");
    let back = lock
        .to_tree(Package::from_project(&project), tree.edge_options().clone())
        .unwrap();
    assert_eq!(in_sync(&lock, &back, &project), Ok(()));

    for changed in [
        r#"{"x":{"b":"1.1.0"}}"#,
        r#"{"y":{"b":"1.1.0"}}"#,
        r#"{"b":"2.0.0"}"#,
    ] {
        let project = Project::parse(std::path::Path::new("/p"), &pj(changed)).unwrap();
        let opts = crate::tree::EdgeOptions {
            overrides: crate::tree::Overrides::of_project(&project).unwrap(),
            ..Default::default()
        };
        let back = lock.to_tree(Package::from_project(&project), opts).unwrap();
        let why = in_sync(&lock, &back, &project).unwrap_err();
        assert!(why.contains("needs b@"), "{changed}: {why}");
    }
}

/// A tree read from the lockfile gives every node the override set the
/// resolver gave it; an entry no edge reaches gets none, and its edges are
/// not overridden.
#[test]
fn lockfile_tree_has_the_resolved_override_sets() {
    let (project, r) = resolve_project(
        &registry(),
        r#"{"name":"p","dependencies":{"c":"1","x":"1"},"overrides":{"x":{"b":"1.0.0"},"b":"1.1.0"}}"#,
    );
    let tree = r.unwrap().tree;
    let text = render(&tree, RenderOptions::default(), |_| true);
    let mut lock = Lockfile::parse(&text).unwrap();
    let stray = serde_json::json!({"version": "1.0.0", "dependencies": {"b": "^1.0.0"}});
    lock.packages
        .insert("node_modules/zz".into(), stray.as_object().unwrap().clone());
    let back = lock
        .to_tree(Package::from_project(&project), tree.edge_options().clone())
        .unwrap();
    let sets = |t: &Tree| -> Vec<(String, Option<crate::tree::RuleId>)> {
        t.sorted_locations()
            .into_iter()
            .map(|(loc, id)| (loc, t.nodes[id].overrides))
            .collect()
    };
    let mut want = sets(&tree);
    assert!(
        want.iter().any(|(_, s)| s.is_some_and(|s| s != 0)),
        "{want:?}"
    );
    want.push(("node_modules/zz".into(), None));
    want.sort_by(|a, b| crate::tree::locale_cmp(&a.0, &b.0));
    assert_eq!(sets(&back), want);
    let zz = back.nodes.iter().find(|n| n.name == "zz").unwrap();
    assert!(zz
        .edges
        .iter()
        .all(|e| e.overrides.is_none() && e.overridden.is_none()));
}
