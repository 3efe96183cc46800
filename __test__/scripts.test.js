'use strict'
// Lifecycle scripts against the local registry: trust (untrusted packages
// are skipped and named), the environment, npm's order, failures (E_SCRIPT,
// optional packages dropped), private copies (the cache never changes) and
// the up-to-date fast path (nothing runs twice).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const brisk = require('../brisk.js')
const h = require('./helpers.js')

const T = { timeout: 60_000 }
const { reg, opts, setup } = h.localRegistry()

const ran = (p, name) => p.exists('node_modules', name, 'postinstall-ran')

test('untrusted: not run, named in the result and the CLI output', T, async (t) => {
  const p = setup(t, { dependencies: { scripted: '1.0.0', leaf: '1.0.0' } }, { npmrc: `registry=${reg.url}\n` })
  const r = await h.cli(['install', '--cache-dir', p.cache], { cwd: p.dir, env: p.env })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(ran(p, 'scripted'), false)
  assert.match(r.stdout, /1 package has install scripts that were not run: scripted@1\.0\.0/)
  assert.match(r.stdout, /add "trustedDependencies": \["scripted"\] to package\.json or run with --allow-scripts/)
  // The JSON result says the same.
  const again = await brisk.install(opts(p, { clean: true }))
  assert.deepEqual(again.scriptsNotRun, ['scripted@1.0.0'])
  assert.deepEqual(again.scriptsRun, [])
})

test('trustedDependencies: runs with npm\'s environment; a repeat install runs nothing', T, async (t) => {
  const p = setup(t, { dependencies: { 'script-env': '1.0.0', scripted: '1.0.0' }, trustedDependencies: ['script-env'] })
  const r = await brisk.install(opts(p, { env: { ...p.env, npm_package_name: 'outer', npm_config_foo: 'bar' } }))
  assert.deepEqual(r.scriptsRun, ['script-env@1.0.0 postinstall'])
  assert.deepEqual(r.scriptsNotRun, ['scripted@1.0.0'])
  assert.equal(ran(p, 'scripted'), false)
  const dir = p.file('node_modules', 'script-env')
  const env = p.json('node_modules', 'script-env', 'env.json')
  assert.equal(env.npm_lifecycle_event, 'postinstall')
  assert.match(env.npm_lifecycle_script, /^node -e /)
  assert.equal(env.npm_package_name, 'script-env')
  assert.equal(env.npm_package_version, '1.0.0')
  assert.equal(env.npm_package_config_port, '8080')
  assert.equal(env.npm_package_json, path.join(dir, 'package.json'))
  assert.equal(env.npm_package_resolved, `${reg.url}script-env/-/script-env-1.0.0.tgz`)
  assert.match(env.npm_package_integrity, /^sha512-/)
  assert.match(env.npm_config_user_agent, /^brisk\//)
  assert.equal(env.npm_config_registry, reg.url)
  assert.equal(env.npm_config_cache, p.cache)
  assert.equal(env.npm_config_foo, 'bar', 'the caller\'s npm_config_* are passed on')
  assert.equal(env.INIT_CWD, process.cwd())
  assert.equal(env.NODE, process.execPath)
  assert.equal(env.npm_node_execpath, process.execPath)
  const PATH = env.PATH.split(path.delimiter)
  assert.deepEqual(PATH.slice(0, 4), [
    path.join(dir, 'node_modules', '.bin'),
    path.join(p.dir, 'node_modules', 'node_modules', '.bin'),
    path.join(p.dir, 'node_modules', '.bin'),
    path.join(p.root, 'node_modules', '.bin')
  ])
  // .bin links exist before scripts run: the dependency's bin worked via PATH.
  assert.equal(p.json('node_modules', 'script-env', 'tool-out.json').bin, 'tool')

  // Nothing changed: the fast path, no script runs again.
  fs.rmSync(path.join(dir, 'env.json'))
  const again = await brisk.install(opts(p))
  assert.equal(again.upToDate, true)
  assert.equal(p.exists('node_modules', 'script-env', 'env.json'), false)
  // A change elsewhere (a new package) reifies, but kept packages do not rerun.
  const pkg = p.json('package.json')
  pkg.dependencies.leaf = '1.0.0'
  fs.writeFileSync(p.file('package.json'), JSON.stringify(pkg, null, 2))
  const third = await brisk.install(opts(p))
  assert.equal(third.added, 1)
  assert.deepEqual(third.scriptsRun, [])
  assert.equal(p.exists('node_modules', 'script-env', 'env.json'), false)
})

test('trusting a package later runs its scripts once; pnpm.onlyBuiltDependencies counts', T, async (t) => {
  const p = setup(t, { dependencies: { scripted: '1.0.0' } })
  await brisk.install(opts(p))
  assert.equal(ran(p, 'scripted'), false)
  const pkg = p.json('package.json')
  pkg.pnpm = { onlyBuiltDependencies: ['scripted'] }
  fs.writeFileSync(p.file('package.json'), JSON.stringify(pkg, null, 2))
  const r = await brisk.install(opts(p))
  assert.deepEqual(r.scriptsRun, ['scripted@1.0.0 postinstall'])
  assert.deepEqual(r.scriptsNotRun, [])
  assert.equal(r.added, 0)
  assert.equal(ran(p, 'scripted'), true)
  // Once: touching package.json again does not rerun it.
  fs.rmSync(p.file('node_modules', 'scripted', 'postinstall-ran'))
  fs.writeFileSync(p.file('package.json'), JSON.stringify(pkg, null, 2) + '\n')
  const again = await brisk.install(opts(p))
  assert.deepEqual(again.scriptsRun, [])
  assert.equal(ran(p, 'scripted'), false)
})

test('--allow-scripts runs every package\'s scripts; --ignore-scripts none, the root\'s included', T, async (t) => {
  const p = setup(t, {
    dependencies: { scripted: '1.0.0' },
    scripts: { postinstall: 'node -e "require(\'fs\').writeFileSync(\'root-ran\', \'\')"' }
  }, { npmrc: `registry=${reg.url}\n` })
  const ignored = await h.cli(['install', '--ignore-scripts', '--cache-dir', p.cache], { cwd: p.dir, env: p.env })
  assert.equal(ignored.status, 0, ignored.stderr)
  assert.equal(ran(p, 'scripted'), false)
  assert.equal(p.exists('root-ran'), false)
  assert.doesNotMatch(ignored.stdout, /trustedDependencies/)

  const allowed = await h.cli(['install', '--allow-scripts', '--json', '--cache-dir', p.cache], { cwd: p.dir, env: p.env })
  assert.equal(allowed.status, 0, allowed.stderr)
  assert.deepEqual(JSON.parse(allowed.stdout).scriptsRun, ['scripted@1.0.0 postinstall', 'postinstall'])
  assert.equal(ran(p, 'scripted'), true)
  assert.equal(p.exists('root-ran'), true)
})

test('.npmrc allow-scripts=true and ignore-scripts=true', T, async (t) => {
  const p = setup(t, { dependencies: { scripted: '1.0.0' } }, { npmrc: 'allow-scripts=true\n' })
  const r = await brisk.install(opts(p))
  assert.deepEqual(r.scriptsRun, ['scripted@1.0.0 postinstall'])
  const q = setup(t, { dependencies: { scripted: '1.0.0' }, trustedDependencies: ['scripted'] }, { npmrc: 'ignore-scripts=true\n' })
  const r2 = await brisk.install(opts(q))
  assert.deepEqual(r2.scriptsRun, [])
  assert.equal(ran(q, 'scripted'), false)
})

test('npm\'s order: dependencies by phase (shallow first), then the root\'s events', T, async (t) => {
  const p = setup(t, {
    dependencies: { 'script-phases': '1.0.0' },
    trustedDependencies: ['script-phases', 'script-phases-child'],
    scripts: Object.fromEntries(['preinstall', 'install', 'postinstall', 'preprepare', 'prepare', 'postprepare', 'test']
      .map((e) => [e, 'echo "root $npm_lifecycle_event" >> "$BRISK_TEST_LOG"']))
  })
  const log = path.join(p.root, 'order.log')
  const r = await brisk.install(opts(p, { env: { ...p.env, BRISK_TEST_LOG: log } }))
  // Scripts of one phase run in parallel: compare each phase as a set.
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n')
  const phase = (l) => ['preinstall', 'install', 'postinstall'].indexOf(l.split(' ')[1])
  const deps = lines.slice(0, 5)
  assert.deepEqual(deps.map(phase), [0, 0, 1, 2, 2], lines.join('\n'))
  assert.deepEqual(deps.slice().sort(), [
    'script-phases install',
    'script-phases postinstall',
    'script-phases preinstall',
    'script-phases-child postinstall',
    'script-phases-child preinstall'
  ])
  assert.deepEqual(lines.slice(5), [
    'root preinstall',
    'root install',
    'root postinstall',
    'root preprepare',
    'root prepare',
    'root postprepare'
  ])
  assert.equal(r.scriptsRun.length, 11)
})

test('a failing script: E_SCRIPT naming package, event, exit code, with its output; CLI exits 1', T, async (t) => {
  const p = setup(t, { dependencies: { 'script-fails': '1.0.0' }, trustedDependencies: ['script-fails'] }, { npmrc: `registry=${reg.url}\n` })
  const err = await h.rejection(brisk.install(opts(p)))
  assert.equal(err.code, 'E_SCRIPT')
  assert.match(err.message, /postinstall script of script-fails@1\.0\.0 failed with exit code 3/)
  assert.match(err.message, /about to fail: xyzzy/)
  assert.match(err.message, /on stderr: plugh/)
  assert.equal(p.exists('package-lock.json'), false, 'a failed install writes no lockfile')
  const r = await h.cli(['install', '--cache-dir', p.cache], { cwd: p.dir, env: p.env })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /^brisk ERR! E_SCRIPT .*script-fails@1\.0\.0/m)
  assert.match(r.stderr, /xyzzy/)
})

test('a failing root script: E_SCRIPT, and the next install is not "up to date"', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '1.0.0' }, scripts: { prepare: 'echo broken-prepare; exit 5' } })
  const err = await h.rejection(brisk.install(opts(p)))
  assert.equal(err.code, 'E_SCRIPT')
  assert.match(err.message, /prepare script of the project fixture-project@1\.0\.0 failed with exit code 5/)
  assert.match(err.message, /broken-prepare/)
  const again = await h.rejection(brisk.install(opts(p)))
  assert.equal(again.code, 'E_SCRIPT')
})

test('a failing optional dependency\'s script drops the package; the install succeeds', T, async (t) => {
  const p = setup(t, {
    dependencies: { leaf: '1.0.0' },
    optionalDependencies: { 'script-fails': '1.0.0' },
    trustedDependencies: ['script-fails']
  })
  const r = await brisk.install(opts(p))
  assert.equal(p.exists('node_modules', 'script-fails'), false)
  assert.equal(p.exists('node_modules', 'leaf'), true)
  assert.ok(r.warnings.some((w) => /script-fails@1\.0\.0.*postinstall script failed/.test(w)), r.warnings.join('\n'))
  assert.equal(r.packages, 1)
  assert.equal(p.lock().packages['node_modules/script-fails'].optional, true, 'the lockfile still lists it')
  assert.equal(p.json('node_modules', '.package-lock.json').packages['node_modules/script-fails'], undefined)
})

test('a script writing into its package does not change the cache', T, async (t) => {
  const p = setup(t, { dependencies: { 'script-appends': '1.0.0', leaf: '1.0.0' }, trustedDependencies: ['script-appends'] })
  await brisk.install(opts(p))
  const installed = p.file('node_modules', 'script-appends', 'index.js')
  assert.match(fs.readFileSync(installed, 'utf8'), /MODIFIED-BY-POSTINSTALL/)
  assert.deepEqual(h.filesContaining(p.cache, 'MODIFIED-BY-POSTINSTALL'), [])
  // The cached copy is a different file; untrusted packages still share inodes.
  const cached = h.listFiles(p.cache).filter((f) => f.endsWith('index.js') && fs.readFileSync(f, 'utf8').includes('script-appends'))
  assert.ok(cached.length >= 1, 'the cache holds script-appends/index.js')
  assert.ok(cached.every((f) => fs.statSync(f).ino !== fs.statSync(installed).ino))
  // A second project from the same cache gets the pristine file.
  const q = setup(t, { dependencies: { 'script-appends': '1.0.0' } })
  await brisk.install(opts(q, { cacheDir: p.cache }))
  assert.doesNotMatch(q.read('node_modules', 'script-appends', 'index.js'), /MODIFIED/)
})

test('binding.gyp without an install script runs node-gyp rebuild (from PATH)', T, async (t) => {
  const p = setup(t, { dependencies: { 'gyp-native': '1.0.0' }, trustedDependencies: ['gyp-native'] })
  const bin = path.join(p.root, 'fake-bin')
  fs.mkdirSync(bin)
  fs.writeFileSync(path.join(bin, 'node-gyp'), '#!/bin/sh\necho "$@" > gyp-ran\n', { mode: 0o755 })
  const env = { ...p.env, PATH: `${bin}${path.delimiter}${p.env.PATH}` }
  const r = await brisk.install(opts(p, { env }))
  assert.deepEqual(r.scriptsRun, ['gyp-native@1.0.0 install'])
  assert.equal(p.read('node_modules', 'gyp-native', 'gyp-ran').trim(), 'rebuild')
})

test('link (offline) runs trusted dependency scripts but not the project\'s', T, async (t) => {
  const p = setup(t, {
    dependencies: { scripted: '1.0.0' },
    trustedDependencies: ['scripted'],
    scripts: { postinstall: 'echo no > root-ran' }
  })
  await brisk.install(opts(p, { lockfileOnly: true }))
  await brisk.prefetch(opts(p))
  const r = await brisk.link(opts(p))
  assert.deepEqual(r.scriptsRun, ['scripted@1.0.0 postinstall'])
  assert.equal(ran(p, 'scripted'), true)
  assert.equal(p.exists('root-ran'), false)
})

test('cancelling kills a running script', T, async (t) => {
  const p = setup(t, {
    dependencies: { leaf: '1.0.0' },
    scripts: { postinstall: 'node -e "const fs = require(\'fs\'); fs.writeFileSync(\'started\', \'\'); setTimeout(() => fs.writeFileSync(\'late\', \'\'), 3000)"' }
  })
  const ac = new AbortController()
  const pending = brisk.install(opts(p, { signal: ac.signal }))
  const deadline = Date.now() + 20_000
  while (!p.exists('started') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  assert.ok(p.exists('started'), 'the script started')
  const abortedAt = Date.now()
  ac.abort()
  const err = await h.rejection(pending)
  assert.equal(err.code, 'E_CANCELLED')
  assert.ok(Date.now() - abortedAt < 2000, 'did not wait for the script')
  await new Promise((resolve) => setTimeout(resolve, 3500))
  assert.equal(p.exists('late'), false, 'the script was killed')
})

test("script output: the project's own shown as npm shows it (on stderr), dependencies' with --foreground-scripts", T, async (t) => {
  const p = setup(t, {
    dependencies: { leaf: '1.0.0' },
    scripts: { postinstall: 'echo root-says-hello; echo root-on-stderr >&2' }
  }, { npmrc: `registry=${reg.url}\n` })
  const r = await h.cli(['install', '--cache-dir', p.cache], { cwd: p.dir, env: p.env })
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stderr, /> fixture-project@1\.0\.0 postinstall\n> echo root-says-hello; echo root-on-stderr >&2\n\nroot-says-hello\nroot-on-stderr\n/)
  assert.doesNotMatch(r.stdout, /root-says-hello/, 'stdout keeps only the summary')
  const loud = await h.cli(['ci', '--foreground-scripts', '--cache-dir', p.cache], { cwd: p.dir, env: p.env })
  assert.equal(loud.status, 0, loud.stderr)
  assert.match(loud.stderr, /root-says-hello\nroot-on-stderr/)
})
