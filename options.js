'use strict'
// Every option of brisk's JS API, written once: its type, the values it
// takes and the CLI flags that set it. brisk.js checks options against it;
// __test__/options.test.js holds bin/brisk.js, brisk.d.ts, the addon's
// generated types and the README's flag table to it.
//
// type: 'boolean' | 'string' | 'strings' (an array of strings; a lone
// string is taken as one) | 'number' | 'date' (a Date or a date string) |
// 'env' (string values) | 'signal' | 'function' | 'list' (an array of any
// strings, empty ones too). `js`: handled in JS only, never passed to the
// addon. `only`: the operations the option applies to.

const OMIT = ['dev', 'optional', 'peer']
const SAVE_TYPES = ['prod', 'dev', 'optional', 'peer']
const STRATEGIES = ['hoisted', 'linked']

const OPTIONS = {
  cwd: { type: 'string', flags: ['--prefix'] },
  registry: { type: 'string', flags: ['--registry'] },
  cacheDir: { type: 'string', flags: ['--cache-dir', '--cache'] },
  lockfileOnly: { type: 'boolean', flags: ['--lockfile-only', '--package-lock-only'] },
  frozenLockfile: { type: 'boolean', flags: ['--frozen-lockfile'] },
  // `brisk ci`.
  clean: { type: 'boolean', flags: [] },
  omit: { type: 'strings', values: OMIT, flags: ['--omit', '--production', '--include', '--no-optional'] },
  ignoreScripts: { type: 'boolean', flags: ['--ignore-scripts'] },
  allowScripts: { type: 'boolean', flags: ['--allow-scripts'] },
  foregroundScripts: { type: 'boolean', flags: ['--foreground-scripts'] },
  legacyPeerDeps: { type: 'boolean', flags: ['--legacy-peer-deps'] },
  strictPeerDeps: { type: 'boolean', flags: ['--strict-peer-deps'] },
  force: { type: 'boolean', flags: ['--force', '-f'] },
  preferOffline: { type: 'boolean', flags: ['--prefer-offline'] },
  preferOnline: { type: 'boolean', flags: ['--prefer-online'] },
  offline: { type: 'boolean', flags: ['--offline'] },
  dryRun: { type: 'boolean', flags: ['--dry-run'] },
  packageLock: { type: 'boolean', flags: ['--package-lock', '--no-package-lock'] },
  engineStrict: { type: 'boolean', flags: ['--engine-strict'] },
  before: { type: 'date', flags: ['--before'] },
  minReleaseAge: { type: 'number', flags: ['--min-release-age'] },
  workspaces: { type: 'strings', flags: ['--workspace', '-w'] },
  // npm's install-strategy; `globalVirtualStore` is brisk's extension.
  installStrategy: { type: 'string', values: STRATEGIES, flags: ['--install-strategy'] },
  globalVirtualStore: { type: 'boolean', flags: ['--global-virtual-store'] },
  env: { type: 'env', flags: [] },
  // `brisk add <pkg...>` / `brisk remove <pkg...>`.
  add: { type: 'strings', install: true, flags: [] },
  remove: { type: 'strings', install: true, flags: [] },
  saveType: {
    type: 'string',
    values: SAVE_TYPES,
    flags: ['--save-prod', '-P', '--save-dev', '-D', '--save-optional', '-O', '--save-peer']
  },
  saveExact: { type: 'boolean', flags: ['--save-exact', '-E'] },
  save: { type: 'boolean', flags: ['--save', '--no-save'] },
  // The packages named: `ls|why|outdated|update <pkg...>` look at them,
  // `exec --package` installs them, `rebuild <pkg...>` rebuilds them.
  packages: { type: 'strings', flags: ['--package', '-p'] },
  all: { type: 'boolean', flags: ['--all', '-a'] },
  depth: { type: 'number', flags: ['--depth'] },
  latest: { type: 'boolean', flags: ['--latest'] },
  // `brisk run <script> [-- args]`, `brisk exec <cmd> [args]`.
  script: { type: 'string', only: ['run'], flags: [] },
  args: { type: 'list', only: ['run', 'exec'], flags: [] },
  ifPresent: { type: 'boolean', js: true, only: ['run'], flags: ['--if-present'] },
  allWorkspaces: { type: 'boolean', flags: ['--workspaces', '--ws'] },
  includeWorkspaceRoot: { type: 'boolean', flags: ['--include-workspace-root'] },
  onScript: { type: 'function', js: true, only: ['run'], flags: [] },
  signal: { type: 'signal', js: true, flags: [] },
  onProgress: { type: 'function', js: true, flags: [] }
}

module.exports = { OPTIONS, OMIT, SAVE_TYPES }
