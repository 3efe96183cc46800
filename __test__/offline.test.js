'use strict'
// The cache: prefetch fills it from a lockfile, link builds node_modules from
// it without the network, install reuses it, metadata is revalidated.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const { spawnSync } = require('node:child_process')
const brisk = require('../brisk.js')
const { startRegistry } = require('./registry.js')
const { scenarios } = require('./scenarios.js')
const h = require('./helpers.js')

const T = { timeout: 60_000 }
const { reg, opts, setup } = h.localRegistry()

/** A project with a lockfile (written by brisk with lockfileOnly) and an empty cache. */
async function lockedProject(t, scenario) {
  const p = setup(t, scenario.manifest)
  await brisk.install(opts(p, { lockfileOnly: true }))
  assert.ok(!p.exists('node_modules'))
  fs.rmSync(p.cache, { recursive: true, force: true })
  fs.mkdirSync(p.cache)
  reg.clearLog()
  return p
}

test('link with an empty cache: E_NOT_CACHED naming the package, suggesting prefetch', T, async (t) => {
  const p = await lockedProject(t, scenarios['nested-conflicts'])
  const before = h.snapshot(p.dir)
  const err = await h.rejection(brisk.link(opts(p)))
  assert.equal(err.code, 'E_NOT_CACHED', err.message)
  assert.match(err.message, /leaf|mid|deep-a|@scope\/pkg|uses-leaf1/)
  assert.match(err.message, /prefetch/)
  assert.deepEqual(reg.requests, [], 'link never uses the network')
  assert.deepEqual(h.snapshot(p.dir), before, 'nothing changed')
})

test('link without a lockfile: E_LOCKFILE', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0' } })
  const err = await h.rejection(brisk.link(opts(p)))
  assert.equal(err.code, 'E_LOCKFILE', err.message)
  assert.match(err.message, /package-lock\.json/)
})

test('prefetch then link with the registry shut down', T, async (t) => {
  const own = await startRegistry()
  t.after(() => own.close())
  const s = scenarios['platform-and-flags']
  const p = setup(t, s.manifest)
  await brisk.install({ ...opts(p, { registry: own.url }), lockfileOnly: true })
  own.clearLog()

  const r = await brisk.prefetch(opts(p, { registry: own.url }))
  assert.ok(!p.exists('node_modules'), 'prefetch does not touch node_modules')
  assert.deepEqual(own.requestsOf('packument'), [], 'the lockfile is enough')
  const fetched = own.requestsOf('tarball').map((q) => q.name).sort()
  // Everything this machine installs; platform packages for other systems are not needed.
  assert.deepEqual(fetched, Object.keys(s.npmTree).map((k) => k.replace(/^node_modules\//, '')).sort())
  assert.equal(r.downloaded, fetched.length)

  await own.close()
  const linked = await brisk.link(opts(p, { registry: own.url }))
  assert.deepEqual(h.installedTree(p.dir), s.npmTree)
  assert.equal(linked.added, Object.keys(s.npmTree).length)
  assert.equal(linked.downloaded, 0)
  assert.equal(h.requireIn(p.dir, 'has-native', p.env).deps['native-linux'], '1.0.0')
  const tool = spawnSync(p.file('node_modules/.bin/tool'), [], { encoding: 'utf8', env: p.env })
  assert.equal(tool.status, 0, tool.stderr)

  const ls = await h.npm(['ls', '--all'], { cwd: p.dir, env: p.env, cache: p.cache })
  assert.equal(ls.status, 0, ls.stdout + ls.stderr)
})

test('a second prefetch downloads nothing', T, async (t) => {
  const p = await lockedProject(t, scenarios['nested-conflicts'])
  const first = await brisk.prefetch(opts(p))
  assert.equal(reg.requestsOf('tarball').length, 8, 'each of the eight distinct tarballs fetched once')
  assert.equal(first.downloaded, 8, 'downloaded counts tarballs, like install does')
  reg.clearLog()
  const second = await brisk.prefetch(opts(p))
  assert.deepEqual(reg.requests, [])
  assert.equal(second.downloaded, 0)
  assert.equal(second.reused, 8)
})

test('prefetch honours omit', T, async (t) => {
  const p = await lockedProject(t, scenarios['omit-dev'])
  await brisk.prefetch(opts(p, { omit: ['dev'] }))
  assert.deepEqual(reg.requestsOf('tarball', 'devonly'), [])
  assert.equal(reg.requestsOf('tarball', 'tool').length, 1)
})

test('install with a fresh lockfile and a warm cache needs no registry', T, async (t) => {
  const own = await startRegistry()
  const s = scenarios['nested-conflicts']
  const p = setup(t, s.manifest)
  await brisk.install(opts(p, { registry: own.url }))
  fs.rmSync(p.file('node_modules'), { recursive: true })
  await own.close()
  await brisk.install(opts(p, { registry: own.url }))
  assert.deepEqual(h.installedTree(p.dir), s.npmTree)
})

test('the cache is shared between projects', T, async (t) => {
  const a = setup(t, { dependencies: { leaf: '^1.0.0', mid: '^1.0.0' } })
  const b = setup(t, { dependencies: { leaf: '^1.0.0', mid: '^1.0.0', tool: '1.0.0' } })
  await brisk.install(opts(a))
  reg.clearLog()
  const r = await brisk.install(opts(b, { cacheDir: a.cache }))
  assert.deepEqual(reg.requestsOf('tarball').map((q) => q.name), ['tool'])
  assert.equal(r.downloaded, 1)
  assert.ok(r.reused >= 2)
  assert.equal(h.requireIn(b.dir, 'mid', b.env).deps.leaf, '2.1.0')
  // Removing one project's node_modules leaves the other's intact.
  fs.rmSync(a.file('node_modules'), { recursive: true })
  assert.equal(h.requireIn(b.dir, 'leaf', b.env).version, '1.1.0')
})

test('metadata: cached, revalidated with If-None-Match, not asked for with preferOffline', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0', mid: '^1.0.0' } })
  await brisk.install(opts(p))
  const reset = () => {
    fs.rmSync(p.file('node_modules'), { recursive: true })
    fs.rmSync(p.file('package-lock.json'))
    reg.clearLog()
  }
  reset()
  await brisk.install(opts(p))
  // The registry says max-age=300, so skipping the request is fine too; a
  // request, if made, must revalidate rather than download again.
  const packuments = reg.requestsOf('packument')
  assert.ok(packuments.every((q) => q.ifNoneMatch && q.status === 304), 'with the cached ETag, answered 304')
  assert.deepEqual(reg.requestsOf('tarball'), [])

  reset()
  await brisk.install(opts(p, { preferOffline: true }))
  assert.deepEqual(reg.requests, [], 'preferOffline uses the cached metadata')
  assert.deepEqual(h.installedTree(p.dir), {
    'node_modules/leaf': '1.1.0',
    'node_modules/mid': '1.0.0',
    'node_modules/mid/node_modules/leaf': '2.1.0'
  })
})
