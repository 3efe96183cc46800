'use strict'
// Peer dependency conflicts (npm's ERESOLVE) and package.json overrides,
// through the CLI and the API, next to real npm on the local registry.
// (The conflict-free cases are compat.test.js scenarios: peer-replace, overrides.)

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const brisk = require('../brisk.js')
const { startRegistry } = require('./registry.js')
const h = require('./helpers.js')

const T = { timeout: 120_000 }
let reg
before(async () => { reg = await startRegistry() })
after(async () => { await reg.close() })

const cliArgs = (p, ...extra) => ['install', '--registry', reg.url, '--cache-dir', p.cache, '--ignore-scripts', ...extra]

// peer-clash wants peer-host@^2 and peer-plugin, whose peer is peer-host@^1;
// the root pins peer-host@^2, so the plugin's peer cannot be met anywhere.
const BELOW_ROOT = { name: 'proj', version: '1.0.0', dependencies: { 'peer-host': '^2.0.0', 'peer-clash': '^1.0.0' } }
// The root itself wants peer-host@2 and peer-plugin (peer peer-host@^1).
const AT_ROOT = { name: 'proj', version: '1.0.0', dependencies: { 'peer-host': '^2.0.0', 'peer-plugin': '^1.0.0' } }

test('a peer conflict below the root warns like npm and installs what npm installs', T, async (t) => {
  const p = h.project(BELOW_ROOT)
  const n = h.project(BELOW_ROOT)
  t.after(() => { p.cleanup(); n.cleanup() })
  const r = await h.cli(cliArgs(p), { cwd: p.dir, env: p.env })
  assert.equal(r.status, 0, r.stderr)
  const warning = [
    'brisk WARN ERESOLVE overriding peer dependency',
    'brisk WARN While resolving: peer-plugin@1.0.0',
    'brisk WARN Found: peer-host@2.0.0',
    'brisk WARN node_modules/peer-host',
    'brisk WARN   peer-host@"^2.0.0" from the root project',
    'brisk WARN   peer-host@"^2.0.0" from peer-clash@1.0.0',
    'brisk WARN',
    'brisk WARN Could not resolve dependency:',
    'brisk WARN peer peer-host@"^1.0.0" from peer-plugin@1.0.0',
    'brisk WARN node_modules/peer-plugin',
    'brisk WARN   peer-plugin@"^1.0.0" from peer-clash@1.0.0'
  ].join('\n')
  assert.ok(r.stderr.includes(warning), r.stderr)

  const ni = await h.npm(['install', '--ignore-scripts'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
  assert.equal(ni.status, 0, ni.stderr)
  assert.match(ni.stderr, /ERESOLVE overriding peer dependency/)
  assert.deepEqual(h.installedTree(p.dir), h.installedTree(n.dir))
  assert.deepEqual(p.lock(), n.lock(), 'the same package-lock.json as npm')
})

test('--strict-peer-deps makes a conflict below the root fail with E_PEER_CONFLICT; --force wins', T, async (t) => {
  const p = h.project(BELOW_ROOT)
  t.after(() => p.cleanup())
  const r = await h.cli(cliArgs(p, '--strict-peer-deps'), { cwd: p.dir, env: p.env })
  assert.equal(r.status, 1, r.stdout + r.stderr)
  assert.match(r.stderr, /^brisk ERR! E_PEER_CONFLICT ERESOLVE unable to resolve dependency tree$/m)
  assert.match(r.stderr, /peer peer-host@"\^1\.0\.0" from peer-plugin@1\.0\.0/)
  assert.match(r.stderr, /--no-strict-peer-deps, --force, or --legacy-peer-deps/)
  assert.equal(fs.existsSync(p.file('package-lock.json')), false, 'no lockfile written')
  assert.equal(fs.existsSync(p.file('node_modules')), false, 'nothing installed')

  const f = await h.cli(cliArgs(p, '--strict-peer-deps', '--force'), { cwd: p.dir, env: p.env })
  assert.equal(f.status, 0, f.stderr)
  assert.match(f.stderr, /brisk WARN ERESOLVE overriding peer dependency/)
})

test('a conflict with the project\'s own dependency fails like npm (ERESOLVE), unless forced', T, async (t) => {
  const p = h.project(AT_ROOT)
  const n = h.project(AT_ROOT)
  t.after(() => { p.cleanup(); n.cleanup() })
  const err = await h.rejection(brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env }))
  assert.equal(err.code, 'E_PEER_CONFLICT')
  for (const line of [
    'While resolving: proj@1.0.0',
    'Found: peer-host@2.0.0\nnode_modules/peer-host\n  peer-host@"^2.0.0" from the root project',
    'Could not resolve dependency:\npeer peer-host@"^1.0.0" from peer-plugin@1.0.0\nnode_modules/peer-plugin\n  peer-plugin@"^1.0.0" from the root project',
    'retry this command with --force or --legacy-peer-deps'
  ]) assert.ok(err.message.includes(line), `${JSON.stringify(line)} in:\n${err.message}`)
  const ni = await h.npm(['install', '--ignore-scripts'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
  assert.notEqual(ni.status, 0)
  assert.match(ni.stderr, /ERESOLVE/)

  const forced = await brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env, force: true })
  assert.equal(forced.warnings.filter((w) => w.startsWith('ERESOLVE overriding peer dependency')).length, 1, forced.warnings.join('\n'))
  const nf = await h.npm(['install', '--ignore-scripts', '--force'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
  assert.equal(nf.status, 0, nf.stderr)
  assert.deepEqual(h.installedTree(p.dir), h.installedTree(n.dir))
  assert.deepEqual(h.lockVersions(p.lock()), h.lockVersions(n.lock()))

  const legacy = await brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env, legacyPeerDeps: true })
  assert.deepEqual(legacy.warnings, [])
})

test('overrides: E_OVERRIDE for a direct dependency, and a changed override re-resolves the lockfile', T, async (t) => {
  const p = h.project({ name: 'proj', version: '1.0.0', dependencies: { leaf: '^1.0.0' }, overrides: { leaf: '2.0.0' } })
  t.after(() => p.cleanup())
  const r = await h.cli(cliArgs(p), { cwd: p.dir, env: p.env })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /^brisk ERR! E_OVERRIDE Override for leaf@\^1\.0\.0 conflicts with direct dependency/m)

  const manifest = (over) => ({ name: 'proj', version: '1.0.0', dependencies: { mid: '^1.0.0' }, overrides: over })
  fs.writeFileSync(p.file('package.json'), JSON.stringify(manifest({ mid: { leaf: '2.0.0' } })))
  await brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env })
  assert.equal(p.lock().packages['node_modules/leaf'].version, '2.0.0')
  // In sync: a frozen install accepts the lockfile with the nested override.
  await brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env, frozenLockfile: true })
  // Changed: the lockfile is stale (frozen fails), a normal install follows it.
  fs.writeFileSync(p.file('package.json'), JSON.stringify(manifest({ mid: { leaf: '2.1.0' } })))
  const err = await h.rejection(brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env, frozenLockfile: true }))
  assert.equal(err.code, 'E_FROZEN_LOCKFILE')
  await brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env })
  assert.equal(p.lock().packages['node_modules/leaf'].version, '2.1.0')
  const ls = await h.npm(['ls', '--all'], { cwd: p.dir, env: p.env, cache: p.cache, registry: reg.url })
  assert.equal(ls.status, 0, ls.stdout + ls.stderr)
})

test('overrides reach a workspace\'s dependencies in a lockfile\'s tree: ci accepts the lockfile npm and brisk write', T, async (t) => {
  // mid wants leaf@^2; the root's override pins leaf to its own ^1 ($leaf).
  const make = () => {
    const p = h.project({ workspaces: ['w'], dependencies: { leaf: '^1.0.0' }, overrides: { leaf: '$leaf' } })
    fs.mkdirSync(p.file('w'))
    fs.writeFileSync(p.file('w', 'package.json'), JSON.stringify({ name: 'w', version: '1.0.0', dependencies: { mid: '1.0.0' } }))
    t.after(() => p.cleanup())
    return p
  }
  const p = make()
  const n = make()
  const r = await h.npm(['install', '--package-lock-only', '--ignore-scripts'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
  assert.equal(r.status, 0, r.stderr)
  await brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env, ignoreScripts: true, lockfileOnly: true })
  assert.equal(p.read('package-lock.json'), n.read('package-lock.json'), 'byte-identical lockfile')
  assert.equal(p.lock().packages['node_modules/leaf'].version, '1.1.0')
  // The frozen check builds the tree from the lockfile: the override must hold there too.
  const ci = await h.cli(['ci', '--registry', reg.url, '--cache-dir', n.cache, '--ignore-scripts'], { cwd: n.dir, env: n.env })
  assert.equal(ci.status, 0, ci.stderr)
  assert.equal(n.json('node_modules', 'leaf', 'package.json').version, '1.1.0')
})
