'use strict'
// brisk.install() against the local registry: what lands on disk, what the
// lockfile says, what the network saw, and what a second run does.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const brisk = require('../brisk.js')
const { scenarios } = require('./scenarios.js')
const h = require('./helpers.js')

const T = { timeout: 60_000 }
const { reg, opts, setup } = h.localRegistry()

function assertResultShape(r) {
  for (const k of ['added', 'removed', 'reused', 'downloaded', 'bytes', 'packages']) {
    assert.equal(typeof r[k], 'number', `result.${k} is a number`)
    assert.ok(r[k] >= 0, `result.${k} >= 0`)
  }
  assert.equal(typeof r.upToDate, 'boolean')
  assert.equal(typeof r.lockfileWritten, 'boolean')
  assert.ok(Array.isArray(r.scriptsNotRun))
  assert.ok(Array.isArray(r.warnings))
  for (const k of ['resolveMs', 'fetchMs', 'linkMs', 'totalMs']) {
    assert.equal(typeof r.timings[k], 'number', `timings.${k} is a number`)
  }
}

test('installs a tree with version conflicts; require() finds the right copies', T, async (t) => {
  const p = setup(t, scenarios['nested-conflicts'].manifest)
  const r = await brisk.install(opts(p))
  assertResultShape(r)
  assert.deepEqual(h.installedTree(p.dir), scenarios['nested-conflicts'].npmTree)
  assert.equal(r.added, 11)
  assert.equal(r.removed, 0)
  assert.equal(r.packages, 11)
  assert.equal(r.upToDate, false)
  assert.equal(r.lockfileWritten, true)

  // Each tarball and packument fetched once, even when used in several places.
  const tarballs = reg.requestsOf('tarball').map((q) => q.url)
  assert.deepEqual(tarballs.length, new Set(tarballs).size, `tarballs fetched more than once: ${tarballs}`)
  const packuments = reg.requestsOf('packument').map((q) => q.name)
  assert.deepEqual(packuments.length, new Set(packuments).size, `packuments fetched more than once: ${packuments}`)
  assert.equal(r.downloaded, tarballs.length)
  assert.equal(r.downloaded, 8, 'eight distinct tarballs, the cache was empty')
  const tarballBytes = reg.tarballBytes()
  assert.ok(tarballBytes > 0)
  assert.ok(r.bytes >= tarballBytes, `bytes ${r.bytes} >= ${tarballBytes}`)

  const req = (name) => h.requireIn(p.dir, name, p.env)
  assert.equal(req('leaf').version, '1.1.0')
  assert.deepEqual(req('mid').deps, { leaf: '2.1.0' })
  assert.deepEqual(req('mid2').deps, { leaf: '2.1.0' })
  assert.deepEqual(req('deep-a').deps, { 'deep-b': '1.0.0' })
  assert.deepEqual(req('deep-b').deps, { leaf: '2.1.0' })
  assert.deepEqual(req('uses-leaf1').deps, { leaf: '1.1.0' })
  assert.deepEqual(req('@scope/pkg'), { name: '@scope/pkg', version: '1.1.0', deps: { leaf: '1.1.0' } })
  assert.deepEqual(req('leaf-two'), { name: 'leaf', version: '2.1.0', deps: {} })
  // Package files are complete.
  assert.equal(p.read('node_modules/leaf/README.md'), '# leaf\n')
})

test('writes a v3 lockfile: root entry, versions, resolved, integrity, alias names', T, async (t) => {
  const p = setup(t, scenarios['nested-conflicts'].manifest)
  await brisk.install(opts(p))
  const text = p.read('package-lock.json')
  assert.ok(text.endsWith('\n'), 'ends with a newline')
  assert.match(text, /^\{\n {2}"name": "fixture-project",/, 'two-space indentation, name first')
  const lock = JSON.parse(text)
  assert.equal(lock.lockfileVersion, 3)
  assert.equal(lock.requires, true)
  assert.equal(lock.name, 'fixture-project')
  assert.equal(lock.version, '1.0.0')
  assert.deepEqual(lock.packages[''], {
    name: 'fixture-project',
    version: '1.0.0',
    dependencies: scenarios['nested-conflicts'].manifest.dependencies
  })
  assert.deepEqual(h.lockVersions(lock), scenarios['nested-conflicts'].lockTree)
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key === '') continue
    const name = entry.name || key.split('node_modules/').pop()
    assert.equal(entry.integrity, reg.integrity(name, entry.version), `${key} integrity`)
    assert.equal(entry.resolved, reg.tarballUrl(name, entry.version), `${key} resolved`)
  }
  assert.equal(lock.packages['node_modules/leaf-two'].name, 'leaf')
  assert.deepEqual(lock.packages['node_modules/mid'].dependencies, { leaf: '^2.0.0' })
  assert.deepEqual(lock.packages['node_modules/leaf'].engines, { node: '>=10' })
  assert.deepEqual(Object.keys(lock.packages), [...Object.keys(lock.packages)].sort((a, b) => a.localeCompare(b, 'en')),
    'entries sorted by path like npm')
})

test('bins: .bin links for object, string and scoped bins, executable and runnable', T, async (t) => {
  const p = setup(t, { dependencies: { tool: '^1.0.0', strbin: '^1.0.0', '@scope/cli': '^1.0.0' } })
  await brisk.install(opts(p))
  const bins = { tool: 'tool', 'tool-extra': 'tool', strbin: 'strbin', cli: '@scope/cli' }
  assert.deepEqual(fs.readdirSync(p.file('node_modules/.bin')).sort(), Object.keys(bins).sort())
  for (const [bin, pkg] of Object.entries(bins)) {
    const file = p.file('node_modules/.bin', bin)
    assert.ok(fs.statSync(file).mode & 0o100, `.bin/${bin} is executable`)
    const out = spawnSync(file, [], { cwd: p.dir, env: p.env, encoding: 'utf8' })
    assert.equal(out.status, 0, `.bin/${bin} runs: ${out.stderr}`)
    assert.deepEqual(JSON.parse(out.stdout), { bin, name: pkg, version: '1.0.0' })
  }
  // npm links bins relatively, so a moved project keeps working.
  assert.equal(fs.readlinkSync(p.file('node_modules/.bin/tool')), path.join('..', 'tool', 'bin', 'tool.js'))
  assert.deepEqual(p.lock().packages['node_modules/strbin'].bin, { strbin: 'cli.js' })
})

test('optional platform packages: only matching ones installed, all in the lockfile', T, async (t) => {
  const p = setup(t, { dependencies: { 'has-native': '^1.0.0' } })
  const r = await brisk.install(opts(p))
  assert.deepEqual(h.installedTree(p.dir), {
    'node_modules/has-native': '1.0.0',
    'node_modules/native-linux': '1.0.0'
  })
  const lock = p.lock()
  for (const name of ['native-win', 'native-darwin-arm', 'native-linux-mips', 'native-linux-musl']) {
    const entry = lock.packages[`node_modules/${name}`]
    assert.ok(entry, `${name} is in the lockfile`)
    assert.equal(entry.optional, true)
    assert.equal(entry.integrity, reg.integrity(name, '1.0.0'))
    assert.equal(reg.requestsOf('tarball', name).length, 0, `${name}'s tarball is not downloaded`)
  }
  assert.deepEqual(lock.packages['node_modules/native-win'].os, ['win32'])
  assert.deepEqual(lock.packages['node_modules/native-win'].cpu, ['x64'])
  assert.deepEqual(lock.packages['node_modules/native-linux-musl'].libc, ['musl'])
  assert.equal(lock.packages['node_modules/native-gone'], undefined, 'a 404 optional leaves no entry (like npm)')
  assert.ok(r.warnings.some((w) => w.includes('native-gone')), `a warning names native-gone: ${r.warnings}`)
  assert.ok(!r.warnings.some((w) => w.includes('native-win')), 'platform skips are not warnings')
  assert.equal(h.requireIn(p.dir, 'has-native', p.env).deps['native-linux'], '1.0.0')
})

test('a root optional dependency that 404s is skipped with a warning', T, async (t) => {
  const p = setup(t, scenarios['optional-404'].manifest)
  const r = await brisk.install(opts(p))
  assert.deepEqual(h.installedTree(p.dir), { 'node_modules/leaf': '1.1.0' })
  assert.ok(r.warnings.some((w) => w.includes('opt-gone')), `a warning names opt-gone: ${r.warnings}`)
  assert.deepEqual(p.lock().packages[''].optionalDependencies, { 'opt-gone': '^1.0.0' })
})

test('ci accepts its own lockfile when an optional dependency does not exist', T, async (t) => {
  // npm ci rejects npm's own lockfile in this case ("Missing: native-gone@");
  // brisk ci must not, or projects with unavailable platform packages can't use it.
  const p = setup(t, { dependencies: { 'has-native': '^1.0.0' } })
  await brisk.install(opts(p))
  const lock = p.read('package-lock.json')
  await brisk.install(opts(p, { frozenLockfile: true, clean: true }))
  assert.deepEqual(h.installedTree(p.dir), { 'node_modules/has-native': '1.0.0', 'node_modules/native-linux': '1.0.0' })
  assert.equal(p.read('package-lock.json'), lock)
})

test('an optional dependency whose tarball fails is skipped; the rest installs', T, async (t) => {
  reg.fault('native-linux', { on: 'tarball', status: 500 })
  const p = setup(t, { dependencies: { 'has-native': '^1.0.0', leaf: '^1.0.0' } })
  const r = await brisk.install(opts(p))
  assert.ok(p.exists('node_modules/has-native/package.json'))
  assert.ok(p.exists('node_modules/leaf/package.json'))
  assert.ok(!p.exists('node_modules/native-linux'), 'no half-installed optional package')
  assert.ok(r.warnings.some((w) => w.includes('native-linux')), `a warning names native-linux: ${r.warnings}`)
  // npm does the same (checked by hand): skips it and keeps it in the lockfile.
  assert.equal(p.lock().packages['node_modules/native-linux'].version, '1.0.0')
})

test('a failed optional package takes what was cloned under it along', T, async (t) => {
  // mid's own copy of leaf@2 (nested under it) lands before mid fails.
  reg.fault('mid', { on: 'tarball', status: 404, delayMs: 500 })
  const p = setup(t, { dependencies: { leaf: '^1.0.0' }, optionalDependencies: { mid: '1.0.0' } })
  const r = await brisk.install(opts(p))
  assert.ok(r.warnings.some((w) => w.includes('mid')), `a warning names mid: ${r.warnings}`)
  assert.ok(!p.exists('node_modules/mid'), 'nothing left of mid, nested copies included')
  assert.deepEqual(h.installedTree(p.dir), { 'node_modules/leaf': '1.1.0' })
})

test('dev, optional and devOptional flags in the lockfile', T, async (t) => {
  const p = setup(t, scenarios['platform-and-flags'].manifest)
  await brisk.install(opts(p))
  const pk = p.lock().packages
  assert.equal(pk['node_modules/devonly'].dev, true)
  assert.equal(pk['node_modules/dev-child'].devOptional, true)
  assert.equal(pk['node_modules/dev-child'].dev, undefined)
  assert.equal(pk['node_modules/opt-user'].optional, true)
  assert.equal(pk['node_modules/has-native'].optional, undefined)
  assert.equal(pk['node_modules/tool'].dev, undefined)
  assert.deepEqual(pk[''].devDependencies, { devonly: '^1.0.0' })
  assert.deepEqual(pk[''].optionalDependencies, { 'opt-user': '^1.0.0' })
})

for (const name of ['omit-dev', 'omit-optional', 'omit-dev-and-optional']) {
  test(`omit: ${name} leaves packages out of node_modules, not out of the lockfile`, T, async (t) => {
    const s = scenarios[name]
    const p = setup(t, s.manifest)
    await brisk.install(opts(p, s.options))
    assert.deepEqual(h.installedTree(p.dir), s.npmTree)
    assert.deepEqual(h.lockVersions(p.lock()), s.lockTree)
  })
}

test('peers are installed like npm 7+; optional peers are not', T, async (t) => {
  const p = setup(t, scenarios.peers.manifest)
  await brisk.install(opts(p))
  assert.deepEqual(h.installedTree(p.dir), scenarios.peers.npmTree)
  const pk = p.lock().packages
  assert.equal(pk['node_modules/peer-host'].peer, true)
  assert.equal(pk['node_modules/peer-missing'], undefined)
  assert.deepEqual(pk['node_modules/peer-plugin'].peerDependencies, { 'peer-host': '^1.0.0' })
  assert.deepEqual(h.requireIn(p.dir, 'peer-plugin', p.env).deps, { 'peer-host': '1.0.0' })
})

test('a peer that conflicts with the root is nested with its dependent', T, async (t) => {
  const p = setup(t, scenarios['nested-peer'].manifest)
  await brisk.install(opts(p))
  assert.deepEqual(h.installedTree(p.dir), scenarios['nested-peer'].npmTree)
  const out = h.nodeEval(p.dir, "process.stdout.write(require.resolve('peer-plugin', { paths: [require.resolve('plugin-wrapper')] }))", p.env)
  assert.equal(out, p.file('node_modules/plugin-wrapper/node_modules/peer-plugin/index.js'))
})

test('legacyPeerDeps ignores peers', T, async (t) => {
  const p = setup(t, { dependencies: { 'peer-plugin': '^1.0.0', 'peer-host': '^2.0.0' } })
  await brisk.install(opts(p, { legacyPeerDeps: true }))
  assert.deepEqual(h.installedTree(p.dir), { 'node_modules/peer-host': '2.0.0', 'node_modules/peer-plugin': '1.0.0' })
  const q = setup(t, { dependencies: { 'peer-plugin': '^1.0.0' } })
  await brisk.install(opts(q, { legacyPeerDeps: true }))
  assert.deepEqual(h.installedTree(q.dir), { 'node_modules/peer-plugin': '1.0.0' })
  assert.equal(q.lock().packages['node_modules/peer-host'], undefined)
})

test('dist-tags and aliases resolve like npm', T, async (t) => {
  const p = setup(t, scenarios['dist-tags'].manifest)
  await brisk.install(opts(p))
  assert.deepEqual(h.installedTree(p.dir), scenarios['dist-tags'].npmTree)
  assert.equal(p.lock().packages['node_modules/a-leaf'].name, 'leaf')
})

test('install scripts are not run and are reported', T, async (t) => {
  const p = setup(t, { dependencies: { scripted: '^1.0.0', leaf: '^1.0.0' } })
  const r = await brisk.install(opts(p))
  assert.deepEqual(r.scriptsNotRun, ['scripted@1.0.0'])
  assert.equal(p.lock().packages['node_modules/scripted'].hasInstallScript, true)
  assert.deepEqual(h.listFiles(p.root).filter((f) => f.endsWith('postinstall-ran')), [])
})

test('second install with a fresh lockfile and warm cache: no registry requests at all', T, async (t) => {
  const p = setup(t, scenarios['nested-conflicts'].manifest)
  await brisk.install(opts(p))
  const lockBefore = p.read('package-lock.json')
  fs.rmSync(p.file('node_modules'), { recursive: true })
  reg.clearLog()
  const r = await brisk.install(opts(p))
  assert.deepEqual(reg.requests.map((q) => q.url), [], 'no requests')
  assert.deepEqual(h.installedTree(p.dir), scenarios['nested-conflicts'].npmTree)
  assert.equal(p.read('package-lock.json'), lockBefore, 'lockfile unchanged')
  assert.equal(r.downloaded, 0)
  assert.ok(r.reused > 0)
  assert.equal(r.added, 11)
})

test('fresh lockfile, empty cache: tarballs only, no packument requests', T, async (t) => {
  const p = setup(t, scenarios['nested-conflicts'].manifest)
  await brisk.install(opts(p))
  fs.rmSync(p.file('node_modules'), { recursive: true })
  fs.rmSync(p.cache, { recursive: true })
  reg.clearLog()
  await brisk.install(opts(p))
  assert.deepEqual(reg.requestsOf('packument'), [], 'no packument requests')
  assert.ok(reg.requestsOf('tarball').length >= 8)
  assert.deepEqual(h.installedTree(p.dir), scenarios['nested-conflicts'].npmTree)
})

test('repeat install is upToDate and touches nothing', T, async (t) => {
  const p = setup(t, scenarios['platform-and-flags'].manifest)
  await brisk.install(opts(p))
  const before = h.snapshot(p.dir)
  reg.clearLog()
  const r = await brisk.install(opts(p))
  assert.equal(r.upToDate, true)
  assert.equal(r.added, 0)
  assert.equal(r.removed, 0)
  assert.equal(r.lockfileWritten, false)
  assert.deepEqual(reg.requests, [])
  assert.deepEqual(h.snapshot(p.dir), before)
})

test('changing package.json: removed dependencies leave node_modules, new ones arrive', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0', mid: '^1.0.0' } })
  await brisk.install(opts(p))
  assert.ok(p.exists('node_modules/mid/node_modules/leaf/package.json'))
  fs.writeFileSync(p.file('package.json'), JSON.stringify({ name: 'fixture-project', version: '1.0.0', dependencies: { leaf: '^1.0.0', tool: '1.0.0' } }, null, 2))
  const r = await brisk.install(opts(p))
  assert.deepEqual(h.installedTree(p.dir), { 'node_modules/leaf': '1.1.0', 'node_modules/tool': '1.0.0' })
  assert.equal(r.added, 1)
  assert.equal(r.removed, 2)
  assert.deepEqual(h.lockVersions(p.lock()), { 'node_modules/leaf': '1.1.0', 'node_modules/tool': '1.0.0' })
  assert.ok(p.exists('node_modules/.bin/tool'))
  // Editing a range so the locked version no longer fits re-resolves just that package.
  fs.writeFileSync(p.file('package.json'), JSON.stringify({ name: 'fixture-project', version: '1.0.0', dependencies: { leaf: '^2.0.0', tool: '1.0.0' } }, null, 2))
  await brisk.install(opts(p))
  assert.deepEqual(h.installedTree(p.dir), { 'node_modules/leaf': '2.1.0', 'node_modules/tool': '1.0.0' })
})

test('a locked version is kept even when a newer one matches', T, async (t) => {
  const p = setup(t, { dependencies: { '@scope/pkg': '^1.0.0' } })
  await brisk.install(opts(p))
  const lock = p.lock()
  // Pretend the lockfile was written when 1.0.0 was the newest.
  lock.packages['node_modules/@scope/pkg'].version = '1.0.0'
  lock.packages['node_modules/@scope/pkg'].resolved = reg.tarballUrl('@scope/pkg', '1.0.0')
  lock.packages['node_modules/@scope/pkg'].integrity = reg.integrity('@scope/pkg', '1.0.0')
  fs.writeFileSync(p.file('package-lock.json'), JSON.stringify(lock, null, 2) + '\n')
  fs.rmSync(p.file('node_modules'), { recursive: true })
  await brisk.install(opts(p))
  assert.equal(h.installedTree(p.dir)['node_modules/@scope/pkg'], '1.0.0')
  assert.equal(p.lock().packages['node_modules/@scope/pkg'].version, '1.0.0')
})

test('lockfileOnly writes package-lock.json and nothing else', T, async (t) => {
  const p = setup(t, scenarios['nested-conflicts'].manifest)
  const r = await brisk.install(opts(p, { lockfileOnly: true }))
  assert.equal(r.lockfileWritten, true)
  assert.ok(!p.exists('node_modules'), 'no node_modules')
  assert.deepEqual(reg.requestsOf('tarball'), [], 'no tarball downloads')
  assert.deepEqual(h.lockVersions(p.lock()), scenarios['nested-conflicts'].lockTree)
})

test('clean: true (what `brisk ci` sends) removes what is in node_modules first', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0' } })
  await brisk.install(opts(p))
  fs.mkdirSync(p.file('node_modules/junk'), { recursive: true })
  fs.writeFileSync(p.file('node_modules/junk/package.json'), '{"name":"junk","version":"0.0.1"}')
  fs.writeFileSync(p.file('node_modules/leaf/extra.txt'), 'left behind')
  await brisk.install(opts(p, { clean: true, frozenLockfile: true }))
  assert.ok(!p.exists('node_modules/junk'))
  assert.ok(!p.exists('node_modules/leaf/extra.txt'))
  assert.deepEqual(h.installedTree(p.dir), { 'node_modules/leaf': '1.1.0' })
})

test('two installs in one process with different options both behave', T, async (t) => {
  const manifest = scenarios['omit-dev'].manifest
  const a = setup(t, manifest)
  const b = setup(t, manifest)
  // Same cache for both, concurrently.
  const [ra, rb] = await Promise.all([
    brisk.install(opts(a, { omit: ['dev'] })),
    brisk.install(opts(b, { cacheDir: a.cache }))
  ])
  assertResultShape(ra)
  assertResultShape(rb)
  assert.deepEqual(h.installedTree(a.dir), scenarios['omit-dev'].npmTree)
  assert.deepEqual(h.installedTree(b.dir), {
    'node_modules/dev-child': '1.0.0',
    'node_modules/devonly': '1.0.0',
    'node_modules/has-native': '1.0.0',
    'node_modules/native-linux': '1.0.0',
    'node_modules/opt-user': '1.0.0',
    'node_modules/tool': '1.0.0'
  })
  assert.equal(a.read('package-lock.json'), b.read('package-lock.json'))
})

test('registry from the project .npmrc, the user .npmrc, or npm_config_registry', T, async (t) => {
  const manifest = { dependencies: { leaf: '^1.0.0' } }
  const viaProject = setup(t, manifest, { npmrc: `registry=${reg.url}\n` })
  await brisk.install({ cwd: viaProject.dir, cacheDir: viaProject.cache, env: viaProject.env })
  assert.equal(h.installedTree(viaProject.dir)['node_modules/leaf'], '1.1.0')

  const viaUser = setup(t, manifest)
  fs.writeFileSync(path.join(viaUser.home, '.npmrc'), `registry=${reg.url}\n`)
  await brisk.install({ cwd: viaUser.dir, cacheDir: viaUser.cache, env: viaUser.env })
  assert.equal(h.installedTree(viaUser.dir)['node_modules/leaf'], '1.1.0')

  const viaEnv = setup(t, manifest)
  await brisk.install({ cwd: viaEnv.dir, cacheDir: viaEnv.cache, env: { ...viaEnv.env, npm_config_registry: reg.url } })
  assert.equal(h.installedTree(viaEnv.dir)['node_modules/leaf'], '1.1.0')
  assert.equal(reg.requestsOf('packument', 'leaf').length, 3)
})

test('scoped registry with an auth token from .npmrc', T, async (t) => {
  reg.requireAuth('@private', 'tok-123')
  const npmrc = [
    `registry=${reg.url}`,
    `@private:registry=${reg.origin}/private/`,
    `//127.0.0.1:${reg.port}/private/:_authToken=tok-123`,
    ''
  ].join('\n')
  const p = setup(t, { dependencies: { '@private/secret': '1.0.0', leaf: '^1.0.0' } }, { npmrc })
  await brisk.install({ cwd: p.dir, cacheDir: p.cache, env: p.env })
  assert.deepEqual(h.installedTree(p.dir), { 'node_modules/@private/secret': '1.0.0', 'node_modules/leaf': '1.1.0' })
  const secret = reg.requests.filter((q) => q.name === '@private/secret')
  assert.ok(secret.length >= 2)
  assert.ok(secret.every((q) => q.prefix === '/private' && q.authorization === 'Bearer tok-123'))
  assert.ok(reg.requests.filter((q) => q.name === 'leaf').every((q) => q.authorization === undefined),
    'the token is not sent to the other registry path')
  assert.equal(p.lock().packages['node_modules/@private/secret'].resolved, `${reg.origin}/private/@private/secret/-/secret-1.0.0.tgz`)
})

test('retries a registry that fails a few times', T, async (t) => {
  reg.fault('flaky', { on: 'packument', status: 500, times: 2 })
  reg.fault('leaf', { on: 'tarball', reset: true, times: 1 })
  const p = setup(t, { dependencies: { flaky: '1.0.0', leaf: '^1.0.0' } })
  await brisk.install(opts(p))
  assert.deepEqual(h.installedTree(p.dir), { 'node_modules/flaky': '1.0.0', 'node_modules/leaf': '1.1.0' })
  assert.equal(reg.requestsOf('packument', 'flaky').length, 3)
})

test('progress events are reported', T, async (t) => {
  const p = setup(t, scenarios['nested-conflicts'].manifest)
  const events = []
  await brisk.install(opts(p, { onProgress: (e) => events.push(e) }))
  assert.ok(events.length > 0, 'at least one event')
  for (const e of events) {
    assert.ok(['resolve', 'fetch', 'link', 'done'].includes(e.phase), `phase ${e.phase}`)
    assert.equal(typeof e.done, 'number')
    assert.equal(typeof e.total, 'number')
  }
})

test('npm ls --all accepts what brisk installed', T, async (t) => {
  const p = setup(t, scenarios['platform-and-flags'].manifest)
  await brisk.install(opts(p))
  const ls = await h.npm(['ls', '--all'], { cwd: p.dir, env: p.env, cache: p.cache, registry: reg.url })
  assert.equal(ls.status, 0, ls.stdout + ls.stderr)
})
