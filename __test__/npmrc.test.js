'use strict'
// .npmrc network settings end to end through brisk.install(): proxies
// (https-proxy/proxy/noproxy vs the environment), tokens that only go to the
// host they belong to, and TLS trust (strict-ssl, cafile, ca) against a local
// HTTPS front whose certificate is signed by a test CA (__test__/tls).

const { test, before, after, beforeEach } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const http2 = require('node:http2')
const https = require('node:https')
const path = require('node:path')
const brisk = require('../brisk.js')
const { startRegistry } = require('./registry.js')
const h = require('./helpers.js')

const T = { timeout: 60_000 }
const TLS = path.join(__dirname, 'tls')
const PROXY_VARS = /^(https?_proxy|proxy|no_proxy|all_proxy)$/i

let reg
before(async () => { reg = await startRegistry() })
after(async () => { await reg.close() })
beforeEach(() => reg.reset())

/** A project whose environment has no proxy variables from this machine. */
function setup(t, manifest, extra) {
  const p = h.project(manifest, extra)
  for (const k of Object.keys(p.env)) if (PROXY_VARS.test(k)) delete p.env[k]
  t.after(() => p.cleanup())
  return p
}

/** Close a server and every socket it still has open. */
function closer(server) {
  const sockets = new Set()
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  return () => {
    for (const s of sockets) s.destroy()
    return new Promise((resolve) => server.close(resolve))
  }
}

async function listen(server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server.address().port
}

/**
 * A forwarding proxy for plain-http targets: it receives absolute-URI
 * requests (`GET http://127.0.0.1:PORT/leaf HTTP/1.1`), logs them and
 * forwards them in origin form.
 */
async function startProxy(t) {
  const seen = []
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url, proxyAuthorization: req.headers['proxy-authorization'] })
    let target
    try { target = new URL(req.url) } catch { res.writeHead(400); return res.end() }
    const headers = { ...req.headers }
    delete headers['proxy-authorization']
    const up = http.request({
      host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers
    }, (upRes) => {
      res.writeHead(upRes.statusCode, upRes.headers)
      upRes.pipe(res)
    })
    up.on('error', () => { res.writeHead(502); res.end() })
    req.pipe(up)
  })
  const close = closer(server)
  const port = await listen(server)
  t.after(close)
  return { port, seen }
}

/** The fixture registry behind HTTPS with the test CA's server certificate. */
async function startHttpsFront(t) {
  const server = https.createServer({
    key: fs.readFileSync(path.join(TLS, 'server.key')),
    cert: fs.readFileSync(path.join(TLS, 'server.pem'))
  }, (req, res) => reg.handle(req, res))
  const close = closer(server)
  const port = await listen(server)
  t.after(close)
  const origin = `https://127.0.0.1:${port}`
  reg.tarballOrigin = origin
  return { origin, url: origin + '/' }
}

const leafOnly = { dependencies: { leaf: '^1.0.0' } }

async function expectCode(promise, code) {
  const err = await h.rejection(promise)
  assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`)
  return err
}

test('installs through the .npmrc proxy, with its credentials; .npmrc beats HTTP_PROXY', T, async (t) => {
  const proxy = await startProxy(t)
  const npmrc = `registry=${reg.url}\nproxy=http://user:pa%40ss@127.0.0.1:${proxy.port}/\n`
  const p = setup(t, leafOnly, { npmrc })
  p.env.HTTP_PROXY = 'http://127.0.0.1:9' // nothing listens there
  await brisk.install({ cwd: p.dir, cacheDir: p.cache, env: p.env })
  assert.equal(h.installedTree(p.dir)['node_modules/leaf'], '1.1.0')
  const urls = proxy.seen.map((s) => s.url)
  assert.ok(urls.includes(`${reg.origin}/leaf`), `packument via the proxy: ${urls}`)
  assert.ok(urls.includes(reg.tarballUrl('leaf', '1.1.0')), `tarball via the proxy: ${urls}`)
  const basic = 'Basic ' + Buffer.from('user:pa@ss').toString('base64')
  assert.ok(proxy.seen.every((s) => s.proxyAuthorization === basic), 'proxy credentials on every request')
  assert.equal(reg.requestsOf('packument', 'leaf').length, 1)
})

test('HTTP_PROXY from the environment is used; noproxy bypasses it', T, async (t) => {
  const proxy = await startProxy(t)
  const viaEnv = setup(t, leafOnly, { npmrc: `registry=${reg.url}\n` })
  viaEnv.env.HTTP_PROXY = `http://127.0.0.1:${proxy.port}`
  await brisk.install({ cwd: viaEnv.dir, cacheDir: viaEnv.cache, env: viaEnv.env })
  assert.ok(proxy.seen.length >= 2, 'packument and tarball through the env proxy')

  proxy.seen.length = 0
  const bypass = setup(t, leafOnly, {
    npmrc: `registry=${reg.url}\nproxy=http://127.0.0.1:${proxy.port}\nnoproxy=localhost,127.0.0.1\n`
  })
  await brisk.install({ cwd: bypass.dir, cacheDir: bypass.cache, env: bypass.env })
  assert.equal(h.installedTree(bypass.dir)['node_modules/leaf'], '1.1.0')
  assert.deepEqual(proxy.seen, [], 'noproxy: nothing went through the proxy')
})

test('a registry token is sent to the registry, not to tarballs on another host:port', T, async (t) => {
  const cdn = await startRegistry()
  t.after(() => cdn.close())
  reg.tarballOrigin = cdn.origin
  reg.requireAuth('leaf', 'tok-abc')
  const npmrc = `registry=${reg.url}\n//127.0.0.1:${reg.port}/:_authToken=tok-abc\n`
  const p = setup(t, leafOnly, { npmrc })
  await brisk.install({ cwd: p.dir, cacheDir: p.cache, env: p.env })
  assert.equal(h.installedTree(p.dir)['node_modules/leaf'], '1.1.0')
  const packuments = reg.requestsOf('packument', 'leaf')
  assert.ok(packuments.length >= 1 && packuments.every((r) => r.authorization === 'Bearer tok-abc'))
  assert.equal(reg.requestsOf('tarball').length, 0, 'tarballs come from the other server')
  const tarballs = cdn.requestsOf('tarball', 'leaf')
  assert.equal(tarballs.length, 1)
  assert.equal(tarballs[0].authorization, undefined, 'the token leaked to another host:port')
  assert.equal(p.lock().packages['node_modules/leaf'].resolved, cdn.tarballUrl('leaf', '1.1.0'))
})

test('HTTPS with a private CA: rejected by default with E_NETWORK and a hint', T, async (t) => {
  const front = await startHttpsFront(t)
  const p = setup(t, leafOnly, { npmrc: `registry=${front.url}\n` })
  const before = h.snapshot(p.dir)
  const err = await expectCode(brisk.install({ cwd: p.dir, cacheDir: p.cache, env: p.env }), 'E_NETWORK')
  assert.match(err.message, /certificate/i)
  assert.match(err.message, /cafile/)
  assert.match(err.message, /strict-ssl=false/)
  assert.deepEqual(h.snapshot(p.dir), before, 'nothing written')
})

test('HTTPS with a private CA: accepted with cafile, with ca inline, and with strict-ssl=false', T, async (t) => {
  const front = await startHttpsFront(t)
  const otherCa = fs.readFileSync(path.join(TLS, 'other-ca.pem'), 'utf8')
  const ca = fs.readFileSync(path.join(TLS, 'ca.pem'), 'utf8')
  const bundle = path.join(h.project().root, 'bundle.pem')
  fs.writeFileSync(bundle, otherCa + ca) // several certificates in one cafile
  t.after(() => fs.rmSync(path.dirname(bundle), { recursive: true, force: true }))
  const variants = {
    cafile: `cafile=${bundle}\n`,
    ca: `ca="${ca.trim().replace(/\n/g, '\\n')}"\n`,
    'strict-ssl': 'strict-ssl=false\n'
  }
  for (const [name, line] of Object.entries(variants)) {
    reg.clearLog()
    const p = setup(t, leafOnly, { npmrc: `registry=${front.url}\n${line}` })
    await brisk.install({ cwd: p.dir, cacheDir: p.cache, env: p.env })
    assert.equal(h.installedTree(p.dir)['node_modules/leaf'], '1.1.0', name)
    assert.equal(reg.requestsOf('tarball', 'leaf').length, 1, `${name}: tarball over HTTPS`)
    assert.equal(p.lock().packages['node_modules/leaf'].resolved, `${front.origin}/leaf/-/leaf-1.1.0.tgz`)
  }

  // NODE_EXTRA_CA_CERTS (Node reads it for npm) adds to the built-in roots.
  const viaEnv = setup(t, leafOnly, { npmrc: `registry=${front.url}\n` })
  viaEnv.env.NODE_EXTRA_CA_CERTS = bundle
  await brisk.install({ cwd: viaEnv.dir, cacheDir: viaEnv.cache, env: viaEnv.env })
  assert.equal(h.installedTree(viaEnv.dir)['node_modules/leaf'], '1.1.0', 'NODE_EXTRA_CA_CERTS')

  // A CA that did not sign the server's certificate: still rejected.
  const p = setup(t, leafOnly, { npmrc: `registry=${front.url}\ncafile=${path.join(TLS, 'other-ca.pem')}\n` })
  await expectCode(brisk.install({ cwd: p.dir, cacheDir: p.cache, env: p.env }), 'E_NETWORK')
})

test('the brisk program keeps NODE_EXTRA_CA_CERTS from node but trusts it and passes it on', T, async (t) => {
  const front = await startHttpsFront(t)
  const record = "require('fs').writeFileSync('seen.json', JSON.stringify({ extra: process.env.NODE_EXTRA_CA_CERTS, moved: process.env.BRISK_EXTRA_CA_CERTS }))"
  const p = setup(t, { ...leafOnly, scripts: { postinstall: `node -e "${record}"` } }, { npmrc: `registry=${front.url}\n` })
  p.env.NODE_EXTRA_CA_CERTS = path.join(TLS, 'ca.pem')
  // Started the way npx and node_modules/.bin start it: the file itself.
  const r = await h.run(h.CLI, ['install', '--cache-dir', p.cache], { cwd: p.dir, env: p.env })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(h.installedTree(p.dir)['node_modules/leaf'], '1.1.0', 'the test CA from the environment was trusted')
  const seen = JSON.parse(fs.readFileSync(path.join(p.dir, 'seen.json'), 'utf8'))
  assert.deepEqual(seen, { extra: path.join(TLS, 'ca.pem') }, 'lifecycle scripts see the variable as the user set it')

  // node did not load it (it would warn of an unreadable file); brisk does.
  const bad = await h.run(h.CLI, ['--version'], { env: { ...p.env, NODE_EXTRA_CA_CERTS: path.join(p.dir, 'missing.pem') } })
  assert.equal(bad.status, 0, bad.stderr)
  assert.doesNotMatch(bad.stderr, /^Warning: Ignoring extra certs/m)
  assert.match(bad.stderr, /^brisk WARN ignoring extra certs from NODE_EXTRA_CA_CERTS: ENOENT.*missing\.pem/m)
})

test("the system's certificate store is trusted only with NODE_USE_SYSTEM_CA=1, as by Node", T, async (t) => {
  const front = await startHttpsFront(t)
  // rustls-native-certs reads the store from SSL_CERT_FILE when it is set:
  // a store that holds only the test CA.
  const store = { SSL_CERT_FILE: path.join(TLS, 'ca.pem') }
  const run = async (extra) => {
    const p = setup(t, leafOnly, { npmrc: `registry=${front.url}\n` })
    for (const k of ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_DIR', 'NODE_USE_SYSTEM_CA']) delete p.env[k]
    const r = await h.cli(['install', '--cache-dir', p.cache], { cwd: p.dir, env: { ...p.env, ...store, ...extra } })
    return { r, tree: h.installedTree(p.dir) }
  }
  const without = await run({})
  assert.equal(without.r.status, 1, 'the store is not read: the test CA is unknown')
  assert.match(without.r.stderr, /certificate/i)
  assert.equal(without.tree['node_modules/leaf'], undefined)
  const withIt = await run({ NODE_USE_SYSTEM_CA: '1' })
  assert.equal(withIt.r.status, 0, withIt.r.stderr)
  assert.equal(withIt.tree['node_modules/leaf'], '1.1.0')
})

test('an HTTP/2 registry: one connection carries every request', T, async (t) => {
  const server = http2.createSecureServer({
    key: fs.readFileSync(path.join(TLS, 'server.key')),
    cert: fs.readFileSync(path.join(TLS, 'server.pem')),
    allowHTTP1: true
  }, (req, res) => {
    versions.push(req.httpVersion)
    reg.handle(req, res)
  })
  const versions = []
  let connections = 0
  server.on('connection', () => { connections++ })
  const close = closer(server)
  const port = await listen(server)
  t.after(close)
  const origin = `https://127.0.0.1:${port}`
  reg.tarballOrigin = origin
  const manifest = { dependencies: { leaf: '^1.0.0', mid: '^1.0.0', 'deep-a': '^1.0.0', tool: '*', '@scope/pkg': '*' } }
  const p = setup(t, manifest, { npmrc: `registry=${origin}/\ncafile=${path.join(TLS, 'ca.pem')}\n` })
  await brisk.install({ cwd: p.dir, cacheDir: p.cache, env: p.env })
  const tree = h.installedTree(p.dir)
  assert.equal(tree['node_modules/leaf'], '1.1.0')
  assert.equal(tree['node_modules/deep-b'], '1.0.0')
  assert.ok(versions.length >= 10, `packuments and tarballs: ${versions.length} requests`)
  assert.deepEqual([...new Set(versions)], ['2.0'], 'every request over HTTP/2')
  assert.equal(connections, 1, 'the first request went alone, the rest shared its connection')
})

test('bad network settings are E_CONFIG naming the key or file', T, async (t) => {
  const cases = [
    ['cafile=/nonexistent/ca.pem\n', /\/nonexistent\/ca\.pem/],
    ['ca=not-a-certificate\n', /ca \(set in .*\.npmrc\)/],
    ['https-proxy=socks5://user:hunter2@127.0.0.1:1080\n', /https-proxy \(set in .*\.npmrc\).*socks5/]
  ]
  for (const [npmrc, pattern] of cases) {
    const p = setup(t, leafOnly, { npmrc: `registry=${reg.url}\n${npmrc}` })
    const err = await expectCode(brisk.install({ cwd: p.dir, cacheDir: p.cache, env: p.env }), 'E_CONFIG')
    assert.match(err.message, pattern)
    assert.doesNotMatch(err.message, /hunter2/)
  }
  const p = setup(t, leafOnly)
  p.env.HTTPS_PROXY = 'ftp://127.0.0.1:21'
  const err = await expectCode(brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env }), 'E_CONFIG')
  assert.match(err.message, /HTTPS_PROXY/)
  assert.equal(reg.requests.length, 0, 'no request was made')
})
