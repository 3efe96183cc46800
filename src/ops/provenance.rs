//! Where a lockfile's registry packages come from, checked beyond what npm
//! checks: a `resolved` on a host that is none of the configured registries
//! is named in a warning, and an entry without `integrity` gets the one its
//! registry's packument gives, so its bytes are still verified.

use crate::fetch::Tarball;
use crate::spec::Spec;
use crate::tree::{NodeId, Tree};

use crate::config::Config;

/// `scheme://host[:port]` of an http(s) URL, as the URL standard
/// serializes an origin (lowercase host, no default port).
fn origin(url: &str) -> Option<String> {
    let url = reqwest::Url::parse(url).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.origin().ascii_serialization())
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

/// The configured registries (the default and the scoped): their URLs and
/// origins.
pub struct Registries {
    urls: Vec<String>,
    origins: Vec<String>,
}

impl Registries {
    pub fn new(config: &Config) -> Registries {
        let urls: Vec<String> = std::iter::once(&config.registry)
            .chain(config.scoped_registries.values())
            .cloned()
            .collect();
        let origins = urls.iter().filter_map(|u| origin(u)).collect();
        Registries { urls, origins }
    }

    /// `name@version (url)` when `t`, the tarball of registry package `id`,
    /// is on a host none of the registries is on.
    pub fn foreign(&self, tree: &Tree, id: NodeId, t: &Tarball) -> Option<String> {
        // Nearly every tarball sits under its registry's URL: no parsing.
        if self.urls.iter().any(|r| t.url.starts_with(r.as_str())) {
            return None;
        }
        let host = origin(&t.url)?;
        (!self.origins.contains(&host) && !asked_by_location(tree, id)).then(|| {
            format!(
                "{}@{} ({})",
                t.name,
                t.version,
                crate::config::redact_credentials(&t.url)
            )
        })
    }
}

/// The warning for what [`Registries::foreign`] found, naming a few.
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
            origin("https://r.example/a/-/a-1.tgz").as_deref(),
            Some("https://r.example")
        );
        assert_eq!(
            origin("http://127.0.0.1:4873/").as_deref(),
            Some("http://127.0.0.1:4873")
        );
        assert_eq!(origin("https://h").as_deref(), Some("https://h"));
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
