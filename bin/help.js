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
--min-release-age <days>, -w <workspace>, --registry <url>, --cache-dir <dir>,
--prefix <dir>, --json, --silent, --timings
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
`,
  remove: `brisk remove <pkg...>   (aliases: uninstall, rm, r, un)

Removes packages from package.json and node_modules, and updates
package-lock.json.

Flags: --no-save, and the flags of brisk install
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

Flags: --latest, and the flags of brisk install
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

module.exports = { COMMAND_HELP }
