'use strict'
// The public JavaScript API of brisk: thin wrappers over the native addon
// (the napi-rs generated `index.js`) that add AbortSignal support, a plain
// progress callback and `err.code` on every failure.
//
//   const brisk = require('brisk-pm')
//   const result = await brisk.install({ cwd: '/path/to/project' })

const path = require('node:path')
const { spawn } = require('node:child_process')

const { OPTIONS } = require('./options.js')

const native = loadNative()

/**
 * The platform as napi-rs names its packages (brisk-pm-<key>): linux-x64-gnu,
 * linux-x64-musl, darwin-arm64, win32-x64-msvc, …
 */
function platformKey() {
  const { platform, arch } = process
  if (platform === 'win32') return `win32-${arch}-msvc`
  if (platform !== 'linux') return `${platform}-${arch}`
  let glibc = true
  try {
    glibc = Boolean(process.report.getReport().header.glibcVersionRuntime)
  } catch {}
  return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
}

/**
 * The napi-rs loader (index.js), with a plain error when the addon is
 * missing: a platform this release has no binary for (package.json's
 * briskPlatforms: what the release built) is named as such, instead of
 * napi's "npm has a bug" message.
 */
function loadNative() {
  try {
    return require('./index.js')
  } catch (cause) {
    const pkg = require(path.join(__dirname, 'package.json'))
    const name = pkg.name
    const built = pkg.briskPlatforms || []
    const key = platformKey()
    const checkout = require('node:fs').existsSync(path.join(__dirname, 'Cargo.toml'))
    const why = String(cause && cause.message).split('\n')[0]
    let message
    if (checkout) {
      message = `${name}'s native addon is not built for ${key} (${why}): in this checkout, run "npm run build"`
    } else if (!built.includes(key)) {
      message = `no ${name} binary for ${key} in this release (${pkg.version}); built today: ${built.join(', ') || 'none'}`
    } else {
      message = `${name}'s native addon for ${key} could not be loaded (${why}); ` +
        `it comes in the ${name}-${key} package: reinstall ${name} without --omit=optional`
    }
    const err = new Error(message)
    err.code = 'E_UNSUPPORTED'
    err.cause = cause
    throw err
  }
}

const OPERATIONS = ['install', 'prefetch', 'link', 'rebuild', 'update', 'ls', 'why', 'outdated']
// Operations that answer with data and take no progress callback.
const QUERIES = { ls: 'ls', why: 'explain', outdated: 'outdated' }

/** Make an Error carrying a brisk code. */
function briskError(code, message) {
  const err = new Error(message)
  err.code = code
  return err
}

/** The addon rejects with `err.code` set; anything else is an I/O failure. */
function normalizeError(err) {
  if (!(err instanceof Error)) return briskError('E_IO', String(err))
  if (typeof err.code !== 'string' || !err.code.startsWith('E_')) err.code = 'E_IO'
  return err
}

/** Options for the addon: absolute cwd, env values as strings, no JS-only keys. */
function nativeOptions(options) {
  const { signal, onProgress, ifPresent, onScript, ...rest } = options
  const out = { ...rest }
  out.cwd = path.resolve(rest.cwd ?? process.cwd())
  if (rest.cacheDir !== undefined) out.cacheDir = path.resolve(rest.cacheDir)
  if (rest.env !== undefined) {
    out.env = {}
    for (const [k, v] of Object.entries(rest.env)) if (v !== undefined && v !== null) out.env[k] = String(v)
  }
  if (typeof rest.omit === 'string') out.omit = [rest.omit]
  if (typeof rest.add === 'string') out.add = [rest.add]
  if (typeof rest.remove === 'string') out.remove = [rest.remove]
  if (typeof rest.packages === 'string') out.packages = [rest.packages]
  if (rest.before instanceof Date) out.before = rest.before.toISOString()
  return out
}

/**
 * The addon's progress callback may be called as (event) or, with napi's
 * error-first convention, as (err, event): hand the user the event only.
 * A throwing user callback must not take the install down.
 */
function progressCallback(onProgress) {
  if (typeof onProgress !== 'function') return undefined
  return (a, b) => {
    const event = a !== null && typeof a === 'object' && !(a instanceof Error) ? a : b
    if (!event) return
    try {
      onProgress(event)
    } catch (err) {
      process.emitWarning(`brisk: onProgress threw: ${err && err.message}`)
    }
  }
}

/** The word among `known` nearest to `name` (edit distance 2 or less). */
function nearest(name, known) {
  let best
  let bestDistance = 3
  for (const word of known) {
    const d = editDistance(name.toLowerCase(), word.toLowerCase())
    if (d < bestDistance) [best, bestDistance] = [word, d]
  }
  return best
}

function editDistance(a, b) {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    row = next
  }
  return row[b.length]
}

/** Why `value` is not a valid `key` option (undefined when it is). */
function optionProblem(operation, key, value) {
  const spec = OPTIONS[key]
  if (!spec) {
    const near = nearest(key, Object.keys(OPTIONS))
    return `options.${key} is not an option of brisk.${operation}${near ? ` (did you mean ${near}?)` : ''}`
  }
  const got = `got ${typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? typeof value)}`
  const list = typeof value === 'string' ? [value] : value
  switch (spec.type) {
    case 'boolean':
      if (typeof value !== 'boolean') return `options.${key} takes true or false (${got})`
      break
    case 'string':
      if (typeof value !== 'string' || value.trim() === '') return `options.${key} takes a non-empty string (${got})`
      break
    case 'strings':
      if (!Array.isArray(list) || list.some((x) => typeof x !== 'string' || x.trim() === '')) {
        return `options.${key} takes an array of ${key === 'add' || key === 'remove' ? 'package specs' : 'strings'} (${got})`
      }
      if (spec.install && operation !== 'install' && list.length) return `options.${key} only applies to install`
      break
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        return `options.${key} takes a number that is 0 or more (${got})`
      }
      break
    case 'date':
      if (value instanceof Date ? Number.isNaN(value.getTime()) : typeof value !== 'string' || value.trim() === '') {
        return `options.${key} takes a date (a Date or a string such as "2024-05-01"; ${got})`
      }
      break
    case 'list':
      if (!Array.isArray(value) || value.some((x) => typeof x !== 'string')) return `options.${key} takes an array of strings (${got})`
      break
    case 'env':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return `options.${key} takes an object of strings (${got})`
      break
    case 'signal':
      if (value === null || typeof value !== 'object' || typeof value.aborted !== 'boolean') return `options.${key} must be an AbortSignal`
      break
    case 'function':
      if (typeof value !== 'function') return `options.${key} must be a function`
      break
  }
  if (spec.only && !spec.only.includes(operation)) return `options.${key} only applies to ${spec.only.join(' and ')}`
  if (spec.values && (Array.isArray(list) ? list : [value]).some((v) => !spec.values.includes(v))) {
    return `options.${key} takes ${spec.values.join(', ')} (${got})`
  }
  return undefined
}

/** Why `options` are not valid for `operation` (undefined when they are). */
function optionsProblem(operation, options) {
  if (options === null || typeof options !== 'object') return `brisk.${operation}(options): options must be an object`
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue
    const problem = optionProblem(operation, key, value)
    if (problem) return `brisk.${operation}: ${problem}`
  }
  return undefined
}

function call(operation, options = {}, native_ = operation) {
  const problem = optionsProblem(operation, options)
  if (problem) return Promise.reject(briskError('E_CONFIG', problem))
  const { signal, onProgress } = options
  if (signal && signal.aborted) {
    return Promise.reject(briskError('E_CANCELLED', `brisk ${operation} was cancelled before it started`))
  }

  let handle
  let onAbort
  if (signal) {
    handle = new native.CancelHandle()
    onAbort = () => handle.cancel()
    signal.addEventListener('abort', onAbort, { once: true })
  }
  let promise
  try {
    promise = QUERIES[operation]
      ? native[QUERIES[operation]](nativeOptions(options), handle)
      : native[native_](nativeOptions(options), progressCallback(onProgress), handle)
  } catch (err) {
    promise = Promise.reject(err)
  }
  return Promise.resolve(promise).then(
    (result) => {
      if (signal) signal.removeEventListener('abort', onAbort)
      return result
    },
    (err) => {
      if (signal) signal.removeEventListener('abort', onAbort)
      throw normalizeError(err)
    }
  )
}

/** Install the project's dependencies (resolve, write the lockfile, fetch, link). */
function install(options) {
  return call('install', options)
}

/** Download everything the lockfile needs into the cache; node_modules is untouched. */
function prefetch(options) {
  return call('prefetch', options)
}

/** Build node_modules from the lockfile and the cache only, without the network. */
function link(options) {
  return call('link', options)
}

/**
 * Update packages to the newest versions package.json's ranges allow
 * (`packages`: only those; none: all), rewriting package-lock.json and
 * node_modules. package.json changes only with `latest: true`.
 */
function update(options) {
  return call('update', options)
}

/**
 * npm ls over node_modules: `{ root, problems, matched, paths }`, where
 * `root` is the tree of items (`pkgid`, `version`, `missing`, `invalid`,
 * `extraneous`, `deduped`, `dependencies: [...]`).
 */
function ls(options) {
  return call('ls', options)
}

/** npm explain: for each installed copy of `packages`, the chains of dependents up to the root. */
function why(options) {
  return call('why', options)
}

/** npm outdated: `[{ name, current, wanted, latest, location, dependent, type, … }]`. */
function outdated(options) {
  return call('outdated', options)
}

/** Run installed packages' install scripts again (npm rebuild). */
function rebuild(options) {
  return call('rebuild', options)
}

// npm's lifecycle scripts, listed apart by `run` with no script.
const LIFECYCLE = ['prepare', 'prepublishOnly', 'prepack', 'postpack', 'dependencies', 'preinstall', 'install',
  'postinstall', 'prepublish', 'publish', 'postpublish', 'prerestart', 'restart', 'postrestart', 'prestart',
  'start', 'poststart', 'pretest', 'test', 'posttest', 'prestop', 'stop', 'poststop', 'preversion', 'version',
  'postversion']

/** npm's "Missing script" error, with its did-you-mean (edit distance under 40 % of the name). */
function missingScript(name, plan, inWorkspace) {
  const near = plan.scripts.map(([s]) => s).filter((s) => editDistance(name, s) < name.length * 0.4)
  let message = `Missing script: "${name}"${inWorkspace ? ` in ${plan.id || plan.dir}` : ''}`
  if (near.length) {
    message += `\n\nDid you mean ${near.length === 1 ? 'this' : 'one of these'}?\n`
    message += near.map((s) => `  brisk run ${s} # run the "${s}" package script`).join('\n')
  }
  message += '\n\nTo see a list of scripts, run:\n  brisk run'
  return briskError('E_NOT_FOUND', message)
}

/**
 * Spawn one step (`<shell> -c <command>`) with the terminal (or `stdio`),
 * forwarding SIGINT/SIGTERM as npm does. Resolves { code, signal }.
 */
function spawnStep(step, { signal, stdio = 'inherit' } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(step.shell, ['-c', step.command], { cwd: step.dir, env: step.env, stdio })
    const forward = (sig) => child.kill(sig)
    const onAbort = () => child.kill('SIGTERM')
    const cleanup = () => {
      process.removeListener('SIGINT', forward)
      process.removeListener('SIGTERM', forward)
      if (signal) signal.removeEventListener('abort', onAbort)
    }
    if (stdio === 'inherit') {
      process.on('SIGINT', forward)
      process.on('SIGTERM', forward)
    }
    if (signal) signal.addEventListener('abort', onAbort, { once: true })
    child.on('error', (err) => {
      cleanup()
      reject(briskError('E_SCRIPT', `cannot start the shell "${step.shell}" to run \`${step.command}\`: ${err.message}. Set script-shell in .npmrc to a shell that exists.`))
    })
    child.on('close', (code, sig) => {
      cleanup()
      resolve({ code: code ?? 1, signal: sig })
    })
  })
}

/** The E_SCRIPT rejection of a step that failed, with the exit code to pass on. */
function stepFailed(step, label, result) {
  const how = result.signal ? `signal ${result.signal}` : `exit code ${result.code}`
  const err = briskError('E_SCRIPT', `the ${step.event} script${label ? ` of ${label}` : ''} failed with ${how}\n$ ${step.command}\nin ${step.dir}`)
  err.exitCode = result.signal ? 1 : result.code
  err.signal = result.signal
  return err
}

/**
 * Run a package.json script like npm run: pre<script>, <script> (with
 * `args` appended), post<script>, with npm's environment and the terminal.
 * Without `script`, resolves the scripts of each package and runs nothing.
 * Resolves [{ id, dir, scripts, ran }]; a failing step rejects with
 * E_SCRIPT and `err.exitCode`; a missing script is E_NOT_FOUND.
 */
async function run(options = {}) {
  const problem = optionsProblem('run', options)
  if (problem) throw briskError('E_CONFIG', problem)
  const { signal, onScript, ifPresent } = options
  if (signal && signal.aborted) throw briskError('E_CANCELLED', 'brisk run was cancelled before it started')
  const plans = await native.runScript(nativeOptions(options)).catch((err) => { throw normalizeError(err) })
  // Across workspaces (npm's -w/--workspaces): a failure does not stop the
  // others; the run rejects at the end, with the last failure's exit code.
  const many = !!(options.allWorkspaces || (options.workspaces && options.workspaces.length))
  const out = []
  const errors = []
  for (const plan of plans) {
    const scripts = Object.fromEntries(plan.scripts)
    const result = { id: plan.id, dir: plan.dir, scripts, lifecycle: plan.scripts.filter(([s]) => LIFECYCLE.includes(s)).map(([s]) => s), ran: [] }
    out.push(result)
    try {
      if (plan.missing) {
        if (ifPresent) continue
        throw missingScript(options.script, plan, plans.length > 1 || many)
      }
      for (const step of plan.steps) {
        if (signal && signal.aborted) throw briskError('E_CANCELLED', 'brisk run was cancelled')
        if (onScript) onScript({ id: plan.id, event: step.event, command: step.shown, dir: step.dir })
        const r = await spawnStep(step, { signal })
        if (signal && signal.aborted) throw briskError('E_CANCELLED', 'brisk run was cancelled')
        if (r.code !== 0 || r.signal) throw stepFailed(step, plan.id, r)
        result.ran.push(step.event)
      }
    } catch (err) {
      if (!many || err.code === 'E_CANCELLED') throw err
      result.error = err
      errors.push(err)
    }
  }
  if (errors.length) {
    const last = errors[errors.length - 1]
    const failed = out.filter((r) => r.error).map((r) => r.id || r.dir)
    const err = briskError(last.code, `${errors.length === 1 ? 'the script failed in' : `the script failed in ${errors.length} workspaces:`} ${failed.join(', ')}`)
    err.exitCode = last.exitCode ?? 1
    err.signal = last.signal
    err.errors = errors
    err.results = out
    throw err
  }
  return out
}

/**
 * Run a bin like npm exec: the project's own, or else its package
 * installed into brisk's cache (the project is not touched). `args` is
 * the command and its arguments; `packages` the specs to install for it.
 * Resolves { code, signal, installed }.
 */
async function exec(options = {}) {
  const problem = optionsProblem('exec', options)
  if (problem) throw briskError('E_CONFIG', problem)
  const { signal, onProgress } = options
  if (signal && signal.aborted) throw briskError('E_CANCELLED', 'brisk exec was cancelled before it started')
  let handle
  let onAbort
  if (signal) {
    handle = new native.CancelHandle()
    onAbort = () => handle.cancel()
    signal.addEventListener('abort', onAbort, { once: true })
  }
  let plan
  try {
    plan = await native.exec(nativeOptions(options), progressCallback(onProgress), handle)
  } catch (err) {
    throw normalizeError(err)
  } finally {
    if (signal) signal.removeEventListener('abort', onAbort)
  }
  const r = await spawnStep(plan.step, { signal })
  return { code: r.code, signal: r.signal, installed: plan.packages }
}

module.exports = { install, prefetch, link, update, ls, why, outdated, rebuild, run, exec, OPERATIONS }
