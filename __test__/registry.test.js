'use strict'
// Tests of the test registry itself (no brisk addon needed): it must behave
// like a real npm registry, which real npm confirms, and its faults must do
// what the brisk tests rely on.

const { test, before, after, beforeEach } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const zlib = require('node:zlib')
const fs = require('node:fs')
const path = require('node:path')
const { startRegistry, parsePath, TAMPER_MARKER, CORGI } = require('./registry.js')
const { tar } = require('./tar.js')
const { scenarios } = require('./scenarios.js')
const h = require('./helpers.js')

let reg
before(async () => { reg = await startRegistry() })
after(async () => { await reg.close() })
beforeEach(() => reg.reset())

const sri = (buf) => 'sha512-' + crypto.createHash('sha512').update(buf).digest('base64')

/** Entries of an uncompressed tar: [{ path, type, mode, content }]. */
function untar(buf) {
  const out = []
  let off = 0
  while (off + 512 <= buf.length) {
    const header = buf.subarray(off, off + 512)
    if (header.every((b) => b === 0)) break
    const str = (a, b) => header.subarray(a, b).toString('utf8').replace(/\0.*$/s, '')
    const size = parseInt(str(124, 136), 8)
    const prefix = str(345, 500)
    const name = str(0, 100)
    const sum = header.reduce((n, b, i) => n + (i >= 148 && i < 156 ? 32 : b), 0)
    assert.equal(parseInt(str(148, 156), 8), sum, 'tar header checksum')
    out.push({
      path: prefix ? `${prefix}/${name}` : name,
      type: str(156, 157),
      mode: parseInt(str(100, 108), 8),
      linkname: str(157, 257),
      content: buf.subarray(off + 512, off + 512 + size).toString('utf8')
    })
    off += 512 + Math.ceil(size / 512) * 512
  }
  return out
}

test('parsePath understands npm URL shapes', () => {
  assert.deepEqual(parsePath('/leaf'), { kind: 'packument', prefix: '', name: 'leaf' })
  assert.deepEqual(parsePath('/@scope%2fpkg'), { kind: 'packument', prefix: '', name: '@scope/pkg' })
  assert.deepEqual(parsePath('/@scope%2Fpkg'), { kind: 'packument', prefix: '', name: '@scope/pkg' })
  assert.deepEqual(parsePath('/@scope/pkg'), { kind: 'packument', prefix: '', name: '@scope/pkg' })
  assert.deepEqual(parsePath('/private/@private%2fsecret'), { kind: 'packument', prefix: '/private', name: '@private/secret' })
  assert.deepEqual(parsePath('/leaf/-/leaf-1.0.0.tgz'), { kind: 'tarball', prefix: '', name: 'leaf', file: 'leaf-1.0.0.tgz' })
  assert.deepEqual(parsePath('/@scope/pkg/-/pkg-1.0.0.tgz'), { kind: 'tarball', prefix: '', name: '@scope/pkg', file: 'pkg-1.0.0.tgz' })
})

test('tar writer: ustar entries with modes, long paths and links', () => {
  const long = 'package/' + 'd'.repeat(90) + '/' + 'f'.repeat(60) + '.js'
  const entries = untar(tar([
    { path: 'package/package.json', content: '{}' },
    { path: 'package/bin/x.js', content: '#!/usr/bin/env node\n', mode: 0o755 },
    { path: long, content: 'x'.repeat(700) },
    { path: 'package/lnk', type: 'symlink', linkname: '../..' }
  ]))
  assert.deepEqual(entries.map((e) => e.path), ['package/package.json', 'package/bin/x.js', long, 'package/lnk'])
  assert.equal(entries[1].mode, 0o755)
  assert.equal(entries[2].content.length, 700)
  assert.equal(entries[3].type, '2')
  assert.equal(entries[3].linkname, '../..')
})

test('packument: full and abbreviated, with integrity matching the tarball', async () => {
  for (const url of [reg.url + '@scope%2fpkg', reg.url + '@scope/pkg']) {
    const res = await fetch(url)
    assert.equal(res.status, 200)
    const doc = await res.json()
    assert.equal(doc.name, '@scope/pkg')
    assert.deepEqual(Object.keys(doc.versions), ['1.0.0', '1.1.0'])
    assert.equal(doc['dist-tags'].latest, '1.1.0')
    const v = doc.versions['1.1.0']
    assert.deepEqual(v.dependencies, { leaf: '^1.0.0' })
    assert.equal(v.dist.tarball, `${reg.origin}/@scope/pkg/-/pkg-1.1.0.tgz`)
    const tgz = Buffer.from(await (await fetch(v.dist.tarball)).arrayBuffer())
    assert.equal(v.dist.integrity, sri(tgz))
    assert.equal(v.dist.shasum, crypto.createHash('sha1').update(tgz).digest('hex'))
    const entries = untar(zlib.gunzipSync(tgz))
    assert.ok(entries.every((e) => e.path.startsWith('package/')))
    assert.deepEqual(JSON.parse(entries.find((e) => e.path === 'package/package.json').content).version, '1.1.0')
  }
  const corgi = await fetch(reg.url + 'has-native', { headers: { accept: CORGI } })
  assert.match(corgi.headers.get('content-type'), /install-v1/)
  const small = await corgi.json()
  assert.equal(small.readme, undefined)
  assert.deepEqual(Object.keys(small.versions['1.0.0'].optionalDependencies).length, 6)
  const native = await (await fetch(reg.url + 'native-win', { headers: { accept: CORGI } })).json()
  assert.deepEqual(native.versions['1.0.0'].os, ['win32'])
  assert.deepEqual(native.versions['1.0.0'].cpu, ['x64'])
  const scripted = await (await fetch(reg.url + 'scripted', { headers: { accept: CORGI } })).json()
  assert.equal(scripted.versions['1.0.0'].hasInstallScript, true)
  assert.equal(reg.requestsOf('packument').length, 5)
})

test('ETag / If-None-Match answers 304', async () => {
  const first = await fetch(reg.url + 'leaf')
  const etag = first.headers.get('etag')
  assert.ok(etag)
  await first.arrayBuffer()
  const second = await fetch(reg.url + 'leaf', { headers: { 'if-none-match': etag } })
  assert.equal(second.status, 304)
  const other = await fetch(reg.url + 'leaf', { headers: { 'if-none-match': '"nope"' } })
  assert.equal(other.status, 200)
  await other.arrayBuffer()
})

test('unknown packages and versions are 404', async () => {
  assert.equal((await fetch(reg.url + 'no-such-package')).status, 404)
  assert.equal((await fetch(reg.url + 'leaf/-/leaf-9.9.9.tgz')).status, 404)
  assert.equal(reg.requests.length, 2)
  assert.deepEqual(reg.requests.map((r) => r.status), [404, 404])
})

test('faults: status N times, reset, delay, hang, tamper, auth', async () => {
  reg.fault('flaky', { on: 'packument', status: 500, times: 2 })
  assert.equal((await fetch(reg.url + 'flaky')).status, 500)
  assert.equal((await fetch(reg.url + 'flaky')).status, 500)
  assert.equal((await fetch(reg.url + 'flaky')).status, 200)
  assert.equal((await fetch(reg.tarballUrl('flaky', '1.0.0'))).status, 200, 'the fault was for packuments only')

  reg.fault('leaf', { on: 'tarball', reset: true, times: 1 })
  await assert.rejects(fetch(reg.tarballUrl('leaf', '1.0.0')))
  assert.equal((await fetch(reg.tarballUrl('leaf', '1.0.0'))).status, 200)

  reg.fault('slow', { delayMs: 300 })
  const t0 = Date.now()
  assert.equal((await fetch(reg.url + 'slow')).status, 200)
  assert.ok(Date.now() - t0 >= 280)

  reg.fault('mid', { hang: true })
  await assert.rejects(fetch(reg.url + 'mid', { signal: AbortSignal.timeout(200) }))
  assert.equal(reg.requestsOf('packument', 'mid')[0].status, 'hang')

  reg.fault('tampered', { on: 'tarball', tamper: true })
  const bad = Buffer.from(await (await fetch(reg.tarballUrl('tampered', '1.0.0'))).arrayBuffer())
  assert.notEqual(sri(bad), reg.integrity('tampered', '1.0.0'))
  assert.ok(zlib.gunzipSync(bad).includes(TAMPER_MARKER))

  reg.requireAuth('@private', 's3cret')
  assert.equal((await fetch(reg.url + '@private%2fsecret')).status, 401)
  assert.equal((await fetch(reg.url + '@private%2fsecret', { headers: { authorization: 'Bearer s3cret' } })).status, 200)
  assert.equal((await fetch(reg.url + 'leaf')).status, 200, 'auth applies to the scope only')
})

test('a path prefix is kept in tarball URLs (scoped registries)', async () => {
  const doc = await (await fetch(reg.origin + '/private/@private%2fsecret')).json()
  assert.equal(doc.versions['1.0.0'].dist.tarball, `${reg.origin}/private/@private/secret/-/secret-1.0.0.tgz`)
  assert.equal((await fetch(doc.versions['1.0.0'].dist.tarball)).status, 200)
})

test('hostile fixtures really are hostile', async () => {
  const evil = untar(zlib.gunzipSync(Buffer.from(await (await fetch(reg.tarballUrl('evil', '1.0.0'))).arrayBuffer())))
  assert.ok(evil.some((e) => e.path === 'package/../../brisk-escape-dotdot.txt'))
  const link = untar(zlib.gunzipSync(Buffer.from(await (await fetch(reg.tarballUrl('evil-link', '1.0.0'))).arrayBuffer())))
  assert.ok(link.some((e) => e.type === '2' && e.path === 'package/lnk'))
})

test('close() returns while a request hangs', async () => {
  const other = await startRegistry()
  other.fault('leaf', { hang: true })
  const pending = fetch(other.url + 'leaf').catch((e) => e)
  await new Promise((resolve) => setTimeout(resolve, 50))
  await other.close()
  assert.ok((await pending) instanceof Error)
})

// Real npm against the registry: keeps the fixtures honest, and pins npm's
// layouts that compat.test.js compares brisk with.
for (const [name, scenario] of Object.entries(scenarios)) {
  test(`npm layout reference: ${name}`, async () => {
    const p = h.project(scenario.manifest)
    try {
      const r = await h.npm(['install', '--ignore-scripts', ...scenario.npmArgs], { cwd: p.dir, env: p.env, cache: p.cache, registry: reg.url })
      assert.equal(r.status, 0, r.stderr)
      assert.deepEqual(h.installedTree(p.dir), scenario.npmTree)
      assert.deepEqual(h.lockVersions(p.lock()), scenario.lockTree)
      const ls = await h.npm(['ls', '--all', ...scenario.npmArgs], { cwd: p.dir, env: p.env, cache: p.cache, registry: reg.url })
      assert.equal(ls.status, 0, ls.stdout + ls.stderr)
    } finally {
      p.cleanup()
    }
  })
}

test('npm itself rejects the tampered tarball (EINTEGRITY)', async () => {
  reg.fault('tampered', { on: 'tarball', tamper: true })
  const p = h.project({ dependencies: { tampered: '1.0.0' } })
  try {
    const r = await h.npm(['install', '--ignore-scripts', '--fetch-retries=0'], { cwd: p.dir, env: p.env, cache: p.cache, registry: reg.url })
    assert.notEqual(r.status, 0)
    assert.match(r.stderr, /EINTEGRITY/)
  } finally {
    p.cleanup()
  }
})

test('npm makes string-form bins with mode 0644 executable', async () => {
  const p = h.project({ dependencies: { strbin: '1.0.0' } })
  try {
    const r = await h.npm(['install', '--ignore-scripts'], { cwd: p.dir, env: p.env, cache: p.cache, registry: reg.url })
    assert.equal(r.status, 0, r.stderr)
    assert.equal(fs.readlinkSync(p.file('node_modules/.bin/strbin')), path.join('..', 'strbin', 'cli.js'))
    assert.ok(fs.statSync(p.file('node_modules/strbin/cli.js')).mode & 0o111)
  } finally {
    p.cleanup()
  }
})
