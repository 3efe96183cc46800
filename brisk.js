'use strict'
// The public JavaScript API of brisk: thin wrappers over the native addon
// (the napi-rs generated `index.js`) that add AbortSignal support, a plain
// progress callback and `err.code` on every failure.
//
//   const brisk = require('brisk-pm')
//   const result = await brisk.install({ cwd: '/path/to/project' })

const path = require('node:path')

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

const OPERATIONS = ['install', 'prefetch', 'link']
const OMIT = ['dev', 'optional', 'peer']
const SAVE_TYPES = ['prod', 'dev', 'optional', 'peer']
const CODE_IN_MESSAGE = /^(E_[A-Z_]+):\s*/

/** Make an Error carrying a brisk code. */
function briskError(code, message) {
  const err = new Error(message)
  err.code = code
  return err
}

/**
 * Make sure a rejection from the addon carries `err.code` (E_…). The binding
 * sets it; if a message arrives as "E_CODE: text" instead, split it.
 */
function normalizeError(err) {
  if (!(err instanceof Error)) return briskError('E_IO', String(err))
  if (typeof err.code === 'string' && err.code.startsWith('E_')) return err
  const m = CODE_IN_MESSAGE.exec(err.message)
  if (m) {
    err.code = m[1]
    err.message = err.message.slice(m[0].length)
  }
  return err
}

/** Options for the addon: absolute cwd, env values as strings, no JS-only keys. */
function nativeOptions(options) {
  const { signal, onProgress, ...rest } = options
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

function run(operation, options = {}) {
  if (options === null || typeof options !== 'object') {
    return Promise.reject(briskError('E_CONFIG', `brisk.${operation}(options): options must be an object`))
  }
  const { signal, onProgress } = options
  if (signal !== undefined && (signal === null || typeof signal.aborted !== 'boolean')) {
    return Promise.reject(briskError('E_CONFIG', `brisk.${operation}: options.signal must be an AbortSignal`))
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    return Promise.reject(briskError('E_CONFIG', `brisk.${operation}: options.onProgress must be a function`))
  }
  const omit = typeof options.omit === 'string' ? [options.omit] : options.omit
  if (omit !== undefined && (!Array.isArray(omit) || omit.some((o) => !OMIT.includes(o)))) {
    return Promise.reject(briskError('E_CONFIG', `brisk.${operation}: options.omit takes ${OMIT.join(', ')} (got ${JSON.stringify(options.omit)})`))
  }
  for (const key of ['add', 'remove']) {
    const list = typeof options[key] === 'string' ? [options[key]] : options[key]
    if (list === undefined) continue
    if (!Array.isArray(list) || list.some((x) => typeof x !== 'string' || x.trim() === '')) {
      return Promise.reject(briskError('E_CONFIG', `brisk.${operation}: options.${key} takes an array of package specs (got ${JSON.stringify(options[key])})`))
    }
    if (operation !== 'install' && list.length) {
      return Promise.reject(briskError('E_CONFIG', `brisk.${operation}: options.${key} only applies to install`))
    }
  }
  const { before, minReleaseAge } = options
  const validDate = before instanceof Date && !Number.isNaN(before.getTime())
  if (before !== undefined && !validDate && (typeof before !== 'string' || before.trim() === '')) {
    return Promise.reject(briskError('E_CONFIG', `brisk.${operation}: options.before takes a date (a Date or a string such as "2024-05-01"; got ${JSON.stringify(before)})`))
  }
  if (minReleaseAge !== undefined && (typeof minReleaseAge !== 'number' || !Number.isFinite(minReleaseAge) || minReleaseAge < 0)) {
    return Promise.reject(briskError('E_CONFIG', `brisk.${operation}: options.minReleaseAge takes a number of days that is 0 or more (got ${JSON.stringify(minReleaseAge)})`))
  }
  if (options.saveType !== undefined && !SAVE_TYPES.includes(options.saveType)) {
    return Promise.reject(briskError('E_CONFIG', `brisk.${operation}: options.saveType takes ${SAVE_TYPES.join(', ')} (got ${JSON.stringify(options.saveType)})`))
  }
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
    promise = native[operation](nativeOptions(options), progressCallback(onProgress), handle)
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
  return run('install', options)
}

/** Download everything the lockfile needs into the cache; node_modules is untouched. */
function prefetch(options) {
  return run('prefetch', options)
}

/** Build node_modules from the lockfile and the cache only, without the network. */
function link(options) {
  return run('link', options)
}

module.exports = { install, prefetch, link, OPERATIONS }
