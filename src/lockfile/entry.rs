//! One `packages` entry of a lockfile ⇄ [`Package`].

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::project::DepMap;
use crate::tree::{Flags, Package};

/// A `{name: spec}` object's string members (none if it is not one).
fn deps(v: &Value) -> DepMap {
    let Some(m) = v.as_object() else {
        return DepMap::default();
    };
    m.iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

/// A list of strings, or one string as a list of one.
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// Read an entry at folder `name` (the real name is `name` unless the
/// entry says otherwise). One pass over the entry's fields: a lockfile is
/// read on every install, and looking each field up by key hashed the
/// key each time (~25 lookups per entry).
pub fn entry_to_package(name: &str, e: &Map<String, Value>) -> Result<Package, String> {
    let mut p = Package::default();
    let (mut real, mut version) = (None, None);
    let flag = |v: &Value| v.as_bool() == Some(true);
    for (key, v) in e {
        match key.as_str() {
            "link" => p.link = flag(v),
            "name" => real = text(v),
            "version" => version = text(v),
            "resolved" => p.resolved = text(v),
            "integrity" => p.integrity = text(v),
            "license" => p.license = Some(v.clone()),
            "dependencies" => p.dependencies = deps(v),
            "optionalDependencies" => p.optional_dependencies = deps(v),
            "peerDependencies" => p.peer_dependencies = deps(v),
            "peerDependenciesMeta" => {
                if let Some(m) = v.as_object() {
                    p.peer_dependencies_meta =
                        m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                }
            }
            "devDependencies" => {
                p.dev_dependencies = deps(v);
                p.has_dev_dependencies = v.is_object();
            }
            "bin" => p.bin = deps(v),
            "engines" => p.engines = Some(v.clone()),
            "funding" => p.funding = Some(v.clone()),
            "os" => p.os = strings(v),
            "cpu" => p.cpu = strings(v),
            "libc" => p.libc = strings(v),
            "hasInstallScript" => p.has_install_script = flag(v),
            "deprecated" => p.deprecated = text(v),
            "bundleDependencies" => p.bundle_dependencies = Some(v.clone()),
            "hasShrinkwrap" => p.has_shrinkwrap = flag(v),
            "workspaces" => p.workspaces = Some(v.clone()),
            "inBundle" => p.in_bundle = flag(v),
            _ => {}
        }
    }
    if p.link {
        return Ok(Package {
            name: name.to_string(),
            resolved: Some(p.resolved.ok_or("is a link without \"resolved\"")?),
            link: true,
            ..Default::default()
        });
    }
    p.version = version.ok_or("has no version")?;
    p.name = real.unwrap_or_else(|| name.to_string());
    Ok(p)
}

fn put_map(out: &mut Map<String, Value>, key: &str, m: &DepMap) {
    if !m.is_empty() {
        out.insert(
            key.into(),
            Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ),
        );
    }
}

/// A top-level folder's `devDependencies`, kept when empty as npm keeps it.
fn put_dev(out: &mut Map<String, Value>, p: &Package) {
    if p.dev_dependencies.is_empty() && p.has_dev_dependencies {
        out.insert("devDependencies".into(), Value::Object(Map::new()));
    }
    put_map(out, "devDependencies", &p.dev_dependencies);
}

fn put_list(out: &mut Map<String, Value>, key: &str, l: &[String]) {
    if !l.is_empty() {
        out.insert(key.into(), Value::from(l.to_vec()));
    }
}

/// The fields npm writes from a package's own metadata (pkgMetaKeys).
fn meta_fields(p: &Package, out: &mut Map<String, Value>) {
    if !p.version.is_empty() {
        out.insert("version".into(), Value::String(p.version.clone()));
    }
    put_map(out, "dependencies", &p.dependencies);
    put_map(out, "peerDependencies", &p.peer_dependencies);
    if !p.peer_dependencies_meta.is_empty() {
        let m: IndexMap<_, _> = p.peer_dependencies_meta.clone();
        out.insert(
            "peerDependenciesMeta".into(),
            Value::Object(m.into_iter().collect()),
        );
    }
    put_map(out, "optionalDependencies", &p.optional_dependencies);
    if let Some(b) = &p.bundle_dependencies {
        out.insert("bundleDependencies".into(), b.clone());
    }
    if let Some(f) = &p.funding {
        out.insert("funding".into(), f.clone());
    }
    if let Some(en) = &p.engines {
        out.insert("engines".into(), en.clone());
    }
    put_list(out, "os", &p.os);
    put_list(out, "cpu", &p.cpu);
    put_list(out, "libc", &p.libc);
    if let Some(l) = &p.license {
        out.insert("license".into(), l.clone());
    }
    if p.has_install_script {
        out.insert("hasInstallScript".into(), Value::Bool(true));
    }
    if !p.bin.is_empty() {
        out.insert(
            "bin".into(),
            Value::Object(
                p.bin
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ),
        );
    }
    if let Some(d) = &p.deprecated {
        out.insert("deprecated".into(), Value::String(d.clone()));
    }
    if let Some(w) = &p.workspaces {
        out.insert("workspaces".into(), w.clone());
    }
    if p.has_shrinkwrap {
        out.insert("hasShrinkwrap".into(), Value::Bool(true));
    }
}

/// The lockfile entry of a package in folder `folder`.
pub fn package_to_entry(
    p: &Package,
    folder: &str,
    flags: Flags,
    omit_resolved: bool,
) -> Map<String, Value> {
    let mut out = Map::new();
    if p.link {
        out.insert("resolved".into(), Value::from(p.resolved.clone()));
        out.insert("link".into(), Value::Bool(true));
        return out;
    }
    meta_fields(p, &mut out);
    put_dev(&mut out, p);
    if p.name != folder {
        out.insert("name".into(), Value::String(p.name.clone()));
    }
    if let Some(i) = &p.integrity {
        out.insert("integrity".into(), Value::String(i.clone()));
    }
    let bundled = p.in_bundle || flags.bundled;
    if let Some(r) = &p.resolved {
        // Only registry tarballs (`…/-/<name>-<version>.tgz`) may be left
        // out: a URL or file dependency is known by its `resolved`.
        let short = p.name.rsplit('/').next().unwrap_or(&p.name);
        let registry =
            r.starts_with("http") && r.ends_with(&format!("/-/{short}-{}.tgz", p.version));
        if !(omit_resolved && registry) {
            out.insert("resolved".into(), Value::String(r.clone()));
        }
    }
    if bundled {
        out.insert("inBundle".into(), Value::Bool(true));
    }
    if flags.peer {
        out.insert("peer".into(), Value::Bool(true));
    }
    if flags.dev {
        out.insert("dev".into(), Value::Bool(true));
    }
    if flags.optional {
        out.insert("optional".into(), Value::Bool(true));
    }
    if flags.dev_optional && !flags.dev && !flags.optional {
        out.insert("devOptional".into(), Value::Bool(true));
    }
    out
}

/// The root entry (`""`): the project's own metadata and dependencies.
pub fn root_entry(p: &Package) -> Value {
    let mut out = Map::new();
    meta_fields(p, &mut out);
    if !p.name.is_empty() {
        out.insert("name".into(), Value::String(p.name.clone()));
    }
    put_dev(&mut out, p);
    Value::Object(out)
}
