'use strict'
// install-strategy=linked next to real npm 11 on the local registry: the same
// .store folders (npm's hashes), the same links, npm ls accepts brisk's tree,
// require() works from the project and from inside packages, .bin works, a
// repeat install does nothing, switching strategies leaves a correct tree;
// and brisk's global virtual store: a second project reuses the cache's
// folders, a package with an install script is not shared.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const brisk = require('../brisk.js')
const { startRegistry } = require('./registry.js')
const { scenarios } = require('./scenarios.js')
const h = require('./helpers.js')

const T = { timeout: 120_000 }
let reg
before(async () => { reg = await startRegistry() })
after(async () => { await reg.close() })

/** Every symlink in node_modules' folders (.bin, scopes, the store's entries' node_modules): path → target; and the store's folders. */
function linkedLayout(dir) {
  const links = {}
  const list = (d) => { try { return fs.readdirSync(d, { withFileTypes: true }) } catch { return [] } }
  const nm = (d, rel) => {
    for (const e of list(d)) {
      const p = path.join(d, e.name)
      const r = `${rel}/${e.name}`
      if (e.isSymbolicLink()) links[r] = fs.readlinkSync(p)
      else if (e.name === '.bin' || e.name.startsWith('@')) nm(p, r)
      else if (e.name === '.store') store(p, r)
    }
  }
  const store = (d, rel) => {
    for (const e of list(d)) {
      const p = path.join(d, e.name)
      const r = `${rel}/${e.name}`
      if (e.isSymbolicLink()) links[r] = fs.readlinkSync(p)
      else if (e.name.startsWith('@')) store(p, r)
      else nm(path.join(p, 'node_modules'), `${r}/node_modules`)
    }
  }
  nm(path.join(dir, 'node_modules'), 'node_modules')
  for (const ws of list(path.join(dir, 'packages'))) nm(path.join(dir, 'packages', ws.name, 'node_modules'), `packages/${ws.name}/node_modules`)
  const root = path.join(dir, 'node_modules', '.store')
  const stored = list(root).flatMap((e) => e.name.startsWith('@') ? list(path.join(root, e.name)).map((s) => `${e.name}/${s.name}`) : [e.name]).sort()
  return { links, stored }
}

/** The hidden lockfile's entries, without `resolved`/`integrity` of packages (npm leaves them out under omit-lockfile-registry-resolved). */
function hiddenEntries(p) {
  const out = {}
  for (const [k, v] of Object.entries(p.json('node_modules/.package-lock.json').packages)) {
    const e = { ...v }
    if (!e.link) { delete e.resolved; delete e.integrity }
    out[k] = e
  }
  return out
}

const opts = (p, extra = {}) => ({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env, installStrategy: 'linked', ...extra })

const legacy = { ...scenarios.peers, options: { legacyPeerDeps: true }, npmArgs: ['--legacy-peer-deps'] }
for (const [name, s] of [...['nested-conflicts', 'peers', 'nested-peer', 'hoist-order'].map((n) => [n, scenarios[n]]), ['peers, legacy-peer-deps', legacy]]) {
  test(`linked: same layout as npm --install-strategy=linked: ${name}`, T, async (t) => {
    const p = h.project(s.manifest)
    const n = h.project(s.manifest)
    t.after(() => { p.cleanup(); n.cleanup() })
    await brisk.install(opts(p, s.options))
    const ni = await h.npm(['install', '--install-strategy=linked', '--ignore-scripts', ...s.npmArgs], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
    assert.equal(ni.status, 0, ni.stderr)

    const ours = linkedLayout(p.dir)
    const theirs = linkedLayout(n.dir)
    assert.ok(ours.stored.length > 0)
    assert.deepEqual(ours.stored, theirs.stored, '.store folders (npm\'s keys)')
    assert.deepEqual(ours.links, theirs.links, 'symlinks: dependencies, top level, .bin')
    // The hidden lockfile lists what npm's does; package-lock.json is the
    // hoisted one, whatever the strategy.
    assert.deepEqual(hiddenEntries(p), hiddenEntries(n), 'hidden lockfile entries')
    assert.deepEqual(Object.keys(p.lock().packages), Object.keys(n.lock().packages))

    // npm ls says of brisk's tree what it says of its own (clean, except
    // for the peers legacy-peer-deps leaves out).
    const ls = async (q) => {
      const r = await h.npm(['ls', '--all', ...s.npmArgs], { cwd: q.dir, env: q.env, cache: q.cache, registry: reg.url })
      return { status: r.status, out: r.stdout.split(q.dir).join('<dir>') }
    }
    const mine = await ls(p)
    assert.deepEqual(mine, await ls(n))
    if (!s.options?.legacyPeerDeps) assert.equal(mine.status, 0, mine.out)
  })
}

test('linked: require() from the project and from inside packages, .bin, a repeat install does nothing', T, async (t) => {
  const p = h.project({ dependencies: { ...scenarios['nested-conflicts'].manifest.dependencies, tool: '^1.0.0' } })
  t.after(() => p.cleanup())
  const first = await brisk.install(opts(p))
  assert.ok(first.added > 0)
  // mid wants leaf@^2 and gets it from its own store folder; the root gets 1.x.
  assert.equal(h.requireIn(p.dir, 'leaf', p.env).version, '1.1.0')
  assert.equal(h.requireIn(p.dir, 'mid', p.env).deps.leaf, '2.1.0')
  assert.equal(h.requireIn(p.dir, 'deep-a', p.env).deps['deep-b'], '1.0.0')
  assert.equal(h.requireIn(p.dir, 'leaf-two', p.env).version, '2.1.0')
  assert.equal(h.requireIn(p.dir, '@scope/pkg', p.env).name, '@scope/pkg')
  assert.ok(fs.lstatSync(p.file('node_modules/mid')).isSymbolicLink())
  const bin = h.run(p.file('node_modules/.bin/tool'), [], { cwd: p.dir, env: p.env })
  assert.equal((await bin).status, 0)

  const dry = await brisk.install(opts(p, { dryRun: true, add: ['deep-b@2.0.0'] }))
  assert.equal(dry.added, 1)
  assert.equal(dry.changes.length, 1, JSON.stringify(dry.changes))
  assert.match(dry.changes[0].location, /^node_modules\/\.store\/deep-b@2\.0\.0-[\w-]+\/node_modules\/deep-b$/)
  const again = await brisk.install(opts(p))
  assert.equal(again.added, 0)
  assert.equal(again.removed, 0)
  assert.equal(again.upToDate, true)
  // With the up-to-date stamp gone, the hidden lockfile still says all is there.
  fs.rmSync(p.file('node_modules/.brisk-state'))
  const before = fs.lstatSync(p.file('node_modules/.store')).ino
  const third = await brisk.install(opts(p))
  assert.equal(third.added, 0)
  assert.equal(third.removed, 0)
  assert.equal(fs.lstatSync(p.file('node_modules/.store')).ino, before)
})

test('linked: switching hoisted → linked → hoisted leaves a correct tree each time', T, async (t) => {
  const s = scenarios['nested-conflicts']
  const p = h.project(s.manifest)
  t.after(() => p.cleanup())
  const ls = async () => {
    const r = await h.npm(['ls', '--all'], { cwd: p.dir, env: p.env, cache: p.cache, registry: reg.url })
    assert.equal(r.status, 0, r.stdout + r.stderr)
  }
  await brisk.install(opts(p, { installStrategy: 'hoisted' }))
  assert.deepEqual(h.installedTree(p.dir), s.npmTree)
  const lock = p.read('package-lock.json')
  await brisk.install(opts(p))
  assert.ok(fs.lstatSync(p.file('node_modules/leaf')).isSymbolicLink())
  assert.equal(p.exists('node_modules/deep-b'), false, 'hoisted leftovers are gone')
  assert.equal(h.requireIn(p.dir, 'mid', p.env).deps.leaf, '2.1.0')
  assert.equal(p.read('package-lock.json'), lock, 'package-lock.json does not depend on the strategy')
  await ls()
  await brisk.install(opts(p, { installStrategy: 'hoisted' }))
  assert.equal(p.exists('node_modules/.store'), false)
  assert.deepEqual(h.installedTree(p.dir), s.npmTree)
  assert.equal(h.requireIn(p.dir, 'mid', p.env).deps.leaf, '2.1.0')
  await ls()
})

test('linked: .npmrc install-strategy, and an unsupported strategy is E_CONFIG', T, async (t) => {
  const p = h.project({ dependencies: { leaf: '^1.0.0' } }, { npmrc: 'install-strategy=linked\n' })
  t.after(() => p.cleanup())
  await brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env })
  assert.ok(fs.lstatSync(p.file('node_modules/leaf')).isSymbolicLink())
  fs.writeFileSync(p.file('.npmrc'), 'install-strategy=nested\n')
  const err = await h.rejection(brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env }))
  assert.equal(err.code, 'E_CONFIG')
  assert.match(err.message, /install-strategy "nested".*hoisted.*linked/)
})

test('global virtual store: a second project links the same folders; a package with an install script stays in the project', T, async (t) => {
  const manifest = { dependencies: { mid: '^1.0.0', tool: '^1.0.0', scripted: '^1.0.0' } }
  const a = h.project(manifest)
  const b = h.project(manifest)
  t.after(() => { a.cleanup(); b.cleanup() })
  const cache = a.cache // one cache for both
  const gvs = (p) => opts(p, { cacheDir: cache, globalVirtualStore: true, allowScripts: true })
  await brisk.install(gvs(a))
  await brisk.install(gvs(b))
  const links = path.join(cache, 'links')
  for (const p of [a, b]) {
    const store = p.file('node_modules/.store')
    const entry = (name) => fs.readdirSync(store).find((n) => n.startsWith(name + '@'))
    // Shared: .store/<key> is a link into the cache.
    const mid = path.join(store, entry('mid'))
    assert.ok(fs.lstatSync(mid).isSymbolicLink())
    assert.ok(fs.realpathSync(mid).startsWith(fs.realpathSync(links)), fs.realpathSync(mid))
    // Not shared: the package whose script ran, a folder of the project.
    const scripted = path.join(store, entry('scripted'))
    assert.ok(!fs.lstatSync(scripted).isSymbolicLink())
    assert.ok(fs.existsSync(path.join(scripted, 'node_modules/scripted/postinstall-ran')))
    assert.equal(h.requireIn(p.dir, 'mid', p.env).deps.leaf, '2.1.0')
    const bin = await h.run(p.file('node_modules/.bin/tool'), [], { cwd: p.dir, env: p.env })
    assert.equal(bin.status, 0)
    const ls = await h.npm(['ls', '--all'], { cwd: p.dir, env: p.env, cache: p.cache, registry: reg.url })
    assert.equal(ls.status, 0, ls.stdout + ls.stderr)
  }
  const ino = (p) => fs.statSync(p.file('node_modules/mid/index.js')).ino
  assert.equal(ino(a), ino(b), 'the same file, from the same shared folder')
  assert.equal(fs.realpathSync(a.file('node_modules/mid')), fs.realpathSync(b.file('node_modules/mid')))
  assert.notEqual(fs.realpathSync(a.file('node_modules/scripted')), fs.realpathSync(b.file('node_modules/scripted')))
  // Switching the store off materializes the folders in the project again.
  await brisk.install(opts(a, { cacheDir: cache, allowScripts: true }))
  assert.ok(!fs.lstatSync(path.join(a.file('node_modules/.store'), fs.readdirSync(a.file('node_modules/.store')).find((n) => n.startsWith('mid@')))).isSymbolicLink())
  assert.equal(h.requireIn(a.dir, 'mid', a.env).deps.leaf, '2.1.0')
})

test('linked: a trusted install script runs in the package\'s .store folder, and rebuild runs it there again', T, async (t) => {
  const p = h.project({ dependencies: { scripted: '^1.0.0', mid: '^1.0.0' } })
  t.after(() => p.cleanup())
  await brisk.install(opts(p, { allowScripts: true }))
  const dir = fs.realpathSync(p.file('node_modules/scripted'))
  assert.match(path.relative(p.dir, dir), /^node_modules\/\.store\/scripted@1\.0\.0-[\w-]+\/node_modules\/scripted$/)
  const ran = path.join(dir, 'postinstall-ran')
  assert.ok(fs.existsSync(ran))
  fs.rmSync(ran)
  await brisk.rebuild({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env, installStrategy: 'linked', packages: ['scripted'] })
  assert.ok(fs.existsSync(ran), 'rebuild ran the script in the store folder')
  const ls = await h.npm(['ls', '--all'], { cwd: p.dir, env: p.env, cache: p.cache, registry: reg.url })
  assert.equal(ls.status, 0, ls.stdout + ls.stderr)
})

test('linked: a workspace project lays out as npm --install-strategy=linked', T, async (t) => {
  const manifest = { workspaces: ['packages/*'], dependencies: { w1: '^1.0.0', leaf: '^1.0.0' }, devDependencies: { tool: '^1.0.0' } }
  const setUp = (p) => {
    fs.mkdirSync(p.file('packages/w1'), { recursive: true })
    fs.mkdirSync(p.file('packages/w2'), { recursive: true })
    fs.writeFileSync(p.file('packages/w1/package.json'), JSON.stringify({ name: 'w1', version: '1.0.0', dependencies: { mid: '^1.0.0', leaf: '^2.0.0' } }))
    fs.writeFileSync(p.file('packages/w2/package.json'), JSON.stringify({ name: 'w2', version: '1.0.0', dependencies: { 'uses-leaf1': '^1.0.0', w1: '^1.0.0' } }))
  }
  const p = h.project(manifest)
  const n = h.project(manifest)
  t.after(() => { p.cleanup(); n.cleanup() })
  setUp(p); setUp(n)
  await brisk.install(opts(p))
  const ni = await h.npm(['install', '--install-strategy=linked', '--ignore-scripts'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
  assert.equal(ni.status, 0, ni.stderr)
  const ours = linkedLayout(p.dir)
  const theirs = linkedLayout(n.dir)
  assert.deepEqual(ours.stored, theirs.stored)
  assert.deepEqual(ours.links, theirs.links)
  assert.deepEqual(hiddenEntries(p), hiddenEntries(n), 'hidden lockfile entries')
  assert.equal(h.nodeEval(p.file('packages/w1'), 'process.stdout.write(require("leaf/package.json").version)', p.env), '2.1.0')
  // npm ls says of brisk's tree what it says of its own (npm 11 does not
  // link a workspace the root does not declare, and then calls it missing).
  const ls = async (q) => {
    const r = await h.npm(['ls', '--all'], { cwd: q.dir, env: q.env, cache: q.cache, registry: reg.url })
    return { status: r.status, out: r.stdout.split(q.dir).join('<dir>') }
  }
  assert.deepEqual(await ls(p), await ls(n))
})

test('linked: after npm --install-strategy=linked, brisk keeps npm\'s .store folders; skipped scripts are shared in the global store', T, async (t) => {
  const s = scenarios['nested-conflicts']
  const n = h.project(s.manifest)
  t.after(() => n.cleanup())
  const ni = await h.npm(['install', '--install-strategy=linked', '--ignore-scripts'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
  assert.equal(ni.status, 0, ni.stderr)
  const before = linkedLayout(n.dir)
  const resolvedLocked = Object.values(n.lock().packages).some((e) => e.resolved)
  const r = await brisk.install(opts(n))
  if (resolvedLocked) {
    // The same keys: nothing to add or remove.
    assert.equal(r.added, 0)
    assert.equal(r.removed, 0)
  }
  assert.deepEqual(linkedLayout(n.dir).stored.length, before.stored.length)
  assert.equal(h.requireIn(n.dir, 'mid', n.env).deps.leaf, '2.1.0')

  // Scripts not allowed: the package with a postinstall is the tarball's
  // files, shared like any other.
  const p = h.project({ dependencies: { scripted: '^1.0.0' } })
  t.after(() => p.cleanup())
  await brisk.install(opts(p, { globalVirtualStore: true }))
  const store = p.file('node_modules/.store')
  const entry = path.join(store, fs.readdirSync(store).find((x) => x.startsWith('scripted@')))
  assert.ok(fs.lstatSync(entry).isSymbolicLink())
  assert.equal(fs.existsSync(path.join(entry, 'node_modules/scripted/postinstall-ran')), false)
})
