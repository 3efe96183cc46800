'use strict'
// brisk next to real npm, on the same local registry: the same node_modules,
// the same lockfile, npm ls and npm ci accept brisk's result, and brisk
// installs from npm's lockfile without touching it.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const brisk = require('../brisk.js')
const { startRegistry } = require('./registry.js')
const { scenarios } = require('./scenarios.js')
const h = require('./helpers.js')

const T = { timeout: 120_000 }
let reg
before(async () => { reg = await startRegistry() })
after(async () => { await reg.close() })

/** "Missing: x@ from lock file" style complaints from `npm ci`. */
function ciComplaints(r) {
  return r.stderr.split('\n').filter((l) => /^npm error (Missing|Invalid):/.test(l)).map((l) => l.replace(/^npm error /, '')).sort()
}

/** Copy package.json + package-lock.json into a fresh dir and run `npm ci` there. */
async function npmCi(from, p, args) {
  const dir = path.join(p.root, `ci-${path.basename(from)}`)
  fs.mkdirSync(dir)
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(from, f), path.join(dir, f))
  const r = await h.npm(['ci', '--ignore-scripts', ...args], { cwd: dir, env: p.env, cache: p.cache, registry: reg.url })
  return { ...r, dir }
}

for (const [name, s] of Object.entries(scenarios)) {
  test(`same result as npm: ${name}`, T, async (t) => {
    const p = h.project(s.manifest) // brisk's project
    const n = h.project(s.manifest) // npm's project
    t.after(() => { p.cleanup(); n.cleanup() })

    await brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env, ...s.options })
    const ni = await h.npm(['install', '--ignore-scripts', ...s.npmArgs], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
    assert.equal(ni.status, 0, ni.stderr)

    // node_modules
    assert.deepEqual(h.installedTree(p.dir), h.installedTree(n.dir), 'node_modules paths and versions')
    assert.deepEqual(fs.existsSync(p.file('node_modules/.bin')) && fs.readdirSync(p.file('node_modules/.bin')).sort(),
      fs.existsSync(n.file('node_modules/.bin')) && fs.readdirSync(n.file('node_modules/.bin')).sort(), '.bin entries')

    // package-lock.json
    const bl = p.lock()
    const nl = n.lock()
    assert.deepEqual(Object.keys(bl), Object.keys(nl), 'top-level keys')
    assert.deepEqual(bl.packages[''], nl.packages[''], 'root entry')
    assert.deepEqual(Object.keys(bl.packages), Object.keys(nl.packages), 'entry paths, in npm\'s order')
    assert.deepEqual(h.lockEntries(bl), h.lockEntries(nl), 'entry metadata')

    // npm ls accepts brisk's tree
    const ls = await h.npm(['ls', '--all', ...s.npmArgs], { cwd: p.dir, env: p.env, cache: p.cache, registry: reg.url })
    assert.equal(ls.status, 0, ls.stdout + ls.stderr)

    // npm ci accepts brisk's lockfile wherever it accepts its own
    const own = await npmCi(n.dir, n, s.npmArgs)
    const ours = await npmCi(p.dir, p, s.npmArgs)
    if (own.status === 0) {
      assert.equal(ours.status, 0, `npm ci rejects brisk's lockfile but accepts npm's:\n${ours.stderr}`)
      assert.deepEqual(h.installedTree(ours.dir), h.installedTree(own.dir))
    } else {
      const extra = ciComplaints(ours).filter((c) => !ciComplaints(own).includes(c))
      assert.deepEqual(extra, [], 'npm ci complains about brisk\'s lockfile only where it complains about its own')
    }
  })
}

// npm's lockfile here lacks native-gone (a 404 optional), which makes `npm ci`
// reject it; brisk's frozen install must accept it, or `brisk ci` would fail on
// every project with an unavailable optional platform package.
test('brisk installs from npm\'s lockfile without re-resolving or rewriting it', T, async (t) => {
  const s = scenarios['platform-and-flags']
  const n = h.project(s.manifest)
  t.after(() => n.cleanup())
  const ni = await h.npm(['install', '--ignore-scripts'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
  assert.equal(ni.status, 0, ni.stderr)
  const lock = n.read('package-lock.json')
  fs.rmSync(n.file('node_modules'), { recursive: true })
  reg.clearLog()
  const cache = path.join(n.root, 'brisk-cache')
  await brisk.install({ cwd: n.dir, cacheDir: cache, registry: reg.url, env: n.env, frozenLockfile: true })
  assert.deepEqual(reg.requestsOf('packument').filter((q) => q.name !== 'native-gone'), [], 'no metadata needed')
  assert.deepEqual(h.installedTree(n.dir), s.npmTree)
  assert.equal(n.read('package-lock.json'), lock, 'npm\'s lockfile is byte-for-byte unchanged')
})

test('brisk reads an npm lockfile v2 (npm 7/8) and a v1 lockfile (npm 6)', T, async (t) => {
  const s = scenarios['nested-conflicts']
  for (const version of [2, 1]) {
    const n = h.project(s.manifest)
    t.after(() => n.cleanup())
    if (version === 2) {
      const r = await h.npm(['install', '--package-lock-only', '--lockfile-version=2', '--ignore-scripts'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
      assert.equal(r.status, 0, r.stderr)
      assert.equal(n.lock().lockfileVersion, 2)
    } else {
      // npm 6 wrote only "dependencies" (nested by tree); build one from npm's v3 lockfile.
      const r = await h.npm(['install', '--package-lock-only', '--ignore-scripts'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
      assert.equal(r.status, 0, r.stderr)
      fs.writeFileSync(n.file('package-lock.json'), JSON.stringify(toV1(n.lock()), null, 2) + '\n')
    }
    reg.clearLog()
    await brisk.install({ cwd: n.dir, cacheDir: n.cache, registry: reg.url, env: n.env })
    assert.deepEqual(h.installedTree(n.dir), s.npmTree, `lockfile v${version}`)
    if (version === 2) assert.deepEqual(reg.requestsOf('packument'), [], 'lockfile v2: no metadata requests')
    // A v1 lockfile lacks bins, engines and platform fields: fetching metadata is allowed (npm does).
    assert.equal(n.lock().lockfileVersion, version === 2 ? 2 : 3, 'v2 is kept as it is; v1 is upgraded')
  }
})

/** A lockfile v1 ("dependencies" tree) equivalent to a v3 lockfile. */
function toV1(lock) {
  const root = { name: lock.name, version: lock.version, lockfileVersion: 1, requires: true, dependencies: {} }
  const paths = Object.keys(lock.packages).filter((k) => k !== '')
  for (const p of paths) {
    const e = lock.packages[p]
    const segments = p.split(/(?:^|\/)node_modules\//).filter(Boolean)
    let parent = root
    for (const seg of segments.slice(0, -1)) parent = parent.dependencies[seg]
    parent.dependencies = parent.dependencies || {}
    const entry = {
      version: e.name ? `npm:${e.name}@${e.version}` : e.version,
      resolved: e.resolved,
      integrity: e.integrity
    }
    if (e.dev) entry.dev = true
    if (e.optional) entry.optional = true
    const requires = { ...e.dependencies, ...e.optionalDependencies }
    if (Object.keys(requires).length) entry.requires = requires
    parent.dependencies[segments[segments.length - 1]] = entry
  }
  return root
}
