'use strict'
// The packages as published, through a real registry: verdaccio (a
// devDependency) on loopback with its own storage, the dist/ tarballs that
// `npm run pack:all` writes published to it, then brisk-pm used the ways
// people meet it: `npx brisk-pm install`, `npm i -D brisk-pm` + `npx brisk
// install`, and `require('brisk-pm').install({ cwd })`, each on a small real
// project whose dependencies come from the public registry through
// verdaccio's uplink (needs the network; BRISK_SKIP_REAL=1 skips those).
// Also: the packed binary needs glibc 2.17 at most and carries no symbols.
//
// dist/ missing or from another version: the test runs `npm run pack:all`.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const net = require('node:net')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const h = require('./helpers.js')

const PKG = require('../package.json')
const DIST = path.join(h.ROOT, 'dist')
const VERDACCIO = path.join(h.ROOT, 'node_modules', 'verdaccio', 'bin', 'verdaccio')
const UPLINK = 'https://registry.npmjs.org/'
const skipNetwork = process.env.BRISK_SKIP_REAL === '1' ? 'BRISK_SKIP_REAL=1' : false

const tarballs = {
  main: path.join(DIST, `${PKG.name}-${PKG.version}.tgz`),
  platforms: PKG.briskPlatforms.map((p) => path.join(DIST, `${PKG.name}-${p}-${PKG.version}.tgz`))
}

function ensurePacked() {
  if ([tarballs.main, ...tarballs.platforms].every((f) => fs.existsSync(f))) return
  process.stderr.write('# publish.test: no dist/ tarballs for this version, running npm run pack:all\n')
  const r = spawnSync('npm', ['run', 'pack:all'], { cwd: h.ROOT, stdio: ['ignore', 2, 2] })
  assert.equal(r.status, 0, 'npm run pack:all failed')
}

/** A free loopback port (taken and given back; verdaccio binds it next). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** verdaccio on 127.0.0.1 with storage, htpasswd and config under `dir`. */
async function startVerdaccio(dir, env) {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}/`
  const config = path.join(dir, 'config.yaml')
  // brisk-pm and its platform packages are served from this storage only:
  // a name missing here is a 404, never the public registry's package.
  fs.writeFileSync(config, [
    `storage: ${JSON.stringify(path.join(dir, 'storage'))}`,
    'web:',
    '  enable: false',
    'auth:',
    '  htpasswd:',
    `    file: ${JSON.stringify(path.join(dir, 'htpasswd'))}`,
    '    max_users: 10',
    'uplinks:',
    '  npmjs:',
    `    url: ${UPLINK}`,
    '    timeout: 60s',
    'packages:',
    `  '${PKG.name}':`,
    '    access: $all',
    '    publish: $authenticated',
    `  '${PKG.name}-*':`,
    '    access: $all',
    '    publish: $authenticated',
    "  '@*/*':",
    '    access: $all',
    '    publish: $authenticated',
    '    proxy: npmjs',
    "  '**':",
    '    access: $all',
    '    publish: $authenticated',
    '    proxy: npmjs',
    'middlewares:',
    '  audit:',
    '    enabled: false',
    'log:',
    '  type: stdout',
    '  format: pretty',
    '  level: warn',
    ''
  ].join('\n'))
  const child = spawn(process.execPath, [VERDACCIO, '--config', config, '--listen', `127.0.0.1:${port}`], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout.setEncoding('utf8').on('data', (d) => { log += d })
  child.stderr.setEncoding('utf8').on('data', (d) => { log += d })
  let exited = null
  child.on('exit', (code, signal) => { exited = { code, signal } })
  // Up when /-/ping answers; bounded by count, and a dead process ends it at once.
  for (let i = 0; i < 600 && !exited; i++) {
    try {
      const res = await fetch(`${url}-/ping`)
      if (res.ok) break
    } catch {}
    await sleep(100)
  }
  if (exited) throw new Error(`verdaccio exited (${JSON.stringify(exited)}): ${log}`)
  const res = await fetch(`${url}-/ping`)
  assert.ok(res.ok, `verdaccio did not answer on ${url}: ${log}`)
  return {
    url,
    log: () => log,
    close: () => new Promise((resolve) => {
      if (exited) return resolve()
      child.on('exit', resolve)
      child.kill('SIGTERM')
    })
  }
}

/** A registry user's token (verdaccio's htpasswd adds the user on first login). */
async function token(url) {
  const res = await fetch(`${url}-/user/org.couchdb.user:brisk-test`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'brisk-test', password: 'brisk-test-password', type: 'user', roles: [], date: new Date().toISOString() })
  })
  const body = await res.json()
  assert.ok(res.ok && body.token, `no token from verdaccio: ${res.status} ${JSON.stringify(body)}`)
  return body.token
}

let area
let registry
let env

before(async () => {
  ensurePacked()
  area = fs.mkdtempSync(path.join(os.tmpdir(), 'brisk-publish-'))
  const home = path.join(area, 'home')
  fs.mkdirSync(path.join(area, 'verdaccio'), { recursive: true })
  fs.mkdirSync(home, { recursive: true })
  registry = await startVerdaccio(path.join(area, 'verdaccio'), h.cleanEnv(home))
  const auth = `//127.0.0.1:${new URL(registry.url).port}/:_authToken=${await token(registry.url)}`
  // npm, npx and brisk all read this user config: the local registry, its token.
  fs.writeFileSync(path.join(home, '.npmrc'), `registry=${registry.url}\n${auth}\n`)
  env = h.cleanEnv(home, {
    npm_config_userconfig: path.join(home, '.npmrc'),
    npm_config_cache: path.join(area, 'npm-cache'),
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_loglevel: 'warn'
  })
  // Platform packages first, as napi prepublish does.
  for (const tgz of [...tarballs.platforms, tarballs.main]) {
    const r = await h.run('npm', ['publish', tgz, '--registry', registry.url], { cwd: area, env })
    assert.equal(r.status, 0, `npm publish ${path.basename(tgz)}: ${r.stderr}\n${registry.log()}`)
  }
})

after(async () => {
  if (registry) await registry.close()
  if (area && !process.env.BRISK_KEEP_TMP) fs.rmSync(area, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })
})

/** A fresh project folder under the test area. */
function projectDir(name, pkg) {
  const dir = path.join(area, name)
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, ...pkg }, null, 2) + '\n')
  return dir
}

function assertOk(r, what) {
  assert.equal(r.status, 0, `${what} exited with ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n--- verdaccio\n${registry.log()}`)
}

/** Every resolved URL in the lockfile points at the local registry. */
function assertLockFromRegistry(dir) {
  const lock = JSON.parse(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'))
  const resolved = Object.entries(lock.packages).filter(([k]) => k).map(([, v]) => v.resolved).filter(Boolean)
  assert.ok(resolved.length > 0, 'the lockfile records where packages came from')
  for (const r of resolved) assert.ok(r.startsWith(registry.url), `${r} is not from ${registry.url}`)
  return lock
}

test('the registry serves what pack:all packed, at one version, with the platform packages as optional dependencies', async () => {
  const res = await fetch(`${registry.url}${PKG.name}`)
  assert.equal(res.status, 200)
  const doc = await res.json()
  const meta = doc.versions[PKG.version]
  assert.equal(meta.bin.brisk, 'bin/brisk.js')
  assert.equal(meta.license, 'MIT')
  for (const p of PKG.briskPlatforms) {
    assert.equal(meta.optionalDependencies[`${PKG.name}-${p}`], PKG.version)
    const sub = await (await fetch(`${registry.url}${PKG.name}-${p}`)).json()
    assert.ok(sub.versions[PKG.version], `${PKG.name}-${p}@${PKG.version} is published`)
  }
})

test('the packed linux-x64-gnu binary needs glibc 2.17 at most and is stripped', { skip: !PKG.briskPlatforms.includes('linux-x64-gnu') && 'no linux-x64-gnu package' }, () => {
  const dir = path.join(area, 'unpacked')
  fs.mkdirSync(dir, { recursive: true })
  const tgz = tarballs.platforms[PKG.briskPlatforms.indexOf('linux-x64-gnu')]
  const x = spawnSync('tar', ['-xzf', tgz, '-C', dir], { encoding: 'utf8' })
  assert.equal(x.status, 0, x.stderr)
  const binary = path.join(dir, 'package', `${PKG.napi.binaryName}.linux-x64-gnu.node`)
  assert.ok(fs.existsSync(binary), `${binary} is in the tarball`)
  for (const f of ['LICENSE', 'README.md', 'package.json']) assert.ok(fs.existsSync(path.join(dir, 'package', f)), `${f} is in the tarball`)

  const dyn = spawnSync('objdump', ['-T', binary], { encoding: 'utf8', maxBuffer: 64 << 20 })
  assert.equal(dyn.status, 0, `objdump -T: ${dyn.stderr}`)
  const versions = [...dyn.stdout.matchAll(/\bGLIBC_(\d+)\.(\d+)(?:\.(\d+))?\b/g)].map((m) => [+m[1], +m[2], +(m[3] || 0)])
  assert.ok(versions.length > 0, 'the binary links against glibc')
  const cmp = (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]
  const newest = versions.sort(cmp).at(-1)
  assert.ok(cmp(newest, [2, 17, 0]) <= 0, `newest GLIBC symbol version is ${newest.join('.')}, above 2.17`)

  const sections = spawnSync('readelf', ['-S', '-W', binary], { encoding: 'utf8', maxBuffer: 64 << 20 })
  assert.equal(sections.status, 0, `readelf -S: ${sections.stderr}`)
  assert.doesNotMatch(sections.stdout, /\s\.symtab\s/, 'no symbol table')
  assert.doesNotMatch(sections.stdout, /\s\.debug_\w+\s/, 'no debug info')
})

test('npx brisk-pm install: a project installed by the published brisk', { skip: skipNetwork }, async () => {
  const dir = projectDir('npx-project', { dependencies: { debug: '^4.3.4' } })
  const r = await h.run('npx', ['--yes', '--registry', registry.url, PKG.name, 'install'], { cwd: dir, env })
  assertOk(r, 'npx brisk-pm install')
  assert.match(r.stdout, /^added 2 packages /m, 'brisk says what it did')
  // The npx cache holds the published main package and its platform package.
  const npx = path.join(env.npm_config_cache, '_npx')
  const installed = h.listFiles(npx).map((f) => path.relative(npx, f).split(path.sep).slice(1).join('/'))
  assert.ok(installed.includes(`node_modules/${PKG.name}/bin/brisk.js`), 'npx installed brisk-pm')
  assert.ok(installed.includes(`node_modules/${PKG.name}-linux-x64-gnu/${PKG.napi.binaryName}.linux-x64-gnu.node`), 'with its binary')

  for (const name of ['debug', 'ms']) assert.ok(fs.existsSync(path.join(dir, 'node_modules', name, 'package.json')), `node_modules/${name}`)
  assert.equal(h.nodeEval(dir, "process.stdout.write(typeof require('debug')('x'))", env), 'function')
  const lock = assertLockFromRegistry(dir)
  assert.match(lock.packages['node_modules/debug'].version, /^4\./)
})

test('npm i -D brisk-pm, then npx brisk install and require("brisk-pm").install({ cwd })', { skip: skipNetwork }, async () => {
  const dir = projectDir('dev-project', { dependencies: { debug: '^4.3.4' } })
  const add = await h.run('npm', ['i', '-D', PKG.name], { cwd: dir, env })
  assertOk(add, 'npm i -D brisk-pm')
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).devDependencies[PKG.name], `^${PKG.version}`)
  assert.ok(fs.existsSync(path.join(dir, 'node_modules', `${PKG.name}-linux-x64-gnu`, `${PKG.napi.binaryName}.linux-x64-gnu.node`)))
  assert.ok(fs.existsSync(path.join(dir, 'node_modules', '.bin', 'brisk')), 'node_modules/.bin/brisk')

  // A dependency npm has not installed: brisk installs it.
  const pkgFile = path.join(dir, 'package.json')
  const manifest = JSON.parse(fs.readFileSync(pkgFile, 'utf8'))
  manifest.dependencies.semver = '^7.6.0'
  fs.writeFileSync(pkgFile, JSON.stringify(manifest, null, 2) + '\n')
  const r = await h.run('npx', ['brisk', 'install'], { cwd: dir, env })
  assertOk(r, 'npx brisk install')
  assert.match(r.stdout, /^added \d+ package/m, 'brisk says what it did')
  assert.equal(h.nodeEval(dir, "process.stdout.write(String(require('semver').valid('1.2.3')))", env), '1.2.3')
  assert.ok(fs.existsSync(path.join(dir, 'node_modules', PKG.name, 'brisk.js')), 'brisk kept itself installed')
  assert.ok(fs.existsSync(path.join(dir, 'node_modules', `${PKG.name}-linux-x64-gnu`, `${PKG.napi.binaryName}.linux-x64-gnu.node`)), 'and its binary')
  assertLockFromRegistry(dir)

  // The JS API from the installed package.
  manifest.dependencies['is-number'] = '^7.0.0'
  fs.writeFileSync(pkgFile, JSON.stringify(manifest, null, 2) + '\n')
  const api = await h.run(process.execPath, ['-e', `require(${JSON.stringify(PKG.name)}).install({ cwd: process.cwd() }).then((r) => process.stdout.write(JSON.stringify(r)), (e) => { console.error(e); process.exit(1) })`], { cwd: dir, env })
  assertOk(api, "require('brisk-pm').install({ cwd })")
  const out = api.stdout
  const result = JSON.parse(out)
  assert.ok(result.added >= 1, `install added is-number: ${out}`)
  assert.equal(h.nodeEval(dir, "process.stdout.write(String(require('is-number')(5)))", env), 'true')

  // And npm agrees with the tree brisk left.
  const ls = await h.run('npm', ['ls', '--all'], { cwd: dir, env })
  assertOk(ls, 'npm ls --all')
})
