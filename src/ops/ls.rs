//! `ls`: npm ls's walk of the actual tree (lib/commands/ls.js): breadth
//! first from the root along dependency edges, a node seen before shown as
//! `deduped`, an edge without a node as `UNMET DEPENDENCY`, one its node
//! does not satisfy as `invalid`, unreachable folders as `extraneous`.
//! The result is plain data; the CLI renders npm's text, JSON or paths.

use std::collections::{HashMap, VecDeque};

use serde::Serialize;

use crate::error::Result;
use crate::spec::Spec;
use crate::tree::select::Omit;
use crate::tree::{locale_cmp, EdgeKind, NodeId, Tree, ROOT};

use super::actual::{self, Actual};
use super::context::Context;
use super::Call;

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Positional `name` / `name@range`: show only the paths to them.
    pub packages: Vec<String>,
    /// `--all`: every level.
    pub all: bool,
    /// `--depth <n>`.
    pub depth: Option<usize>,
}

/// One line of npm ls's tree.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    /// The folder name (an alias for `npm:` dependencies).
    pub name: String,
    /// `name@version`, `alias@npm:name@version`, or `name@spec` when missing.
    pub pkgid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<String>,
    /// The folder, absolute (none when missing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub root: bool,
    /// Missing: the pkgid of the package that needs it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
    /// The spec of the edge that led here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<String>,
    /// Reached through an optional (or optional peer) edge.
    pub optional: bool,
    /// `"^2" from the root project, "^3" from node_modules/b`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid: Option<String>,
    pub extraneous: bool,
    pub deduped: bool,
    /// Only for a node shown in full (not deduped, not missing, not the root).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overridden: Option<bool>,
    /// A symlink: the folder it points at, relative to the project.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Installed from git (npm prints its `resolved`).
    pub git: bool,
    pub problems: Vec<String>,
    pub dependencies: Vec<Item>,
}

/// npm ls's answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listing {
    pub root: Item,
    /// Every problem of the shown nodes, in the order found.
    pub problems: Vec<String>,
    /// False when packages were named and none is installed.
    pub matched: bool,
    /// `--parseable`: the shown folders, in npm's order.
    pub paths: Vec<String>,
}

pub async fn ls(call: Call, query: Query) -> Result<Listing> {
    let call = call.at_workspace_root();
    let actual = read(&call)?;
    let config = Context::config(&call)?;
    Ok(list(&actual, &query, Omit::from_list(&config.omit)))
}

/// The actual tree of the call's project.
pub(super) fn read(call: &Call) -> Result<Actual> {
    let project = crate::project::Project::load(&call.options.cwd)?;
    let overrides = crate::tree::Overrides::of_project(&project)?;
    let workspaces = project
        .workspaces()?
        .into_iter()
        .map(|w| (w.name, w.path))
        .collect();
    let opts = crate::tree::EdgeOptions {
        // npm ls always reads peer dependencies (legacyPeerDeps: false).
        legacy_peer_deps: false,
        prefer_dedupe: false,
        overrides,
        root_dir: std::sync::Arc::new(call.options.cwd.clone()),
        workspaces: std::sync::Arc::new(workspaces),
        specs: Default::default(),
        folders: Default::default(),
    };
    let root = crate::tree::Package::from_project(&project);
    actual::read(&call.options.cwd, root, opts)
}

/// What a queue entry shows.
#[derive(Clone)]
enum Shown {
    /// A node seen for the first time (its children follow).
    Node(NodeId),
    /// A node seen before: `deduped`, as it stood then.
    Copy(NodeId, Mark),
    /// An edge with no node.
    Missing {
        name: String,
        spec: String,
        from: NodeId,
        optional: bool,
    },
}

/// What the last edge mapped to a node left on it (npm mutates the node).
#[derive(Clone, Default)]
struct Mark {
    invalid: Option<String>,
    required: Option<String>,
    optional: bool,
}

struct Entry {
    shown: Shown,
    parent: Option<usize>,
    depth: usize,
    include: bool,
}

struct Walker<'a> {
    a: &'a Actual,
    query: &'a Query,
    omit: Omit,
    marks: HashMap<NodeId, Mark>,
    /// npm's seenNodes: each node once, in the order first reached.
    seen: Vec<NodeId>,
    items: Vec<Item>,
    parents: Vec<Option<usize>>,
    included: Vec<bool>,
    problems: Vec<String>,
}

/// npm ls over `a`.
pub fn list(a: &Actual, query: &Query, omit: Omit) -> Listing {
    let depth_to_print = if query.all || !query.packages.is_empty() {
        query.depth.unwrap_or(usize::MAX)
    } else {
        query.depth.unwrap_or(0)
    };
    let mut w = Walker {
        a,
        query,
        omit,
        marks: HashMap::new(),
        seen: vec![ROOT],
        items: Vec::new(),
        parents: Vec::new(),
        included: Vec::new(),
        problems: Vec::new(),
    };
    let mut queue = VecDeque::from([Entry {
        shown: Shown::Node(ROOT),
        parent: None,
        depth: 0,
        include: query.packages.is_empty(),
    }]);
    let mut node_include: HashMap<NodeId, bool> = HashMap::new();
    node_include.insert(ROOT, query.packages.is_empty());
    while let Some(e) = queue.pop_front() {
        let index = w.visit(&e);
        let Shown::Node(id) = e.shown else { continue };
        // npm lists a workspace's dependencies as if it were the root.
        let depth = if a.is_workspace(id) { 0 } else { e.depth };
        if depth > depth_to_print {
            continue;
        }
        for child in w.children(id, depth) {
            let (shown, include) = child;
            if let Shown::Node(n) = shown {
                node_include.insert(n, include);
            }
            queue.push_back(Entry {
                shown,
                parent: Some(index),
                depth: depth + 1,
                include,
            });
        }
    }
    let paths = w
        .seen
        .iter()
        .filter(|id| node_include.get(id).copied().unwrap_or(false))
        .map(|&id| a.path(id).display().to_string())
        .collect();
    w.assemble(paths)
}

impl Walker<'_> {
    fn tree(&self) -> &Tree {
        &self.a.tree
    }

    /// The children of `id` as npm's getChildren gives them: its edges
    /// (the root's filtered by `--omit`), plus extraneous folders, sorted
    /// by pkgid; each with whether it matches the named packages.
    fn children(&mut self, id: NodeId, depth: usize) -> Vec<(Shown, bool)> {
        let tree = &self.a.tree;
        let from = tree.nodes[id].target.unwrap_or(id);
        let mut out: Vec<(Shown, String)> = Vec::new();
        let mut seen_here = Vec::new();
        for e in &tree.nodes[from].edges {
            if depth == 0 {
                let omitted = (self.omit.dev && e.kind == EdgeKind::Dev)
                    || (self.omit.optional && e.kind.is_optional())
                    || (self.omit.peer && e.kind.is_peer());
                if omitted {
                    continue;
                }
            }
            let optional = e.kind.is_optional();
            let to = tree.resolve(from, &e.name);
            let Some(to) = to else {
                out.push((
                    Shown::Missing {
                        name: e.name.clone(),
                        spec: e.raw.clone(),
                        from: id,
                        optional,
                    },
                    format!("{}@{}", e.name, e.raw),
                ));
                continue;
            };
            seen_here.push(to);
            let invalid = !e.satisfied_by(&tree.nodes[to].pkg);
            let mark = self.marks.entry(to).or_default();
            mark.required = Some(e.raw.clone());
            mark.optional = optional;
            if invalid {
                let loc = tree.location(id);
                let from = if id == ROOT {
                    "the root project".to_string()
                } else {
                    loc
                };
                let spec = serde_json::to_string(&e.raw).unwrap_or_default();
                let this = format!("{spec} from {from}");
                mark.invalid = Some(match mark.invalid.take() {
                    Some(before) => format!("{before}, {this}"),
                    None => this,
                });
            }
            out.push((Shown::Node(to), pkgid(tree, to)));
        }
        for &c in tree.nodes[id].children.values() {
            if self.a.extraneous[c] && !seen_here.contains(&c) {
                out.push((Shown::Node(c), pkgid(tree, c)));
            }
        }
        out.sort_by(|a, b| locale_cmp(&a.1, &b.1));
        out.into_iter()
            .map(|(shown, _)| match shown {
                Shown::Node(n) if self.seen.contains(&n) => {
                    let mark = self.marks.get(&n).cloned().unwrap_or_default();
                    let include = self.matches(n);
                    (Shown::Copy(n, mark), include)
                }
                Shown::Node(n) => {
                    self.seen.push(n);
                    (Shown::Node(n), self.matches(n))
                }
                missing => (missing, self.query.packages.is_empty()),
            })
            .collect()
    }

    /// npm's node.satisfies(arg) for the named packages.
    fn matches(&self, id: NodeId) -> bool {
        if self.query.packages.is_empty() {
            return true;
        }
        let node = &self.tree().nodes[id];
        self.query.packages.iter().any(|arg| {
            let Ok(req) = crate::project::request::Request::parse(arg) else {
                return false;
            };
            if req.name != node.name {
                return false;
            }
            let pkg = match node.target {
                Some(t) => &self.tree().nodes[t].pkg,
                None => &node.pkg,
            };
            match Spec::parse(&req.name, &req.raw) {
                // A bare name (`*`) matches every version, prereleases too.
                Ok(Spec::Registry { wanted, .. }) if wanted == "*" => true,
                Ok(spec) => crate::tree::dep_valid(&spec, pkg),
                Err(_) => false,
            }
        })
    }

    /// npm's visit: the item for an entry, its problems.
    fn visit(&mut self, e: &Entry) -> usize {
        let a = self.a;
        let tree = &a.tree;
        let mut item = match &e.shown {
            Shown::Node(id) | Shown::Copy(id, _) => {
                let id = *id;
                let node = &tree.nodes[id];
                let mark = match &e.shown {
                    Shown::Copy(_, m) => m.clone(),
                    _ => self.marks.get(&id).cloned().unwrap_or_default(),
                };
                let pkg = match node.target {
                    Some(t) => &tree.nodes[t].pkg,
                    None => &node.pkg,
                };
                let full = matches!(e.shown, Shown::Node(_));
                let path = a.path(id).display().to_string();
                let id_text = pkgid(tree, id);
                let mut problems = Vec::new();
                if mark.invalid.is_some() {
                    problems.push(format!("invalid: {id_text} {path}"));
                }
                if a.extraneous[id] {
                    problems.push(format!("extraneous: {id_text} {path}"));
                }
                let resolved = match node.target {
                    // npm's link.resolved: `file:` and the folder, from the link's own folder.
                    Some(t) => a.path(id).parent().map(|dir| {
                        let folder = a.root.join(tree.nodes[t].path.as_deref().unwrap_or(""));
                        format!("file:{}", actual::relative(dir, &folder))
                    }),
                    None => node.pkg.resolved.clone(),
                }
                .filter(|_| full);
                Item {
                    name: if id == ROOT {
                        root_name(a)
                    } else {
                        node.name.clone()
                    },
                    pkgid: id_text,
                    version: Some(pkg.version.clone()).filter(|v| !v.is_empty()),
                    git: resolved.as_deref().is_some_and(is_git),
                    resolved,
                    path: Some(path),
                    root: id == ROOT,
                    missing: None,
                    required: mark.required,
                    optional: mark.optional,
                    invalid: mark.invalid,
                    extraneous: a.extraneous[id],
                    deduped: !full,
                    overridden: (full && id != ROOT).then(|| overridden(tree, id)),
                    link: node.pkg.link.then(|| node.pkg.resolved.clone()).flatten(),
                    problems,
                    dependencies: Vec::new(),
                }
            }
            Shown::Missing {
                name,
                spec,
                from,
                optional,
            } => Item {
                name: name.clone(),
                pkgid: format!("{name}@{spec}"),
                version: None,
                resolved: None,
                path: None,
                root: false,
                missing: Some(pkgid(tree, *from)),
                required: Some(spec.clone()),
                optional: *optional,
                invalid: None,
                extraneous: false,
                deduped: false,
                overridden: None,
                link: None,
                git: false,
                problems: if *optional {
                    Vec::new()
                } else {
                    vec![format!(
                        "missing: {name}@{spec}, required by {}",
                        pkgid(tree, *from)
                    )]
                },
                dependencies: Vec::new(),
            },
        };
        if e.include {
            for p in &item.problems {
                if !self.problems.contains(p) {
                    self.problems.push(p.clone());
                }
            }
        } else {
            item.problems.clear();
        }
        let index = self.items.len();
        self.items.push(item);
        self.parents.push(e.parent);
        self.included.push(e.include);
        if e.include {
            // An included node brings in every ancestor.
            let mut p = e.parent;
            while let Some(i) = p {
                self.included[i] = true;
                p = self.parents[i];
            }
        }
        index
    }

    /// Nests the included items under their parents.
    fn assemble(mut self, paths: Vec<String>) -> Listing {
        let matched = self.included[0];
        for i in (1..self.items.len()).rev() {
            if !self.included[i] {
                continue;
            }
            let item = std::mem::replace(&mut self.items[i], placeholder());
            let parent = self.parents[i].expect("only the root has no parent");
            self.items[parent].dependencies.push(item);
        }
        for item in self.items.iter_mut() {
            item.dependencies.reverse();
        }
        Listing {
            root: std::mem::replace(&mut self.items[0], placeholder()),
            problems: self.problems,
            matched,
            paths,
        }
    }
}

fn placeholder() -> Item {
    Item {
        name: String::new(),
        pkgid: String::new(),
        version: None,
        resolved: None,
        path: None,
        root: false,
        missing: None,
        required: None,
        optional: false,
        invalid: None,
        extraneous: false,
        deduped: false,
        overridden: None,
        link: None,
        git: false,
        problems: Vec::new(),
        dependencies: Vec::new(),
    }
}

/// The root's name: package.json's, else the folder's.
pub(super) fn root_name(a: &Actual) -> String {
    let pkg = &a.tree.root().pkg;
    if pkg.name.is_empty() {
        a.root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        pkg.name.clone()
    }
}

/// npm's node.pkgid: `name@version`, `alias@npm:name@version` for an
/// alias.
pub(super) fn pkgid(tree: &Tree, id: NodeId) -> String {
    let node = &tree.nodes[id];
    let pkg = match node.target {
        Some(t) => &tree.nodes[t].pkg,
        None => &node.pkg,
    };
    if id == ROOT || node.name == pkg.name || pkg.name.is_empty() {
        let name = if id == ROOT { &pkg.name } else { &node.name };
        return format!("{name}@{}", pkg.version);
    }
    format!("{}@npm:{}@{}", node.name, pkg.name, pkg.version)
}

/// Every edge into the node replaced its spec by an override.
pub(super) fn overridden(tree: &Tree, id: NodeId) -> bool {
    let ins = tree.edges_in(id);
    !ins.is_empty()
        && ins
            .iter()
            .all(|&(from, ei)| tree.nodes[from].edges[ei].overridden.is_some())
}

fn is_git(resolved: &str) -> bool {
    resolved.starts_with("git+") || resolved.starts_with("git://")
}
