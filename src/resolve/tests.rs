use std::collections::HashMap;

use super::*;
use crate::registry::{Dist, Packument};

/// An in-memory registry: `name` → versions with (deps, peers); the last
/// version added is `latest`.
#[derive(Default)]
struct Mem(HashMap<String, Vec<Manifest>>);

impl Mem {
    fn add(&mut self, name: &str, version: &str, deps: &[(&str, &str)], peers: &[(&str, &str)]) {
        let m = Manifest {
            name: name.to_string(),
            version: version.to_string(),
            dependencies: deps
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            peer_dependencies: peers
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            dist: Dist {
                tarball: format!("http://r/{name}/-/{name}-{version}.tgz"),
                integrity: Some(format!("sha512-{name}{version}")),
                shasum: None,
            },
            ..Default::default()
        };
        self.0.entry(name.to_string()).or_default().push(m);
    }
}

impl Source for Mem {
    async fn packument(&self, name: &str) -> Result<Arc<Packument>> {
        let versions = self
            .0
            .get(name)
            .ok_or_else(|| Error::new(Code::NotFound, format!("{name} not found")))?;
        let latest = versions.last().map(|m| m.version.clone());
        let tags = latest
            .map(|v| ("latest".to_string(), v))
            .into_iter()
            .collect();
        Ok(Arc::new(Packument::from_manifests(
            name,
            tags,
            versions.iter().cloned(),
        )))
    }
    fn prefetch(&self, _: &str, _: &str) {}
}

fn root(deps: &[(&str, &str)], dev: &[(&str, &str)]) -> Package {
    Package {
        name: "root".into(),
        version: "1.0.0".into(),
        dependencies: deps
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        dev_dependencies: dev
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        ..Default::default()
    }
}

/// Resolve `root` from `mem` with `opts`, on a runtime of its own.
fn resolve_with(mem: &Mem, root: Package, opts: ResolveOptions) -> Result<Resolution> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(resolve(root, mem, opts, |_| {}))
}

fn run(mem: &Mem, root: Package, legacy: bool) -> Resolution {
    let edges = crate::tree::EdgeOptions {
        legacy_peer_deps: legacy,
        ..Default::default()
    };
    resolve_with(
        mem,
        root,
        ResolveOptions {
            edges,
            ..Default::default()
        },
    )
    .unwrap()
}

fn layout(r: &Resolution) -> Vec<String> {
    r.tree
        .sorted_locations()
        .into_iter()
        .map(|(loc, id)| format!("{loc}@{}", r.tree.nodes[id].pkg.version))
        .collect()
}

#[test]
fn hoists_and_nests_conflicts() {
    let mut m = Mem::default();
    m.add("a", "1.0.0", &[("b", "^1.0.0")], &[]);
    m.add("c", "1.0.0", &[("b", "^2.0.0")], &[]);
    m.add("b", "1.0.0", &[], &[]);
    m.add("b", "2.0.0", &[], &[]);
    let r = run(&m, root(&[("a", "^1"), ("c", "^1")], &[]), false);
    assert_eq!(
        layout(&r),
        vec![
            "node_modules/a@1.0.0",
            "node_modules/b@1.0.0",
            "node_modules/c@1.0.0",
            "node_modules/c/node_modules/b@2.0.0",
        ]
    );
}

#[test]
fn root_dep_wins_the_top_level() {
    let mut m = Mem::default();
    m.add("a", "1.0.0", &[("b", "^1.0.0")], &[]);
    m.add("b", "1.0.0", &[], &[]);
    m.add("b", "2.0.0", &[], &[]);
    let r = run(&m, root(&[("a", "^1"), ("b", "^2")], &[]), false);
    assert_eq!(
        layout(&r),
        vec![
            "node_modules/a@1.0.0",
            "node_modules/a/node_modules/b@1.0.0",
            "node_modules/b@2.0.0",
        ]
    );
}

#[test]
fn replaces_older_when_all_dependents_accept() {
    // a needs d@^1 (gets 1.0.0, the only one then visible via latest? no:
    // latest is 1.1.0), x needs d@1.1.0 exactly; both served by one copy.
    let mut m = Mem::default();
    m.add("a", "1.0.0", &[("d", "^1.0.0")], &[]);
    m.add("x", "1.0.0", &[("d", "1.0.0")], &[]);
    m.add("d", "1.0.0", &[], &[]);
    m.add("d", "1.1.0", &[], &[]);
    let r = run(&m, root(&[("a", "1"), ("x", "1")], &[]), false);
    // a's dep took d@1.1.0 (latest) at the root; x needs 1.0.0 which
    // cannot replace (a is fine with it, so 1.0.0 < 1.1.0 → not try_replace,
    // no preferDedupe) → nested under x.
    assert_eq!(
        layout(&r),
        vec![
            "node_modules/a@1.0.0",
            "node_modules/d@1.1.0",
            "node_modules/x@1.0.0",
            "node_modules/x/node_modules/d@1.0.0",
        ]
    );
}

#[test]
fn flags_dev_optional_peer() {
    let mut m = Mem::default();
    m.add("p", "1.0.0", &[("shared", "1")], &[]);
    m.add("d", "1.0.0", &[("shared", "1"), ("donly", "1")], &[]);
    m.add("shared", "1.0.0", &[], &[]);
    m.add("donly", "1.0.0", &[], &[]);
    m.add("withpeer", "1.0.0", &[], &[("peerdep", "^1")]);
    m.add("peerdep", "1.0.0", &[], &[]);
    let r = run(
        &m,
        root(&[("p", "1"), ("withpeer", "1")], &[("d", "1")]),
        false,
    );
    let t = &r.tree;
    let flags: HashMap<String, _> = t
        .sorted_locations()
        .into_iter()
        .map(|(l, id)| (l, t.nodes[id].flags))
        .collect();
    assert!(flags["node_modules/d"].dev);
    assert!(flags["node_modules/donly"].dev);
    assert!(!flags["node_modules/shared"].dev);
    assert!(flags["node_modules/peerdep"].peer);
    assert!(!flags["node_modules/withpeer"].peer);
}

#[test]
fn peers_are_installed_next_to_the_dependent_unless_legacy() {
    let mut m = Mem::default();
    m.add("plugin", "1.0.0", &[], &[("host", "^2")]);
    m.add("host", "1.0.0", &[], &[]);
    m.add("host", "2.0.0", &[], &[]);
    let r = run(&m, root(&[("plugin", "1")], &[]), false);
    assert_eq!(
        layout(&r),
        vec!["node_modules/host@2.0.0", "node_modules/plugin@1.0.0"]
    );
    let r = run(&m, root(&[("plugin", "1")], &[]), true);
    assert_eq!(layout(&r), vec!["node_modules/plugin@1.0.0"]);
}

#[test]
fn optional_failures_are_skipped_required_fail() {
    let mut m = Mem::default();
    m.add("a", "1.0.0", &[], &[]);
    let mut rt = root(&[("a", "1")], &[]);
    rt.optional_dependencies
        .insert("missing".into(), "^1".into());
    rt.optional_dependencies.insert("a".into(), "^9".into());
    let r = run(&m, rt, false);
    assert!(layout(&r).is_empty());
    assert_eq!(r.warnings.len(), 2);

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let e = rt
        .block_on(resolve(
            root(&[("a", "^2")], &[]),
            &m,
            ResolveOptions::default(),
            |_| {},
        ))
        .unwrap_err();
    assert_eq!(e.code, Code::NoMatchingVersion);
    let e = rt
        .block_on(resolve(
            root(&[("nope", "^2")], &[]),
            &m,
            ResolveOptions::default(),
            |_| {},
        ))
        .unwrap_err();
    assert_eq!(e.code, Code::NotFound);
}

#[test]
fn aliases_and_cycles() {
    let mut m = Mem::default();
    m.add("a", "1.0.0", &[("b", "1")], &[]);
    m.add("b", "1.0.0", &[("a", "1")], &[]);
    m.add("sw", "4.2.3", &[], &[]);
    let r = run(&m, root(&[("a", "1"), ("alias", "npm:sw@^4")], &[]), false);
    assert_eq!(
        layout(&r),
        vec![
            "node_modules/a@1.0.0",
            "node_modules/alias@4.2.3",
            "node_modules/b@1.0.0"
        ]
    );
    let (_, id) = r.tree.sorted_locations()[1].clone();
    assert_eq!(r.tree.nodes[id].pkg.name, "sw");
}

mod overrides;
mod peers;
