'use strict'
// brisk on a real manifest from the public registry
// (shared/fixtures/platform-and-peers: esbuild, @swc/core, sharp, fsevents,
// react, styled-components, eslint, typescript, …), checked with real npm.
// Needs the network; skipped with BRISK_SKIP_REAL=1.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const h = require('./helpers.js')

const REGISTRY = 'https://registry.npmjs.org/'
// The repo and shared/ sit side by side (CI: a clone with shared/ beside it).
const FIXTURE = path.join(__dirname, '..', '..', 'shared', 'fixtures', 'platform-and-peers')

const skip = process.env.BRISK_SKIP_REAL === '1'
  ? 'BRISK_SKIP_REAL=1'
  : !fs.existsSync(path.join(FIXTURE, 'package.json')) ? `no fixture at ${FIXTURE}` : false

/** Run an operation; retry once if the network failed. */
async function withRetry(fn) {
  try {
    return await fn()
  } catch (err) {
    if (err && err.code === 'E_NETWORK') return fn()
    throw err
  }
}

async function npmWithRetry(args, o) {
  const r = await h.npm(args, o)
  if (r.status !== 0 && /ECONNRESET|ETIMEDOUT|EAI_AGAIN|socket hang up|E50\d/.test(r.stderr)) return h.npm(args, o)
  return r
}

function ciComplaints(r) {
  return r.stderr.split('\n').filter((l) => /^npm error (Missing|Invalid):/.test(l)).map((l) => l.replace(/^npm error /, '')).sort()
}

test('platform-and-peers from the public registry', { skip, timeout: 900_000 }, async (t) => {
  const brisk = require('../brisk.js')
  const p = h.project()
  t.after(() => p.cleanup())
  h.copyDir(FIXTURE, p.dir)

  const result = await withRetry(() => brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: REGISTRY, env: p.env }))
  assert.ok(result.added > 100, `added ${result.added}`)
  assert.equal(p.lock().lockfileVersion, 3)

  await t.test('npm ls --all accepts the tree', async () => {
    const ls = await h.npm(['ls', '--all'], { cwd: p.dir, env: p.env, cache: p.cache, registry: REGISTRY })
    assert.equal(ls.status, 0, ls.stdout.slice(-4000) + ls.stderr)
  })

  await t.test('installed packages work: require, native platform packages, bins', () => {
    const code = [
      "const assert = require('assert')",
      "assert.equal(require('esbuild').transformSync('let x: number = 1', { loader: 'ts' }).code, 'let x = 1;\\n')",
      "assert.equal(typeof require('sharp'), 'function')",
      "assert.ok(require('@swc/core').transformSync('const a: number = 1', { jsc: { parser: { syntax: 'typescript' } } }).code.includes('a = 1'))",
      "assert.equal(require('react/package.json').version.split('.')[0], '18')",
      "require('styled-components'); require('@tanstack/react-query')"
    ].join(';')
    h.nodeEval(p.dir, code, p.env)
    for (const [bin, arg] of [['tsc', '--version'], ['eslint', '--version'], ['prettier', '--version'], ['rimraf', '--help'], ['esbuild', '--version']]) {
      const r = spawnSync(p.file('node_modules/.bin', bin), [arg], { cwd: p.dir, env: p.env, encoding: 'utf8' })
      assert.equal(r.status, 0, `${bin} ${arg}: ${r.stderr}`)
    }
    assert.ok(!p.exists('node_modules/fsevents'), 'fsevents is darwin-only')
    assert.equal(p.lock().packages['node_modules/fsevents'].optional, true)
  })

  // npm's own lockfile for the same manifest, as the reference.
  const n = h.project()
  t.after(() => n.cleanup())
  h.copyDir(FIXTURE, n.dir)
  const own = await npmWithRetry(['install', '--package-lock-only', '--ignore-scripts'], { cwd: n.dir, env: n.env, cache: n.cache, registry: REGISTRY })
  assert.equal(own.status, 0, own.stderr)

  await t.test('the same packages and versions as npm\'s lockfile', () => {
    assert.deepEqual(h.lockVersions(p.lock()), h.lockVersions(n.lock()))
    assert.deepEqual(p.lock().packages[''], n.lock().packages[''])
  })

  await t.test('npm ci accepts brisk\'s lockfile wherever it accepts npm\'s own', async () => {
    // Here the registry lacks some @swc/core platform builds, so npm ci rejects
    // even npm's own lockfile ("Missing: @swc/core-darwin-arm64@ from lock
    // file"); then brisk's lockfile may draw only the same complaints.
    const check = (dir) => npmWithRetry(['ci', '--dry-run', '--ignore-scripts'], { cwd: dir, env: p.env, cache: p.cache, registry: REGISTRY })
    const ownCi = await check(n.dir)
    const ci = await check(p.dir)
    if (ownCi.status !== 0) {
      assert.ok(ciComplaints(ownCi).length > 0, `npm ci failed on npm's own lockfile for another reason:\n${ownCi.stderr}`)
      const extra = ciComplaints(ci).filter((c) => !ciComplaints(ownCi).includes(c))
      assert.deepEqual(extra, [])
      return
    }
    assert.equal(ci.status, 0, ci.stderr)
    const copy = path.join(p.root, 'ci-copy')
    fs.mkdirSync(copy)
    for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(p.file(f), path.join(copy, f))
    const real = await npmWithRetry(['ci', '--ignore-scripts'], { cwd: copy, env: p.env, cache: p.cache, registry: REGISTRY })
    assert.equal(real.status, 0, real.stderr)
    const ls = await h.npm(['ls', '--all'], { cwd: copy, env: p.env, cache: p.cache, registry: REGISTRY })
    assert.equal(ls.status, 0, ls.stdout.slice(-4000) + ls.stderr)
  })

  await t.test('a repeat install is up to date', async () => {
    const again = await withRetry(() => brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: REGISTRY, env: p.env }))
    assert.equal(again.upToDate, true)
    assert.equal(again.added, 0)
  })

  await t.test('ci from brisk\'s lockfile with a warm cache', async () => {
    const again = await brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: REGISTRY, env: p.env, frozenLockfile: true, clean: true })
    assert.equal(again.downloaded, 0)
    const ls = await h.npm(['ls', '--all'], { cwd: p.dir, env: p.env, cache: p.cache, registry: REGISTRY })
    assert.equal(ls.status, 0, ls.stdout.slice(-4000) + ls.stderr)
  })
})

const MONOREPO = path.join(__dirname, 'projects', 'monorepo')

test('a workspaces monorepo from the public registry (react, express, lodash, zod, typescript; a nested override; a trusted install script)', { skip: process.env.BRISK_SKIP_REAL === '1' && 'BRISK_SKIP_REAL=1', timeout: 600_000 }, async (t) => {
  const brisk = require('../brisk.js')
  const p = h.project()
  const n = h.project()
  t.after(() => { p.cleanup(); n.cleanup() })
  h.copyDir(MONOREPO, p.dir)
  h.copyDir(MONOREPO, n.dir)

  const result = await withRetry(() => brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: REGISTRY, env: p.env }))
  const own = await npmWithRetry(['install', '--package-lock-only', '--ignore-scripts'], { cwd: n.dir, env: n.env, cache: n.cache, registry: REGISTRY })
  assert.equal(own.status, 0, own.stderr)

  await t.test('the same lockfile entries as npm\'s', () => {
    assert.deepEqual(h.lockVersions(p.lock()), h.lockVersions(n.lock()))
    for (const loc of ['', 'packages/web', 'packages/server', 'packages/shared', 'node_modules/@mono/web']) {
      assert.deepEqual(p.lock().packages[loc], n.lock().packages[loc], loc)
    }
  })

  await t.test('overrides: debug@2 under express gets ms@2.1.3, as in npm', () => {
    const ms = Object.entries(p.lock().packages).filter(([loc]) => /(^|\/)ms$/.test(loc)).map(([loc, e]) => `${loc}@${e.version}`)
    assert.ok(ms.some((m) => m.endsWith('@2.1.3')), ms.join(', '))
    assert.ok(!ms.some((m) => m.endsWith('@2.0.0')), ms.join(', '))
  })

  await t.test('the trusted esbuild ran its install script; nothing else did', () => {
    assert.deepEqual(result.scriptsRun, ['esbuild@' + p.json('node_modules/esbuild/package.json').version + ' postinstall'])
    const r = spawnSync(p.file('node_modules/.bin/esbuild'), ['--version'], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
  })

  await t.test('workspaces work together: require across them, bins', () => {
    assert.equal(h.nodeEval(p.dir, "process.stdout.write(require('@mono/web')())", p.env), '<b class="x">2</b>')
    h.nodeEval(p.file('packages/server'), "const s = require('@mono/server'); if (typeof s.express !== 'function' || !s.shared.z) process.exit(1)", p.env)
    const r = spawnSync(p.file('node_modules/.bin/mono-shared'), [], { encoding: 'utf8' })
    assert.equal(r.stdout, 'mono-shared\n')
    const tsc = spawnSync(p.file('node_modules/.bin/tsc'), ['--version'], { encoding: 'utf8' })
    assert.equal(tsc.status, 0, tsc.stderr)
  })

  await t.test('npm ls --all accepts the tree, npm ci takes the lockfile', async () => {
    const ls = await h.npm(['ls', '--all'], { cwd: p.dir, env: p.env, cache: p.cache, registry: REGISTRY })
    assert.equal(ls.status, 0, ls.stdout.slice(-4000) + ls.stderr)
    const copy = path.join(p.root, 'ci-copy')
    h.copyDir(MONOREPO, copy)
    fs.copyFileSync(p.file('package-lock.json'), path.join(copy, 'package-lock.json'))
    const ci = await npmWithRetry(['ci', '--ignore-scripts'], { cwd: copy, env: p.env, cache: p.cache, registry: REGISTRY })
    assert.equal(ci.status, 0, ci.stderr)
    assert.deepEqual(h.installedTree(copy), h.installedTree(p.dir))
  })
})

const NPM_CLI = path.join(__dirname, '..', '..', 'shared', 'fixtures', 'npm-cli')

test('npm/cli\'s monorepo: brisk add <pkg> -w workspaces/arborist, then remove, leaves every file as it was', {
  skip: process.env.BRISK_SKIP_REAL === '1' ? 'BRISK_SKIP_REAL=1' : !fs.existsSync(path.join(NPM_CLI, 'package.json')) && `no fixture at ${NPM_CLI}`,
  timeout: 900_000
}, async (t) => {
  const p = h.project()
  t.after(() => p.cleanup())
  h.copyDir(NPM_CLI, p.dir)
  const cli = (args) => h.cli([...args, '--ignore-scripts', '--registry', REGISTRY, '--cache-dir', p.cache], { cwd: p.dir, env: p.env, timeout: 600_000 })
  const retry = async (args) => {
    const r = await cli(args)
    return r.status !== 0 && /E_NETWORK/.test(r.stderr) ? cli(args) : r
  }
  let r = await retry(['install'])
  assert.equal(r.status, 0, r.stderr)
  // Content (and symlink targets) of every file, node_modules included.
  const contents = () => Object.fromEntries(Object.entries(h.snapshot(p.dir))
    .filter(([f]) => !f.endsWith('.brisk-state'))
    .map(([f, v]) => [f, v.startsWith('link:') || v === 'dir' ? v : v.split(':').pop()]))
  const before = contents()
  const arborist = p.read('workspaces/arborist/package.json')

  r = await retry(['add', 'is-number@7.0.0', '-w', 'workspaces/arborist'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(p.json('workspaces/arborist/package.json').dependencies['is-number'], '^7.0.0')
  assert.equal(p.json('package.json').dependencies['is-number'], undefined, 'the root package.json is not edited')
  assert.ok(p.lock().packages['workspaces/arborist'].dependencies['is-number'])
  assert.ok(p.exists('node_modules/is-number/package.json') || p.exists('workspaces/arborist/node_modules/is-number/package.json'))

  r = await retry(['remove', 'is-number', '-w', 'workspaces/arborist'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(p.read('workspaces/arborist/package.json'), arborist)
  assert.deepEqual(contents(), before)
})
