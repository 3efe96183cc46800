//! npm's engine check: packages whose `engines.node` excludes the running
//! Node.js are named in an EBADENGINE warning, or fail the install under
//! `engine-strict` (unless `--force`).

use nodejs_semver::{Range, Version};

use crate::error::{Code, Error, Result};
use crate::tree::Tree;

/// `name@version` and the range of each included package whose
/// `engines.node` the running Node.js (`node`) does not satisfy, with
/// whether the package is optional.
pub fn unsupported(tree: &Tree, included: &[bool], node: &str) -> Vec<(String, String, bool)> {
    let Ok(current) = Version::parse(node) else {
        return Vec::new();
    };
    (tree.nodes.iter().enumerate())
        .filter(|(id, n)| included.get(*id) == Some(&true) && n.alive && !n.pkg.link)
        .filter_map(|(_, n)| {
            let wanted = n.pkg.engines.as_ref()?.get("node")?.as_str()?;
            // An unparsable range is npm's semver ignoring it too.
            let range = Range::parse(wanted).ok()?;
            (!range.satisfies(&current)).then(|| (n.pkg.id(), wanted.to_string(), n.flags.optional))
        })
        .collect()
}

/// The warnings for [`unsupported`] packages, or `E_BAD_ENGINE` when
/// `strict` and one of them is required.
pub fn check(
    tree: &Tree,
    included: &[bool],
    node: Option<&str>,
    strict: bool,
) -> Result<Vec<String>> {
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    let bad = unsupported(tree, included, node);
    if strict {
        if let Some((id, wanted, _)) = bad.iter().find(|(_, _, optional)| !optional) {
            return Err(Error::new(
                Code::BadEngine,
                format!(
                    "{id} requires node {wanted}, and this is node {node} (engine-strict is set). \
                     Use a Node.js that satisfies it, or run with --force to install anyway."
                ),
            ));
        }
    }
    // One warning per package, however many copies of it the tree holds.
    let mut seen = std::collections::HashSet::new();
    Ok(bad
        .into_iter()
        .filter(|(id, _, _)| seen.insert(id.clone()))
        .map(|(id, wanted, _)| {
            format!(
                "EBADENGINE Unsupported engine: {id} requires node {wanted} (current: node {node})"
            )
        })
        .collect())
}
