'use strict'
// npm's network settings (fetch-timeout, fetch-retries, fetch-retry-*),
// Retry-After, and the release-age cutoff (before, min-release-age) against
// the local registry. Outcomes only: error codes and messages, how many
// requests the registry saw and in what order, what got installed. No test
// asserts on how long anything took.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const brisk = require('../brisk.js')
const h = require('./helpers.js')

const T = { timeout: 90_000 }
const { reg, opts, setup } = h.localRegistry()

/** Retries that would take ten minutes unless a Retry-After shortens them. */
const SLOW_BACKOFF = 'fetch-retry-mintimeout=600000\nfetch-retry-maxtimeout=600000\n'
const DAY = 86_400_000

async function expectCode(promise, code) {
  const err = await h.rejection(promise)
  assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`)
  return err
}

/** `brisk install` through the CLI: killed (and failing) if it runs for a minute. */
function cliInstall(p, extra = []) {
  return h.cli(['install', '--registry', reg.url, '--cache-dir', p.cache, ...extra], { cwd: p.dir, env: p.env, timeout: 60_000 })
}

test('a registry that accepts and never answers: E_NETWORK at fetch-timeout, after fetch-retries', T, async (t) => {
  reg.fault('leaf', { on: 'packument', hang: true })
  const p = setup(t, { dependencies: { leaf: '^1.0.0' } }, {
    npmrc: 'fetch-timeout=500\nfetch-retries=1\nfetch-retry-mintimeout=10\n'
  })
  const err = await expectCode(brisk.install(opts(p)), 'E_NETWORK')
  assert.match(err.message, /\/leaf\b/)
  assert.match(err.message, /timed out after 0\.5s \(fetch-timeout=500\)/)
  assert.match(err.message, /after 2 attempts/)
  assert.equal(reg.requestsOf('packument', 'leaf').length, 2, 'the first try and one retry')
  assert.ok(!p.exists('package-lock.json'))
})

test('a tarball that never arrives: E_NETWORK at fetch-timeout', T, async (t) => {
  reg.fault('leaf', { on: 'tarball', hang: true })
  const p = setup(t, { dependencies: { leaf: '^1.0.0' } }, { npmrc: 'fetch-timeout=500\nfetch-retries=0\n' })
  const err = await expectCode(brisk.install(opts(p)), 'E_NETWORK')
  assert.match(err.message, /leaf@1\.1\.0/)
  assert.match(err.message, /fetch-timeout=500/)
  assert.equal(reg.requestsOf('tarball', 'leaf').length, 1)
})

test('fetch-retries=0: one attempt for a packument and for a tarball', T, async (t) => {
  reg.fault('leaf', { on: 'packument', status: 500 })
  const p = setup(t, { dependencies: { leaf: '^1.0.0' } }, { npmrc: 'fetch-retries=0\n' })
  const err = await expectCode(brisk.install(opts(p)), 'E_NETWORK')
  assert.match(err.message, /after 1 attempt: HTTP 500/)
  assert.equal(reg.requestsOf('packument', 'leaf').length, 1)

  reg.reset()
  reg.fault('leaf', { on: 'tarball', status: 500 })
  const q = setup(t, { dependencies: { leaf: '^1.0.0' } })
  const env = { ...q.env, npm_config_fetch_retries: '0' }
  const err2 = await expectCode(brisk.install({ ...opts(q), env }), 'E_NETWORK')
  assert.match(err2.message, /\(1 attempt\): HTTP 500/)
  assert.equal(reg.requestsOf('tarball', 'leaf').length, 1)
})

test('the default retries: three attempts, then E_NETWORK', T, async (t) => {
  reg.fault('leaf', { on: 'packument', status: 503 })
  const p = setup(t, { dependencies: { leaf: '^1.0.0' } }, { npmrc: 'fetch-retry-mintimeout=10\n' })
  await expectCode(brisk.install(opts(p)), 'E_NETWORK')
  assert.equal(reg.requestsOf('packument', 'leaf').length, 3)
})

test('429 with Retry-After: 1 is retried when the registry asked, then succeeds (packument and tarball)', T, async (t) => {
  reg.fault('leaf', { on: 'packument', status: 429, times: 1, headers: { 'retry-after': '1' } })
  reg.fault('tool', { on: 'tarball', status: 429, times: 1, headers: { 'retry-after': '1' } })
  // The backoff alone would wait ten minutes: only Retry-After gets this done.
  const p = setup(t, { dependencies: { leaf: '^1.0.0', tool: '1.0.0' } }, { npmrc: SLOW_BACKOFF })
  const r = await cliInstall(p)
  assert.equal(r.timedOut, false, 'the retry waited for the backoff, not for Retry-After')
  assert.equal(r.status, 0, r.stderr)
  const statuses = (kind, name) => reg.requestsOf(kind, name).map((x) => x.status)
  assert.deepEqual(statuses('packument', 'leaf'), [429, 200], 'the retry came after the 429')
  assert.deepEqual(statuses('tarball', 'tool'), [429, 200])
  assert.equal(h.requireIn(p.dir, 'tool', p.env).version, '1.0.0')
})

test('503 with Retry-After as an HTTP date in the past: retried at once', T, async (t) => {
  reg.fault('leaf', { on: 'packument', status: 503, times: 1, headers: { 'retry-after': 'Sun, 06 Nov 1994 08:49:37 GMT' } })
  const p = setup(t, { dependencies: { leaf: '^1.0.0' } }, { npmrc: SLOW_BACKOFF })
  const r = await cliInstall(p)
  assert.equal(r.timedOut, false)
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(reg.requestsOf('packument', 'leaf').map((x) => x.status), [503, 200])
})

test('invalid fetch settings: E_CONFIG naming the key and the file', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0' } }, { npmrc: 'fetch-retries=lots\n' })
  const err = await expectCode(brisk.install(opts(p)), 'E_CONFIG')
  assert.match(err.message, /fetch-retries 'lots'/)
  assert.match(err.message, /\.npmrc/)
  assert.equal(reg.requests.length, 0)
})

// leaf: 1.0.0 (2020-02-01), 1.1.0 (02-02, latest), 2.0.0 (02-03), 2.1.0 (02-04, next).

test('.npmrc before: the newest version published by then; whole packuments are asked for', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^2.0.0' } }, { npmrc: 'before=2020-02-03T12:00:00Z\n' })
  await brisk.install(opts(p))
  assert.equal(p.lock().packages['node_modules/leaf'].version, '2.0.0')
  assert.equal(h.requireIn(p.dir, 'leaf', p.env).version, '2.0.0')
  const accept = reg.requestsOf('packument', 'leaf').map((x) => x.accept)
  assert.deepEqual(accept, ['application/json'], 'npm asks for the document with `time`')
})

test('--before with a dist-tag that is too new: npm\'s pick from <=tagged', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: 'next' } })
  const r = await cliInstall(p, ['--before', '2020-02-03T12:00:00Z'])
  assert.equal(r.status, 0, r.stderr)
  // next is 2.1.0 (too new); of <=2.1.0, latest (1.1.0) is old enough and preferred.
  assert.equal(p.lock().packages['node_modules/leaf'].version, '1.1.0')
})

test('min-release-age: versions younger than that many days are passed over', T, async (t) => {
  const now = Date.now()
  reg.published('leaf', { '2.1.0': new Date(now - DAY).toISOString() })
  const p = setup(t, { dependencies: { leaf: '^2.0.0' } }, { npmrc: 'min-release-age=3\n' })
  await brisk.install(opts(p))
  assert.equal(p.lock().packages['node_modules/leaf'].version, '2.0.0')

  // The JS option overrides .npmrc: half a day lets the day-old 2.1.0 through.
  const q = setup(t, { dependencies: { leaf: '^2.0.0' } }, { npmrc: 'min-release-age=3\n' })
  await brisk.install(opts(q, { minReleaseAge: 0.5 }))
  assert.equal(q.lock().packages['node_modules/leaf'].version, '2.1.0')
})

test('nothing old enough: E_NO_MATCHING_VERSION naming the package, range and cutoff; nothing written', T, async (t) => {
  const recent = new Date(Date.now() - DAY).toISOString()
  reg.published('leaf', { '2.0.0': recent, '2.1.0': recent })
  const p = setup(t, { dependencies: { leaf: '^2.0.0' } }, { npmrc: 'min-release-age=7\n' })
  const before = h.snapshot(p.dir)
  const err = await expectCode(brisk.install(opts(p)), 'E_NO_MATCHING_VERSION')
  assert.match(err.message, /leaf/)
  assert.match(err.message, /\^2\.0\.0/)
  assert.match(err.message, /published before \d{4}-\d\d-\d\dT[\d:.]+Z/)
  assert.match(err.message, /min-release-age/)
  assert.deepEqual(h.snapshot(p.dir), before)

  const err2 = await expectCode(brisk.install(opts(p, { before: new Date('2020-01-15T00:00:00Z') })), 'E_NO_MATCHING_VERSION')
  assert.match(err2.message, /published before 2020-01-15T00:00:00\.000Z/)
})

test('versions locked in package-lock.json are kept, however young', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^2.0.0' } })
  await brisk.install(opts(p))
  assert.equal(p.lock().packages['node_modules/leaf'].version, '2.1.0')
  // 2.1.0 turns out to be a day old; a new dependency makes the install resolve again.
  reg.published('leaf', { '2.1.0': new Date(Date.now() - DAY).toISOString() })
  const pkg = p.json('package.json')
  pkg.dependencies.tool = '^1.0.0'
  require('node:fs').writeFileSync(p.file('package.json'), JSON.stringify(pkg, null, 2) + '\n')
  await brisk.install(opts(p, { minReleaseAge: 7 }))
  const lock = p.lock()
  assert.equal(lock.packages['node_modules/leaf'].version, '2.1.0', 'npm keeps locked versions')
  assert.equal(lock.packages['node_modules/tool'].version, '1.0.0')
})

test('bad cutoffs: E_CONFIG', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '^1.0.0' } })
  const err = await expectCode(brisk.install(opts(p, { before: 'last tuesday' })), 'E_CONFIG')
  assert.match(err.message, /before date 'last tuesday'/)
  await expectCode(brisk.install(opts(p, { minReleaseAge: -1 })), 'E_CONFIG')
  await expectCode(brisk.install(opts(p, { before: 7 })), 'E_CONFIG')
  const r = await h.cli(['install', '--min-release-age', 'a week'], { cwd: p.dir, env: p.env })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /E_CONFIG --min-release-age takes a number of days/)
  assert.equal(reg.requests.length, 0)
})
