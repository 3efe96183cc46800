#!/bin/sh
':' //; [ -z "$NODE_EXTRA_CA_CERTS" ] || { export BRISK_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS"; unset NODE_EXTRA_CA_CERTS; }; exec node "$0" "$@"
'use strict'
// The brisk command line: npm's command and flag names mapped onto the JS API.
// Results go to stdout, progress, warnings and errors to stderr; the exit
// code is 0 on success and 1 on any failure (130 when interrupted).

const { parseArgs } = require('node:util')
const path = require('node:path')
const fs = require('node:fs')

// The first two lines are sh and JS at once. As sh they start node on this
// file with NODE_EXTRA_CA_CERTS moved aside: node loads that file at
// start-up (40 ms for the usual system bundle, twice the rest of node's
// start), and brisk's JS opens no TLS connection. Here it is put back
// before anything reads it: the Rust client adds it to its trusted roots
// and lifecycle scripts inherit it. Node would warn of an unreadable file.
const extraCa = process.env.BRISK_EXTRA_CA_CERTS
if (extraCa !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = extraCa
  delete process.env.BRISK_EXTRA_CA_CERTS
  try {
    fs.accessSync(extraCa, fs.constants.R_OK)
  } catch (err) {
    process.stderr.write(`brisk WARN ignoring extra certs from NODE_EXTRA_CA_CERTS: ${err.message}\n`)
  }
}

const VERSION = require('../package.json').version

const USAGE = `brisk ${VERSION}: a fast npm-compatible package installer

Usage: brisk <command> [flags]

Commands:
  install, i        install package.json's dependencies, update package-lock.json
  install <pkg...>  add packages (same as add)
  add <pkg...>      add packages to package.json and install them (react, react@^18, react@next,
                    alias@npm:react@^18); saved as ^<version> unless a narrower range was given
  remove <pkg...>   remove packages from package.json and node_modules (aliases: uninstall, rm, r, un)
  ci                clean install from package-lock.json (--frozen-lockfile, into an empty node_modules)
  prefetch          download what package-lock.json needs into the cache
  link              build node_modules from package-lock.json and the cache, offline
  update [<pkg...>] newest versions within package.json's ranges (aliases: up, upgrade; --latest: past them)
  ls [<pkg...>]     list installed packages as npm ls does (alias: list; --all, --depth <n>, --json, --parseable)
  why <pkg...>      why a package is installed, as npm explain (alias: explain)
  outdated [<pkg...>]  installed, wanted and latest versions of outdated dependencies (exit 1 if any)
  run <script>      run a package.json script with pre/post, npm's environment and .bin on PATH
                    (aliases: run-script; no script: list them); args after -- go to the script
  test, start, stop run that script (test: also t)
  exec <cmd> [args] run a project bin, or a package's bin installed into the cache (alias: x)
  rebuild [<pkg>...] run installed packages' install scripts again, on private copies (alias: rb)

Flags:
  --registry <url>          registry to use (default: .npmrc, else https://registry.npmjs.org/)
  --cache-dir <dir>         cache directory (alias: --cache)
  --prefix <dir>            project directory (default: the nearest folder up with a package.json)
  --lockfile-only           only write package-lock.json (alias: --package-lock-only)
  --frozen-lockfile         fail instead of changing package-lock.json
  --omit <dev|optional|peer>  leave a dependency type out of node_modules (repeatable)
  --production              same as --omit=dev
  --ignore-scripts          run no lifecycle script (the project's own included)
  --allow-scripts           run every dependency's install scripts, not only trustedDependencies
  --foreground-scripts      show script output as scripts run (default: only when one fails)
  --legacy-peer-deps        ignore peerDependencies
  --strict-peer-deps        fail (E_PEER_CONFLICT) on every peer dependency conflict
  -f, --force               peer dependency conflicts only warn, even the project's own
  --prefer-offline          use cached metadata without revalidating it
  --prefer-online           revalidate cached metadata even while the registry's max-age says it is fresh
  --offline                 use the cache only (metadata and packages); fail on what it lacks
  --dry-run                 say what would change, change nothing
  --no-package-lock         neither read nor write package-lock.json
  --engine-strict           fail on a package whose engines.node excludes this Node.js
  --install-strategy <s>    hoisted (default) or linked: packages in node_modules/.store, symlinked
  --global-virtual-store    with linked: share package folders between projects through the cache
  --before <date>           pick no version published after this date (2024-05-01, 2024-05-01T12:00:00Z)
  --min-release-age <days>  pick no version published less than this many days ago (.npmrc min-release-age)
  -w, --workspace <name>    a workspace (name or folder; repeatable): install only what it uses,
                            add/remove/update edit its package.json, run runs there
  --if-present              run: exit 0 when the script is missing
  --workspaces, --ws        every workspace (run in each; add/remove: edit each one's package.json)
  --include-workspace-root  with -w/--workspaces, the root project too
  -p, --package <spec>      exec: install this package for the command (repeatable)
  -D, --save-dev            add to devDependencies
  -O, --save-optional       add to optionalDependencies
  -P, --save-prod           add to dependencies (the default for new packages)
  --save-peer               add to peerDependencies
  -E, --save-exact          save 1.2.3 instead of ^1.2.3 (.npmrc save-exact; save-prefix sets the ^)
  --no-save                 install but leave package.json and package-lock.json unchanged
  -a, --all                 ls, outdated: every level, not only the project's own dependencies
  --depth <n>               ls: how many levels to show (default 0: the project's own dependencies)
  --latest                  update: move package.json's ranges to the latest versions
  --parseable               ls: folder paths, one a line; outdated: colon-separated fields
  --long                    outdated: also the dependency type and its dependent's location
  --json                    print the result as JSON on stdout
  --timings                 print how long each stage took
  --silent                  print nothing but errors
  --include <type>          install a dependency type even if --omit or --production leaves it out
  --no-optional             same as --omit=optional

  --no-progress, --no-color and --color=always work as in npm; --no-audit, --no-fund,
  --no-update-notifier, --loglevel <level> (silent = --silent), --quiet and --verbose
  are accepted and change nothing;
  --flag=true|false and --no-<flag> work for every flag (false overrides .npmrc).
  Not supported: -g/--global, --install-strategy=nested|shallow (--global-style, --legacy-bundling).

  -h, --help                show this help
  -v, --version             print the version
`

const COMMANDS = {
  install: 'install',
  i: 'install',
  isntall: 'install',
  ci: 'ci',
  'clean-install': 'ci',
  prefetch: 'prefetch',
  link: 'link',
  add: 'add',
  remove: 'remove',
  uninstall: 'remove',
  rm: 'remove',
  r: 'remove',
  un: 'remove',
  update: 'update',
  up: 'update',
  upgrade: 'update',
  ls: 'ls',
  list: 'ls',
  why: 'why',
  explain: 'why',
  outdated: 'outdated',
  run: 'run',
  'run-script': 'run',
  rum: 'run',
  urn: 'run',
  test: 'test',
  t: 'test',
  tst: 'test',
  start: 'start',
  stop: 'stop',
  exec: 'exec',
  x: 'exec',
  rebuild: 'rebuild',
  rb: 'rebuild'
}
// Commands that take package names (all but `why` may be given none).
const WITH_PACKAGES = ['update', 'ls', 'why', 'outdated']
// Commands that run a script of package.json (npm test, npm start, …).
const SCRIPT_COMMANDS = ['test', 'start', 'stop']
const { OPTIONS, OMIT } = require('../options.js')
const { COMMAND_HELP } = require('./help.js')
const render = require('./render.js')

const FLAGS = {
  registry: { type: 'string' },
  'cache-dir': { type: 'string' },
  cache: { type: 'string' },
  prefix: { type: 'string' },
  'lockfile-only': { type: 'boolean' },
  'package-lock-only': { type: 'boolean' },
  'frozen-lockfile': { type: 'boolean' },
  omit: { type: 'string', multiple: true },
  production: { type: 'boolean' },
  'ignore-scripts': { type: 'boolean' },
  'allow-scripts': { type: 'boolean' },
  'foreground-scripts': { type: 'boolean' },
  'legacy-peer-deps': { type: 'boolean' },
  'strict-peer-deps': { type: 'boolean' },
  force: { type: 'boolean', short: 'f' },
  'prefer-offline': { type: 'boolean' },
  'prefer-online': { type: 'boolean' },
  offline: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'package-lock': { type: 'boolean' },
  'engine-strict': { type: 'boolean' },
  'install-strategy': { type: 'string' },
  'global-virtual-store': { type: 'boolean' },
  before: { type: 'string' },
  'min-release-age': { type: 'string' },
  workspace: { type: 'string', short: 'w', multiple: true },
  'save-dev': { type: 'boolean', short: 'D' },
  'save-optional': { type: 'boolean', short: 'O' },
  'save-prod': { type: 'boolean', short: 'P' },
  'save-peer': { type: 'boolean' },
  'save-exact': { type: 'boolean', short: 'E' },
  'if-present': { type: 'boolean' },
  workspaces: { type: 'boolean' },
  ws: { type: 'boolean' },
  'include-workspace-root': { type: 'boolean' },
  iwr: { type: 'boolean' },
  package: { type: 'string', short: 'p', multiple: true },
  save: { type: 'boolean' },
  'no-save': { type: 'boolean' },
  all: { type: 'boolean', short: 'a' },
  depth: { type: 'string' },
  latest: { type: 'boolean' },
  parseable: { type: 'boolean' },
  long: { type: 'boolean' },
  json: { type: 'boolean' },
  timings: { type: 'boolean' },
  silent: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' }
}

// npm flags that change nothing brisk does (no audit, no funding messages,
// no update check, no colours yet, progress only on a terminal): accepted
// and ignored, with or without `no-` and a value, so npm habits keep working.
const IGNORED = new Set([
  'audit', 'fund', 'update-notifier', 'progress', 'color', 'colors', 'unicode',
  'audit-level', 'fund-level', 'loglevel', 'quiet', 'verbose', 'd', 'dd', 'ddd',
  'strict-ssl-checks', 'package-lock-only-warnings', 'no-bin-links-warnings',
  'prefer-dedupe', 'install-links', 'bin-links', 'node-options'
])
// npm flags whose meaning brisk does not implement: refused, saying so,
// rather than ignored (they would change what gets installed).
const UNSUPPORTED = {
  global: 'brisk installs into a project; global installs are not supported (use npm i -g)',
  g: 'brisk installs into a project; global installs are not supported (use npm i -g)',
  location: 'brisk installs into a project; --location=global is not supported (use npm i -g)',
  'global-style': 'only the hoisted and linked install strategies are supported',
  'legacy-bundling': 'only the hoisted and linked install strategies are supported'
}

/** The word among `known` nearest to `name` by edit distance, if it is close. */
function nearest(name, known) {
  const distance = (a, b) => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i)
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0]
      row[0] = i
      for (let j = 1; j <= b.length; j++) {
        const next = row[j]
        row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
        prev = next
      }
    }
    return row[b.length]
  }
  let best = null
  for (const word of known) {
    const d = distance(name, word)
    if (d <= Math.max(1, Math.floor(word.length / 4)) && (!best || d < best.d)) best = { word, d }
  }
  return best && best.word
}

const nearestFlag = (name) => nearest(name, Object.keys(FLAGS))

/**
 * npm's argv forms over parseArgs': `--flag=true|false`, `--no-flag` for
 * any boolean, `--include=<type>` and `--no-optional` (omit), npm's
 * no-op flags dropped, unsupported ones refused, and a did-you-mean for
 * the rest. Returns the argv to parse and what `--include` named.
 */
function npmArgv(argv) {
  const out = []
  const include = []
  const omitted = []
  const negated = []
  let loglevelSilent = false
  let color
  let progress = true
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') { out.push(...argv.slice(i)); break }
    // npm's shorthands -ws (--workspaces) and -iwr (--include-workspace-root).
    if (arg === '-ws' || arg === '-iwr') { out.push(`-${arg}`); continue }
    const m = /^(--?)(no-)?([^=]+)(?:=(.*))?$/.exec(arg)
    if (!m || (m[1] === '-' && m[3].length > 1 && !UNSUPPORTED[m[3]])) { out.push(arg); continue }
    const [, dashes, no, name, value] = m
    const spec = dashes === '--' ? FLAGS[name] : undefined
    if (dashes === '-' && !UNSUPPORTED[name]) { out.push(arg); continue }
    if (UNSUPPORTED[name]) {
      throw new UsageError(`${dashes}${no || ''}${name}: ${UNSUPPORTED[name]}`, 'E_UNSUPPORTED')
    }
    if (IGNORED.has(name)) {
      // A separate value belongs to the ignored flag only for those that take one.
      const takesValue = ['loglevel', 'audit-level', 'fund-level', 'node-options'].includes(name)
      let v = value
      if (takesValue && v === undefined && i + 1 < argv.length && !argv[i + 1].startsWith('-')) v = argv[++i]
      if (name === 'color' && v === undefined && ['always', 'true', 'false'].includes(argv[i + 1])) v = argv[++i]
      if (name === 'progress') progress = !(no || v === 'false')
      if (name === 'loglevel' && v === 'silent') loglevelSilent = true
      if (name === 'color' || name === 'colors') color = no || v === 'false' ? false : v === 'always' ? true : color
      continue
    }
    if (name === 'include') {
      const v = value ?? argv[++i]
      if (v === undefined) throw new UsageError('--include needs a dependency type: dev, optional or peer')
      include.push(...v.split(','))
      continue
    }
    if (name === 'optional' && no) { omitted.push('optional'); continue }
    if (!spec && !no) {
      const near = nearestFlag(name)
      throw new UsageError(`unknown flag "${dashes}${name}"${near ? ` (did you mean "--${near}"?)` : ''}. Run "brisk --help" for the flags brisk knows.`)
    }
    if (no) {
      if (name === 'save') { out.push('--no-save'); continue }
      if (!spec || spec.type !== 'boolean') {
        const near = nearestFlag(name)
        throw new UsageError(`unknown flag "--no-${name}"${near ? ` (did you mean "--no-${near}"?)` : ''}. Run "brisk --help" for the flags brisk knows.`)
      }
      negated.push(name) // false, which overrides .npmrc
      continue
    }
    if (spec.type === 'boolean' && value !== undefined) {
      if (value === 'true') out.push(`--${name}`)
      else if (value === 'false' && name === 'save') out.push('--no-save')
      else if (value === 'false') negated.push(name)
      else throw new UsageError(`--${name} takes true or false (got "${value}")`)
      continue
    }
    out.push(arg)
  }
  return { argv: out, include, omitted, negated, loglevelSilent, color, progress }
}

class UsageError extends Error {
  constructor(message, code = 'E_CONFIG') {
    super(message)
    this.code = code
  }
}

/**
 * The project a command run in `dir` means, as npm finds it: the nearest
 * folder, `dir` or above, with a package.json or a node_modules; `dir`
 * itself when there is none.
 */
function projectDir(dir) {
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json')) || fs.existsSync(path.join(d, 'node_modules'))) return d
    if (path.dirname(d) === d) return dir
  }
}

/**
 * argv split where brisk's own flags end: after `--`, and for exec at the
 * command (`brisk x tsc --version` passes --version to tsc, as npx does).
 */
function splitPassthrough(argv) {
  const dash = argv.indexOf('--')
  const own = dash < 0 ? argv : argv.slice(0, dash)
  const after = dash < 0 ? [] : argv.slice(dash + 1)
  const positions = []
  for (let i = 0; i < own.length; i++) {
    const arg = own[i]
    if (!arg.startsWith('-') || arg === '-') { positions.push(i); continue }
    const m = /^--?(?:no-)?([^=]+)$/.exec(arg)
    if (!m) continue
    const name = m[1]
    const short = arg.length === 2 ? Object.keys(FLAGS).find((k) => FLAGS[k].short === name) : undefined
    const spec = arg.startsWith('--') ? FLAGS[name] : FLAGS[short]
    const takesValue = (spec && spec.type === 'string') || ['loglevel', 'audit-level', 'fund-level', 'node-options'].includes(name)
    if (takesValue && !arg.startsWith('--no-')) i++
  }
  if (positions.length >= 2 && COMMANDS[own[positions[0]]] === 'exec') {
    // own is a prefix of argv: what follows the command is its own, verbatim.
    const cut = positions[1]
    return { own: argv.slice(0, cut + 1), after: argv.slice(cut + 1) }
  }
  return { own, after }
}

/** argv → { command, options, output } or { help } / { version }. Throws UsageError. */
function parse(argv) {
  let parsed
  const split = splitPassthrough(argv)
  argv = split.own
  const npm = npmArgv(argv)
  try {
    parsed = parseArgs({ args: npm.argv, options: FLAGS, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError(`${err.message.replace(/\. To specify a positional.*$/s, '')}. Run "brisk --help" for the flags brisk knows.`)
  }
  const { values, positionals } = parsed
  if (values.help) return COMMANDS[positionals[0]] ? { help: true, command: COMMANDS[positionals[0]] } : { help: true }
  if (values.version) return { version: true }
  if (positionals.length === 0) return { help: true, missingCommand: true }

  const [word, ...rest] = positionals
  const command = COMMANDS[word]
  if (!command) {
    // npm's typo aliases are accepted, never suggested.
    const near = nearest(word, Object.keys(COMMANDS).filter((c) => !['isntall', 'tst', 'rum', 'urn'].includes(c)))
    throw new UsageError(`unknown command "${word}"${near ? ` (did you mean "${near}"?)` : ''}. Run "brisk --help" for the commands brisk knows.`)
  }
  const running = command === 'run' || command === 'exec' || command === 'rebuild' || SCRIPT_COMMANDS.includes(command)
  if (!running && split.after.length) {
    throw new UsageError(`"brisk ${word}" takes no arguments after "--" (got "${split.after.join(' ')}")`)
  }
  const adding = command === 'add' || (command === 'install' && rest.length > 0)
  if ((command === 'add' || command === 'remove') && rest.length === 0) {
    throw new UsageError(`"brisk ${word}" needs at least one package name, e.g. "brisk ${word} react"`)
  }
  if (command === 'why' && rest.length === 0) {
    throw new UsageError('"brisk why" needs a package name, e.g. "brisk why react"')
  }
  if (!adding && !running && command !== 'remove' && !WITH_PACKAGES.includes(command) && rest.length > 0) {
    throw new UsageError(`"brisk ${word}" takes no arguments (got "${rest.join(' ')}")`)
  }
  const saveTypes = [['save-prod', 'prod'], ['save-dev', 'dev'], ['save-optional', 'optional'], ['save-peer', 'peer']]
    .filter(([flag]) => values[flag])
  if (saveTypes.length > 1) {
    throw new UsageError(`${saveTypes.map(([f]) => '--' + f).join(' and ')} contradict each other: give one`)
  }
  if (values.save && values['no-save']) throw new UsageError('--save and --no-save contradict each other: give one')

  const omit = new Set()
  for (const value of values.omit || []) {
    for (const part of value.split(',')) {
      if (!OMIT.includes(part)) throw new UsageError(`--omit must be one of ${OMIT.join(', ')} (got "${part}")`)
      omit.add(part)
    }
  }
  if (values.production) omit.add('dev')
  for (const part of npm.omitted) omit.add(part)
  // npm: --include wins over --omit (and over --production).
  for (const part of npm.include) {
    if (!OMIT.includes(part)) throw new UsageError(`--include must be one of ${OMIT.join(', ')} (got "${part}")`)
    omit.delete(part)
  }
  if (values['cache-dir'] !== undefined && values.cache !== undefined && values['cache-dir'] !== values.cache) {
    throw new UsageError('--cache-dir and --cache name different directories: give one')
  }

  const options = { cwd: values.prefix !== undefined ? path.resolve(values.prefix) : projectDir(process.cwd()) }
  if (values.registry !== undefined) options.registry = values.registry
  const cacheDir = values['cache-dir'] ?? values.cache
  if (cacheDir !== undefined) options.cacheDir = path.resolve(cacheDir)
  if (values['lockfile-only'] || values['package-lock-only']) options.lockfileOnly = true
  if (values['frozen-lockfile'] || command === 'ci') options.frozenLockfile = true
  if (command === 'ci') options.clean = true
  if (omit.size) options.omit = [...omit]
  if (values['ignore-scripts']) options.ignoreScripts = true
  if (values['allow-scripts']) options.allowScripts = true
  if (values['foreground-scripts']) options.foregroundScripts = true
  if (values['legacy-peer-deps']) options.legacyPeerDeps = true
  if (values['strict-peer-deps']) options.strictPeerDeps = true
  if (values.force) options.force = true
  if (values['prefer-offline']) options.preferOffline = true
  if (values['prefer-online']) options.preferOnline = true
  if (values.offline) options.offline = true
  if (values['dry-run']) options.dryRun = true
  if (values['package-lock']) options.packageLock = true
  if (values['engine-strict']) options.engineStrict = true
  if (values['install-strategy'] !== undefined) options.installStrategy = values['install-strategy']
  if (values['global-virtual-store']) options.globalVirtualStore = true
  if ((options.offline || options.dryRun) && command === 'prefetch') {
    throw new UsageError(`--${options.offline ? 'offline' : 'dry-run'} does not apply to "brisk prefetch"`)
  }
  if (values.before !== undefined) {
    if (values.before.trim() === '') throw new UsageError('--before needs a date, e.g. --before 2024-05-01')
    options.before = values.before
  }
  if (values['min-release-age'] !== undefined) {
    const days = values['min-release-age'].trim() === '' ? NaN : Number(values['min-release-age'])
    if (!Number.isFinite(days) || days < 0) {
      throw new UsageError(`--min-release-age takes a number of days, e.g. 7 (got "${values['min-release-age']}")`)
    }
    options.minReleaseAge = days
  }
  if (values.workspace) options.workspaces = values.workspace
  if (values['if-present']) options.ifPresent = true
  if (values.workspaces || values.ws) options.allWorkspaces = true
  if (values['include-workspace-root'] || values.iwr) options.includeWorkspaceRoot = true
  if (values.package) options.packages = values.package
  if (command === 'run') {
    if (rest.length) options.script = rest[0]
    if (rest.length > 1 || split.after.length) options.args = [...rest.slice(1), ...split.after]
  } else if (SCRIPT_COMMANDS.includes(command)) {
    options.script = command
    if (rest.length || split.after.length) options.args = [...rest, ...split.after]
  } else if (command === 'exec') {
    options.args = [...rest, ...split.after]
  } else if (command === 'rebuild' && rest.length) {
    options.packages = [...(options.packages || []), ...rest]
  }
  if (adding) options.add = rest
  if (command === 'remove') options.remove = rest
  if (WITH_PACKAGES.includes(command) && rest.length) options.packages = rest
  if (values.all) options.all = true
  if (values.latest) options.latest = true
  if (values.depth !== undefined) {
    const depth = values.depth.trim() === '' ? NaN : Number(values.depth)
    if (!Number.isInteger(depth) || depth < 0) throw new UsageError(`--depth takes a number of levels, e.g. 1 (got "${values.depth}")`)
    options.depth = depth
  }
  if (saveTypes.length) options.saveType = saveTypes[0][1]
  if (values['save-exact']) options.saveExact = true
  if (values['no-save']) options.save = false
  if (values.save) options.save = true
  // `--no-<flag>` / `--<flag>=false`: false, over .npmrc.
  for (const name of npm.negated) {
    const key = Object.keys(OPTIONS).find((k) => OPTIONS[k].type === 'boolean' && OPTIONS[k].flags.includes(`--${name}`))
    if (key !== undefined && options[key] === undefined) options[key] = false
  }
  if (options.lockfileOnly && (command === 'prefetch' || command === 'link')) {
    throw new UsageError(`--lockfile-only does not apply to "brisk ${command}"`)
  }

  return {
    command,
    operation: command === 'ci' || command === 'add' || command === 'remove' ? 'install' : SCRIPT_COMMANDS.includes(command) ? 'run' : command,
    options,
    output: {
      json: !!values.json,
      silent: !!values.silent || npm.loglevelSilent,
      timings: !!values.timings,
      color: npm.color,
      progress: npm.progress,
      // ls/outdated renderings, present only when asked for.
      ...(values.parseable ? { parseable: true } : {}),
      ...(values.long ? { long: true } : {})
    }
  }
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`
}

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`

/** `@scope/name@1.0.0` → `@scope/name`. */
const packageName = (id) => {
  const at = id.lastIndexOf('@')
  return at > 0 ? id.slice(0, at) : id
}

/**
 * Colours for a stream: on a terminal unless NO_COLOR is set or --no-color
 * was given (--color=always forces them).
 */
function painter(stream, color) {
  const on = color ?? (!!stream.isTTY && !process.env.NO_COLOR)
  const paint = (code) => (text) => (on ? `\x1b[${code}m${text}\x1b[0m` : text)
  return { red: paint(31), green: paint(32), yellow: paint(33), dim: paint(2) }
}

/** A direct dependency that changed, as bun and pnpm show it: `+ a@1.0.0`, `- b@2.0.0`, `~ c 1.0.0 -> 2.0.0`. */
function changeLine(c) {
  if (c.from === undefined || c.from === null) return `+ ${c.name}@${c.to}`
  if (c.to === undefined || c.to === null) return `- ${c.name}@${c.from}`
  return `~ ${c.name} ${c.from} -> ${c.to}`
}

/** A package --dry-run would change, in npm's words: `add a 1.0.0`, `remove b 2.0.0`, `change c 1.0.0 => 2.0.0`. */
function npmChangeLine(c) {
  if (c.from === undefined || c.from === null) return `add ${c.name} ${c.to}`
  if (c.to === undefined || c.to === null) return `remove ${c.name} ${c.from}`
  return `change ${c.name} ${c.from} => ${c.to}`
}

/** The human summary of a result, one line per fact. */
function summary(command, options, result) {
  const lines = []
  const secs = `${((result.timings?.totalMs ?? 0) / 1000).toFixed(2)}s`
  const download = result.downloaded > 0 ? ` (${result.downloaded} downloaded, ${formatBytes(result.bytes)})` : ''
  if (command === 'rebuild') {
    const ran = result.scriptsRun || []
    lines.push(ran.length ? `rebuilt dependencies successfully: ${ran.join(', ')}` : 'rebuilt dependencies successfully (no install script to run)')
  } else if (command === 'prefetch') {
    lines.push(`prefetched ${plural(result.packages, 'package')}${download}, ${result.reused} already cached, in ${secs}`)
  } else if (options.lockfileOnly) {
    lines.push(result.lockfileWritten
      ? `wrote package-lock.json (${plural(result.packages, 'package')}) in ${secs}`
      : `package-lock.json is up to date (${plural(result.packages, 'package')}) in ${secs}`)
  } else {
    const changes = result.changes || []
    // npm's --dry-run lists its lines first; otherwise the count comes first, as npm prints it.
    if (result.dryRun && changes.length) lines.push(...changes.map(npmChangeLine), '')
    const dry = result.dryRun ? ' (dry run: nothing was written)' : ''
    if (result.upToDate || (result.added === 0 && result.removed === 0 && !changes.length)) {
      lines.push(`up to date, ${plural(result.packages, 'package')} in ${secs}${dry}`)
    } else {
      const parts = []
      if (result.added) parts.push(`added ${plural(result.added, 'package')}`)
      if (result.removed) parts.push(`removed ${plural(result.removed, 'package')}`)
      if (!parts.length) parts.push(`changed ${plural(changes.length, 'package')}`)
      lines.push(`${parts.join(', ')}${result.dryRun ? '' : download} in ${secs}${dry}`)
    }
    if (!result.dryRun) lines.push(...changes.map(changeLine))
  }
  // The dependencies' scripts that ran (the project's own were shown as they ran).
  const ran = (result.scriptsRun || []).filter((s) => s.includes(' '))
  if (ran.length && command !== 'rebuild') lines.push(`ran ${plural(ran.length, 'install script')}: ${ran.join(', ')}`)
  const notRun = result.scriptsNotRun || []
  if (notRun.length && !options.ignoreScripts) {
    const names = [...new Set(notRun.map(packageName))]
    lines.push(`${plural(notRun.length, 'package')} ${notRun.length === 1 ? 'has' : 'have'} install scripts that were not run: ${notRun.join(', ')}`)
    lines.push(`  to run them, add "trustedDependencies": ${JSON.stringify(names)} to package.json or run with --allow-scripts, or run them once now: brisk rebuild ${names.join(' ')}`)
  }
  return lines
}

function timingsLine(t = {}) {
  const ms = (x) => `${Math.round(x ?? 0)}ms`
  return `timings: resolve ${ms(t.resolveMs)}, fetch ${ms(t.fetchMs)}, link ${ms(t.linkMs)}, total ${ms(t.totalMs)}`
}

const LABELS = {
  wait: 'waiting for another brisk to finish in this project',
  resolve: 'resolving',
  fetch: 'fetching',
  link: 'linking',
  scripts: 'running install scripts'
}

/** A one-line progress display on stderr, redrawn in place (TTY only). */
function progressPrinter(stream) {
  let last = 0
  let phase
  let shown = false
  return {
    onProgress(event) {
      const now = Date.now()
      // Redrawn at most every 80 ms, but a new phase shows at once.
      if (now - last < 80 && event.phase === phase) return
      last = now
      phase = event.phase
      const count = event.total ? ` ${event.done}/${event.total}` : event.done ? ` ${event.done}` : ''
      const label = LABELS[event.phase] ?? event.phase
      stream.write(`\r\x1b[2K${label}${count}`)
      shown = true
    },
    clear() {
      if (shown) stream.write('\r\x1b[2K')
      shown = false
    }
  }
}

/** `ls`, `why`, `outdated`: the answer rendered as npm prints it; the exit code. */
async function query(brisk, { command, options, output }) {
  const out = (text) => { if (text) process.stdout.write(text.endsWith('\n') ? text : text + '\n') }
  const json = (value) => process.stdout.write(JSON.stringify(value, null, 2) + '\n')
  if (command === 'ls') {
    const listing = await brisk.ls(options)
    const fails = render.lsFails(listing)
    if (output.json) {
      const body = render.lsJson(listing)
      if (fails) body.error = { code: 'E_LS_PROBLEMS', summary: listing.problems.join('\n'), detail: '' }
      json(body)
    } else if (output.parseable) {
      out(listing.paths.join('\n'))
    } else {
      out(render.lsText(listing) + '\n')
    }
    if (fails) {
      printError(Object.assign(new Error(`${listing.problems.join('\n')}\nRun "brisk install" to install what is missing or invalid.`), { code: 'E_LS_PROBLEMS' }))
      return 1
    }
    return options.packages && !listing.matched ? 1 : 0
  }
  if (command === 'why') {
    const explanations = await brisk.why(options)
    if (output.json) json(explanations)
    else out(render.whyText(explanations))
    return 0
  }
  const list = await brisk.outdated(options)
  if (output.json) json(render.outdatedJson(list, output))
  else if (output.parseable) out(render.outdatedParseable(list))
  else out(render.outdatedText(list, output))
  return list.length ? 1 : 0
}

function printError(err, output) {
  const code = err && typeof err.code === 'string' ? err.code : 'E_IO'
  const message = err && err.message ? err.message : String(err)
  if (output && output.json) {
    process.stdout.write(JSON.stringify({ error: { code, message } }, null, 2) + '\n')
  }
  const { red } = painter(process.stderr, output && output.color)
  const lines = message.split('\n').map((line) => `${red('brisk ERR!')} ${line}`)
  lines[0] = `${red('brisk ERR!')} ${code} ${message.split('\n')[0]}`
  process.stderr.write(lines.join('\n') + '\n')
}

async function main(argv) {
  let cmd
  try {
    cmd = parse(argv)
  } catch (err) {
    printError(err)
    return 1
  }
  if (cmd.version) {
    process.stdout.write(VERSION + '\n')
    return 0
  }
  if (cmd.help) {
    ;(cmd.missingCommand ? process.stderr : process.stdout).write(COMMAND_HELP[cmd.command] ?? USAGE)
    return cmd.missingCommand ? 1 : 0
  }
  if (!fs.existsSync(cmd.options.cwd)) {
    printError(new UsageError(`project directory ${cmd.options.cwd} does not exist`), cmd.output)
    return 1
  }

  if (cmd.operation === 'run' || cmd.operation === 'exec') return require('./run.js').main(cmd, printError)
  const brisk = require('../brisk.js')
  const { output, options } = cmd
  const progress = process.stderr.isTTY && output.progress && !output.silent && !output.json ? progressPrinter(process.stderr) : null
  const controller = new AbortController()
  let interrupted = false
  const onSigint = () => {
    if (interrupted) process.exit(130)
    interrupted = true
    controller.abort()
  }
  process.on('SIGINT', onSigint)

  if (render.QUERY_COMMANDS.includes(cmd.command)) {
    try {
      return await query(brisk, { ...cmd, options: { ...cmd.options, signal: controller.signal } })
    } catch (err) {
      printError(err, output)
      return 1
    } finally {
      process.removeListener('SIGINT', onSigint)
    }
  }
  try {
    const result = await brisk[cmd.operation]({
      ...options,
      signal: controller.signal,
      onProgress: progress ? progress.onProgress : undefined
    })
    if (progress) progress.clear()
    if (output.json) {
      process.stdout.write(JSON.stringify(result, null, 2) + '\n')
    } else if (!output.silent) {
      for (const w of result.warnings || []) {
        const { yellow } = painter(process.stderr, output.color)
        process.stderr.write(w.split('\n').map((line) => `${yellow('brisk WARN')} ${line}`.trimEnd()).join('\n') + '\n')
      }
      const { green, red, yellow } = painter(process.stdout, output.color)
      const colored = (line) => line.startsWith('+ ') ? green(line) : line.startsWith('- ') ? red(line) : line.startsWith('~ ') ? yellow(line) : line
      process.stdout.write(summary(cmd.command, options, result).map(colored).join('\n') + '\n')
    }
    if (output.timings && !output.json && !output.silent) process.stdout.write(timingsLine(result.timings) + '\n')
    return 0
  } catch (err) {
    if (progress) progress.clear()
    printError(err, output)
    return interrupted ? 130 : 1
  } finally {
    process.removeListener('SIGINT', onSigint)
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code },
    (err) => {
      printError(err)
      process.exitCode = 1
    }
  )
}

module.exports = { parse, summary, timingsLine, formatBytes, main, FLAGS }
