'use strict'
// brisk ls / why / outdated / update next to real npm on the same installed
// project (the local registry): the same text, JSON and exit codes, problem
// markers for missing, invalid and extraneous packages, and after an update
// the same versions in package-lock.json as `npm update` locks.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const brisk = require('../brisk.js')
const { startRegistry } = require('./registry.js')
const h = require('./helpers.js')

const T = { timeout: 180_000 }
let reg
before(async () => { reg = await startRegistry() })
after(async () => { await reg.close() })

// leaf@1.1.0 at the top, leaf@2.1.0 nested under mid and deep-b.
const MANIFEST = { dependencies: { leaf: '^1.0.0', mid: '^1.0.0', 'deep-a': '^1.0.0' } }

async function installed(manifest = MANIFEST) {
  const p = h.project(manifest)
  await brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env })
  return p
}

/** `brisk <args>` and `npm <npmArgs>` in the same project. */
async function both(p, args, npmArgs = args) {
  const [b, n] = await Promise.all([
    h.cli([...args, '--registry', reg.url, '--cache-dir', p.cache], { cwd: p.dir, env: p.env }),
    h.npm(npmArgs, { cwd: p.dir, env: p.env, cache: p.cache, registry: reg.url })
  ])
  return { b, n }
}

/** Same stdout and exit status as npm. */
async function same(p, args, npmArgs = args) {
  const { b, n } = await both(p, args, npmArgs)
  assert.equal(b.stdout, n.stdout, `brisk ${args.join(' ')} prints what npm ${npmArgs.join(' ')} prints\n${b.stderr}`)
  assert.equal(b.status, n.status, `the same exit status as npm ${npmArgs.join(' ')}: ${b.stderr}`)
  return { b, n }
}

test('ls, ls --all, --depth, named packages, --json, --parseable: what npm ls prints', T, async (t) => {
  const p = await installed()
  t.after(p.cleanup)
  const { b } = await same(p, ['ls'])
  assert.match(b.stdout, /^fixture-project@1\.0\.0 /)
  assert.match(b.stdout, /├── deep-a@1\.0\.0\n/)
  const all = await same(p, ['ls', '--all'])
  assert.match(all.b.stdout, /└─┬ deep-b@1\.0\.0\n/, 'nested levels')
  await same(p, ['ls', '--depth', '1'], ['ls', '--depth=1'])
  await same(p, ['ls', 'leaf'])
  await same(p, ['ls', 'leaf@2'])
  await same(p, ['ls', 'no-such-package'])
  await same(p, ['ls', '--parseable', '--all'])
  const json = await both(p, ['ls', '--json', '--all'])
  assert.deepEqual(JSON.parse(json.b.stdout), JSON.parse(json.n.stdout))
  assert.equal(JSON.parse(json.b.stdout).dependencies.mid.dependencies.leaf.version, '2.1.0')
  const api = await brisk.ls({ cwd: p.dir, all: true })
  assert.deepEqual(api.problems, [])
  assert.equal(api.root.dependencies.length, 3)
})

test('ls with a dev dependency and --omit=dev', T, async (t) => {
  const p = await installed({ dependencies: { leaf: '^1.0.0' }, devDependencies: { mid: '^1.0.0' } })
  t.after(p.cleanup)
  await same(p, ['ls', '--all'])
  await same(p, ['ls', '--omit=dev'])
})

test('ls problems: a missing package, an invalid version, an extraneous folder (exit codes and markers as npm)', T, async (t) => {
  const p = await installed()
  t.after(p.cleanup)
  // Extraneous only: listed, and npm still exits 0.
  fs.mkdirSync(p.file('node_modules/stray'))
  fs.writeFileSync(p.file('node_modules/stray/package.json'), JSON.stringify({ name: 'stray', version: '1.0.0' }))
  const x = await same(p, ['ls'])
  assert.match(x.b.stdout, /stray@1\.0\.0 extraneous/)
  assert.equal(x.b.status, 0)

  // An invalid version: the top leaf is not ^1 any more.
  const leaf = p.file('node_modules/leaf/package.json')
  fs.writeFileSync(leaf, JSON.stringify({ ...JSON.parse(fs.readFileSync(leaf, 'utf8')), version: '3.0.0' }))
  const inv = await same(p, ['ls'])
  assert.match(inv.b.stdout, /leaf@3\.0\.0 invalid: "\^1\.0\.0" from the root project/)
  assert.equal(inv.b.status, 1)
  assert.match(inv.b.stderr, /brisk ERR! E_LS_PROBLEMS invalid: leaf@3\.0\.0 /)
  assert.match(inv.n.stderr, /ELSPROBLEMS/)

  // A missing package.
  fs.rmSync(p.file('node_modules/mid'), { recursive: true })
  const miss = await same(p, ['ls', '--all'])
  assert.match(miss.b.stdout, /UNMET DEPENDENCY mid@\^1\.0\.0/)
  assert.match(miss.b.stderr, /missing: mid@\^1\.0\.0, required by fixture-project@1\.0\.0/)
  const json = await both(p, ['ls', '--json'])
  const [bj, nj] = [JSON.parse(json.b.stdout), JSON.parse(json.n.stdout)]
  assert.deepEqual(bj.problems, nj.problems)
  assert.deepEqual(bj.dependencies, nj.dependencies)
  assert.equal(json.b.status, 1)
})

test('why (explain): every path to each copy, text and --json as npm', T, async (t) => {
  const p = await installed()
  t.after(p.cleanup)
  const { b } = await same(p, ['why', 'leaf'], ['explain', 'leaf'])
  assert.match(b.stdout, /(^|\n)leaf@1\.1\.0\nnode_modules\/leaf\n {2}leaf@"\^1\.0\.0" from the root project/)
  assert.match(b.stdout, /leaf@2\.1\.0\nnode_modules\/mid\/node_modules\/leaf\n {2}leaf@"\^2\.0\.0" from mid@1\.0\.0/)
  await same(p, ['why', 'deep-b'], ['explain', 'deep-b'])
  await same(p, ['why', 'leaf@2'], ['explain', 'leaf@2'])
  await same(p, ['why', 'node_modules/deep-b/node_modules/leaf'], ['explain', 'node_modules/deep-b/node_modules/leaf'])
  const json = await both(p, ['why', 'leaf', '--json'], ['explain', 'leaf', '--json'])
  assert.deepEqual(JSON.parse(json.b.stdout), JSON.parse(json.n.stdout))
  const none = await h.cli(['why', 'nothing-like-it'], { cwd: p.dir, env: p.env })
  assert.equal(none.status, 1)
  assert.match(none.stderr, /E_NOT_INSTALLED No dependencies found matching nothing-like-it/)
})

/** Installs exact old versions, then widens package.json and the lockfile's root entry to ranges they satisfy. */
async function oldVersions() {
  const p = await installed({ dependencies: { leaf: '1.0.0', 'deep-b': '1.0.0', mid: '^1.0.0' } })
  const widen = (deps) => ({ ...deps, leaf: '^1.0.0', 'deep-b': '^1.0.0' })
  const pkg = p.json('package.json')
  pkg.dependencies = widen(pkg.dependencies)
  fs.writeFileSync(p.file('package.json'), JSON.stringify(pkg, null, 2) + '\n')
  const lock = p.lock()
  lock.packages[''].dependencies = widen(lock.packages[''].dependencies)
  fs.writeFileSync(p.file('package-lock.json'), JSON.stringify(lock, null, 2) + '\n')
  return p
}

test('outdated: npm\'s columns, --json, exit 1 when something is outdated', T, async (t) => {
  const p = await oldVersions()
  t.after(p.cleanup)
  const { b } = await same(p, ['outdated'])
  assert.equal(b.status, 1)
  assert.match(b.stdout, /^Package +Current +Wanted +Latest +Location +Depended by\n/)
  assert.match(b.stdout, /\nleaf +1\.0\.0 +1\.1\.0 +1\.1\.0 +node_modules\/leaf +project\n/)
  const json = await both(p, ['outdated', '--json'])
  assert.deepEqual(JSON.parse(json.b.stdout), JSON.parse(json.n.stdout))
  assert.deepEqual(Object.keys(JSON.parse(json.b.stdout)).sort(), ['deep-b', 'leaf'])
  await same(p, ['outdated', '--all'])
  await same(p, ['outdated', 'leaf', '--json'])
  await same(p, ['outdated', '--parseable'])
  const list = await brisk.outdated({ cwd: p.dir, registry: reg.url, cacheDir: p.cache, env: p.env })
  assert.deepEqual(list.map((d) => [d.name, d.current, d.wanted, d.latest]), [
    ['deep-b', '1.0.0', '1.0.0', '2.0.0'],
    ['leaf', '1.0.0', '1.1.0', '1.1.0']
  ])
})

test('outdated with nothing outdated exits 0 and prints nothing, as npm', T, async (t) => {
  const p = await installed({ dependencies: { leaf: '^1.0.0' } })
  t.after(p.cleanup)
  const { b } = await same(p, ['outdated'])
  assert.equal(b.stdout, '')
})

/** The lockfile's versions by location. */
const versions = (lock) => Object.fromEntries(Object.entries(lock.packages).map(([k, v]) => [k, v.version]))

/** The same old project twice: one for brisk, one for npm. */
async function twins(t) {
  const p = await oldVersions()
  const n = h.project()
  t.after(() => { p.cleanup(); n.cleanup() })
  fs.cpSync(p.dir, n.dir, { recursive: true, verbatimSymlinks: true })
  fs.rmSync(path.join(n.dir, 'node_modules/.brisk-state'), { force: true })
  return { p, n }
}

test('update (all): the lockfile locks what npm update locks; package.json unchanged', T, async (t) => {
  const { p, n } = await twins(t)
  const before = p.read('package.json')
  const r = await h.cli(['update', '--registry', reg.url, '--cache-dir', p.cache], { cwd: p.dir, env: p.env })
  assert.equal(r.status, 0, r.stderr)
  const nu = await h.npm(['update', '--ignore-scripts'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
  assert.equal(nu.status, 0, nu.stderr)
  assert.deepEqual(versions(p.lock()), versions(n.lock()))
  assert.equal(p.lock().packages['node_modules/leaf'].version, '1.1.0')
  assert.equal(p.read('package.json'), before, 'npm 11 update does not save package.json')
  assert.equal(p.json('node_modules/leaf/package.json').version, '1.1.0', 'node_modules updated')
  const ls = await h.npm(['ls', '--all'], { cwd: p.dir, env: p.env, cache: p.cache, registry: reg.url })
  assert.equal(ls.status, 0, ls.stdout + ls.stderr)
})

test('update <name>: only that package moves, as with npm update <name>', T, async (t) => {
  const { p, n } = await twins(t)
  const r = await brisk.update({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env, packages: ['leaf'] })
  assert.equal(r.lockfileWritten, true)
  const nu = await h.npm(['update', 'leaf', '--ignore-scripts'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
  assert.equal(nu.status, 0, nu.stderr)
  assert.deepEqual(versions(p.lock()), versions(n.lock()))
  const again = await brisk.update({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env, packages: ['leaf'] })
  assert.equal(again.lockfileWritten, false, 'nothing newer: the lockfile stays')
})

test('update --latest moves package.json ranges to the latest versions (save-prefix kept)', T, async (t) => {
  const { p } = await twins(t)
  const r = await h.cli(['update', '--latest', 'deep-b', '--registry', reg.url, '--cache-dir', p.cache], { cwd: p.dir, env: p.env })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(p.json('package.json').dependencies['deep-b'], '^2.0.0')
  assert.equal(p.json('package.json').dependencies.leaf, '^1.0.0', 'unnamed packages keep their range')
  assert.equal(p.lock().packages['node_modules/deep-b'].version, '2.0.0')
  const bad = await h.cli(['update', '../x'], { cwd: p.dir, env: p.env })
  assert.equal(bad.status, 1)
  assert.match(bad.stderr, /E_CONFIG .*takes package names/)
})

test('a workspace, an alias and an optional dependency: ls, why and outdated as npm', T, async (t) => {
  const p = h.project({
    name: 'p',
    workspaces: ['packages/*'],
    dependencies: { leaf: '^1.0.0', alias: 'npm:leaf@^2.0.0' },
    optionalDependencies: { mid2: '^1.0.0' }
  })
  t.after(p.cleanup)
  fs.mkdirSync(p.file('packages/wa'), { recursive: true })
  fs.writeFileSync(p.file('packages/wa/package.json'), JSON.stringify({ name: 'wa', version: '1.0.0', dependencies: { mid: '^1.0.0' } }))
  await brisk.install({ cwd: p.dir, cacheDir: p.cache, registry: reg.url, env: p.env })
  const { b } = await same(p, ['ls'])
  assert.match(b.stdout, /└─┬ wa@1\.0\.0 -> \.\/packages\/wa\n {2}└── mid@1\.0\.0\n/, "a workspace's own dependencies are listed")
  assert.match(b.stdout, /├── alias@npm:leaf@2\.1\.0\n/)
  await same(p, ['ls', '--all'])
  const json = await both(p, ['ls', '--json', '--all'])
  assert.deepEqual(JSON.parse(json.b.stdout), JSON.parse(json.n.stdout))
  await same(p, ['why', 'wa'], ['explain', 'wa'])
  await same(p, ['why', 'mid'], ['explain', 'mid'])
  await same(p, ['outdated', '--all'])
})
