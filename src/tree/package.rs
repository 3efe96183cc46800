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
    /// A string, or (old packages) a list.
    pub license: Option<Value>,
    pub dependencies: DepMap,
    pub optional_dependencies: DepMap,
    pub peer_dependencies: DepMap,
    /// `peerDependenciesMeta`, kept as written.
    pub peer_dependencies_meta: IndexMap<String, Value>,
    /// Only for the root project.
    pub dev_dependencies: DepMap,
    /// package.json has a `devDependencies` object, maybe empty (npm keeps
    /// an empty one in a top-level folder's entry).
    pub has_dev_dependencies: bool,
    pub bin: IndexMap<String, String>,
    pub engines: Option<Value>,
    pub funding: Option<Value>,
    pub os: Vec<String>,
    pub cpu: Vec<String>,
    pub libc: Vec<String>,
    pub has_install_script: bool,
    pub deprecated: Option<String>,
    pub bundle_dependencies: Option<Value>,
    pub has_shrinkwrap: bool,
    pub workspaces: Option<Value>,
    /// A symlink to a folder (`file:` folders, workspaces): `resolved` is
    /// the folder, relative to the project root.
    pub link: bool,
    /// Shipped inside its parent's tarball (`bundleDependencies`): never
    /// fetched or linked on its own.
    pub in_bundle: bool,
}

/// npm writes `funding` as objects: a bare URL string becomes `{url}`.
pub fn normalize_funding(v: Option<&Value>) -> Option<Value> {
    match v? {
        Value::String(s) => Some(serde_json::json!({ "url": s })),
        Value::Null => None,
        other => Some(other.clone()),
    }
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

    /// A dependency's package.json (from a tarball, or bundled in one): like
    /// [`Package::from_project`] without what only a project root has.
    pub fn from_dependency(p: &crate::project::Project) -> Package {
        let mut pkg = Package::from_project(p);
        pkg.dev_dependencies.clear();
        pkg.has_dev_dependencies = false;
        pkg.workspaces = None;
        pkg
    }

    /// The symlink package that points at the folder `path` holding `self`.
    pub fn link_to(&self, path: &str) -> Package {
        Package {
            name: self.name.clone(),
            version: self.version.clone(),
            resolved: Some(path.to_string()),
            bin: self.bin.clone(),
            link: true,
            ..Default::default()
        }
    }
}

impl Package {
    /// The root package (or a linked folder's): its own metadata and
    /// dependencies, as npm puts them in the lockfile's entry for it.
    pub fn from_project(p: &crate::project::Project) -> Package {
        let field = |k: &str| p.field(k).cloned();
        let strings = |k: &str| match p.field(k) {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        let scripts = p.field("scripts").and_then(Value::as_object);
        let has_install_script = scripts.is_some_and(|s| {
            ["preinstall", "install", "postinstall"]
                .iter()
                .any(|k| s.contains_key(*k))
        });
        // npm reads a folder's bins through npm-normalize-package-bin.
        let manifest = serde_json::json!({ "name": p.name, "bin": p.field("bin") });
        let bin: IndexMap<String, String> = crate::store::package_bins(&manifest, [])
            .into_iter()
            .collect();
        Package {
            name: p.name.clone().unwrap_or_default(),
            version: p.version.clone().unwrap_or_default(),
            license: p.field("license").cloned(),
            dependencies: p.dependencies.clone(),
            optional_dependencies: p.optional_dependencies.clone(),
            peer_dependencies: p.peer_dependencies.clone(),
            peer_dependencies_meta: p
                .field("peerDependenciesMeta")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            dev_dependencies: p.dev_dependencies.clone(),
            has_dev_dependencies: p.field("devDependencies").is_some_and(Value::is_object),
            bin,
            engines: field("engines"),
            funding: normalize_funding(p.field("funding")),
            os: strings("os"),
            cpu: strings("cpu"),
            libc: strings("libc"),
            has_install_script,
            bundle_dependencies: field("bundleDependencies")
                .or_else(|| field("bundledDependencies")),
            workspaces: field("workspaces"),
            ..Default::default()
        }
    }
}
