//! `update`: an install whose resolver forgets the versions package-lock.json
//! locks for the named packages (all of them when none is named), so each
//! gets the newest version its range allows. As in npm 11, package.json is
//! left as it is; `--latest` (bun, pnpm) also moves its ranges to the
//! `latest` versions, as `brisk add name@latest` would save them.

use crate::error::{Code, Error, Result};
use crate::project::Project;
use crate::spec::Spec;

use super::{install, Call, Summary};

pub async fn update(call: Call, names: Vec<String>) -> Result<Summary> {
    let mut call = call.in_workspace();
    for name in &names {
        if let Err(why) = crate::name::check(name) {
            return Err(Error::new(
                Code::Config,
                format!("brisk update takes package names, e.g. `brisk update react`; {name:?} is not one ({why})"),
            ));
        }
    }
    let o = &mut call.options;
    if o.latest {
        let project = latest_target(o)?;
        for deps in [
            &project.dependencies,
            &project.dev_dependencies,
            &project.optional_dependencies,
            &project.peer_dependencies,
        ] {
            for (name, raw) in deps {
                if !names.is_empty() && !names.contains(name) {
                    continue;
                }
                // Only registry dependencies have a `latest`.
                if let Ok(Spec::Registry { name: real, .. }) = Spec::parse(name, raw) {
                    let spec = match &real == name {
                        true => format!("{name}@latest"),
                        false => format!("{name}@npm:{real}@latest"),
                    };
                    if !o.add.contains(&spec) {
                        o.add.push(spec);
                    }
                }
            }
        }
    }
    o.update = Some(names);
    install(call).await
}

/// The package.json whose ranges `update --latest` moves: the root's, or
/// with `-w` that one workspace's (`brisk add name@latest -w <ws>` edits it).
fn latest_target(o: &super::Options) -> Result<Project> {
    let root = Project::load(&o.cwd)?;
    let workspaces: Vec<(String, String)> = match o.all_workspaces || !o.workspaces.is_empty() {
        true => root
            .workspaces()?
            .into_iter()
            .map(|w| (w.name, w.path))
            .collect(),
        false => return Ok(root),
    };
    let mut chosen = super::scope::chosen(o, &workspaces, &o.cwd)?.unwrap_or_default();
    if chosen.len() != 1 || o.include_workspace_root {
        return Err(Error::new(
            Code::Unsupported,
            "brisk update --latest moves the ranges of one package.json at a time: give one -w <workspace>, or none for the root's",
        ));
    }
    let (_, folder) = chosen.remove(0);
    Project::load(&o.cwd.join(folder))
}
