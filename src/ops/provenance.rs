//! Where a lockfile's registry packages come from, checked beyond what npm
//! checks: a `resolved` on a host that is none of the configured registries
//! is named in a warning, and an entry without `integrity` gets the one its
//! registry's packument gives, so its bytes are still verified.

use crate::fetch::Tarball;
use crate::spec::Spec;
use crate::tree::{NodeId, Tree};

use super::context::Context;

/// `scheme://host[:port]` of an http(s) URL.
fn origin(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let host_end = rest.find('/').unwrap_or(rest.len());
    Some(&url[..url.len() - rest.len() + host_end])
}

/// Did the project ask for this package by URL, path or git (so its host
/// is the user's choice, not a registry's)?
fn asked_by_location(tree: &Tree, id: NodeId) -> bool {
    tree.edges_in(id).iter().any(|&(from, ei)| {
        !matches!(
            &*tree.nodes[from].edges[ei].spec,
            Spec::Registry { .. } | Spec::Workspace { .. }
        )
    })
}

/// Is `t` a registry package's tarball (not one the user named by URL)?
pub fn from_registry(tree: &Tree, id: NodeId, t: &Tarball) -> bool {
    origin(&t.url).is_some() && !asked_by_location(tree, id)
}

/// The registry packages in `ids` whose tarball is on a host none of the
/// configured registries is on, as `name@version (url)`.
pub fn foreign_hosts(ctx: &Context, tree: &Tree, ids: &[NodeId]) -> Vec<String> {
    let config = &ctx.config;
    let registries: Vec<&str> = std::iter::once(config.registry.as_str())
        .chain(config.scoped_registries.values().map(String::as_str))
        .filter_map(origin)
        .collect();
    ids.iter()
        .filter_map(|&id| {
            let t = ctx.tarball(&tree.nodes[id].pkg);
            let host = origin(&t.url)?;
            (!registries.contains(&host) && from_registry(tree, id, &t)).then(|| {
                format!(
                    "{}@{} ({})",
                    t.name,
                    t.version,
                    crate::config::redact_credentials(&t.url)
                )
            })
        })
        .collect()
}

/// The warning for [`foreign_hosts`], naming a few of them.
pub fn foreign_warning(found: &[String]) -> Option<String> {
    let first = found.first()?;
    let more = match found.len() {
        1 => String::new(),
        n if n <= 5 => format!(", {}", found[1..].join(", ")),
        n => format!(", {} and {} more", found[1..5].join(", "), n - 5),
    };
    Some(format!(
        "{} package(s) in the lockfile come from a host that is not one of your registries: {first}{more}. \
         If you did not expect that, check package-lock.json's \"resolved\" fields.",
        found.len()
    ))
}

/// The integrity the registry's packument gives for a registry package the
/// lockfile recorded without one (None when the registry does not say).
pub async fn registry_integrity(
    client: &crate::registry::RegistryClient,
    t: &Tarball,
) -> Option<String> {
    let packument = client.packument(&t.name).await.ok()?;
    let m = packument.manifest(&t.version)?;
    crate::resolve::package_from_manifest(m).ok()?.integrity
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(
            origin("https://r.example/a/-/a-1.tgz"),
            Some("https://r.example")
        );
        assert_eq!(
            origin("http://127.0.0.1:4873/"),
            Some("http://127.0.0.1:4873")
        );
        assert_eq!(origin("https://h"), Some("https://h"));
        assert_eq!(origin("file:///x.tgz"), None);
        assert_eq!(origin("git+https://h/x.git"), None);
    }

    #[test]
    fn the_warning_names_a_few() {
        assert_eq!(foreign_warning(&[]), None);
        let many: Vec<String> = (0..8).map(|i| format!("p{i}@1.0.0 (https://e/)")).collect();
        let w = foreign_warning(&many).unwrap();
        assert!(
            w.starts_with("8 package(s)") && w.contains("p4@1.0.0") && w.contains("and 3 more"),
            "{w}"
        );
        assert!(!w.contains("p5@"), "{w}");
    }
}
