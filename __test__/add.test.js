'use strict'
// `brisk add` / `brisk remove` (and the add/remove options of install), and
// lockfile v1 upgrades, against the local registry: package.json bytes,
// lockfile content, node_modules, exit codes, and npm as the reference.

const { test, describe, before, after, beforeEach } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const brisk = require('../brisk.js')
const { startRegistry } = require('./registry.js')
const h = require('./helpers.js')

const T = { timeout: 90_000 }
let reg
before(async () => { reg = await startRegistry() })
after(async () => { await reg.close() })
beforeEach(() => reg.reset())

function setup(t, pkg, extra = {}) {
  const p = h.project(pkg, { npmrc: `registry=${reg.url}\n${extra.npmrc || ''}`, lockfile: extra.lockfile })
  t.after(() => p.cleanup())
  return p
}
const cli = (p, args) => h.cli([...args, '--cache-dir', p.cache], { cwd: p.dir, env: p.env })
const opts = (p, extra = {}) => ({ cwd: p.dir, cacheDir: p.cache, env: p.env, ...extra })
/** package.json, package-lock.json and node_modules exactly as they are. */
const state = (p) => h.snapshot(p.dir)

describe('brisk add', () => {
  test('add <pkg> saves ^<latest>, sorted, in the file\'s own format, and installs it', T, async (t) => {
    const p = setup(t, '{\n\t"name": "x",\n\t"version": "1.0.0",\n\t"dependencies": {\n\t\t"tool": "1.0.0"\n\t}\n}\n')
    const r = await cli(p, ['add', 'leaf'])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /^added 2 packages/)
    assert.equal(p.read('package.json'),
      '{\n\t"name": "x",\n\t"version": "1.0.0",\n\t"dependencies": {\n\t\t"leaf": "^1.1.0",\n\t\t"tool": "1.0.0"\n\t}\n}\n')
    const lock = p.lock()
    assert.equal(lock.lockfileVersion, 3)
    assert.deepEqual(lock.packages[''].dependencies, { leaf: '^1.1.0', tool: '1.0.0' })
    assert.deepEqual(h.installedTree(p.dir), { 'node_modules/leaf': '1.1.0', 'node_modules/tool': '1.0.0' })
    // The lockfile agrees with package.json: a plain install has nothing to do.
    const again = await cli(p, ['install'])
    assert.equal(again.status, 0, again.stderr)
    assert.match(again.stdout, /^up to date/)
  })

  test('-D -E saves the exact version in a new devDependencies section at the end', T, async (t) => {
    const p = setup(t, { dependencies: { tool: '1.0.0' }, scripts: { test: 'x' } })
    const r = await cli(p, ['add', '-D', '-E', 'leaf@next'])
    assert.equal(r.status, 0, r.stderr)
    const pkg = p.json('package.json')
    assert.deepEqual(Object.keys(pkg), ['name', 'version', 'dependencies', 'scripts', 'devDependencies'])
    assert.deepEqual(pkg.devDependencies, { leaf: '2.1.0' })
    assert.equal(p.lock().packages['node_modules/leaf'].dev, true)
    assert.equal(h.installedTree(p.dir)['node_modules/leaf'], '2.1.0')
  })

  test('install <pkg> is add; an exact version installs that version and saves ^version', T, async (t) => {
    const p = setup(t, { dependencies: { tool: '1.0.0' } })
    const r = await cli(p, ['i', '@scope/pkg@1.0.0', 'al@npm:leaf@^2', 'uses-leaf1@1.x'])
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(p.json('package.json').dependencies, {
      '@scope/pkg': '^1.0.0', al: 'npm:leaf@^2.1.0', tool: '1.0.0', 'uses-leaf1': '^1.0.0'
    })
    const tree = h.installedTree(p.dir)
    assert.equal(tree['node_modules/@scope/pkg'], '1.0.0', 'the version asked for, not the newest ^1.0.0')
    assert.equal(tree['node_modules/al'], '2.1.0')
  })

  test('package.json and the lockfile match what npm 11 writes for the same add', T, async (t) => {
    const manifest = '{\n    "name": "x",\n    "version": "1.0.0",\n    "dependencies": {\n        "tool": "1.0.0"\n    }\n}\n'
    const args = ['@scope/pkg', 'strbin@1.0.0', 'al@npm:peer-host@^1', 'mid@>=0.1', 'deep-b@~1.0.0']
    const p = setup(t, manifest)
    const n = setup(t, manifest)
    const r = await cli(p, ['add', ...args, '--lockfile-only'])
    assert.equal(r.status, 0, r.stderr)
    const npm = await h.npm(['install', ...args, '--package-lock-only', '--ignore-scripts'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
    assert.equal(npm.status, 0, npm.stderr)
    assert.equal(p.read('package.json'), n.read('package.json'))
    assert.deepEqual(p.lock().packages[''], n.lock().packages[''])
    assert.deepEqual(h.lockEntries(p.lock()), h.lockEntries(n.lock()))
  })

  test('an existing dependency keeps its section unless a --save-* flag moves it (with npm\'s warning)', T, async (t) => {
    const p = setup(t, { dependencies: { tool: '1.0.0' }, devDependencies: { leaf: '1.0.0' } })
    const r = await cli(p, ['add', 'leaf'])
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(p.json('package.json').devDependencies, { leaf: '^1.1.0' })
    const moved = await cli(p, ['add', '-P', 'leaf'])
    assert.equal(moved.status, 0, moved.stderr)
    assert.match(moved.stderr, /Removing devDependencies\.leaf in favor of dependencies\.leaf/)
    const pkg = p.json('package.json')
    assert.deepEqual(pkg.dependencies, { leaf: '^1.1.0', tool: '1.0.0' })
    assert.equal(pkg.devDependencies, undefined, 'an emptied section is dropped')
    assert.equal(p.lock().packages['node_modules/leaf'].dev, undefined)
  })

  test('.npmrc save-prefix and save-exact', T, async (t) => {
    const p = setup(t, { dependencies: {} }, { npmrc: 'save-prefix=~\n' })
    assert.equal((await cli(p, ['add', 'leaf'])).status, 0)
    assert.equal(p.json('package.json').dependencies.leaf, '~1.1.0')
    const q = setup(t, {}, { npmrc: 'save-exact=true\n' })
    assert.equal((await cli(q, ['add', 'leaf'])).status, 0)
    assert.equal(q.json('package.json').dependencies.leaf, '1.1.0')
  })

  test('a failing add leaves package.json, the lockfile and node_modules untouched', T, async (t) => {
    const p = setup(t, { dependencies: { tool: '1.0.0' } })
    assert.equal((await cli(p, ['install'])).status, 0)
    const before = state(p)
    const missing = await cli(p, ['add', 'leaf', 'no-such-pkg'])
    assert.notEqual(missing.status, 0)
    assert.match(missing.stderr, /^brisk ERR! E_NOT_FOUND .*no-such-pkg/m)
    const noVersion = await cli(p, ['add', 'leaf@9'])
    assert.notEqual(noVersion.status, 0)
    assert.match(noVersion.stderr, /^brisk ERR! E_NO_MATCHING_VERSION .*leaf/m)
    // A failure after resolution (a tarball that does not match its integrity).
    reg.fault('tampered', { on: 'tarball', tamper: true })
    const bad = await cli(p, ['add', 'tampered'])
    assert.notEqual(bad.status, 0)
    assert.match(bad.stderr, /^brisk ERR! E_INTEGRITY /m)
    const nested = await cli(p, ['add', 'has-native', 'no-such-pkg@^1'])
    assert.notEqual(nested.status, 0)
    const self = await cli(p, ['add', 'fixture-project'])
    assert.equal(self.status, 1)
    assert.match(self.stderr, /^brisk ERR! E_CONFIG .*itself/m)
    assert.deepEqual(state(p), before)
  })

  test('--no-save installs the package but changes neither package.json nor the lockfile', T, async (t) => {
    const p = setup(t, { dependencies: { tool: '1.0.0' } })
    assert.equal((await cli(p, ['install'])).status, 0)
    const pkg = p.read('package.json')
    const lock = p.read('package-lock.json')
    const r = await cli(p, ['add', 'leaf', '--no-save'])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(h.installedTree(p.dir)['node_modules/leaf'], '1.1.0')
    assert.equal(p.read('package.json'), pkg)
    assert.equal(p.read('package-lock.json'), lock)
    // The next plain install brings node_modules back to package.json.
    const again = await cli(p, ['install'])
    assert.equal(again.status, 0, again.stderr)
    assert.deepEqual(h.installedTree(p.dir), { 'node_modules/tool': '1.0.0' })
  })

  test('JS API: install({ add, saveType, saveExact }); bad options are E_CONFIG', T, async (t) => {
    const p = setup(t, { dependencies: { tool: '1.0.0' } })
    const r = await brisk.install(opts(p, { add: ['leaf'], saveType: 'optional', saveExact: true }))
    assert.equal(r.added, 2)
    assert.deepEqual(p.json('package.json').optionalDependencies, { leaf: '1.1.0' })
    const e = await h.rejection(brisk.install(opts(p, { add: ['leaf'], saveType: 'devel' })))
    assert.equal(e.code, 'E_CONFIG')
    const e2 = await h.rejection(brisk.prefetch(opts(p, { add: ['leaf'] })))
    assert.equal(e2.code, 'E_CONFIG')
    await brisk.install(opts(p, { remove: 'leaf' }))
    assert.equal(p.json('package.json').optionalDependencies, undefined)
  })
})

describe('brisk remove', () => {
  test('remove drops the dependency from package.json, the lockfile and node_modules', T, async (t) => {
    const p = setup(t, { dependencies: { leaf: '^1.0.0', tool: '1.0.0' }, devDependencies: { strbin: '1.0.0' } })
    assert.equal((await cli(p, ['install'])).status, 0)
    const r = await cli(p, ['uninstall', 'leaf', 'strbin'])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /^removed 2 packages/)
    const pkg = p.json('package.json')
    assert.deepEqual(pkg.dependencies, { tool: '1.0.0' })
    assert.equal(pkg.devDependencies, undefined)
    assert.deepEqual(h.lockVersions(p.lock()), { 'node_modules/tool': '1.0.0' })
    assert.deepEqual(h.installedTree(p.dir), { 'node_modules/tool': '1.0.0' })
    assert.ok(!p.exists('node_modules/.bin/strbin'))
  })

  test('removing a name that is not a dependency succeeds and changes nothing (npm\'s lockfile kept byte for byte)', T, async (t) => {
    const p = setup(t, { dependencies: { '@scope/pkg': '^1.0.0', tool: '1.0.0' } })
    const npm = await h.npm(['install', '--package-lock-only', '--ignore-scripts'], { cwd: p.dir, env: p.env, cache: p.cache, registry: reg.url })
    assert.equal(npm.status, 0, npm.stderr)
    const pkg = p.read('package.json')
    const lock = p.read('package-lock.json')
    const r = await cli(p, ['rm', 'not-a-dep'])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(p.read('package.json'), pkg)
    assert.equal(p.read('package-lock.json'), lock)
  })

  test('add then remove leaves package.json byte-identical, and the lockfile npm leaves after the same steps', T, async (t) => {
    // Formatting brisk must keep: tabs, CRLF, no final newline; mid nests leaf@2.
    const text = '{\r\n\t"name": "x",\r\n\t"version": "1.0.0",\r\n\t"dependencies": {\r\n\t\t"mid": "^1.0.0",\r\n\t\t"tool": "1.0.0"\r\n\t}\r\n}'
    const p = setup(t, text)
    assert.equal((await cli(p, ['install'])).status, 0)
    const lock = p.read('package-lock.json')
    const tree = h.installedTree(p.dir)
    const added = await cli(p, ['add', '-D', 'leaf', 'al@npm:deep-b@1.0.0'])
    assert.equal(added.status, 0, added.stderr)
    assert.notEqual(p.read('package.json'), text)
    assert.match(p.read('package.json'), /\t"devDependencies": \{\r\n\t\t"al": "npm:deep-b@\^1\.0\.0",\r\n\t\t"leaf": "\^1\.1\.0"\r\n\t\}\r\n\}$/)
    const removed = await cli(p, ['remove', 'leaf', 'al'])
    assert.equal(removed.status, 0, removed.stderr)
    assert.equal(p.read('package.json'), text)
    // As npm, removing does not hoist again what the added leaf@1 pushed
    // down (mid's leaf@2 stays nested): the same steps with npm from the
    // same start give the same lockfile and tree.
    const q = setup(t, text)
    fs.writeFileSync(q.file('package-lock.json'), lock)
    const npm = (args) => h.npm(args, { cwd: q.dir, env: q.env, cache: path.join(q.root, 'npm-cache'), registry: reg.url })
    assert.equal((await npm(['install'])).status, 0)
    assert.deepEqual(h.installedTree(q.dir), tree)
    assert.equal((await npm(['install', '-D', 'leaf@^1.1.0', 'al@npm:deep-b@^1.0.0'])).status, 0)
    assert.equal((await npm(['uninstall', 'leaf', 'al'])).status, 0)
    assert.deepEqual(h.lockEntries(p.lock()), h.lockEntries(q.lock()))
    assert.deepEqual(h.installedTree(p.dir), h.installedTree(q.dir))
  })
})

describe('lockfile v1 (npm 6)', () => {
  /** A v1 lockfile pinning leaf@1.0.0 at the top and leaf@2.0.0 under mid (1.1.0 and 2.1.0 are newer). */
  function v1Lock() {
    const entry = (name, version, extra = {}) => ({
      version,
      resolved: `${reg.url}${name}/-/${name}-${version}.tgz`,
      integrity: reg.integrity(name, version),
      ...extra
    })
    return {
      name: 'x',
      version: '1.0.0',
      lockfileVersion: 1,
      requires: true,
      dependencies: {
        leaf: entry('leaf', '1.0.0'),
        mid: entry('mid', '1.0.0', {
          requires: { leaf: '^2.0.0' },
          dependencies: { leaf: entry('leaf', '2.0.0') }
        })
      }
    }
  }
  const manifest = { name: 'x', version: '1.0.0', dependencies: { leaf: '^1.0.0', mid: '^1.0.0' } }

  test('install keeps the versions a v1 lockfile pins and upgrades it to v3', T, async (t) => {
    const p = setup(t, manifest, { lockfile: v1Lock() })
    const r = await brisk.install(opts(p))
    assert.ok(r.warnings.some((w) => /lockfile v1/.test(w)), r.warnings.join('\n'))
    assert.deepEqual(h.installedTree(p.dir), {
      'node_modules/leaf': '1.0.0',
      'node_modules/mid': '1.0.0',
      'node_modules/mid/node_modules/leaf': '2.0.0'
    })
    const lock = p.lock()
    assert.equal(lock.lockfileVersion, 3)
    assert.deepEqual(h.lockVersions(lock), h.installedTree(p.dir))
    assert.deepEqual(lock.packages[''].dependencies, manifest.dependencies)
  })

  test('ci accepts a v1 lockfile: installs what it pins and leaves the file alone', T, async (t) => {
    const p = setup(t, manifest, { lockfile: v1Lock() })
    const before = p.read('package-lock.json')
    const r = await cli(p, ['ci'])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(h.installedTree(p.dir)['node_modules/mid/node_modules/leaf'], '2.0.0')
    assert.equal(p.read('package-lock.json'), before)
    // A v1 lockfile that does not lock what package.json needs is refused.
    const q = setup(t, { ...manifest, dependencies: { ...manifest.dependencies, tool: '1.0.0' } }, { lockfile: v1Lock() })
    const stale = await cli(q, ['ci'])
    assert.equal(stale.status, 1)
    assert.match(stale.stderr, /^brisk ERR! E_FROZEN_LOCKFILE .*tool@1\.0\.0/m)
    assert.ok(!q.exists('node_modules/leaf'))
  })
})

test('the CLI help lists add and remove flags', () => {
  const help = h.cliSync(['--help'])
  for (const flag of ['add <pkg...>', 'remove <pkg...>', '--save-dev', '--save-exact', '--no-save', '--save-peer']) {
    assert.ok(help.stdout.includes(flag), flag)
  }
  assert.ok(fs.existsSync(path.join(h.ROOT, 'bin', 'brisk.js')))
})

describe('brisk add, non-registry specs', () => {
  test('a folder and a local tarball are named after their package, saved and installed as npm saves them', T, async (t) => {
    const p = setup(t, { name: 'x', version: '1.0.0' })
    fs.mkdirSync(p.file('libs/helper'), { recursive: true })
    fs.writeFileSync(p.file('libs/helper/package.json'), JSON.stringify({ name: 'helper', version: '0.1.0' }))
    const tgz = Buffer.from(await (await fetch(`${reg.url}strbin/-/strbin-1.0.0.tgz`)).arrayBuffer())
    fs.writeFileSync(p.file('strbin-1.0.0.tgz'), tgz)
    const r = await cli(p, ['add', './libs/helper', 'strbin-1.0.0.tgz'])
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(p.json('package.json').dependencies, { helper: 'file:libs/helper', strbin: 'file:strbin-1.0.0.tgz' })
    assert.equal(fs.readlinkSync(p.file('node_modules/helper')), '../libs/helper')
    assert.equal(p.json('node_modules/strbin/package.json').version, '1.0.0')
    assert.equal(p.lock().packages['node_modules/strbin'].resolved, 'file:strbin-1.0.0.tgz')

    const bad = await cli(p, ['add', './nowhere'])
    assert.notEqual(bad.status, 0)
    assert.match(bad.stderr, /E_MANIFEST|E_NOT_FOUND/)
  })
})
