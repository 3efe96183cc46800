// Types for brisk's public JavaScript API (brisk.js). The native addon's own
// generated declarations live in index.d.ts.

import type { Code } from './index'

/** Stable error codes, available as `err.code` on every rejection (the values of the addon's `Code`). */
export type ErrorCode = `${Code}`

/** The error every operation rejects with. */
export interface BriskError extends Error {
  code: ErrorCode
  /** The underlying failure (an operating-system error, …), when there is one. */
  cause?: Error
}

export interface ProgressEvent {
  /**
   * `wait`: another install holds this project's lock (sent once, then the wait goes on);
   * `resolve`: packages placed; `fetch`: packages in the cache; `link`: node_modules being
   * built; `scripts`: install scripts running (the dependencies', then the project's own).
   */
  phase: 'wait' | 'resolve' | 'fetch' | 'link' | 'scripts' | 'done'
  /** Units of work finished in this phase (packages, or scripts). */
  done: number
  /** Units of work in this phase; 0 while unknown (`resolve` never knows how many are coming). */
  total: number
}

export interface Options {
  /** The project directory (holding package.json). Default: process.cwd(). */
  cwd?: string
  /** Registry URL; overrides .npmrc `registry`. */
  registry?: string
  /** Cache directory. Default: `BRISK_CACHE_DIR`, else .npmrc `brisk-cache-dir` (or `cache-dir`), else the user cache dir. */
  cacheDir?: string
  /** Write package-lock.json only; leave node_modules alone. */
  lockfileOnly?: boolean
  /** Fail with E_FROZEN_LOCKFILE instead of changing package-lock.json. */
  frozenLockfile?: boolean
  /** Install into an empty node_modules (what `brisk ci` does); the previous one is put back if the install fails. */
  clean?: boolean
  /** Dependency types to leave out of node_modules (still in the lockfile). */
  omit?: Array<'dev' | 'optional' | 'peer'>
  /**
   * Run no lifecycle script at all, the project's own included (also
   * `.npmrc` `ignore-scripts=true`).
   */
  ignoreScripts?: boolean
  /**
   * Run every dependency's install scripts, as npm does. By default only
   * packages named in package.json `trustedDependencies` (or
   * `pnpm.onlyBuiltDependencies`) run theirs. Also `.npmrc` `allow-scripts=true`.
   */
  allowScripts?: boolean
  /**
   * Let scripts write straight to this process's stdout/stderr, one at a
   * time (npm's --foreground-scripts). Otherwise their output is captured
   * and shown only in the E_SCRIPT error of a failing script.
   */
  foregroundScripts?: boolean
  /** Ignore peerDependencies, like npm's --legacy-peer-deps. */
  legacyPeerDeps?: boolean
  /**
   * Fail with E_PEER_CONFLICT on every peer dependency conflict, like npm's
   * --strict-peer-deps. Without it, conflicts involving the project's own
   * dependencies fail and the others warn (npm 7+).
   */
  strictPeerDeps?: boolean
  /** Peer dependency conflicts only warn, even the project's own (npm's --force). */
  force?: boolean
  /** Use cached metadata without revalidating it when there is some. */
  preferOffline?: boolean
  /** Revalidate cached metadata even while the registry's `Cache-Control: max-age` says it is fresh (npm's --prefer-online). */
  preferOnline?: boolean
  /** npm's --offline: cached metadata and packages only; a missing one fails with E_NOT_CACHED. */
  offline?: boolean
  /** npm's --dry-run: work out what would change (`changes`, counts) and write nothing. */
  dryRun?: boolean
  /** `false` (npm's --no-package-lock): neither read nor write package-lock.json. Overrides .npmrc `package-lock`. */
  packageLock?: boolean
  /** Fail (E_BAD_ENGINE) when a package's `engines.node` excludes this Node.js, instead of warning. Overrides .npmrc `engine-strict`. */
  engineStrict?: boolean
  /**
   * npm's `install-strategy`: `hoisted` (the default) or `linked` (each
   * package in `node_modules/.store/<name>@<version>-<hash>/node_modules`,
   * its dependencies symlinked beside it, the direct dependencies symlinked
   * at the top, as npm 11 lays it out). Overrides .npmrc `install-strategy`.
   */
  installStrategy?: 'hoisted' | 'linked'
  /**
   * brisk's extension, with `installStrategy: 'linked'`: package folders
   * without install scripts are built once per machine in the cache and the
   * project's `.store` entries are symlinks to them. Overrides .npmrc
   * `global-virtual-store`.
   */
  globalVirtualStore?: boolean
  /**
   * Pick no version published after this date for a range or a tag, like
   * npm's `--before` (a Date, or a string such as `2024-05-01` or
   * `2024-05-01T12:00:00Z`). Overrides .npmrc `before`; with
   * `min-release-age` too, the earlier date wins. Versions locked in
   * package-lock.json are kept.
   */
  before?: Date | string
  /**
   * Pick no version published less than this many days ago, like npm's
   * `min-release-age`; overrides .npmrc `min-release-age`.
   */
  minReleaseAge?: number
  /**
   * These workspaces (names or folders), like npm's `--workspace`: install
   * changes only what they use in node_modules (the lockfile still covers
   * them all), `add`/`remove` edit their package.json instead of the
   * root's, `update` updates what they use, `run` runs in each.
   */
  workspaces?: string[]
  /**
   * The environment brisk reads configuration from (HOME for ~/.npmrc,
   * npm_config_*). Default: process.env.
   */
  env?: Record<string, string | undefined>
  /**
   * install only: packages to add to package.json, as `brisk add` takes them
   * (`react`, `react@^18`, `react@next`, `alias@npm:pkg@^1`, `name@<git/file/url spec>`).
   * A registry package is saved as `<save-prefix><version>` (`^1.2.3`) unless
   * it was given as a range that this would widen. package.json and
   * package-lock.json are written only if the install succeeds.
   */
  add?: string[]
  /** install only: dependency names to remove from package.json (`brisk remove`). */
  remove?: string[]
  /**
   * Where added packages go (`-P`, `-D`, `-O`, `--save-peer`). Default: where
   * the dependency already is, else `prod`. Saving to one section removes the
   * name from the others as npm does.
   */
  saveType?: 'prod' | 'dev' | 'optional' | 'peer'
  /** Save exact versions (`1.2.3`) instead of `^1.2.3`; overrides .npmrc `save-exact`. */
  saveExact?: boolean
  /**
   * `false` (`--no-save`): install added/removed packages into node_modules but
   * leave package.json and package-lock.json alone; overrides .npmrc `save`.
   */
  save?: boolean
  /**
   * The packages named: `ls`, `why`, `outdated`, `update` look at them (`name` or `name@range`; `why` also takes
   * `node_modules/…` locations); `exec` installs them for the command (`--package`); `rebuild` rebuilds them
   * (default: all trusted ones).
   */
  packages?: string[]
  /** `ls`, `outdated`: every level of the tree, not only the project's own dependencies (`--all`). */
  all?: boolean
  /** `ls`: how many levels below the project to show (default 0; with `all` or `packages`: all). */
  depth?: number
  /** `update`: move package.json's ranges to the `latest` versions (saved with `save-prefix`). */
  latest?: boolean
  /** `run`: the package.json script to run; without it, `run` only lists the scripts. */
  script?: string
  /** `run`: arguments appended (shell-quoted) to the script; `exec`: the command and its arguments. */
  args?: string[]
  /** `run`: a missing script is not an error (npm's `--if-present`). */
  ifPresent?: boolean
  /**
   * Every workspace (npm's `--workspaces`): `run` runs in each (a failure
   * does not stop the others); `add`/`remove` edit each one's package.json;
   * `install`/`update` change only what they use.
   */
  allWorkspaces?: boolean
  /**
   * With `workspaces`/`allWorkspaces`, the root project too (npm's
   * `--include-workspace-root`): `run` runs there first, `add`/`remove`
   * edit its package.json too, `install` is not limited.
   */
  includeWorkspaceRoot?: boolean
  /** `run`: called before each script starts (npm prints `> id event` and the command then). */
  onScript?: (script: { id: string; event: string; command: string; dir: string }) => void
  /** Cancels the operation; it then rejects with code E_CANCELLED. */
  signal?: AbortSignal
  /** Called with progress events while the operation runs. */
  onProgress?: (event: ProgressEvent) => void
}

export interface Timings {
  resolveMs: number
  fetchMs: number
  linkMs: number
  totalMs: number
}

export interface Result {
  /** Packages added to node_modules. */
  added: number
  /** Packages removed from node_modules. */
  removed: number
  /** Packages taken from the cache. */
  reused: number
  /** Packages downloaded. */
  downloaded: number
  /** Bytes downloaded. */
  bytes: number
  /** Packages in the dependency tree. */
  packages: number
  /** Nothing had to change. */
  upToDate: boolean
  /** package-lock.json was (re)written. */
  lockfileWritten: boolean
  /**
   * name@version of installed packages whose install scripts have not run
   * (not trusted, or ignoreScripts). Trusting one later runs them once.
   */
  scriptsNotRun: string[]
  /** Scripts that ran: `name@version event` for dependencies, `event` for the project's own. */
  scriptsRun: string[]
  warnings: string[]
  timings: Timings
  /**
   * Packages added (no `from`), removed (no `to`) or changed: the project's
   * direct dependencies; with `dryRun`, every package that would change.
   */
  changes: PackageChange[]
  /** Nothing was written (`dryRun`). */
  dryRun: boolean
}

export interface PackageChange {
  name: string
  /** Its folder, relative to the project (`node_modules/a`). */
  location: string
  from?: string
  to?: string
}

/** Install the project's dependencies: resolve, write package-lock.json, fetch, link. */
export function install(options?: Options): Promise<Result>
/** Download everything package-lock.json needs into the cache; node_modules is untouched. */
export function prefetch(options?: Options): Promise<Result>
/** Build node_modules from package-lock.json and the cache only, without the network. */
export function link(options?: Options): Promise<Result>
/**
 * Update packages to the newest versions package.json's ranges allow
 * (`packages`: only those, else all): package-lock.json and node_modules
 * change, package.json only with `latest`.
 */
export function update(options?: Options): Promise<Result>

/** One line of `npm ls`'s tree. */
export interface LsItem {
  /** Folder name (the alias for `npm:` dependencies). */
  name: string
  /** `name@version` (`alias@npm:name@version`); `name@spec` when missing. */
  pkgid: string
  version?: string
  resolved?: string
  /** Absolute folder (none when missing). */
  path?: string
  /** The project itself. */
  root: boolean
  /** Missing: the pkgid of the package that needs it (`UNMET DEPENDENCY`). */
  missing?: string
  /** The spec of the edge that led here. */
  required?: string
  /** Reached through an optional edge (`UNMET OPTIONAL DEPENDENCY` when missing). */
  optional: boolean
  /** `"^2" from the root project`: the specs it does not satisfy. */
  invalid?: string
  /** No dependency of the project leads to it. */
  extraneous: boolean
  /** Shown in full elsewhere. */
  deduped: boolean
  overridden?: boolean
  /** A symlink: the folder it points at, relative to the project. */
  link?: string
  git: boolean
  /** npm's problem lines for this item. */
  problems: string[]
  dependencies: LsItem[]
}

export interface LsResult {
  root: LsItem
  /** `missing: …`, `invalid: …`, `extraneous: …`, as npm words them; the CLI fails (E_LS_PROBLEMS) unless all are extraneous. */
  problems: string[]
  /** False when `packages` were named and none is installed. */
  matched: boolean
  /** `--parseable`: the folders shown, in npm's order. */
  paths: string[]
}

/** npm ls over node_modules (`npm ls --json` is the CLI's rendering of it). */
export function ls(options?: Options): Promise<LsResult>

/** arborist's `node.explain()` for one installed copy, as `npm explain --json` prints it. */
export interface Explanation {
  name: string
  version: string
  location?: string
  isWorkspace?: boolean
  dependents?: Array<{
    type: 'prod' | 'dev' | 'optional' | 'peer' | 'peerOptional' | 'workspace'
    name: string
    spec: string
    rawSpec?: string
    overridden?: boolean
    error?: string
    /** The dependent; `{ location }` alone for the project root. */
    from: Explanation | { location: string }
  }>
  linksIn?: Explanation[]
  extraneous?: boolean
  dev?: boolean
  optional?: boolean
  devOptional?: boolean
  peer?: boolean
  bundled?: boolean
  overridden?: boolean
}

/** npm explain: why each installed copy of `packages` is there. Rejects with E_NOT_INSTALLED when none is. */
export function why(options?: Options): Promise<Explanation[]>

export interface OutdatedEntry {
  name: string
  /** Installed version; undefined when missing. */
  current?: string
  /** Newest version the range allows (picked as install picks). */
  wanted: string
  /** The `latest` dist-tag (within `before`/`min-release-age`). */
  latest: string
  /** Absolute folder. */
  path?: string
  /** `node_modules/…`. */
  location?: string
  /** Who depends on it (the project: its folder name). */
  dependent: string
  dependedByLocation: string
  workspaceDependent?: string
  type: 'dependencies' | 'devDependencies' | 'optionalDependencies' | 'peerDependencies'
}

/** npm outdated: the project's dependencies (`all`: every one) whose wanted or latest version is not installed. */
export function outdated(options?: Options): Promise<OutdatedEntry[]>
/** Run installed packages' install scripts again (npm rebuild), on private copies of their files. */
export function rebuild(options?: Options): Promise<Result>

/** What `run` did in one package (the project, or a workspace). */
export interface RunResult {
  /** `name@version`. */
  id: string
  dir: string
  /** Every script of its package.json. */
  scripts: Record<string, string>
  /** The names among them that are npm lifecycle scripts (`test`, `start`, `prepare`, …). */
  lifecycle: string[]
  /** The events that ran, in order (`pretest`, `test`, `posttest`). */
  ran: string[]
}

/**
 * Run a package.json script as `npm run` does (pre/post, npm's environment,
 * `.bin` on PATH), with this process's stdio. A failing script rejects with
 * E_SCRIPT and `exitCode`; a missing one with E_NOT_FOUND (unless `ifPresent`).
 */
export function run(options?: Options): Promise<RunResult[]>

/**
 * Run a bin as `npm exec` does: the project's own, or else its package
 * installed into brisk's cache (the project is not touched).
 */
export function exec(options?: Options): Promise<{ code: number; signal: string | null; installed: string[] }>
