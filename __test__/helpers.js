'use strict'
// Shared helpers for the JS tests: isolated temp projects, a clean
// environment (no user .npmrc, no npm_config_* leaking in from `npm test`),
// real npm as the reference, and ways to look at a tree on disk.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const crypto = require('node:crypto')
const zlib = require('node:zlib')
const { spawnSync, spawn } = require('node:child_process')

const ROOT = path.join(__dirname, '..')
const CLI = path.join(ROOT, 'bin', 'brisk.js')

/** process.env without npm's per-run variables, with HOME pointing at `home`. */
function cleanEnv(home, extra = {}) {
  const env = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || k === 'INIT_CWD' || k === 'NODE_ENV') continue
    env[k] = v
  }
  env.HOME = home
  env.USERPROFILE = home
  env.XDG_CACHE_HOME = path.join(home, '.cache')
  env.XDG_CONFIG_HOME = path.join(home, '.config')
  return { ...env, ...extra }
}

/**
 * A fresh temp area: { root, dir (the project), cache, home, env }.
 * `pkg` is written as dir/package.json (an object, or a raw string).
 */
function project(pkg, { npmrc, lockfile } = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'brisk-test-'))
  const dir = path.join(root, 'project')
  const cache = path.join(root, 'cache')
  const home = path.join(root, 'home')
  for (const d of [dir, cache, home]) fs.mkdirSync(d, { recursive: true })
  fs.writeFileSync(path.join(home, '.npmrc'), '')
  if (pkg !== undefined) {
    const text = typeof pkg === 'string' ? pkg : JSON.stringify({ name: 'fixture-project', version: '1.0.0', ...pkg }, null, 2) + '\n'
    fs.writeFileSync(path.join(dir, 'package.json'), text)
  }
  if (npmrc) fs.writeFileSync(path.join(dir, '.npmrc'), npmrc)
  if (lockfile) fs.writeFileSync(path.join(dir, 'package-lock.json'), typeof lockfile === 'string' ? lockfile : JSON.stringify(lockfile, null, 2))
  const env = cleanEnv(home)
  return {
    root, dir, cache, home, env,
    file: (...p) => path.join(dir, ...p),
    read: (...p) => fs.readFileSync(path.join(dir, ...p), 'utf8'),
    exists: (...p) => fs.existsSync(path.join(dir, ...p)),
    json: (...p) => JSON.parse(fs.readFileSync(path.join(dir, ...p), 'utf8')),
    lock: () => JSON.parse(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8')),
    cleanup: () => removeTree(root)
  }
}

/** Remove a temp tree (kept with BRISK_KEEP_TMP=1); never throws, says why it could not. */
function removeTree(root) {
  if (process.env.BRISK_KEEP_TMP) return
  try {
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })
  } catch (err) {
    process.stderr.write(`# could not remove ${root}: ${err.message}\n`)
  }
}

/** Copy a directory tree (plain files only, like a fixture folder). */
function copyDir(from, to) {
  fs.cpSync(from, to, { recursive: true })
}

/** Spawn a process and collect its output (async: the in-process registry keeps serving). */
function run(cmd, args, { cwd, env, timeout = 300_000, input } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
    child.stdin.end(input)
    let timedOut = false
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL') }, timeout)
    child.on('error', (error) => { clearTimeout(timer); resolve({ status: null, error, stdout, stderr }) })
    child.on('close', (status, signal) => {
      clearTimeout(timer)
      resolve({ status, signal, stdout, stderr, timedOut })
    })
  })
}

/**
 * Run real npm with an isolated config: a per-call userconfig, the given
 * cache and registry, no audit/fund/update notifier.
 */
function npm(args, { cwd, env, cache, registry, timeout = 300_000 }) {
  const npmEnv = {
    ...env,
    npm_config_userconfig: path.join(env.HOME, '.npmrc'),
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_loglevel: 'warn'
  }
  if (cache) npmEnv.npm_config_cache = cache
  if (registry) npmEnv.npm_config_registry = registry
  return run('npm', args, { cwd, env: npmEnv, timeout })
}

/** Run the brisk CLI (async). */
function cli(args, { cwd, env, timeout = 120_000 } = {}) {
  return run(process.execPath, [CLI, ...args], { cwd, env, timeout })
}

/** Run the brisk CLI synchronously (only for commands that need no registry). */
function cliSync(args, { cwd, env, timeout = 60_000 } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, env, encoding: 'utf8', timeout })
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, error: r.error }
}

/** Run `node -e <code>` in the project (so require() resolves from there). */
function nodeEval(cwd, code, env) {
  const r = spawnSync(process.execPath, ['-e', code], { cwd, env, encoding: 'utf8', timeout: 30_000 })
  if (r.status !== 0) throw new Error(`node -e failed (${r.status}): ${r.stderr}`)
  return r.stdout
}

/** require() a package from the project in a child node; returns its exports as JSON. */
function requireIn(cwd, name, env) {
  return JSON.parse(nodeEval(cwd, `process.stdout.write(JSON.stringify(require(${JSON.stringify(name)})))`, env))
}

/** Every package.json under node_modules: { 'node_modules/a/node_modules/b': version }. */
function installedTree(dir) {
  const out = {}
  const walk = (nm, prefix) => {
    let names
    try { names = fs.readdirSync(nm) } catch { return }
    for (const name of names) {
      if (name.startsWith('.')) continue
      if (name.startsWith('@')) {
        for (const sub of fs.readdirSync(path.join(nm, name))) visit(path.join(nm, name, sub), `${prefix}${name}/${sub}`)
      } else {
        visit(path.join(nm, name), prefix + name)
      }
    }
  }
  const visit = (pkgDir, key) => {
    const pj = path.join(pkgDir, 'package.json')
    if (!fs.existsSync(pj)) return
    out[key] = JSON.parse(fs.readFileSync(pj, 'utf8')).version
    walk(path.join(pkgDir, 'node_modules'), key + '/node_modules/')
  }
  walk(path.join(dir, 'node_modules'), 'node_modules/')
  return out
}

/** Lockfile packages as { path: version } (root entry excluded). */
function lockVersions(lock) {
  const out = {}
  for (const [p, e] of Object.entries(lock.packages || {})) if (p !== '') out[p] = e.version
  return out
}

/** The fields of lockfile entries npm relies on, for comparing with npm's own. */
const LOCK_FIELDS = [
  'version', 'resolved', 'integrity', 'name', 'dev', 'optional', 'devOptional', 'peer',
  'dependencies', 'optionalDependencies', 'peerDependencies', 'peerDependenciesMeta',
  'bin', 'os', 'cpu', 'libc', 'engines', 'license', 'hasInstallScript'
]
function lockEntries(lock, fields = LOCK_FIELDS) {
  const out = {}
  for (const [p, e] of Object.entries(lock.packages || {})) {
    if (p === '') continue
    const picked = {}
    for (const f of fields) if (e[f] !== undefined) picked[f] = e[f]
    out[p] = picked
  }
  return out
}

/** Every file under `dir` with its size, mode, inode and a content hash. */
function snapshot(dir) {
  const out = {}
  const walk = (d) => {
    let entries
    try { entries = fs.readdirSync(d, { withFileTypes: true }) } catch { return }
    for (const e of entries) {
      const p = path.join(d, e.name)
      const rel = path.relative(dir, p)
      const st = fs.lstatSync(p)
      if (e.isDirectory()) {
        out[rel + '/'] = 'dir'
        walk(p)
      } else if (e.isSymbolicLink()) {
        out[rel] = 'link:' + fs.readlinkSync(p)
      } else {
        const hash = crypto.createHash('sha1').update(fs.readFileSync(p)).digest('hex')
        out[rel] = `${st.size}:${st.mode.toString(8)}:${st.ino}:${st.mtimeMs}:${hash}`
      }
    }
  }
  walk(dir)
  return out
}

/** All regular files under `dir` (recursive). */
function listFiles(dir) {
  const out = []
  const walk = (d) => {
    let entries
    try { entries = fs.readdirSync(d, { withFileTypes: true }) } catch { return }
    for (const e of entries) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else out.push(p)
    }
  }
  walk(dir)
  return out
}

/**
 * Files under `dir` whose content contains `needle`, looking inside gzip
 * files too (a cache may keep tarballs compressed).
 */
function filesContaining(dir, needle) {
  const hits = []
  for (const file of listFiles(dir)) {
    let data
    try { data = fs.readFileSync(file) } catch { continue }
    if (data[0] === 0x1f && data[1] === 0x8b) {
      try { data = zlib.gunzipSync(data) } catch { /* not really gzip */ }
    }
    if (data.includes(needle)) hits.push(file)
  }
  return hits
}

/** Assert-friendly: the error a promise rejects with (fails if it resolves). */
async function rejection(promise) {
  try {
    const value = await promise
    const err = new Error(`expected a rejection, got ${JSON.stringify(value)}`)
    err.code = 'RESOLVED'
    throw err
  } catch (err) {
    if (err && err.code === 'RESOLVED') throw err
    return err
  }
}

/**
 * The local test registry for one test file: started before its tests,
 * reset before each, closed after. `reg` forwards to the running registry;
 * `opts(p)` are install options against it; `setup(t, manifest)` is a
 * project removed when the test ends.
 */
function localRegistry () {
  const { before, after, beforeEach } = require('node:test')
  const { startRegistry } = require('./registry.js')
  let current
  before(async () => { current = await startRegistry() })
  after(async () => { await current.close() })
  beforeEach(() => current.reset())
  const reg = new Proxy({}, {
    get: (_, key) => {
      const v = current[key]
      return typeof v === 'function' ? v.bind(current) : v
    },
    set: (_, key, value) => { current[key] = value; return true }
  })
  const opts = (p, extra = {}) => ({ cwd: p.dir, cacheDir: p.cache, registry: current.url, env: p.env, ...extra })
  const setup = (t, manifest, extra) => {
    const p = project(manifest, extra)
    t.after(() => p.cleanup())
    return p
  }
  return { reg, opts, setup }
}

module.exports = {
  localRegistry,
  ROOT, CLI, cleanEnv, project, copyDir, run, npm, cli, cliSync, nodeEval, requireIn,
  installedTree, lockVersions, lockEntries, LOCK_FIELDS, snapshot, listFiles, filesContaining, rejection
}
