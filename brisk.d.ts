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
  /** `wait`: another install holds this project's lock (sent once, then the wait goes on). */
  phase: 'wait' | 'resolve' | 'fetch' | 'link' | 'done'
  /** Units of work finished in this phase (best effort). */
  done: number
  /** Units of work known so far in this phase (may grow). */
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
   * Limit node_modules changes to what these workspaces use (names or
   * folders), like npm's `--workspace`. The lockfile still covers them all.
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
  /** `run`: the package.json script to run; without it, `run` only lists the scripts. */
  script?: string
  /** `run`: arguments appended (shell-quoted) to the script; `exec`: the command and its arguments. */
  args?: string[]
  /** `run`: a missing script is not an error (npm's `--if-present`). */
  ifPresent?: boolean
  /** `run`: run in every workspace (npm's `--workspaces`). */
  allWorkspaces?: boolean
  /** `exec`: packages to install for the command (`--package`); `rebuild`: the installed packages to rebuild (default: all trusted ones). */
  packages?: string[]
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
}

/** Install the project's dependencies: resolve, write package-lock.json, fetch, link. */
export function install(options?: Options): Promise<Result>
/** Download everything package-lock.json needs into the cache; node_modules is untouched. */
export function prefetch(options?: Options): Promise<Result>
/** Build node_modules from package-lock.json and the cache only, without the network. */
export function link(options?: Options): Promise<Result>
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
