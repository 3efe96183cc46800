'use strict'
// Failures a user can cause: each rejects with a stable err.code, a message
// that names the culprit, and leaves the user's files as they were.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const brisk = require('../brisk.js')
const { startRegistry, TAMPER_MARKER } = require('./registry.js')
const h = require('./helpers.js')

const T = { timeout: 60_000 }
const { reg, opts, setup } = h.localRegistry()

async function expectCode(promise, code) {
  const err = await h.rejection(promise)
  assert.ok(err instanceof Error, 'rejects with an Error')
  assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`)
  assert.ok(err.message.length > 10, 'the message says something')
  return err
}

/** Nothing but package.json (and whatever `keep` lists) in the project. */
function assertUntouched(p, before) {
  assert.deepEqual(h.snapshot(p.dir), before, 'the project directory is unchanged')
}

test('unknown package: E_NOT_FOUND naming it; nothing written', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0', 'no-such-pkg': '^1.0.0' } })
  const before = h.snapshot(p.dir)
  const err = await expectCode(brisk.install(opts(p)), 'E_NOT_FOUND')
  assert.match(err.message, /no-such-pkg/)
  assertUntouched(p, before)
})

test('unknown version: E_NO_MATCHING_VERSION naming the package and range', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^9.0.0' } })
  const before = h.snapshot(p.dir)
  const err = await expectCode(brisk.install(opts(p)), 'E_NO_MATCHING_VERSION')
  assert.match(err.message, /leaf/)
  assert.match(err.message, /\^9\.0\.0/)
  assertUntouched(p, before)
})

test('unknown dist-tag: E_NO_MATCHING_VERSION', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: 'nightly' } })
  const err = await expectCode(brisk.install(opts(p)), 'E_NO_MATCHING_VERSION')
  assert.match(err.message, /nightly/)
})

test('tampered tarball: E_INTEGRITY, nothing of it in the cache or node_modules', T, async (t) => {
  reg.fault('tampered', { on: 'tarball', tamper: true })
  const p = setup(t, { dependencies: { tampered: '1.0.0', leaf: '^1.0.0' } })
  const before = h.snapshot(p.dir)
  const err = await expectCode(brisk.install(opts(p)), 'E_INTEGRITY')
  assert.match(err.message, /tampered/)
  assert.deepEqual(h.filesContaining(p.cache, TAMPER_MARKER), [], 'the bad bytes are not in the cache')
  assert.deepEqual(h.filesContaining(p.root, TAMPER_MARKER), [], 'nor anywhere else')
  assert.ok(!p.exists('node_modules/tampered'))
  assert.ok(!p.exists('package-lock.json'), 'no lockfile from a failed install')
  assertUntouched(p, before)
  // Once the registry serves the right bytes, the same cache works.
  reg.reset()
  await brisk.install(opts(p))
  assert.equal(h.requireIn(p.dir, 'tampered', p.env).version, '1.0.0')
})

test('a fresh install failing after packages were cloned leaves no node_modules', T, async (t) => {
  // leaf and mid land (and are cloned) long before the tampered tarball.
  reg.fault('tampered', { on: 'tarball', tamper: true, delayMs: 500 })
  const p = setup(t, { dependencies: { leaf: '^1.0.0', mid: '1.0.0', tampered: '1.0.0' } })
  const before = h.snapshot(p.dir)
  await expectCode(brisk.install(opts(p)), 'E_INTEGRITY')
  assert.ok(!p.exists('node_modules'), 'node_modules is removed again')
  assertUntouched(p, before)
})

test('a clean install (ci) that fails puts the previous node_modules back', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0', tampered: '1.0.0' } })
  await brisk.install(opts(p))
  fs.writeFileSync(p.file('node_modules/mine.txt'), 'kept')
  const before = h.snapshot(p.dir)
  // With an empty cache, ci downloads again, and gets bad bytes.
  fs.rmSync(p.cache, { recursive: true, force: true })
  reg.fault('tampered', { on: 'tarball', tamper: true, delayMs: 300 })
  await expectCode(brisk.install(opts(p, { frozenLockfile: true, clean: true })), 'E_INTEGRITY')
  assert.deepEqual(h.snapshot(p.dir), before, 'node_modules is back as it was, nothing left beside it')
  assert.equal(fs.readFileSync(p.file('node_modules/mine.txt'), 'utf8'), 'kept')
  // Once it succeeds, the old tree is gone and nothing is left beside it.
  reg.reset()
  await brisk.install(opts(p, { frozenLockfile: true, clean: true }))
  assert.ok(!p.exists('node_modules/mine.txt'))
  assert.equal(h.requireIn(p.dir, 'tampered', p.env).version, '1.0.0')
  assert.deepEqual(fs.readdirSync(p.dir).filter((n) => n.startsWith('.brisk-ci')), [])
})

test('lockfile integrity that the registry no longer matches: E_INTEGRITY', T, async (t) => {
  const p = setup(t, { dependencies: { tampered: '1.0.0' } })
  await brisk.install(opts(p, { lockfileOnly: true }))
  reg.fault('tampered', { on: 'tarball', tamper: true })
  await expectCode(brisk.install(opts(p)), 'E_INTEGRITY')
  assert.ok(!p.exists('node_modules/tampered'))
})

test('a tarball with ../ paths: E_TARBALL, nothing written outside', T, async (t) => {
  const deep = path.join('/tmp', 'brisk-escape-deep.txt')
  fs.rmSync(deep, { force: true })
  const p = setup(t, { dependencies: { evil: '1.0.0' } })
  const err = await expectCode(brisk.install(opts(p)), 'E_TARBALL')
  assert.match(err.message, /evil/)
  assert.ok(!fs.existsSync(deep), `${deep} was written`)
  assert.ok(!fs.existsSync(path.join(os.tmpdir(), 'brisk-escape-deep.txt')))
  assert.deepEqual(h.listFiles(p.root).filter((f) => f.includes('brisk-escape')), [])
  assert.ok(!fs.existsSync(path.join(p.root, '..', 'brisk-escape-dotdot.txt')))
  assert.ok(!p.exists('node_modules/evil'))
})

test('a tarball that writes through a symlink does not escape', T, async (t) => {
  const target = path.join('/tmp', 'brisk-escape-symlink.txt')
  fs.rmSync(target, { force: true })
  const p = setup(t, { dependencies: { 'evil-link': '1.0.0' } })
  const err = await h.rejection(brisk.install(opts(p))).catch(() => null)
  // Either refused (E_TARBALL), or installed without following the link (like npm, which skips links).
  if (err) assert.equal(err.code, 'E_TARBALL', err.message)
  assert.ok(!fs.existsSync(target), `${target} was written through the symlink`)
  // npm skips the link and writes the file into a plain lnk/ directory inside the package: fine.
  const root = fs.realpathSync(p.root)
  for (const f of h.listFiles(p.root).filter((f) => f.includes('brisk-escape'))) {
    assert.ok(fs.realpathSync(f).startsWith(root + path.sep), `${f} resolves outside the temp dir`)
  }
})

test('malformed package.json: E_MANIFEST, file unchanged', T, async (t) => {
  const p = setup(t, '{ "name": "broken", "dependencies": { "leaf": "^1.0.0", } ')
  const before = h.snapshot(p.dir)
  const err = await expectCode(brisk.install(opts(p)), 'E_MANIFEST')
  assert.match(err.message, /package\.json/)
  assertUntouched(p, before)
  assert.deepEqual(reg.requests, [])
})

test('missing package.json: E_MANIFEST naming the directory', T, async (t) => {
  const p = setup(t, undefined)
  const err = await expectCode(brisk.install(opts(p)), 'E_MANIFEST')
  assert.ok(err.message.includes(p.dir) || err.message.includes('package.json'), err.message)
})

test('a git dependency whose repository cannot be read: E_GIT, nothing changed', T, async (t) => {
  const p = setup(t, { dependencies: { thing: 'git+file:///nonexistent/thing.git#main' } })
  const before = h.snapshot(p.dir)
  const err = await expectCode(brisk.install(opts(p)), 'E_GIT')
  assert.match(err.message, /thing/)
  assertUntouched(p, before)
})

test('malformed lockfile: E_LOCKFILE, lockfile unchanged', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0' } }, { lockfile: '{ "lockfileVersion": 3, "packages": { ' })
  const before = h.snapshot(p.dir)
  const err = await expectCode(brisk.install(opts(p)), 'E_LOCKFILE')
  assert.match(err.message, /package-lock\.json/)
  assertUntouched(p, before)
})

test('frozenLockfile with a lockfile that does not match: E_FROZEN_LOCKFILE, nothing changed', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0' } })
  await brisk.install(opts(p))
  const pkg = p.json('package.json')
  pkg.dependencies.mid = '^1.0.0'
  fs.writeFileSync(p.file('package.json'), JSON.stringify(pkg, null, 2))
  const before = h.snapshot(p.dir)
  reg.clearLog()
  const err = await expectCode(brisk.install(opts(p, { frozenLockfile: true })), 'E_FROZEN_LOCKFILE')
  assert.match(err.message, /mid/)
  assertUntouched(p, before)
  assert.deepEqual(reg.requestsOf('tarball'), [])
})

test('frozenLockfile without a lockfile: E_FROZEN_LOCKFILE', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0' } })
  const before = h.snapshot(p.dir)
  const err = await expectCode(brisk.install(opts(p, { frozenLockfile: true })), 'E_FROZEN_LOCKFILE')
  assert.match(err.message, /package-lock\.json/)
  assertUntouched(p, before)
})

test('frozenLockfile with a matching lockfile installs without packument requests', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0', mid: '^1.0.0' } })
  await brisk.install(opts(p, { lockfileOnly: true }))
  const lock = p.read('package-lock.json')
  reg.clearLog()
  await brisk.install(opts(p, { frozenLockfile: true }))
  assert.deepEqual(reg.requestsOf('packument'), [])
  assert.equal(p.read('package-lock.json'), lock)
  assert.deepEqual(Object.keys(h.installedTree(p.dir)).sort(), ['node_modules/leaf', 'node_modules/mid', 'node_modules/mid/node_modules/leaf'])
})

test('a registry that keeps failing: E_NETWORK naming the package', { timeout: 120_000 }, async (t) => {
  reg.fault('flaky', { on: 'packument', status: 503 })
  const p = setup(t, { dependencies: { flaky: '1.0.0' } })
  const err = await expectCode(brisk.install(opts(p)), 'E_NETWORK')
  assert.match(err.message, /flaky|503/)
})

test('a registry nobody listens on: E_NETWORK', T, async (t) => {
  const dead = await startRegistry()
  const url = dead.url
  await dead.close()
  const p = setup(t, { dependencies: { leaf: '^1.0.0' } })
  const err = await expectCode(brisk.install(opts(p, { registry: url })), 'E_NETWORK')
  assert.match(err.message, /127\.0\.0\.1/)
})

test('bad options: E_CONFIG', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0' } })
  await expectCode(brisk.install(opts(p, { registry: 'not a url' })), 'E_CONFIG')
  await expectCode(brisk.install(opts(p, { omit: ['bogus'] })), 'E_CONFIG')
  await expectCode(brisk.install(null), 'E_CONFIG')
  await expectCode(brisk.install(opts(p, { signal: 'nope' })), 'E_CONFIG')
  assert.deepEqual(reg.requests, [])
})

test('an already-aborted signal: E_CANCELLED before any request', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0' } })
  await expectCode(brisk.install(opts(p, { signal: AbortSignal.abort() })), 'E_CANCELLED')
  await expectCode(brisk.prefetch(opts(p, { signal: AbortSignal.abort() })), 'E_CANCELLED')
  await expectCode(brisk.link(opts(p, { signal: AbortSignal.abort() })), 'E_CANCELLED')
  assert.deepEqual(reg.requests, [])
  assert.ok(!p.exists('node_modules'))
})

test('aborting while a request hangs: E_CANCELLED promptly, nothing half-written', T, async (t) => {
  reg.fault('slow', { on: 'tarball', hang: true })
  const p = setup(t, { dependencies: { slow: '1.0.0', leaf: '^1.0.0' } })
  const controller = new AbortController()
  const started = Date.now()
  const promise = brisk.install(opts(p, { signal: controller.signal }))
  // Abort once the hanging tarball request is in flight.
  while (!reg.requestsOf('tarball', 'slow').length && Date.now() - started < 20_000) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  assert.ok(reg.requestsOf('tarball', 'slow').length, 'the tarball request was made')
  const abortedAt = Date.now()
  controller.abort()
  await expectCode(promise, 'E_CANCELLED')
  assert.ok(Date.now() - abortedAt < 3000, `settled ${Date.now() - abortedAt}ms after abort`)
  assert.ok(!p.exists('package-lock.json'), 'no lockfile from a cancelled install')
  assert.ok(!p.exists('node_modules/slow'), 'no half-installed package')
  // The same project installs fine afterwards.
  reg.reset()
  await brisk.install(opts(p))
  assert.equal(h.requireIn(p.dir, 'slow', p.env).version, '1.0.0')
})
