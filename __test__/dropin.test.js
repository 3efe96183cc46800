'use strict'
// npm habits against the local registry, with npm as the reference where it
// prints or writes something: add in a folder with no package.json,
// --dry-run, --offline, --no-package-lock, EBADENGINE / --engine-strict and
// the changed direct dependencies in the summary.

const { test, before, after, beforeEach } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const brisk = require('../brisk.js')
const { startRegistry } = require('./registry.js')
const h = require('./helpers.js')

const T = { timeout: 120_000 }
// A package whose engines.node no Node.js satisfies, and one that needs it.
const EXTRA = {
  'future-node': { versions: { '1.0.0': { license: 'MIT', engines: { node: '>=99' } } } },
  'uses-future': { versions: { '1.0.0': { license: 'MIT', dependencies: { 'future-node': '1.0.0' } } } }
}

let reg
before(async () => { reg = await startRegistry({ packages: { ...require('./fixtures.js').packages, ...EXTRA } }) })
after(async () => { await reg.close() })
beforeEach(() => reg.reset())

function setup(t, pkg, extra = {}) {
  const p = h.project(pkg, { npmrc: `registry=${reg.url}\n${extra.npmrc || ''}`, lockfile: extra.lockfile })
  t.after(() => p.cleanup())
  return p
}
const cli = (p, args) => h.cli([...args, '--cache-dir', p.cache], { cwd: p.dir, env: p.env })

test('add in a folder with no package.json creates the one npm creates', T, async (t) => {
  const p = setup(t, undefined)
  const r = await cli(p, ['add', 'leaf'])
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(h.installedTree(p.dir), { 'node_modules/leaf': '1.1.0' })
  const ours = p.read('package.json')

  const q = setup(t, undefined)
  const n = await h.npm(['install', 'leaf', '--no-audit', '--no-fund'], { cwd: q.dir, env: q.env, cache: path.join(q.root, 'npm-cache'), registry: reg.url })
  assert.equal(n.status, 0, n.stderr)
  assert.equal(ours, q.read('package.json'))
  assert.deepEqual(p.lock(), { ...q.lock(), name: p.lock().name })
})

test('--dry-run says what npm says would change and writes nothing', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0', mid: '1.0.0' } })
  const before = h.snapshot(p.dir)
  const r = await cli(p, ['install', '--dry-run'])
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(h.snapshot(p.dir), before, 'nothing on disk changed')
  const lines = r.stdout.split('\n')
  const changeLines = lines.filter((l) => /^(add|remove|change) /.test(l)).sort()
  assert.deepEqual(changeLines, ['add leaf 1.1.0', 'add leaf 2.1.0', 'add mid 1.0.0'], r.stdout)
  assert.match(r.stdout, /added 3 packages in .*dry run: nothing was written/)

  // npm's own dry run names the same packages and versions.
  const n = await h.npm(['install', '--dry-run', '--no-audit', '--no-fund'], { cwd: p.dir, env: p.env, cache: path.join(p.root, 'npm-cache'), registry: reg.url })
  assert.equal(n.status, 0, n.stderr)
  const npmLines = n.stdout.split('\n').filter((l) => /^(add|remove|change) /.test(l)).sort()
  assert.deepEqual(changeLines, npmLines)

  // After an install, a changed range shows as a change, still writing nothing.
  assert.equal((await cli(p, ['install'])).status, 0)
  const pkg = p.json('package.json')
  pkg.dependencies.leaf = '^2.0.0'
  fs.writeFileSync(p.file('package.json'), JSON.stringify(pkg, null, 2) + '\n')
  const installed = h.snapshot(p.dir)
  const r2 = await cli(p, ['install', '--dry-run', '--json'])
  assert.equal(r2.status, 0, r2.stderr)
  const result = JSON.parse(r2.stdout)
  assert.equal(result.dryRun, true)
  assert.deepEqual(result.changes.filter((c) => c.location === 'node_modules/leaf'),
    [{ name: 'leaf', location: 'node_modules/leaf', from: '1.1.0', to: '2.1.0' }])
  assert.deepEqual(h.snapshot(p.dir), installed)
})

test('--offline installs from the cache alone and fails with E_NOT_CACHED on what it lacks', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0' } })
  assert.equal((await cli(p, ['install'])).status, 0)
  fs.rmSync(p.file('node_modules'), { recursive: true })
  fs.rmSync(p.file('package-lock.json'))
  reg.reset()
  const r = await cli(p, ['install', '--offline'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(reg.requests.length, 0, 'no request reached the registry')
  assert.deepEqual(h.installedTree(p.dir), { 'node_modules/leaf': '1.1.0' })

  const q = setup(t, { dependencies: { mid: '1.0.0' } })
  const f = await cli(q, ['install', '--offline'])
  assert.equal(f.status, 1)
  assert.match(f.stderr, /E_NOT_CACHED/)
  assert.equal(q.exists('node_modules'), false)
  assert.equal(q.exists('package-lock.json'), false)
})

test('--no-package-lock neither reads nor writes package-lock.json', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0' } })
  const r = await cli(p, ['install', '--no-package-lock'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(p.exists('package-lock.json'), false)
  assert.deepEqual(h.installedTree(p.dir), { 'node_modules/leaf': '1.1.0' })
  // A lockfile locking leaf@1.0.0 is ignored, and left as it was.
  const q = setup(t, { dependencies: { leaf: '^1.0.0' } })
  assert.equal((await cli(q, ['install', 'leaf@1.0.0', '--save-exact'])).status, 0)
  const pkg = q.json('package.json')
  pkg.dependencies.leaf = '^1.0.0'
  fs.writeFileSync(q.file('package.json'), JSON.stringify(pkg))
  const lock = q.read('package-lock.json')
  assert.equal((await cli(q, ['install', '--no-package-lock'])).status, 0)
  assert.equal(q.read('package-lock.json'), lock)
  assert.equal(h.installedTree(q.dir)['node_modules/leaf'], '1.1.0')
})

test('EBADENGINE: a warning by default, E_BAD_ENGINE with --engine-strict, as npm', T, async (t) => {
  const p = setup(t, { dependencies: { 'uses-future': '1.0.0' } })
  const r = await cli(p, ['install'])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stderr, /brisk WARN EBADENGINE Unsupported engine: future-node@1.0.0 requires node >=99 \(current: node \d+\.\d+\.\d+\)/)

  assert.doesNotMatch(r.stderr, /\x1b\[/, 'no colours when stderr is not a terminal')
  fs.rmSync(p.file('node_modules'), { recursive: true })
  const colored = await cli(p, ['install', '--color=always'])
  assert.match(colored.stderr, /\x1b\[33mbrisk WARN\x1b\[0m EBADENGINE/)

  const q = setup(t, { dependencies: { 'uses-future': '1.0.0' } }, { npmrc: 'engine-strict=true\n' })
  const f = await cli(q, ['install'])
  assert.equal(f.status, 1)
  assert.match(f.stderr, /E_BAD_ENGINE future-node@1.0.0 requires node >=99/)
  assert.equal(q.exists('node_modules'), false)
  const n = await h.npm(['install', '--no-audit', '--no-fund'], { cwd: q.dir, env: q.env, cache: path.join(q.root, 'npm-cache'), registry: reg.url })
  assert.notEqual(n.status, 0, 'npm refuses too')
  assert.match(n.stderr, /EBADENGINE/)
  // --force (and engineStrict: false) install anyway.
  assert.equal((await cli(q, ['install', '--force'])).status, 0)
  fs.rmSync(q.file('node_modules'), { recursive: true })
  const api = await brisk.install({ cwd: q.dir, cacheDir: q.cache, env: q.env, engineStrict: false })
  assert.ok(api.warnings.some((w) => w.startsWith('EBADENGINE')))
})

test('the summary lists the direct dependencies added, changed and removed', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '1.0.0' } })
  assert.equal((await cli(p, ['install'])).status, 0)
  const up = await cli(p, ['add', 'leaf@2.1.0', 'mid'])
  assert.equal(up.status, 0, up.stderr)
  assert.deepEqual(up.stdout.split('\n').slice(1, -1), ['~ leaf 1.0.0 -> 2.1.0', '+ mid@1.0.0'])
  const rm = await cli(p, ['remove', 'mid'])
  assert.equal(rm.status, 0, rm.stderr)
  assert.deepEqual(rm.stdout.split('\n').slice(1, -1), ['- mid@1.0.0'])
})

test("the project's own scripts are shown as npm shows them, on stderr, and --json stays parseable", T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0' }, scripts: { prepare: 'echo prepared-here' } })
  const r = await cli(p, ['install', '--json'])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stderr, /> fixture-project@1\.0\.0 prepare\n> echo prepared-here\n\nprepared-here\n/)
  assert.deepEqual(JSON.parse(r.stdout).scriptsRun, ['prepare'])
  // A failing one names itself; its output was shown as it ran.
  const q = setup(t, { scripts: { postinstall: 'echo about-to-fail && exit 3' } })
  const f = await cli(q, ['install'])
  assert.equal(f.status, 1)
  assert.match(f.stderr, /about-to-fail\n/)
  assert.match(f.stderr, /E_SCRIPT the postinstall script of the project fixture-project@1\.0\.0 failed with exit code 3/)
})
