//! npm's `overrides` (arborist's `override-set.js`): a tree of rules read
//! from the root package.json. Each node of the dependency tree carries the
//! rule set that applies to it (inherited through the edge that led to it);
//! its edges look up the rules of that set. Rules live in one arena shared by
//! the whole tree ([`Overrides`], behind an `Arc` in [`EdgeOptions`]); nodes
//! and edges hold a [`RuleId`], and projects without overrides hold `None`.
//!
//! [`EdgeOptions`]: super::EdgeOptions

use std::collections::BTreeMap;

use nodejs_semver::Range;
use serde_json::Value;

use super::{edges_with_overrides, NodeId, Package, Tree, ROOT};
use crate::error::{Code, Error, Result};
use crate::project::Project;
use crate::spec::{Req, Spec};
use std::sync::Arc;

/// An index into [`Overrides`]; `0` is the root set (the whole `overrides`
/// object, no rule of its own).
pub type RuleId = u32;
pub const ROOT_RULE: RuleId = 0;

/// One override rule: `key` (`name` or `name@range`) → `value`, plus the
/// rules nested under it.
#[derive(Debug, Clone)]
struct Rule {
    parent: Option<RuleId>,
    /// The package name of the key (`""` for the root set).
    name: String,
    /// The key as written (`b`, `b@^1`).
    key: String,
    /// The range part of the key (`*` for a bare name).
    key_spec: String,
    /// The replacement spec (`$name` already resolved); `*` replaces nothing.
    value: String,
    /// arborist's `ruleset`: the rules visible from this set, nearest first.
    ruleset: Vec<RuleId>,
}

/// The parsed `overrides` of a project.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    rules: Vec<Rule>,
}

/// What an override replaced on an edge: the package's own spec and the
/// rule's key range (a target that satisfies the original spec is still
/// fine if it is outside the key range, as in arborist's `satisfiedBy`).
#[derive(Debug, Clone)]
pub struct Overridden {
    pub raw: String,
    pub spec: Spec,
    key_spec: String,
}

impl Overridden {
    /// arborist's Edge#satisfiedBy fallback: the original spec holds and the
    /// version is not one the override rule was written for.
    pub fn still_satisfied_by(&self, name: &str, version: &str) -> bool {
        self.spec.satisfied_by(name, version) && !key_matches(&self.key_spec, version)
    }
}

/// `semver.satisfies(version, keySpec)` (a tag or bad range never matches).
fn key_matches(key_spec: &str, version: &str) -> bool {
    match Req::parse(key_spec) {
        Req::Any => true,
        Req::Tag(_) => false,
        r @ Req::Range(_) => r.matches(version),
    }
}

/// `npa(key)`: `@scope/name@range` → (`@scope/name`, `range` or `*`).
fn split_key(key: &str) -> (&str, &str) {
    let from = usize::from(key.starts_with('@'));
    match key[from..].find('@') {
        Some(i) => {
            let spec = key[from + i + 1..].trim();
            (&key[..from + i], if spec.is_empty() { "*" } else { spec })
        }
        None => (key, "*"),
    }
}

impl Overrides {
    /// Read package.json `overrides`. `reference` resolves `$name` values to
    /// the root's own dependency spec; a missing one is `E_MANIFEST`.
    pub fn parse(raw: &Value, reference: impl Fn(&str) -> Option<String>) -> Result<Overrides> {
        let mut o = Overrides {
            rules: vec![Rule {
                parent: None,
                name: String::new(),
                key: String::new(),
                key_spec: String::new(),
                value: String::new(),
                ruleset: Vec::new(),
            }],
        };
        let Value::Object(map) = raw else {
            return Err(Error::new(
                Code::Manifest,
                format!("package.json \"overrides\" must be an object, found {raw}"),
            ));
        };
        for (key, value) in map {
            if key != "." {
                o.add(ROOT_RULE, key, value, &reference)?;
            }
        }
        o.link(ROOT_RULE);
        Ok(o)
    }

    /// No rules at all (nodes then carry no set).
    pub fn is_empty(&self) -> bool {
        self.rules.len() <= 1
    }

    fn add(
        &mut self,
        parent: RuleId,
        key: &str,
        value: &Value,
        reference: &impl Fn(&str) -> Option<String>,
    ) -> Result<RuleId> {
        let (name, key_spec) = split_key(key);
        if name.is_empty() {
            return Err(Error::new(
                Code::Manifest,
                format!("package.json overrides: \"{key}\" names no package"),
            ));
        }
        let (dot, nested) = match value {
            Value::String(s) => (Some(s.as_str()), None),
            Value::Object(m) => (m.get(".").and_then(Value::as_str), Some(m)),
            other => {
                return Err(Error::new(
                    Code::Manifest,
                    format!("package.json overrides: \"{key}\" must be a spec string or an object, found {other}"),
                ))
            }
        };
        let mut value = match dot {
            Some("") => "*".to_string(),
            Some(s) => s.to_string(),
            None => key_spec.to_string(),
        };
        if let Some(r) = value.strip_prefix('$') {
            value = reference(r).ok_or_else(|| {
                Error::new(
                    Code::Manifest,
                    format!("package.json overrides: \"{key}\" refers to ${r}, which is not a dependency of the project. Add {r} to dependencies or write the spec in the override."),
                )
            })?;
        }
        let id = self.rules.len() as RuleId;
        self.rules.push(Rule {
            parent: Some(parent),
            name: name.to_string(),
            key: key.to_string(),
            key_spec: key_spec.to_string(),
            value,
            ruleset: Vec::new(),
        });
        for (k, v) in nested.into_iter().flatten() {
            if k != "." {
                self.add(id, k, v, reference)?;
            }
        }
        Ok(id)
    }

    /// Compute `ruleset` for `id` and its subtree: its own children, then
    /// itself, then each ancestor's children and the ancestor (first key wins).
    fn link(&mut self, id: RuleId) {
        let children = self.children_of(id);
        let mut ruleset: Vec<RuleId> = Vec::new();
        let has = |set: &Vec<RuleId>, rules: &Vec<Rule>, k: RuleId| {
            set.iter()
                .any(|&r| rules[r as usize].key == rules[k as usize].key)
        };
        for &c in &children {
            if !has(&ruleset, &self.rules, c) {
                ruleset.push(c);
            }
        }
        if id != ROOT_RULE && !has(&ruleset, &self.rules, id) {
            ruleset.push(id);
        }
        if let Some(p) = self.rules[id as usize].parent {
            for &r in &self.rules[p as usize].ruleset.clone() {
                if !has(&ruleset, &self.rules, r) {
                    ruleset.push(r);
                }
            }
        }
        self.rules[id as usize].ruleset = ruleset;
        // Children's rulesets extend this one, so they are linked after it.
        for c in children {
            self.link(c);
        }
    }

    fn children_of(&self, id: RuleId) -> Vec<RuleId> {
        (0..self.rules.len() as RuleId)
            .filter(|&r| self.rules[r as usize].parent == Some(id))
            .collect()
    }

    /// arborist's `getEdgeRule`: the rule a dependency `name@raw` of a node
    /// in `set` falls under (the set itself when none applies).
    pub fn edge_rule(&self, set: RuleId, name: &str, raw: &str) -> RuleId {
        for &r in &self.rules[set as usize].ruleset {
            let rule = &self.rules[r as usize];
            if rule.name != name {
                continue;
            }
            if rule.key_spec == "*" {
                return r;
            }
            let matches = match Spec::parse(name, raw) {
                Ok(Spec::Registry {
                    req: Req::Tag(_), ..
                }) => true,
                Ok(Spec::Registry { req, .. }) => {
                    let range = match req {
                        Req::Range(range) => range,
                        _ => Range::any(),
                    };
                    Range::parse(&rule.key_spec).is_ok_and(|k| k.allows_any(&range))
                }
                // git without a semver range cannot be compared.
                Ok(Spec::Git { .. }) => false,
                // file:, directories, tarballs: no version to compare.
                Ok(_) => true,
                Err(_) => false,
            };
            if matches {
                return r;
            }
        }
        set
    }

    /// arborist's `Edge#spec`: the spec replacing `name`'s, when `rule` (the
    /// edge's rule, from [`Self::edge_rule`]) overrides it for a node in `set`.
    pub fn replacement(&self, set: RuleId, rule: RuleId, name: &str) -> Option<&str> {
        let r = &self.rules[rule as usize];
        (rule != set && r.name == name && r.value != "*").then_some(r.value.as_str())
    }

    /// The edge data an override changes: (rule, replacement spec and what
    /// it replaced), for a dependency `name@raw` of a node in `set`.
    pub fn apply(
        &self,
        set: RuleId,
        name: &str,
        raw: &str,
    ) -> (RuleId, Option<(String, Overridden)>) {
        let rule = self.edge_rule(set, name, raw);
        let replaced = self.replacement(set, rule, name).map(|value| {
            let spec = Spec::parse(name, raw).unwrap_or(Spec::Other { kind: "invalid" });
            let over = Overridden {
                raw: raw.to_string(),
                spec,
                key_spec: self.rules[rule as usize].key_spec.clone(),
            };
            (value.to_string(), over)
        });
        (rule, replaced)
    }

    /// Is `a` `b` or one of its ancestors?
    fn is_ancestor(&self, a: RuleId, b: RuleId) -> bool {
        let mut cur = Some(b);
        while let Some(r) = cur {
            if r == a {
                return true;
            }
            cur = self.rules[r as usize].parent;
        }
        false
    }

    /// arborist's `findSpecificOverrideSet`: the more specific of two sets
    /// (the one nested inside the other), `None` when they are unrelated.
    pub fn more_specific(&self, a: RuleId, b: RuleId) -> Option<RuleId> {
        if self.is_ancestor(a, b) {
            Some(b)
        } else if self.is_ancestor(b, a) {
            Some(a)
        } else {
            None
        }
    }

    /// The rule's key, for messages (`""` for the root set).
    pub fn key(&self, id: RuleId) -> &str {
        &self.rules[id as usize].key
    }

    /// arborist's `assertRootOverrides`: an override may not change a
    /// dependency the root declares itself, unless it says the same spec
    /// (or refers to it with `$name`): `E_OVERRIDE`.
    pub fn check_root(&self, root: &Package, legacy_peer_deps: bool) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let mut specs: BTreeMap<&str, &str> = BTreeMap::new();
        let peers = (!legacy_peer_deps).then_some(&root.peer_dependencies);
        for map in peers.into_iter().chain([
            &root.dependencies,
            &root.optional_dependencies,
            &root.dev_dependencies,
        ]) {
            for (name, raw) in map {
                specs.insert(name, raw);
            }
        }
        for (name, raw) in specs {
            let rule = self.edge_rule(ROOT_RULE, name, raw);
            if let Some(value) = self.replacement(ROOT_RULE, rule, name) {
                if value != raw {
                    return Err(Error::new(
                        Code::Override,
                        format!(
                            "Override for {name}@{raw} conflicts with direct dependency (overrides \"{}\" asks for \"{value}\"). Change the dependency to \"{value}\", make the override \"${name}\", or remove it.",
                            self.key(rule)
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Tree {
    /// Give node `id` the override set `set` and rebuild its edges with it.
    pub fn set_overrides(&mut self, id: NodeId, set: Option<RuleId>) {
        if self.nodes[id].overrides == set {
            return;
        }
        self.nodes[id].overrides = set;
        let base = self.edge_base(id);
        let edges = edges_with_overrides(&self.nodes[id].pkg, id == ROOT, base, &self.opts, set);
        self.nodes[id].edges = edges;
    }

    /// An edge with rule `rule` now leads to `id`: keep the more specific of
    /// the node's set and the edge's (arborist's updateOverridesEdgeInAdded).
    /// True when the node's set (and so its edges) changed.
    pub fn merge_overrides(&mut self, id: NodeId, rule: Option<RuleId>) -> bool {
        let Some(rule) = rule else { return false };
        let new = match self.nodes[id].overrides {
            None => rule,
            Some(cur) => self.opts.overrides.more_specific(cur, rule).unwrap_or(cur),
        };
        if Some(new) == self.nodes[id].overrides {
            return false;
        }
        self.set_overrides(id, Some(new));
        true
    }

    /// Pass the sets of node `id`'s edges on to the nodes they resolve to;
    /// returns the nodes whose set changed.
    pub fn push_edge_overrides(&mut self, id: NodeId) -> Vec<NodeId> {
        self.pass_edge_overrides(id)
            .into_iter()
            .filter_map(|(to, changed)| changed.then_some(to))
            .collect()
    }

    /// Each node an edge of `id` resolves to (itself aside), and whether
    /// its set changed when the edge's set was passed on.
    fn pass_edge_overrides(&mut self, id: NodeId) -> Vec<(NodeId, bool)> {
        let mut passed = Vec::new();
        if self.opts.overrides.is_empty() {
            return passed;
        }
        for i in 0..self.nodes[id].edges.len() {
            let e = &self.nodes[id].edges[i];
            let rule = e.overrides;
            if let Some(to) = self.resolve(id, &e.name).filter(|&to| to != id) {
                passed.push((to, self.merge_overrides(to, rule)));
            }
        }
        passed
    }

    /// Give every node the set npm would (a tree read from a lockfile): walk
    /// the edges from the root until no set changes. Nodes in a folder
    /// (all but the root and linked folders) come in the root set, where
    /// most stay: their edges are then rarely built twice. One that no edge
    /// reaches gets no set, as in npm.
    pub fn propagate_overrides(&mut self) {
        if self.opts.overrides.is_empty() {
            return;
        }
        let mut reached = vec![false; self.nodes.len()];
        let mut stack = vec![ROOT];
        while let Some(n) = stack.pop() {
            if !self.nodes[n].alive {
                continue;
            }
            for (to, changed) in self.pass_edge_overrides(n) {
                if changed || !reached[to] {
                    reached[to] = true;
                    stack.push(to);
                }
            }
            // A link leads on to its folder (a workspace), whose own set is
            // the root's: its dependencies are reached from there.
            if let Some(t) = self.nodes[n].target.filter(|&t| !reached[t]) {
                reached[t] = true;
                stack.push(t);
            }
        }
        for (id, reached) in reached.into_iter().enumerate() {
            if !reached && self.nodes[id].parent.is_some() {
                self.set_overrides(id, None);
            }
        }
    }

    /// Set up the root's override set (called by `Tree::new`).
    pub(super) fn init_overrides(&mut self) {
        if !self.opts.overrides.is_empty() {
            self.set_overrides(ROOT, Some(ROOT_RULE));
        }
    }
}
impl Overrides {
    /// package.json `overrides` as npm reads them (`name` and `name@range`
    /// keys, nested rules, `$name` references to the root's own specs,
    /// resolved as arborist does: dev, optional, prod, then peer).
    pub fn of_project(project: &Project) -> Result<Arc<Overrides>> {
        let Some(raw) = project.raw.get("overrides") else {
            return Ok(Arc::default());
        };
        let overrides = Overrides::parse(raw, |name| {
            [
                &project.dev_dependencies,
                &project.optional_dependencies,
                &project.dependencies,
                &project.peer_dependencies,
            ]
            .into_iter()
            .find_map(|m| m.get(name).cloned())
        })?;
        Ok(Arc::new(overrides))
    }
}
