'use strict'
// brisk against an attacker: a registry, a tarball, a lockfile or a
// dependency's package.json trying to write outside the project, poison the
// shared cache, exhaust memory or race another install. Each test checks
// what a user would: nothing outside the project changed, the error code,
// the cache as it was.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const brisk = require('../brisk.js')
const { startRegistry } = require('./registry.js')
const h = require('./helpers.js')

const T = { timeout: 120_000 }
const v = (over = {}) => ({ license: 'MIT', ...over })

// A name that, used as a folder under node_modules, lands in the test's temp
// root beside the project (`<root>/PWNED`).
const ESCAPE = '../../PWNED'

const packages = {
  a: { versions: { '1.0.0': v(), '1.1.0': v() } },
  b: { versions: { '1.0.0': v() } },
  evil: { versions: { '1.0.0': v({ dependencies: { [ESCAPE]: 'npm:a@^1.0.0' } }) } },
  'evil-optional': { versions: { '1.0.0': v({ optionalDependencies: { [ESCAPE]: 'npm:a@^1.0.0' } }) } },
  'evil-scope': { versions: { '1.0.0': v({ dependencies: { '@x/..': 'npm:a@^1.0.0' } }) } }
}

let reg
before(async () => { reg = await startRegistry({ packages }) })
after(async () => { await reg.close() })

const opts = (p, extra = {}) => ({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env, ...extra })
function setup (t, manifest, extra) {
  const p = h.project(manifest, extra)
  t.after(() => p.cleanup())
  return p
}

/** Everything in the temp root but the cache: the project and its neighbours. */
function outsideCache (p) {
  const snap = h.snapshot(p.root)
  for (const k of Object.keys(snap)) if (k === 'cache/' || k.startsWith('cache/')) delete snap[k]
  return snap
}

async function expectCode (promise, code) {
  const err = await h.rejection(promise)
  assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`)
  return err
}

test('a dependency key that is a path, from a packument: E_MANIFEST, nothing written anywhere', T, async (t) => {
  for (const pkg of ['evil', 'evil-optional', 'evil-scope']) {
    const p = setup(t, { dependencies: { [pkg]: '1.0.0' } })
    const before = outsideCache(p)
    const err = await expectCode(brisk.install(opts(p)), 'E_MANIFEST')
    assert.match(err.message, new RegExp(`${pkg}@1\\.0\\.0`), 'names the package that carried the key')
    assert.match(err.message, /not a valid package name/)
    assert.deepEqual(outsideCache(p), before, `${pkg}: the project and its neighbours are unchanged`)
    assert.ok(!fs.existsSync(path.join(p.root, 'PWNED')))
  }
})

test('a dependency key that is a path, in the project\'s own package.json: E_MANIFEST', T, async (t) => {
  const p = setup(t, { dependencies: { a: '^1.0.0', [ESCAPE]: 'npm:b@^1' } })
  const before = outsideCache(p)
  const err = await expectCode(brisk.install(opts(p)), 'E_MANIFEST')
  assert.match(err.message, /PWNED/)
  assert.deepEqual(outsideCache(p), before)
  const r = await h.cli(['install', '--registry', reg.url, '--cache-dir', p.cache], { cwd: p.dir, env: p.env })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /E_MANIFEST/)
})

test('a lockfile edited to install outside node_modules: ci and install refuse with E_LOCKFILE', T, async (t) => {
  const p = setup(t, { dependencies: { a: '^1.0.0' } })
  await brisk.install(opts(p))
  const lock = p.lock()
  const b = { version: '1.0.0', resolved: `${reg.url}b/-/b-1.0.0.tgz`, integrity: reg.integrity('b', '1.0.0') }
  const edits = {
    'a dependency key': (l) => { l.packages['node_modules/a'].dependencies = { [ESCAPE]: 'npm:b@^1.0.0' } },
    'a location': (l) => { l.packages[`node_modules/${ESCAPE}`] = b },
    'a nested location': (l) => { l.packages['node_modules/a/node_modules/..'] = b }
  }
  for (const [what, edit] of Object.entries(edits)) {
    const l = structuredClone(lock)
    edit(l)
    fs.writeFileSync(p.file('package-lock.json'), JSON.stringify(l, null, 2))
    fs.rmSync(p.file('node_modules'), { recursive: true, force: true })
    const before = outsideCache(p)
    for (const clean of [true, false]) {
      const err = await expectCode(brisk.install(opts(p, { clean, frozenLockfile: clean })), 'E_LOCKFILE')
      assert.match(err.message, /package-lock\.json/, what)
      assert.deepEqual(outsideCache(p), before, `${what}: nothing changed (${clean ? 'ci' : 'install'})`)
    }
  }
})
