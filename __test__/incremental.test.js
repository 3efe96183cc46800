'use strict'
// Everyday changes to an installed project touch only what they change:
// `add` asks the registry only about what the new package brings in (the
// lockfile serves the rest), the result is npm's lockfile for the same
// change, and a lockfile written without `resolved` does not make the next
// install re-link everything.

const { test, before, after, beforeEach } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const brisk = require('../brisk.js')
const { startRegistry } = require('./registry.js')
const h = require('./helpers.js')

const T = { timeout: 120_000 }
let reg
before(async () => { reg = await startRegistry() })
after(async () => { await reg.close() })
beforeEach(() => reg.reset())

function setup(t, pkg, npmrc = '') {
  const p = h.project(pkg, { npmrc: `registry=${reg.url}\n${npmrc}` })
  t.after(() => p.cleanup())
  return p
}
const opts = (p, extra = {}) => ({ cwd: p.dir, cacheDir: p.cache, env: p.env, ...extra })
const inode = (p, file) => fs.statSync(p.file(file)).ino

test('add asks the registry only about the new package; the lockfile is npm\'s for the same change', T, async (t) => {
  const manifest = { dependencies: { leaf: '^1.0.0', 'uses-leaf1': '^1.0.0', tool: '1.0.0', mid: '1.0.0' } }
  const p = setup(t, manifest)
  await brisk.install(opts(p))
  const q = setup(t, manifest)
  fs.copyFileSync(p.file('package-lock.json'), q.file('package-lock.json'))

  reg.reset()
  const r = await brisk.install(opts(p, { add: ['@scope/pkg'] }))
  assert.deepEqual(r.changes.map((c) => `${c.name}@${c.to}`), ['@scope/pkg@1.1.0'])
  // @scope/pkg's own dependency (leaf@^1) is served by the locked leaf.
  assert.deepEqual(reg.requestsOf('packument').map((x) => x.name), ['@scope/pkg'])

  const n = await h.npm(['install', '@scope/pkg', '--no-audit', '--no-fund'], { cwd: q.dir, env: q.env, cache: path.join(q.root, 'npm-cache'), registry: reg.url })
  assert.equal(n.status, 0, n.stderr)
  assert.equal(p.read('package.json'), q.read('package.json'))
  assert.deepEqual(h.lockEntries(p.lock()), h.lockEntries(q.lock()))
})

test('remove asks the registry nothing', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0', mid: '1.0.0' } })
  await brisk.install(opts(p))
  reg.reset()
  const r = await brisk.install(opts(p, { remove: ['mid'] }))
  assert.deepEqual(r.changes, [{ name: 'mid', location: 'node_modules/mid', from: '1.0.0' }])
  assert.deepEqual(reg.requests, [])
  assert.deepEqual(h.installedTree(p.dir), { 'node_modules/leaf': '1.1.0' })
})

test('a lockfile written without resolved: a touched lockfile re-links nothing', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0', mid: '1.0.0' } }, 'omit-lockfile-registry-resolved=true\n')
  await brisk.install(opts(p))
  assert.equal(p.lock().packages['node_modules/leaf'].resolved, undefined)
  const before = inode(p, 'node_modules/leaf/package.json')
  // Same bytes, new time (a checkout, a restored cache): the stamp no longer matches.
  const now = new Date(Date.now() + 5000)
  fs.utimesSync(p.file('package-lock.json'), now, now)
  const r = await brisk.install(opts(p))
  assert.equal(r.upToDate, false)
  assert.equal(r.added, 0)
  assert.equal(r.removed, 0)
  assert.equal(inode(p, 'node_modules/leaf/package.json'), before, 'leaf was not re-linked')
})
