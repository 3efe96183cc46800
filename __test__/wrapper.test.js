'use strict'
// brisk.js on its own, over a fake native module: AbortSignal → CancelHandle,
// progress callback shapes, option conversion, error codes. Runs without the addon.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const Module = require('node:module')

const BRISK = path.join(__dirname, '..', 'brisk.js')

/** Load a fresh brisk.js whose `require('./index.js')` returns `fake`. */
function loadWith(fake) {
  const m = new Module(BRISK, null)
  m.filename = BRISK
  m.paths = Module._nodeModulePaths(path.dirname(BRISK))
  const real = m.require.bind(m)
  m.require = (id) => (id === './index.js' ? fake : real(id))
  m._compile(fs.readFileSync(BRISK, 'utf8'), BRISK)
  return m.exports
}

/** A fake addon that records its calls; `impl` decides what an operation does. */
function fakeNative(impl) {
  const calls = []
  class CancelHandle {
    constructor() { this.cancelled = false; this.listeners = [] }
    cancel() { this.cancelled = true; for (const l of this.listeners) l() }
  }
  const op = (name) => (options, onProgress, cancel) => {
    calls.push({ name, options, onProgress, cancel })
    return impl({ name, options, onProgress, cancel })
  }
  return { calls, native: { install: op('install'), prefetch: op('prefetch'), link: op('link'), CancelHandle } }
}

const RESULT = { added: 1 }

test('passes options through, with an absolute cwd and string env values', async () => {
  const { calls, native } = fakeNative(async () => RESULT)
  const brisk = loadWith(native)
  assert.equal(await brisk.install({ cwd: 'rel/dir', cacheDir: 'c', env: { A: 1, B: undefined, C: 'x' }, omit: ['dev'] }), RESULT)
  const o = calls[0].options
  assert.equal(o.cwd, path.resolve('rel/dir'))
  assert.equal(o.cacheDir, path.resolve('c'))
  assert.deepEqual(o.env, { A: '1', C: 'x' })
  assert.deepEqual(o.omit, ['dev'])
  assert.equal('signal' in o, false)
  assert.equal('onProgress' in o, false)
  assert.equal(calls[0].cancel, undefined, 'no CancelHandle without a signal')
  await brisk.prefetch({})
  await brisk.link()
  assert.deepEqual(calls.map((c) => c.name), ['install', 'prefetch', 'link'])
  assert.equal(calls[2].options.cwd, process.cwd())
})

test('an AbortSignal cancels through the CancelHandle', async () => {
  const { calls, native } = fakeNative(({ cancel }) => new Promise((resolve, reject) => {
    cancel.listeners.push(() => {
      const err = new Error('the operation was cancelled')
      err.code = 'E_CANCELLED'
      reject(err)
    })
  }))
  const brisk = loadWith(native)
  const controller = new AbortController()
  const promise = brisk.install({ signal: controller.signal })
  assert.equal(calls[0].cancel.cancelled, false)
  controller.abort()
  await assert.rejects(promise, { code: 'E_CANCELLED' })
  assert.equal(calls[0].cancel.cancelled, true)
})

test('an already-aborted signal rejects with E_CANCELLED without calling the addon', async () => {
  const { calls, native } = fakeNative(async () => RESULT)
  const brisk = loadWith(native)
  await assert.rejects(brisk.install({ signal: AbortSignal.abort() }), { code: 'E_CANCELLED' })
  assert.equal(calls.length, 0)
})

test('progress: (event) and (err, event) shapes both reach the user as (event)', async () => {
  const { native } = fakeNative(async ({ onProgress }) => {
    onProgress({ phase: 'resolve', done: 1, total: 2 })
    onProgress(null, { phase: 'fetch', done: 2, total: 2 })
    onProgress(new Error('ignored'))
    return RESULT
  })
  const brisk = loadWith(native)
  const events = []
  await brisk.install({ onProgress: (e) => events.push(e) })
  assert.deepEqual(events, [{ phase: 'resolve', done: 1, total: 2 }, { phase: 'fetch', done: 2, total: 2 }])
})

test('a throwing progress callback does not fail the operation', async () => {
  const { native } = fakeNative(async ({ onProgress }) => {
    onProgress({ phase: 'resolve', done: 0, total: 0 })
    return RESULT
  })
  const brisk = loadWith(native)
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  try {
    assert.equal(await brisk.install({ onProgress: () => { throw new Error('boom') } }), RESULT)
    await new Promise((resolve) => setImmediate(resolve))
  } finally {
    process.removeListener('warning', onWarning)
  }
  assert.ok(warnings.some((w) => /boom/.test(w.message)))
})

test('errors keep the code the addon set; anything else is E_IO, its message untouched', async () => {
  const cause = new Error('No such file or directory (os error 2)')
  const coded = Object.assign(new Error('no such package'), { code: 'E_NOT_FOUND', cause })
  let next = coded
  const { native } = fakeNative(async () => { throw next })
  const brisk = loadWith(native)
  await assert.rejects(brisk.install({}), { code: 'E_NOT_FOUND', message: 'no such package', cause })
  next = Object.assign(new Error('E_INTEGRITY: looks like a code'), { code: 'GenericFailure' })
  await assert.rejects(brisk.install({}), { code: 'E_IO', message: 'E_INTEGRITY: looks like a code' })
  next = 'a string'
  await assert.rejects(brisk.install({}), { code: 'E_IO', message: 'a string' })
})

test('a synchronous throw from the addon becomes a rejection', async () => {
  const { native } = fakeNative(() => { throw Object.assign(new Error('bad option'), { code: 'E_CONFIG' }) })
  const brisk = loadWith(native)
  const p = brisk.install({})
  assert.ok(p instanceof Promise)
  await assert.rejects(p, { code: 'E_CONFIG' })
})

test('invalid options are E_CONFIG before the addon is called', async () => {
  const { calls, native } = fakeNative(async () => RESULT)
  const brisk = loadWith(native)
  await assert.rejects(brisk.install(null), { code: 'E_CONFIG' })
  await assert.rejects(brisk.install({ signal: {} }), { code: 'E_CONFIG' })
  await assert.rejects(brisk.install({ onProgress: 'x' }), { code: 'E_CONFIG' })
  await assert.rejects(brisk.install({ omit: ['devs'] }), { code: 'E_CONFIG', message: /dev, optional, peer/ })
  assert.equal(calls.length, 0)
})

test('a missing addon is E_UNSUPPORTED with a way out', () => {
  const m = new Module(BRISK, null)
  m.filename = BRISK
  m.paths = []
  m.require = (id) => {
    if (id === './index.js') throw Object.assign(new Error('Cannot find native binding'), { code: 'MODULE_NOT_FOUND' })
    return require(id.startsWith('.') ? path.join(path.dirname(BRISK), id) : id)
  }
  assert.throws(() => m._compile(fs.readFileSync(BRISK, 'utf8'), BRISK), (err) => err.code === 'E_UNSUPPORTED' && /npm run build/.test(err.message))
})

/** Load a copy of brisk.js as installed from npm (no Cargo.toml beside it) on `platform`-`arch`, with a loader that fails as napi's does. */
function installedLoadError(platform, arch) {
  const { spawnSync } = require('node:child_process')
  const os = require('node:os')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brisk-loader-'))
  try {
    for (const f of ['brisk.js', 'options.js', 'package.json']) fs.copyFileSync(path.join(__dirname, '..', f), path.join(dir, f))
    fs.writeFileSync(path.join(dir, 'index.js'), "throw new Error('Cannot find native binding. npm has a bug related to optional dependencies')\n")
    fs.writeFileSync(path.join(dir, 'fake-platform.js'),
      `Object.defineProperty(process, 'platform', { value: ${JSON.stringify(platform)} })\n` +
      `Object.defineProperty(process, 'arch', { value: ${JSON.stringify(arch)} })\n`)
    const r = spawnSync(process.execPath, ['-r', path.join(dir, 'fake-platform.js'), '-e',
      `try { require(${JSON.stringify(path.join(dir, 'brisk.js'))}) } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }`], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    return JSON.parse(r.stdout)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

test('installed on a platform this release has no binary for: says so plainly, names what was built', () => {
  const pkg = require('../package.json')
  const err = installedLoadError('darwin', 'arm64')
  assert.equal(err.code, 'E_UNSUPPORTED')
  assert.equal(err.message, `no brisk-pm binary for darwin-arm64 in this release (${pkg.version}); built today: ${pkg.briskPlatforms.join(', ')}`)
  assert.doesNotMatch(err.message, /npm has a bug/)
})

test('installed on a platform that ships, without its package: points at the platform package', () => {
  const pkg = require('../package.json')
  const shipped = pkg.briskPlatforms[0]
  const [platform, arch] = shipped.split('-')
  if (platform !== process.platform || (platform === 'linux' && !shipped.endsWith('-gnu'))) return // the glibc/musl check reads this machine
  const err = installedLoadError(platform, arch)
  assert.equal(err.code, 'E_UNSUPPORTED')
  assert.match(err.message, new RegExp(`brisk-pm-${shipped} package: reinstall brisk-pm without --omit=optional`))
})
