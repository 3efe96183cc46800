'use strict'
// brisk against an attacker: a registry, a tarball, a lockfile or a
// dependency's package.json trying to write outside the project, poison the
// shared cache, exhaust memory or race another install. Each test checks
// what a user would: nothing outside the project changed, the error code,
// the cache as it was.

const { test, before, after, beforeEach } = require('node:test')
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
  'evil-scope': { versions: { '1.0.0': v({ dependencies: { '@x/..': 'npm:a@^1.0.0' } }) } },
  '@s/c': { versions: { '1.0.0': v() } },
  bomb: { versions: { '1.0.0': v() } },
  devzero: { versions: { '1.0.0': v({ distTarball: 'file:///dev/zero' }) } },
  localfile: { versions: { '1.0.0': v({ distTarball: `file://${__filename}` }) } },
  ftp: { versions: { '1.0.0': v({ distTarball: 'ftp://127.0.0.1/x.tgz' }) } }
}

let reg
before(async () => { reg = await startRegistry({ packages }) })
after(async () => { await reg.close() })
beforeEach(() => reg.reset())

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

/** A gzip'd tarball holding `package/zeros`, `size` bytes of zeros, built in chunks. */
async function zeroBomb (size) {
  const zlib = require('node:zlib')
  const { header } = require('./tar.js')
  const gz = zlib.createGzip({ level: 9 })
  const chunks = []
  gz.on('data', (c) => chunks.push(c))
  const done = new Promise((resolve) => gz.on('end', resolve))
  const write = (buf) => new Promise((resolve) => { if (gz.write(buf)) resolve(); else gz.once('drain', resolve) })
  const pj = Buffer.from('{"name":"bomb","version":"1.0.0"}')
  await write(header({ path: 'package/package.json', size: pj.length }))
  await write(Buffer.concat([pj, Buffer.alloc(512 - pj.length)]))
  await write(header({ path: 'package/zeros', size }))
  const mb = Buffer.alloc(1 << 20)
  for (let left = size; left > 0; left -= mb.length) await write(left >= mb.length ? mb : mb.subarray(0, left))
  gz.end(Buffer.alloc(1024))
  await done
  return Buffer.concat(chunks)
}

/** Serve `tarball` as `name@1.0.0` (with its real integrity). */
function serveTarball (name, tarball) {
  const built = reg.packages.get(name).versions['1.0.0']
  const crypto = require('node:crypto')
  built.tarball = tarball
  built.integrity = 'sha512-' + crypto.createHash('sha512').update(tarball).digest('base64')
  built.shasum = crypto.createHash('sha1').update(tarball).digest('hex')
}

/** Install in a child node and report its peak RSS (brisk runs in-process). */
async function installMeasured (p) {
  const code = `require(${JSON.stringify(path.join(h.ROOT, 'brisk.js'))}).install(${JSON.stringify(opts(p))})
    .then(() => ({ ok: true }), (e) => ({ code: e.code, message: e.message }))
    .then((r) => console.log(JSON.stringify({ ...r, maxRssKb: process.resourceUsage().maxRSS })))`
  const r = await h.run(process.execPath, ['-e', code], { cwd: p.dir, env: p.env })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

test('a decompression bomb: E_TARBALL at once, memory bounded, nothing cached; a raised limit lets it in', T, async (t) => {
  const bomb = await zeroBomb(1 << 30) // 1 GiB of zeros in ~1 MB
  assert.ok(bomb.length < 4 << 20, `the bomb is small (${bomb.length} bytes)`)
  serveTarball('bomb', bomb)
  const p = setup(t, { dependencies: { bomb: '1.0.0' } })
  const before = outsideCache(p)
  const r = await installMeasured(p)
  assert.equal(r.code, 'E_TARBALL', r.message)
  assert.match(r.message, /bomb@1\.0\.0/)
  assert.match(r.message, /brisk-max-compression-ratio/)
  assert.ok(r.maxRssKb < 512 * 1024, `peak RSS ${r.maxRssKb} kB stays far below the archive's 1 GiB`)
  assert.deepEqual(outsideCache(p), before)
  assert.deepEqual(h.listFiles(path.join(p.cache, 'store')), [], 'nothing of it in the cache')
  // The user can decide to trust it: the ratio limit is a setting.
  fs.writeFileSync(p.file('.npmrc'), 'brisk-max-compression-ratio=2000\n')
  const ok = await installMeasured(p)
  assert.equal(ok.ok, true, ok.message)
  assert.equal(fs.statSync(p.file('node_modules/bomb/zeros')).size, 1 << 30)
  assert.ok(ok.maxRssKb < 512 * 1024, `streamed: peak RSS ${ok.maxRssKb} kB`)
})

test('a packument whose dist.tarball is file: or another scheme is refused (E_MANIFEST)', T, async (t) => {
  const local = path.join(__dirname, 'tar.js')
  for (const [name, url] of [['devzero', 'file:///dev/zero'], ['localfile', `file://${local}`], ['ftp', 'ftp://127.0.0.1/x.tgz']]) {
    const p = setup(t, { dependencies: { [name]: '1.0.0' } })
    const before = outsideCache(p)
    const err = await expectCode(brisk.install(opts(p)), 'E_MANIFEST')
    assert.match(err.message, /http\(s\)/, url)
    assert.deepEqual(outsideCache(p), before)
  }
})

test('a lockfile naming /dev/zero as a tarball fails at once (E_TARBALL), not after filling memory', T, async (t) => {
  const p = setup(t, { dependencies: { a: '1.0.0' } })
  await brisk.install(opts(p))
  const lock = p.lock()
  lock.packages['node_modules/a'].resolved = 'file:///dev/zero'
  fs.writeFileSync(p.file('package-lock.json'), JSON.stringify(lock, null, 2))
  fs.rmSync(p.file('node_modules'), { recursive: true })
  fs.rmSync(p.cache, { recursive: true })
  await expectCode(brisk.install(opts(p, { clean: true })), 'E_TARBALL')
})

test('a package folder deleted or replaced after an install is restored by the next install', T, async (t) => {
  const p = setup(t, { dependencies: { a: '^1.0.0', b: '^1.0.0', '@s/c': '^1.0.0' } })
  await brisk.install(opts(p))
  assert.equal((await brisk.install(opts(p))).upToDate, true, 'nothing changed: the fast path answers')
  const restored = async (what) => {
    const r = await brisk.install(opts(p))
    assert.equal(r.upToDate, false, `${what}: noticed`)
    assert.deepEqual(h.requireIn(p.dir, 'b', p.env).name, 'b', what)
    assert.equal(h.requireIn(p.dir, '@s/c', p.env).name, '@s/c', what)
    assert.equal(h.requireIn(p.dir, 'a', p.env).name, 'a', what)
    assert.equal((await brisk.install(opts(p))).upToDate, true, `${what}: then up to date again`)
  }
  fs.rmSync(p.file('node_modules/b'), { recursive: true })
  await restored('a deleted folder')
  fs.rmSync(p.file('node_modules/@s/c'), { recursive: true })
  await restored('a deleted scoped folder')
  fs.rmSync(p.file('node_modules/a'), { recursive: true })
  fs.mkdirSync(p.file('node_modules/a'))
  fs.writeFileSync(p.file('node_modules/a/package.json'), '{"name":"a","version":"9.9.9"}')
  await restored('a replaced folder')
  assert.equal(p.json('node_modules/a/package.json').version, '1.1.0')
})

test('an invalid range is E_MANIFEST even when a lockfile pins the package', T, async (t) => {
  const p = setup(t, { dependencies: { a: '^1.0.0' } })
  await brisk.install(opts(p))
  const lockBefore = p.read('package-lock.json')
  const pkg = p.json('package.json')
  pkg.dependencies.a = '^^1.x.y!!'
  fs.writeFileSync(p.file('package.json'), JSON.stringify(pkg, null, 2))
  for (const clean of [false, true]) {
    const err = await expectCode(brisk.install(opts(p, { clean, frozenLockfile: clean })), 'E_MANIFEST')
    assert.match(err.message, /\^\^1\.x\.y!!/)
    assert.equal(p.read('package-lock.json'), lockBefore, 'the lockfile is unchanged')
  }
})

test('two installs into one project at once: one waits for the other, both succeed, the tree is whole', T, async (t) => {
  const deps = { a: '^1.0.0', b: '^1.0.0', '@s/c': '^1.0.0' }
  const p = setup(t, { dependencies: deps })
  await brisk.install(opts(p)) // warm cache and a lockfile
  const expected = h.installedTree(p.dir)
  const args = ['install', '--registry', reg.url, '--cache-dir', p.cache]
  for (let round = 0; round < 5; round++) {
    fs.rmSync(p.file('node_modules'), { recursive: true, force: true })
    const [x, y] = await Promise.all([h.cli(args, { cwd: p.dir, env: p.env }), h.cli(args, { cwd: p.dir, env: p.env })])
    assert.equal(x.status, 0, `round ${round}: ${x.stderr}`)
    assert.equal(y.status, 0, `round ${round}: ${y.stderr}`)
    assert.deepEqual(h.installedTree(p.dir), expected, `round ${round}: the tree is whole`)
    for (const name of Object.keys(deps)) assert.equal(h.requireIn(p.dir, name, p.env).name, name)
  }
  // In one process too, through the API: the second waits and says so.
  fs.rmSync(p.file('node_modules'), { recursive: true, force: true })
  const phases = []
  const [r1, r2] = await Promise.all([
    brisk.install(opts(p)),
    new Promise((resolve) => setTimeout(resolve, 5)).then(() => brisk.install(opts(p, { onProgress: (e) => phases.push(e.phase) })))
  ])
  assert.ok(r1.packages === 3 && r2.packages === 3)
  assert.deepEqual(h.installedTree(p.dir), expected)
  if (phases.includes('wait')) assert.equal(phases[0], 'wait', 'the wait is reported first')
})

test('an install waiting for the project lock can be cancelled', T, async (t) => {
  if (!fs.existsSync('/usr/bin/flock')) return t.skip('no flock(1) to hold the lock from outside')
  const p = setup(t, { dependencies: { a: '^1.0.0' } })
  // Hold the project's lock from another process, as a running brisk would.
  const holder = require('node:child_process').spawn('flock', [p.dir, 'sleep', '30'], { stdio: 'ignore' })
  t.after(() => holder.kill())
  await new Promise((resolve) => setTimeout(resolve, 300))
  const phases = []
  const err = await expectCode(brisk.install(opts(p, {
    signal: AbortSignal.timeout(500),
    onProgress: (e) => phases.push(e.phase)
  })), 'E_CANCELLED')
  assert.ok(err)
  assert.deepEqual(phases, ['wait'], 'it said it was waiting, and did nothing else')
  assert.equal(p.exists('node_modules'), false)
})

test('a lockfile entry on a host that is not the registry installs with a warning naming it', T, async (t) => {
  const other = await startRegistry({ packages })
  t.after(() => other.close())
  const p = setup(t, { dependencies: { a: '^1.0.0', b: '^1.0.0' } })
  await brisk.install(opts(p))
  const lock = p.lock()
  lock.packages['node_modules/a'].resolved = `${other.url}a/-/a-1.1.0.tgz`
  fs.writeFileSync(p.file('package-lock.json'), JSON.stringify(lock, null, 2))
  fs.rmSync(p.file('node_modules'), { recursive: true })
  fs.rmSync(p.cache, { recursive: true })
  const r = await brisk.install(opts(p, { clean: true }))
  const warning = r.warnings.find((w) => w.includes('not one of your registries'))
  assert.ok(warning, `warned: ${JSON.stringify(r.warnings)}`)
  assert.match(warning, /a@1\.1\.0/)
  assert.match(warning, new RegExp(other.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
  assert.doesNotMatch(warning, /b@1\.0\.0/, 'only the foreign one')
  assert.equal(other.requestsOf('tarball', 'a').length, 1, 'fetched from where the lockfile says, as npm does')
})

test('a lockfile entry without integrity is checked against the registry\'s', T, async (t) => {
  const p = setup(t, { dependencies: { a: '^1.0.0' } })
  await brisk.install(opts(p))
  const lock = p.lock()
  delete lock.packages['node_modules/a'].integrity
  fs.writeFileSync(p.file('package-lock.json'), JSON.stringify(lock, null, 2))
  fs.rmSync(p.file('node_modules'), { recursive: true })
  fs.rmSync(p.cache, { recursive: true })
  reg.fault('a', { on: 'tarball', tamper: true })
  const err = await expectCode(brisk.install(opts(p, { clean: true })), 'E_INTEGRITY')
  assert.match(err.message, /a@1\.1\.0/)
  assert.equal(p.exists('node_modules', 'a'), false)
  reg.reset()
  await brisk.install(opts(p, { clean: true }))
  assert.equal(h.requireIn(p.dir, 'a', p.env).version, '1.1.0')
})

test('two installs sharing a cold cache download each tarball once', T, async (t) => {
  const deps = { a: '^1.0.0', b: '^1.0.0', '@s/c': '^1.0.0' }
  const one = setup(t, { dependencies: deps })
  const two = setup(t, { dependencies: deps })
  // Slow tarballs, so the two installs overlap.
  for (const name of Object.keys(deps)) reg.fault(name, { on: 'tarball', delayMs: 300 })
  const cache = one.cache
  const args = ['install', '--registry', reg.url, '--cache-dir', cache]
  const [x, y] = await Promise.all([h.cli(args, { cwd: one.dir, env: one.env }), h.cli(args, { cwd: two.dir, env: two.env })])
  assert.equal(x.status, 0, x.stderr)
  assert.equal(y.status, 0, y.stderr)
  for (const p of [one, two]) {
    for (const name of Object.keys(deps)) assert.equal(h.requireIn(p.dir, name, p.env).name, name)
  }
  const urls = reg.requestsOf('tarball').map((r) => r.url).sort()
  assert.deepEqual(urls, [...new Set(urls)], `each tarball once: ${urls.join(', ')}`)
  assert.equal(urls.length, 3)
})

test('project files that are devices fail at once: a package.json, an .npmrc cafile', T, async (t) => {
  const p = setup(t, { dependencies: { a: '^1.0.0' } })
  fs.writeFileSync(p.file('.npmrc'), 'cafile=/dev/zero\n')
  const err = await expectCode(brisk.install(opts(p)), 'E_CONFIG')
  assert.match(err.message, /cafile/)
  fs.rmSync(p.file('.npmrc'))
  fs.rmSync(p.file('package.json'))
  fs.symlinkSync('/dev/zero', p.file('package.json'))
  await expectCode(brisk.install(opts(p)), 'E_MANIFEST')
})
