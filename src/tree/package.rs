//! The data of one package in the tree: what a lockfile entry records.

use indexmap::IndexMap;
use serde_json::Value;

use crate::project::DepMap;

/// Everything the lockfile says about one installed package.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Package {
    /// The real package name (differs from the folder name for aliases).
    pub name: String,
    pub version: String,
    pub resolved: Option<String>,
    pub integrity: Option<String>,
    pub license: Option<String>,
    pub dependencies: DepMap,
    pub optional_dependencies: DepMap,
    pub peer_dependencies: DepMap,
    /// `peerDependenciesMeta`, kept as written.
    pub peer_dependencies_meta: IndexMap<String, Value>,
    /// Only for the root project.
    pub dev_dependencies: DepMap,
    pub bin: IndexMap<String, String>,
    pub engines: Option<Value>,
    pub funding: Option<Value>,
    pub os: Vec<String>,
    pub cpu: Vec<String>,
    pub libc: Vec<String>,
    pub has_install_script: bool,
    pub deprecated: Option<String>,
    pub bundle_dependencies: Option<Value>,
}

impl Package {
    /// Is `name` an optional peer of this package?
    pub fn peer_is_optional(&self, name: &str) -> bool {
        self.peer_dependencies_meta
            .get(name)
            .and_then(|m| m.get("optional"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// `name@version`, for messages.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}
