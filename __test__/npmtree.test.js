'use strict'
// npm's tree in the details (issue 31): bundleDependencies (the project's
// own and a dependency's), file modes, .gitignore, CRLF bins, .bin
// conflicts, prefer-dedupe, an empty devDependencies and the project's
// `dependencies` script, each compared with real npm on the local registry.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const brisk = require('../brisk.js')
const { startRegistry } = require('./registry.js')
const h = require('./helpers.js')

const T = { timeout: 120_000 }
let reg
before(async () => { reg = await startRegistry() })
after(async () => { await reg.close() })

/** node_modules as npm leaves it: every path with its kind, mode and size, or link target. */
function files(dir) {
  const out = {}
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = `${rel}/${e.name}`
      if (r === 'node_modules/.package-lock.json' || e.name.startsWith('.brisk')) continue
      const abs = path.join(dir, r)
      const st = fs.lstatSync(abs)
      if (e.isSymbolicLink()) out[r] = `-> ${fs.readlinkSync(abs)}`
      else if (e.isDirectory()) { out[r] = `dir ${(st.mode & 0o777).toString(8)}`; walk(r) }
      else out[r] = `file ${(st.mode & 0o777).toString(8)} ${st.size}`
    }
  }
  walk('node_modules')
  return out
}

/** brisk and npm install `manifest` (with `npmrc`) in two projects. */
async function both(t, manifest, { npmrc, npmArgs = [] } = {}) {
  const p = h.project(manifest, { npmrc })
  const n = h.project(manifest, { npmrc })
  t.after(() => { p.cleanup(); n.cleanup() })
  await brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env, ignoreScripts: true })
  const r = await h.npm(['install', '--ignore-scripts', ...npmArgs], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
  assert.equal(r.status, 0, r.stderr)
  return { p, n }
}

test('file details as npm: archive modes, .gitignore → .npmignore, CRLF #! fixed, bundled bins, .bin conflicts, empty devDependencies', T, async (t) => {
  const manifest = {
    dependencies: { 'odd-files': '1.0.0', dupbin: '1.0.0', '@aaa/dupbin': '1.0.0', 'bundler-dedupe': '1.0.0', leaf: '^1.0.0' },
    devDependencies: {}
  }
  const { p, n } = await both(t, manifest)
  assert.deepEqual(files(p.dir), files(n.dir), 'node_modules: paths, modes, sizes, .bin targets')
  assert.equal(p.read('package-lock.json'), n.read('package-lock.json'), 'byte-identical lockfile')
  // What the comparison covers, spelled out.
  const f = files(p.dir)
  assert.equal(f['node_modules/odd-files/run.sh'], 'file 754 19')
  assert.equal(f['node_modules/odd-files/.npmignore'], 'file 644 2')
  assert.equal(p.read('node_modules/odd-files/sub/.npmignore'), 'keep\n')
  assert.equal(f['node_modules/.bin/dupbin'], '-> ../@aaa/dupbin/b.js')
  assert.equal(f['node_modules/bundler-dedupe/node_modules/.bin/btool'], '-> ../bundled-tool/bin/b.js')
  assert.equal(p.lock().packages['node_modules/bundler-dedupe/node_modules/leaf'].version, '1.0.0')
  assert.deepEqual(p.lock().packages[''].devDependencies, {})
  const out = execFileSync(p.file('node_modules/.bin/crlf-tool'), { encoding: 'utf8' })
  assert.equal(out, 'crlf ok\n')
  // A later install keeps the bundle (nothing to do), and so does one over npm's tree.
  const again = await brisk.install({ cwd: n.dir, cacheDir: p.cache, registry: reg.url, env: n.env, ignoreScripts: true })
  assert.equal(again.removed, 0)
  assert.ok(n.exists('node_modules/bundler-dedupe/node_modules/leaf/package.json'))
})

test('the project\'s own bundleDependencies: installed from npm\'s lockfile, written inBundle as npm writes them', T, async (t) => {
  const manifest = { dependencies: { mid: '^1.0.0', leaf: '^1.0.0' }, bundleDependencies: ['mid'] }
  const n = h.project(manifest)
  const p = h.project(manifest)
  t.after(() => { p.cleanup(); n.cleanup() })
  const r = await h.npm(['install', '--package-lock-only'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(n.lock().packages['node_modules/mid'].inBundle, true)
  // From npm's lockfile: brisk ci and brisk install both install the bundle.
  for (const clean of [true, false]) {
    fs.rmSync(n.file('node_modules'), { recursive: true, force: true })
    const res = await brisk.install({ cwd: n.dir, cacheDir: n.cache, registry: reg.url, env: n.env, clean, frozenLockfile: clean })
    assert.equal(res.upToDate, false)
    assert.deepEqual(h.installedTree(n.dir), {
      'node_modules/leaf': '1.1.0', 'node_modules/mid': '1.0.0', 'node_modules/mid/node_modules/leaf': '2.1.0'
    })
  }
  const ls = await h.npm(['ls', '--all'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
  assert.equal(ls.status, 0, ls.stdout + ls.stderr)
  // brisk's own lockfile is npm's, byte for byte.
  await brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env, lockfileOnly: true })
  assert.equal(p.read('package-lock.json'), n.read('package-lock.json'))
})

test('.npmrc prefer-dedupe: an older version serving every dependent replaces the newer one, as npm', T, async (t) => {
  const { p, n } = await both(t, { dependencies: { 'dd-a': '1.0.0', 'dd-b': '1.0.0' } }, { npmrc: 'prefer-dedupe=true\n' })
  assert.deepEqual(h.installedTree(p.dir), h.installedTree(n.dir))
  assert.deepEqual(h.installedTree(p.dir), { 'node_modules/dd-a': '1.0.0', 'node_modules/dd-b': '1.0.0', 'node_modules/leaf': '1.0.0' })
  assert.equal(p.read('package-lock.json'), n.read('package-lock.json'))
})

test('a dependency whose peer (optional or required) meets an older hoisted version nests with its peer, as npm', T, async (t) => {
  const { p, n } = await both(t, { dependencies: { 'mm-user': '1.0.0', 'tg-user': '1.0.0', 'yl-user': '1.0.0' } })
  assert.equal(p.read('package-lock.json'), n.read('package-lock.json'), 'byte-identical lockfile')
  assert.deepEqual(h.installedTree(p.dir), h.installedTree(n.dir))
  // pm@2 keeps the top; fd-opt and ajd-req go below their users, beside pm@4.
  assert.deepEqual(h.installedTree(p.dir), {
    'node_modules/mm-user': '1.0.0',
    'node_modules/pm': '2.0.0',
    'node_modules/tg-user': '1.0.0',
    'node_modules/tg-user/node_modules/fd-opt': '1.0.0',
    'node_modules/tg-user/node_modules/pm': '4.0.0',
    'node_modules/yl-user': '1.0.0',
    'node_modules/yl-user/node_modules/ajd-req': '1.0.0',
    'node_modules/yl-user/node_modules/pm': '4.0.0'
  })
  const ls = await h.npm(['ls', '--all'], { cwd: p.dir, env: p.env, cache: p.cache, registry: reg.url })
  assert.equal(ls.status, 0, ls.stdout + ls.stderr)
})

test('workspaces\' dependencies are placed after the root\'s, as npm places them', T, async (t) => {
  const make = () => {
    const p = h.project({ workspaces: ['w'], devDependencies: { wsarb: '1.0.0' } })
    fs.mkdirSync(p.file('w'))
    fs.writeFileSync(p.file('w', 'package.json'), JSON.stringify({ name: 'wsbl', version: '5.0.0', dependencies: { wscs: '^7.0.0' } }))
    t.after(() => p.cleanup())
    return p
  }
  const p = make()
  const n = make()
  await brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env, ignoreScripts: true })
  const r = await h.npm(['install', '--ignore-scripts'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(p.read('package-lock.json'), n.read('package-lock.json'), 'byte-identical lockfile')
  assert.equal(p.lock().packages['node_modules/wscs'].version, '6.0.0')
  assert.equal(p.lock().packages['w/node_modules/wscs'].version, '7.0.0')
  assert.equal(p.json('w', 'node_modules', 'wscs', 'package.json').version, '7.0.0')
})

test('the project\'s dependencies script runs when node_modules changes; add runs no install scripts (as npm)', T, async (t) => {
  const log = (dir) => fs.existsSync(path.join(dir, 'log')) ? fs.readFileSync(path.join(dir, 'log'), 'utf8') : ''
  const scripts = { dependencies: 'echo dependencies >> log', prepare: 'echo prepare >> log' }
  const p = h.project({ dependencies: { leaf: '^1.0.0' }, scripts })
  const n = h.project({ dependencies: { leaf: '^1.0.0' }, scripts })
  t.after(() => { p.cleanup(); n.cleanup() })
  const o = { cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env }
  const npm = (args) => h.npm(args, { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
  await brisk.install(o)
  assert.equal((await npm(['install'])).status, 0)
  assert.equal(log(p.dir), log(n.dir))
  assert.equal(log(p.dir), 'dependencies\nprepare\n')
  await brisk.install({ ...o, add: ['mid'] })
  assert.equal((await npm(['install', 'mid'])).status, 0)
  assert.equal(log(p.dir), log(n.dir))
  assert.equal(log(p.dir), 'dependencies\nprepare\ndependencies\n')
})
