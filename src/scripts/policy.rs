//! Which packages may run install scripts.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::project::Project;

/// The trust decision for one operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// `ignore-scripts`: nothing runs, the root's scripts included.
    pub ignore: bool,
    /// `allow-scripts`: every dependency's scripts run, as with npm.
    pub allow_all: bool,
    /// Package names the project trusts.
    pub trusted: BTreeSet<String>,
}

impl Policy {
    /// The project's trust list: `trustedDependencies` (bun) and
    /// `pnpm.onlyBuiltDependencies` (pnpm), both arrays of package names.
    pub fn new(project: &Project, ignore: bool, allow_all: bool) -> Policy {
        let mut trusted = BTreeSet::new();
        let lists = [
            project.field("trustedDependencies"),
            project
                .field("pnpm")
                .and_then(|p| p.get("onlyBuiltDependencies")),
        ];
        for list in lists.into_iter().flatten() {
            if let Value::Array(items) = list {
                trusted.extend(items.iter().filter_map(Value::as_str).map(str::to_string));
            }
        }
        Policy {
            ignore,
            allow_all,
            trusted,
        }
    }

    /// May the dependency named `name` (its real name, not an alias) run
    /// its install scripts?
    pub fn allows(&self, name: &str) -> bool {
        !self.ignore && (self.allow_all || self.trusted.contains(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn project(json: &str) -> Project {
        Project::parse(Path::new("/p"), json).unwrap()
    }

    #[test]
    fn trust_lists_allow_and_ignore() {
        let p = project(
            r#"{"trustedDependencies":["esbuild", 3],"pnpm":{"onlyBuiltDependencies":["@swc/core"]}}"#,
        );
        let policy = Policy::new(&p, false, false);
        assert!(policy.allows("esbuild") && policy.allows("@swc/core"));
        assert!(!policy.allows("evil") && !policy.allows("3"));
        assert!(Policy::new(&p, false, true).allows("evil"));
        let ignore = Policy::new(&p, true, true);
        assert!(!ignore.allows("esbuild") && !ignore.allows("evil"));
        let none = Policy::new(
            &project(r#"{"trustedDependencies":"esbuild"}"#),
            false,
            false,
        );
        assert!(!none.allows("esbuild"));
    }
}
