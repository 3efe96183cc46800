'use strict'
// `brisk <command> --help`: what each command does and the flags that
// matter for it. The general help (every flag) is USAGE in brisk.js.

const COMMAND_HELP = {
  install: `brisk install [<pkg...>]   (aliases: i)

Installs package.json's dependencies: resolves when package-lock.json is
missing or out of date, writes it, and builds node_modules. With packages,
adds them first (same as brisk add).

Flags: --frozen-lockfile, --lockfile-only, --omit <type>, --include <type>,
--production, --ignore-scripts, --allow-scripts, --legacy-peer-deps,
--strict-peer-deps, --force, --prefer-offline, --offline, --dry-run,
--no-package-lock, --engine-strict, --before <date>,
--min-release-age <days>, -w <workspace>, --workspaces,
--include-workspace-root, --registry <url>, --cache-dir <dir>,
--prefix <dir>, --json, --silent, --timings

In a monorepo, -w <name|folder> (repeatable) changes only what those
workspaces use in node_modules; with packages, they are saved to those
workspaces' package.json instead of the root's. Workspaces' own preinstall,
prepare, install and postinstall scripts run after the dependencies', the
root's last (install without packages only), as npm runs them.
`,
  ci: `brisk ci   (alias: clean-install)

Installs exactly what package-lock.json says into an empty node_modules
(the old one is put back if the install fails). Fails with
E_FROZEN_LOCKFILE when package-lock.json does not match package.json.

Flags: --omit <type>, --include <type>, --ignore-scripts, --allow-scripts,
--registry <url>, --cache-dir <dir>, --prefix <dir>, --json, --silent
`,
  add: `brisk add <pkg...>

Adds packages to package.json and installs them: react, react@^18,
react@next, alias@npm:react@^18, ../folder, x.tgz, github:user/repo.
Saved as ^<version> unless a narrower range was given.

Flags: -D/--save-dev, -O/--save-optional, -P/--save-prod, --save-peer,
-E/--save-exact, --no-save, and the flags of brisk install

In a monorepo: -w <name|folder> (repeatable) saves to those workspaces'
package.json (brisk add react -w web), --workspaces to every workspace's,
--include-workspace-root to the root's too. A workspace added to another
(brisk add @scope/shared -w web) is saved as ^<its version>, as npm does.
`,
  remove: `brisk remove <pkg...>   (aliases: uninstall, rm, r, un)

Removes packages from package.json and node_modules, and updates
package-lock.json.

Flags: --no-save, -w <workspace> (remove from that workspace's package.json;
repeatable), --workspaces, --include-workspace-root, and the flags of brisk install
`,
  prefetch: `brisk prefetch

Downloads everything package-lock.json needs into the cache (resolving
first when there is no lockfile or it is out of date); node_modules is
untouched. Use it to warm a CI cache or a container layer.

Flags: --omit <type>, --registry <url>, --cache-dir <dir>, --prefix <dir>, --json
`,
  link: `brisk link

Builds node_modules from package-lock.json and the cache alone, without the
network. Fails with E_NOT_CACHED naming what is missing (run brisk prefetch).

Flags: --omit <type>, --ignore-scripts, --cache-dir <dir>, --prefix <dir>, --json
`,
  update: `brisk update [<pkg...>]   (aliases: up, upgrade)

Updates the named packages (none named: all) to the newest versions
package.json's ranges allow, and what they need: package-lock.json and
node_modules change, package.json does not (as npm 11). --latest also moves
package.json's ranges to the latest versions (^<version>, .npmrc save-prefix).

Flags: --latest, -w <workspace> (update what that workspace uses; with
--latest, move its package.json's ranges), and the flags of brisk install
`,
  ls: `brisk ls [<pkg...>]   (alias: list)

Prints the installed tree as npm ls does: the project's own dependencies,
every level with --all, <n> levels with --depth <n>; deduped, UNMET
DEPENDENCY, invalid and extraneous marked as npm marks them. Named
packages: only the paths to them (exit 1 if none is installed). Fails with
E_LS_PROBLEMS when a package is missing or invalid.

Flags: -a/--all, --depth <n>, --json, --parseable, --omit <type>, --prefix <dir>
`,
  why: `brisk why <pkg...>   (alias: explain)

Prints why each installed copy of a package is there: every chain of
dependents up to the project, as npm explain does. Takes a name,
name@range or a node_modules/... folder. E_NOT_INSTALLED if none matches.

Flags: --json, --prefix <dir>
`,
  outdated: `brisk outdated [<pkg...>]

Lists dependencies whose installed version is not the newest their range
allows (Wanted) or not the latest dist-tag (Latest), as npm outdated does:
the project's own dependencies, every package's with --all. Exits 1 when
something is outdated.

Flags: -a/--all, --json, --parseable, --long, --before <date>,
--min-release-age <days>, --registry <url>, --cache-dir <dir>, --prefix <dir>
`
}

const TEST_HELP = (name) => `brisk ${name} [-- <args>...]${name === 'test' ? '   (aliases: t, tst)' : ''}

Runs package.json's "${name}" script (with pre${name} and post${name}), the
same as brisk run ${name}. Arguments after -- are appended to the script.

Flags: --if-present, --ignore-scripts, -w <workspace>, --workspaces,
--include-workspace-root, --silent
`

COMMAND_HELP.run = `brisk run <script> [-- <args>...]   (aliases: run-script, rum, urn)

Runs a package.json script as npm run does: pre<script>, <script>, then
post<script>, each with npm's environment (npm_lifecycle_event,
npm_package_*, INIT_CWD, …) and node_modules/.bin of the project and every
folder above it on PATH. Arguments after -- (or after the script name) are
appended to <script> only, quoted for the shell. Prints "> name@version
script" and the command before each; the exit code is the script's.
Without <script>, lists the scripts. From a subfolder, runs in the project.

Flags: --if-present (exit 0 when the script is missing), --ignore-scripts
(skip pre/post), -w <workspace> (run in that workspace; repeatable),
--workspaces or -ws (in every workspace), --include-workspace-root (the root
first, then the workspaces), --silent (no banners), --prefix <dir>

Across workspaces, as npm: each runs in turn, a failing or missing script
does not stop the others (--if-present skips those without it), each
failure is reported, and the exit code is the last failure's.
`
COMMAND_HELP.test = TEST_HELP('test')
COMMAND_HELP.start = TEST_HELP('start')
COMMAND_HELP.stop = TEST_HELP('stop')
COMMAND_HELP.exec = `brisk exec <command> [args...]   (alias: x)
brisk exec --package <spec> [--package <spec>...] -- <command> [args...]

Runs a command as npm exec (npx) does. A bin of the project
(node_modules/.bin here or in a folder above) runs as it is. Otherwise
<command> is a package (name or name@range): brisk resolves it, installs it
into a folder of its cache (<cache>/_exec/<hash of the resolved specs>) with
its own install, and runs its bin: the only one, or the one named like the
package. The project's package.json, lockfile and node_modules are never
touched. With --package, those packages are installed and <command> runs
with their bins on PATH. Everything after <command> goes to it unchanged.
The exit code is the command's. The installed packages' own install scripts
run (you are running their code anyway); their dependencies' only when
allowed (--allow-scripts).

Flags: -p/--package <spec>, --registry <url>, --cache-dir <dir>,
--prefer-offline, --allow-scripts, --prefix <dir>
`
COMMAND_HELP.rebuild = `brisk rebuild [<pkg>...]   (alias: rb)

Runs the install scripts (preinstall, install, postinstall; node-gyp rebuild
for a binding.gyp package without them) of installed packages again, as npm
rebuild does. Named packages run even if package.json does not trust them
(naming one trusts it, as in npm and pnpm); without names, every installed
package the project trusts (trustedDependencies, pnpm.onlyBuiltDependencies,
or all with --allow-scripts). Each gets a private copy of its files first,
so its scripts never change brisk's cache, and brisk install no longer lists
it as not run.

Flags: --allow-scripts, --ignore-scripts (run nothing), --foreground-scripts,
--cache-dir <dir>, --prefix <dir>, --json, --silent
`

module.exports = { COMMAND_HELP }
