'use strict'
// A local npm registry for tests: node:http on 127.0.0.1, a random port,
// packuments (full, or abbreviated for `Accept: application/vnd.npm.install-v1+json`)
// and real tarballs built in memory from fixtures.js. Every request is logged,
// and tests can inject faults per package: an HTTP status N times, a dropped
// connection, a delay, a hang, a tarball whose bytes do not match its integrity,
// or a required auth token. Publish times (packument `time`) can be moved per
// version.
//
//   const reg = await startRegistry()
//   reg.url                       // 'http://127.0.0.1:PORT/'
//   reg.fault('flaky', { on: 'packument', status: 500, times: 2 })
//   reg.fault('busy', { status: 429, times: 1, headers: { 'retry-after': '1' } })
//   reg.published('leaf', { '2.1.0': new Date().toISOString() })
//   reg.requests.filter(r => r.kind === 'packument')
//   await reg.close()

const http = require('node:http')
const crypto = require('node:crypto')
const { tgz } = require('./tar.js')
const fixtures = require('./fixtures.js')

const CORGI = 'application/vnd.npm.install-v1+json'
const TAMPER_MARKER = 'BRISK-TAMPERED-CONTENT'
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall']
// Fields a registry keeps in an abbreviated ("corgi") version document.
const CORGI_FIELDS = [
  'name', 'version', 'dependencies', 'optionalDependencies', 'devDependencies',
  'bundleDependencies', 'peerDependencies', 'peerDependenciesMeta', 'bin', 'directories',
  'dist', 'engines', 'os', 'cpu', 'libc', 'deprecated', 'hasInstallScript', '_hasShrinkwrap',
  'license'
]

/** The package.json a fixture version ships. */
function manifestOf(name, version, def) {
  const m = { name, version, description: `${name} test fixture`, main: 'index.js' }
  for (const key of ['license', 'bin', 'dependencies', 'optionalDependencies', 'peerDependencies',
    'peerDependenciesMeta', 'os', 'cpu', 'libc', 'engines', 'scripts', 'config', 'deprecated',
    'bundleDependencies']) {
    if (def[key] !== undefined) m[key] = def[key]
  }
  return m
}

function binPaths(manifest) {
  if (!manifest.bin) return {}
  if (typeof manifest.bin === 'string') {
    return { [manifest.name.split('/').pop()]: manifest.bin }
  }
  return manifest.bin
}

/** The entries of a fixture tarball (all under `package/`, like npm pack). */
function tarballEntries(manifest, def, { tampered = false } = {}) {
  const deps = Object.keys({
    ...manifest.dependencies, ...manifest.optionalDependencies, ...manifest.peerDependencies
  })
  const index = [
    "'use strict'",
    'const deps = {}',
    `for (const d of ${JSON.stringify(deps)}) {`,
    "  try { deps[d] = require(d + '/package.json').version } catch (e) { deps[d] = null }",
    '}',
    `module.exports = { name: ${JSON.stringify(manifest.name)}, version: ${JSON.stringify(manifest.version)}, deps }`,
    tampered ? `// ${TAMPER_MARKER}` : ''
  ].join('\n')
  const entries = [
    { path: 'package/package.json', content: JSON.stringify(manifest, null, 2) + '\n' },
    { path: 'package/index.js', content: index + '\n' },
    { path: 'package/README.md', content: `# ${manifest.name}\n` }
  ]
  for (const [bin, file] of Object.entries(binPaths(manifest))) {
    const rel = file.replace(/^\.\//, '')
    entries.push({
      path: `package/${rel}`,
      mode: def.binMode ?? 0o755,
      content: '#!/usr/bin/env node\n' +
        `console.log(JSON.stringify({ bin: ${JSON.stringify(bin)}, name: ${JSON.stringify(manifest.name)}, version: ${JSON.stringify(manifest.version)} }))\n`
    })
  }
  for (const extra of def.extraEntries || []) entries.push(extra)
  return entries
}

function sri(buf) {
  return 'sha512-' + crypto.createHash('sha512').update(buf).digest('base64')
}

/** Build every fixture version once: manifest, tarball, integrity. */
function buildPackages(defs) {
  const built = new Map()
  for (const [name, pkg] of Object.entries(defs)) {
    const versions = {}
    for (const [version, def] of Object.entries(pkg.versions)) {
      const manifest = manifestOf(name, version, def)
      const tarball = tgz(tarballEntries(manifest, def))
      const tamperedTarball = tgz(tarballEntries(manifest, def, { tampered: true }))
      const unpackedSize = tarballEntries(manifest, def)
        .reduce((n, e) => n + Buffer.byteLength(e.content || ''), 0)
      versions[version] = {
        distTarball: def.distTarball,
        manifest,
        tarball,
        tamperedTarball,
        integrity: sri(tarball),
        shasum: crypto.createHash('sha1').update(tarball).digest('hex'),
        fileCount: tarballEntries(manifest, def).length,
        unpackedSize
      }
    }
    const sorted = Object.keys(versions)
    const stable = sorted.filter((x) => !x.includes('-'))
    const distTags = pkg.distTags || { latest: stable[stable.length - 1] || sorted[sorted.length - 1] }
    built.set(name, { name, versions, distTags })
  }
  return built
}

function tarballName(name, version) {
  return `${name.split('/').pop()}-${version}.tgz`
}

/**
 * Parse a request path into { prefix, kind, name, file }. Accepts
 * `/name`, `/@scope%2fname`, `/@scope/name`, `/name/-/name-1.0.0.tgz`,
 * `/@scope/name/-/name-1.0.0.tgz`, each optionally under a path prefix
 * (`/private/...`), which scoped-registry tests use.
 */
function parsePath(rawPath) {
  const path = rawPath.split('?')[0]
  const segments = path.split('/').filter(Boolean).map((s) => decodeURIComponent(s))
  // "@scope%2fname" decodes to one segment "@scope/name": split it back.
  const parts = segments.flatMap((s) => s.split('/'))
  const dash = parts.indexOf('-')
  const nameEnd = dash === -1 ? parts.length : dash
  // The name is the last one or two segments before '-' (two when scoped).
  let nameStart = nameEnd - 1
  if (nameStart > 0 && parts[nameStart - 1].startsWith('@')) nameStart -= 1
  if (nameStart < 0) return { kind: 'other' }
  const prefix = parts.slice(0, nameStart).map((p) => '/' + p).join('')
  const name = parts.slice(nameStart, nameEnd).join('/')
  if (dash === -1) return { kind: 'packument', prefix, name }
  const file = parts.slice(dash + 1).join('/')
  return { kind: file.endsWith('.tgz') ? 'tarball' : 'other', prefix, name, file }
}

class Registry {
  constructor(defs) {
    this.packages = buildPackages(defs)
    this.requests = []
    this.faults = new Map() // name -> [fault]
    this.auth = new Map() // name or @scope -> token
    this.times = new Map() // name -> { version: ISO date }
    this.sockets = new Set()
    this.timers = new Set()
    this.server = http.createServer((req, res) => this.handle(req, res))
    this.server.on('connection', (s) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
  }

  async listen() {
    await new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(0, '127.0.0.1', resolve)
    })
    this.port = this.server.address().port
    this.origin = `http://127.0.0.1:${this.port}`
    this.url = this.origin + '/'
    return this
  }

  /**
   * Inject a fault for one package.
   * @param {string} name package name
   * @param {{on?: 'packument'|'tarball'|'both', status?: number, times?: number,
   *   hang?: boolean, delayMs?: number, reset?: boolean, tamper?: boolean,
   *   headers?: object}} fault
   *   `times` limits how many requests it hits (default: all); `headers` go
   *   with an injected `status`.
   */
  fault(name, fault) {
    const list = this.faults.get(name) || []
    list.push({ on: 'both', ...fault, hits: 0 })
    this.faults.set(name, list)
  }

  /**
   * Publish times for some versions of a package (version -> ISO date), in
   * place of the defaults (2020-02-01, 2020-02-02, ... in version order).
   */
  published(name, times) {
    this.times.set(name, { ...this.times.get(name), ...times })
  }

  /** Require `Authorization: Bearer <token>` for a package name or a whole `@scope`. */
  requireAuth(nameOrScope, token) {
    this.auth.set(nameOrScope, token)
  }

  /** Forget faults, auth rules, publish times, the tarball origin and the request log. */
  reset() {
    this.faults.clear()
    this.auth.clear()
    this.times.clear()
    this.requests = []
    this.tarballOrigin = undefined
  }

  clearLog() {
    this.requests = []
  }

  /** Requests of one kind ('packument' | 'tarball' | 'other'), optionally for one package. */
  requestsOf(kind, name) {
    return this.requests.filter((r) => r.kind === kind && (name === undefined || r.name === name))
  }

  /** Bytes of tarballs served with status 200. */
  tarballBytes() {
    return this.requestsOf('tarball').filter((r) => r.status === 200).reduce((n, r) => n + r.bytes, 0)
  }

  version(name, version) {
    const pkg = this.packages.get(name)
    return pkg && pkg.versions[version]
  }

  integrity(name, version) {
    return this.version(name, version).integrity
  }

  /**
   * Where packuments say tarballs are. Set `reg.tarballOrigin` (e.g. another
   * server's origin, or an https:// front) to serve them from elsewhere.
   */
  tarballUrl(name, version, prefix = '') {
    return `${this.tarballOrigin || this.origin}${prefix}/${name}/-/${tarballName(name, version)}`
  }

  /** The full packument, as the registry serves it. */
  packument(name, prefix = '') {
    const pkg = this.packages.get(name)
    if (!pkg) return null
    const versions = {}
    const time = { created: '2020-01-01T00:00:00.000Z', modified: '2021-01-01T00:00:00.000Z' }
    let day = 1
    for (const [version, built] of Object.entries(pkg.versions)) {
      const doc = { ...built.manifest, _id: `${name}@${version}` }
      if (Object.keys(doc.scripts || {}).some((s) => INSTALL_SCRIPTS.includes(s))) doc.hasInstallScript = true
      doc.dist = {
        integrity: built.integrity,
        shasum: built.shasum,
        tarball: built.distTarball || this.tarballUrl(name, version, prefix),
        fileCount: built.fileCount,
        unpackedSize: built.unpackedSize
      }
      versions[version] = doc
      const moved = (this.times.get(name) || {})[version]
      time[version] = moved ?? `2020-02-${String(day).padStart(2, '0')}T00:00:00.000Z`
      day++
    }
    return { _id: name, name, 'dist-tags': pkg.distTags, versions, time, license: 'MIT', readme: `# ${name}\n` }
  }

  /** The abbreviated packument (what npm asks for). */
  abbreviated(name, prefix = '') {
    const full = this.packument(name, prefix)
    if (!full) return null
    const versions = {}
    for (const [version, doc] of Object.entries(full.versions)) {
      const small = {}
      for (const key of CORGI_FIELDS) if (doc[key] !== undefined) small[key] = doc[key]
      versions[version] = small
    }
    return { name, modified: full.time.modified, 'dist-tags': full['dist-tags'], versions }
  }

  /** Faults that apply to this request (counting a hit on each). */
  takeFaults(name, kind) {
    const out = []
    for (const f of this.faults.get(name) || []) {
      if (f.on !== 'both' && f.on !== kind) continue
      if (f.times !== undefined && f.hits >= f.times) continue
      f.hits++
      out.push(f)
    }
    return out
  }

  authorized(name, req) {
    const scope = name.startsWith('@') ? name.split('/')[0] : null
    const token = this.auth.has(name) ? this.auth.get(name) : scope ? this.auth.get(scope) : undefined
    if (token === undefined) return true
    return req.headers.authorization === `Bearer ${token}`
  }

  handle(req, res) {
    const parsed = parsePath(req.url)
    const entry = {
      method: req.method,
      url: req.url,
      kind: parsed.kind,
      name: parsed.name,
      prefix: parsed.prefix,
      accept: req.headers.accept,
      authorization: req.headers.authorization,
      ifNoneMatch: req.headers['if-none-match'],
      status: null
    }
    this.requests.push(entry)
    const send = (status, body, headers = {}) => {
      entry.status = status
      entry.bytes = body.length
      res.writeHead(status, { 'content-length': body.length, ...headers })
      res.end(req.method === 'HEAD' ? undefined : body)
    }
    const sendJson = (status, obj, headers = {}) =>
      send(status, Buffer.from(JSON.stringify(obj)), { 'content-type': 'application/json', ...headers })

    if (parsed.kind === 'other' || !['GET', 'HEAD'].includes(req.method)) {
      return sendJson(404, { error: 'not found' })
    }
    const faults = this.takeFaults(parsed.name, parsed.kind)
    const respond = () => {
      if (faults.some((f) => f.hang)) {
        entry.status = 'hang'
        return // never answer; close() destroys the socket
      }
      if (faults.some((f) => f.reset)) {
        entry.status = 'reset'
        return req.socket.destroy()
      }
      const failing = faults.find((f) => f.status)
      if (failing) return sendJson(failing.status, { error: `injected ${failing.status}` }, failing.headers)
      if (!this.authorized(parsed.name, req)) {
        return sendJson(401, { error: 'authentication required' }, { 'www-authenticate': 'Bearer' })
      }
      if (parsed.kind === 'packument') return this.servePackument(req, parsed, send, sendJson)
      return this.serveTarball(parsed, faults.some((f) => f.tamper), send, sendJson)
    }
    const delay = Math.max(0, ...faults.map((f) => f.delayMs || 0))
    if (delay) {
      const t = setTimeout(() => {
        this.timers.delete(t)
        if (!res.destroyed) respond()
      }, delay)
      this.timers.add(t)
    } else {
      respond()
    }
  }

  servePackument(req, parsed, send, sendJson) {
    const corgi = (req.headers.accept || '').includes(CORGI)
    const doc = corgi ? this.abbreviated(parsed.name, parsed.prefix) : this.packument(parsed.name, parsed.prefix)
    if (!doc) return sendJson(404, { error: 'Not found' })
    const body = Buffer.from(JSON.stringify(doc))
    const etag = `"${crypto.createHash('sha1').update(body).digest('hex')}"`
    if (req.headers['if-none-match'] === etag) {
      return send(304, Buffer.alloc(0), { etag })
    }
    return send(200, body, {
      'content-type': corgi ? `${CORGI}; charset=utf-8` : 'application/json; charset=utf-8',
      etag,
      'cache-control': 'max-age=300'
    })
  }

  serveTarball(parsed, tamper, send, sendJson) {
    const pkg = this.packages.get(parsed.name)
    const version = pkg && Object.keys(pkg.versions).find((ver) => tarballName(parsed.name, ver) === parsed.file)
    if (!version) return sendJson(404, { error: 'Not found' })
    const built = pkg.versions[version]
    return send(200, tamper ? built.tamperedTarball : built.tarball, { 'content-type': 'application/octet-stream' })
  }

  async close() {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    const closed = new Promise((resolve) => this.server.close(resolve))
    for (const s of this.sockets) s.destroy()
    await closed
  }
}

/** Start a registry serving `defs` (default: fixtures.js) on a random port. */
async function startRegistry({ packages = fixtures.packages } = {}) {
  return new Registry(packages).listen()
}

module.exports = { startRegistry, Registry, parsePath, TAMPER_MARKER, CORGI }
