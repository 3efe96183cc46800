'use strict'
// Monorepos, beside real npm 11 on the same local registry: `add`,
// `remove` and `update` inside workspaces (-w, --workspaces,
// --include-workspace-root), the workspaces' own lifecycle scripts (their
// order recorded to a file), the hidden lockfile and up-to-date stamp of a
// `-w` install, and `run` across workspaces. Each operation is done by
// brisk in one copy and by npm in another: the same package.json bytes,
// the same lockfile bytes, the same tree, the same scripts in the same
// order, and `npm ls --all` accepts brisk's result.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const h = require('./helpers.js')

const T = { timeout: 180_000 }
const { reg } = h.localRegistry()

// Every script appends "<who> <event>" to order.log at the project root.
const scripts = (who, up) => {
  const log = `${up}order.log`
  const s = {}
  for (const e of ['preinstall', 'install', 'postinstall', 'preprepare', 'prepare', 'postprepare']) s[e] = `echo ${who} ${e} >> ${log}`
  s.t = `echo ${who} t; exit \${FAIL_${who}:-0}`
  return s
}

const FILES = ['package.json', 'packages/a/package.json', 'packages/b/package.json', 'packages/c/package.json']

/** root (leaf@^1) + ws-a (leaf@^2, ws-b) + ws-b (mid; 4-space indent) + ws-c (nothing), each with every install script. */
function monorepo(t) {
  const p = h.project({ workspaces: ['packages/*'], dependencies: { leaf: '^1.0.0' }, scripts: scripts('root', '') })
  const write = (rel, obj, indent = 2) => {
    fs.mkdirSync(path.dirname(p.file(rel)), { recursive: true })
    fs.writeFileSync(p.file(rel), JSON.stringify(obj, null, indent) + '\n')
  }
  write('packages/a/package.json', { name: 'ws-a', version: '1.0.0', dependencies: { leaf: '^2.0.0', 'ws-b': '^1.0.0' }, scripts: scripts('a', '../../') })
  write('packages/b/package.json', { name: 'ws-b', version: '1.2.0', dependencies: { mid: '1.0.0' }, scripts: scripts('b', '../../') }, 4)
  write('packages/c/package.json', { name: 'ws-c', version: '0.1.0', scripts: scripts('c', '../../') })
  t.after(() => p.cleanup())
  return p
}

const brisk = (p, args, extra = {}) => h.cli([...args, '--registry', reg.url, '--cache-dir', p.cache], { cwd: p.dir, env: { ...p.env, ...extra } })
const npm = (p, args, extra = {}) => h.npm(args, { cwd: p.dir, env: { ...p.env, ...extra }, cache: p.cache, registry: reg.url })
const order = (p) => (p.exists('order.log') ? p.read('order.log') : '')

/** Both copies: same package.json files, lockfile, tree, script order; npm ls accepts brisk's. */
async function same(b, n, what) {
  for (const f of FILES) assert.equal(b.read(f), n.read(f), `${what}: ${f}`)
  assert.equal(b.read('package-lock.json'), n.read('package-lock.json'), `${what}: package-lock.json`)
  assert.deepEqual(h.installedTree(b.dir), h.installedTree(n.dir), `${what}: node_modules`)
  assert.equal(order(b), order(n), `${what}: scripts run, in order`)
  const ls = await npm(b, ['ls', '--all'])
  assert.equal(ls.status, 0, `${what}: npm ls --all on brisk's tree\n${ls.stdout}${ls.stderr}`)
}

/** Run the same command with brisk in `b` and npm in `n` (order logs cleared first). */
async function both(b, n, args) {
  for (const p of [b, n]) fs.rmSync(p.file('order.log'), { force: true })
  const rb = await brisk(b, args)
  assert.equal(rb.status, 0, `brisk ${args.join(' ')}\n${rb.stderr}`)
  const rn = await npm(n, args)
  assert.equal(rn.status, 0, `npm ${args.join(' ')}\n${rn.stderr}`)
  return rb
}

test('install: workspaces\' scripts run as npm runs them (phase by phase, then the root\'s); same lockfile and tree', T, async (t) => {
  const b = monorepo(t)
  const n = monorepo(t)
  await both(b, n, ['install'])
  await same(b, n, 'install')
  assert.match(order(b), /^a preinstall\nb preinstall\nc preinstall\na prepare\n/)
  assert.doesNotMatch(order(b), /a preprepare/, 'npm runs no preprepare/postprepare for a workspace')
  // Nothing changed: the fast path runs nothing.
  fs.rmSync(b.file('order.log'))
  const again = await brisk(b, ['install', '--json'])
  assert.equal(JSON.parse(again.stdout).upToDate, true)
  assert.equal(order(b), '')
  // --ignore-scripts: none, the workspaces' included.
  fs.rmSync(b.file('node_modules'), { recursive: true })
  assert.equal((await brisk(b, ['install', '--ignore-scripts'])).status, 0)
  assert.equal(order(b), '')
  // A failing workspace script fails the install, and the next one is not "up to date".
  const pj = b.json('packages/c/package.json')
  pj.scripts.prepare = 'echo broken >&2; exit 4'
  fs.writeFileSync(b.file('packages/c/package.json'), JSON.stringify(pj, null, 2) + '\n')
  const bad = await brisk(b, ['install'])
  assert.notEqual(bad.status, 0)
  assert.match(bad.stderr, /E_SCRIPT.*prepare script of ws-c@0\.1\.0/s)
  assert.notEqual(JSON.parse((await brisk(b, ['install', '--json', '--ignore-scripts'])).stdout).upToDate, true)
})

test('add / remove -w: the workspace\'s package.json (format kept), the root lockfile, only its scripts; a workspace saved as ^version', T, async (t) => {
  const b = monorepo(t)
  const n = monorepo(t)
  await both(b, n, ['install'])
  await both(b, n, ['install', 'uses-leaf1', '-w', 'ws-c'])
  await same(b, n, 'add uses-leaf1 -w ws-c')
  assert.equal(b.json('packages/c/package.json').dependencies['uses-leaf1'], '^1.0.0')
  assert.equal(order(b), 'c preinstall\nc prepare\nc install\nc postinstall\n', 'only the workspace\'s scripts, not the root\'s')
  assert.equal(b.json('package.json').dependencies['uses-leaf1'], undefined)

  const rb = await both(b, n, ['add', 'ws-b', '-w', 'packages/c'])
  await same(b, n, 'add ws-b -w packages/c')
  assert.equal(b.json('packages/c/package.json').dependencies['ws-b'], '^1.2.0')
  assert.doesNotMatch(rb.stderr, /ERR/)

  // -w repeatable, -D, a 4-space package.json stays 4-space.
  await both(b, n, ['install', 'deep-a', '-D', '-w', 'ws-a', '-w', 'ws-b'])
  await same(b, n, 'add deep-a -D -w ws-a -w ws-b')
  assert.match(b.read('packages/b/package.json'), /\n {4}"devDependencies": \{\n {8}"deep-a": "\^1\.0\.0"/)

  await both(b, n, ['uninstall', 'uses-leaf1', '-w', 'ws-c'])
  await same(b, n, 'remove uses-leaf1 -w ws-c')
  assert.ok(!b.exists('node_modules/uses-leaf1'), 'what nothing uses any more is removed')
  await both(b, n, ['uninstall', 'deep-a', '-w', 'ws-a', '-w', 'ws-b'])
  for (const f of FILES) assert.equal(b.read(f), n.read(f), f)
  assert.equal(b.read('package-lock.json'), n.read('package-lock.json'))
  assert.deepEqual(h.installedTree(b.dir), h.installedTree(n.dir))
})

test('add from inside a workspace folder saves to that workspace, as npm does', T, async (t) => {
  const b = monorepo(t)
  const n = monorepo(t)
  await both(b, n, ['install'])
  for (const p of [b, n]) fs.rmSync(p.file('order.log'), { force: true })
  const rb = await h.cli(['add', 'uses-leaf1', '--registry', reg.url, '--cache-dir', b.cache], { cwd: b.file('packages/c'), env: b.env })
  assert.equal(rb.status, 0, rb.stderr)
  const rn = await h.npm(['install', 'uses-leaf1'], { cwd: n.file('packages/c'), env: n.env, cache: n.cache, registry: reg.url })
  assert.equal(rn.status, 0, rn.stderr)
  await same(b, n, 'add inside packages/c')
  assert.equal(b.json('packages/c/package.json').dependencies['uses-leaf1'], '^1.0.0')
  assert.ok(!b.exists('packages/c/package-lock.json'))
})

test('add --workspaces and --include-workspace-root edit every workspace (and the root) as npm does', T, async (t) => {
  const b = monorepo(t)
  const n = monorepo(t)
  await both(b, n, ['install'])
  await both(b, n, ['install', 'strbin@1.0.0', '--workspaces', '--include-workspace-root', '-E'])
  await same(b, n, 'add strbin --workspaces --include-workspace-root')
  for (const f of FILES) assert.equal(JSON.parse(b.read(f)).dependencies.strbin, '1.0.0', f)
  await both(b, n, ['uninstall', 'strbin', '--workspaces'])
  await same(b, n, 'remove strbin --workspaces')
  assert.equal(b.json('package.json').dependencies.strbin, '1.0.0', 'the root keeps it without --include-workspace-root')
})

test('update -w: what that workspace uses, as npm updates it', T, async (t) => {
  const b = monorepo(t)
  const n = monorepo(t)
  const pin = (p, range) => {
    const pj = p.json('packages/a/package.json')
    pj.dependencies.leaf = range
    fs.writeFileSync(p.file('packages/a/package.json'), JSON.stringify(pj, null, 2) + '\n')
  }
  for (const p of [b, n]) pin(p, '2.0.0')
  await both(b, n, ['install'])
  // Widened: npm's lockfile keeps 2.0.0 until an update; both start from it.
  for (const p of [b, n]) pin(p, '^2.0.0')
  assert.equal((await npm(n, ['install'])).status, 0)
  fs.copyFileSync(n.file('package-lock.json'), b.file('package-lock.json'))
  assert.equal(b.lock().packages['packages/a/node_modules/leaf'].version, '2.0.0')
  await both(b, n, ['update', '-w', 'ws-a'])
  await same(b, n, 'update -w ws-a')
  assert.equal(b.lock().packages['packages/a/node_modules/leaf'].version, '2.1.0')
})

test('a -w install records what is on disk: the next one is the fast no-op, a full one completes the tree', T, async (t) => {
  const b = monorepo(t)
  const n = monorepo(t)
  let r = await brisk(b, ['install', '-w', 'ws-b', '--ignore-scripts'])
  assert.equal(r.status, 0, r.stderr)
  assert.ok(!b.exists('node_modules/ws-a'), 'the other workspace is not linked')
  const hidden = b.json('node_modules/.package-lock.json')
  for (const [loc, e] of Object.entries(hidden.packages)) {
    if (e.link) assert.ok(fs.lstatSync(b.file(loc)).isSymbolicLink(), loc)
    else assert.equal(b.json(loc, 'package.json').version, e.version, `${loc} is on disk as the hidden lockfile says`)
  }
  assert.equal(hidden.packages['node_modules/ws-a'], undefined, 'what was not linked is not claimed')
  r = await brisk(b, ['install', '-w', 'ws-b', '--json', '--ignore-scripts'])
  assert.equal(JSON.parse(r.stdout).upToDate, true, 'the same -w install again is the fast path')
  r = await brisk(b, ['install', '-w', 'ws-a', '--json', '--ignore-scripts'])
  assert.notEqual(JSON.parse(r.stdout).upToDate, true, 'another workspace is not')
  r = await brisk(b, ['install', '--json', '--ignore-scripts'])
  assert.notEqual(JSON.parse(r.stdout).upToDate, true, 'nor a full install')
  assert.equal((await npm(n, ['install', '--ignore-scripts'])).status, 0)
  assert.deepEqual(h.installedTree(b.dir), h.installedTree(n.dir))
  r = await brisk(b, ['install', '-w', 'ws-c', '--json', '--ignore-scripts'])
  assert.equal(JSON.parse(r.stdout).upToDate, true, 'a full install\'s record answers for any workspace')

  // A workspace outside the scope gains a dependency: the lockfile has it,
  // node_modules does not, and the hidden lockfile does not claim it.
  const pj = b.json('packages/a/package.json')
  pj.dependencies.mid2 = '1.0.0'
  fs.writeFileSync(b.file('packages/a/package.json'), JSON.stringify(pj, null, 2) + '\n')
  assert.equal((await brisk(b, ['install', '-w', 'ws-c', '--ignore-scripts'])).status, 0)
  assert.ok(b.lock().packages['node_modules/mid2'])
  assert.ok(!b.exists('node_modules/mid2'))
  assert.equal(b.json('node_modules/.package-lock.json').packages['node_modules/mid2'], undefined)
  r = await brisk(b, ['install', '--json', '--ignore-scripts'])
  assert.equal(JSON.parse(r.stdout).added, 2, 'mid2 and its own leaf@2')
  assert.ok(b.exists('node_modules/mid2/node_modules/leaf/package.json'))
})

test('run across workspaces: npm\'s output, a failure does not stop the others, the exit code is the last failure\'s', T, async (t) => {
  const b = monorepo(t)
  const pj = b.json('packages/b/package.json')
  delete pj.scripts.t
  fs.writeFileSync(b.file('packages/b/package.json'), JSON.stringify(pj, null, 4) + '\n')
  const cases = [
    [['run', 't', '--workspaces'], {}],
    [['run', 't', '-ws', '--if-present'], {}],
    [['run', 't', '--workspaces', '--if-present'], { FAIL_a: '3', FAIL_c: '5' }],
    [['run', 't', '-w', 'ws-c', '-w', 'ws-a', '--include-workspace-root'], { FAIL_root: '2' }],
    [['run', 't', '-w', 'packages/a', '-w', 'ws-c'], {}]
  ]
  for (const [args, env] of cases) {
    const rb = await h.cli(args, { cwd: b.dir, env: { ...b.env, ...env } })
    const rn = await npm(b, args, env)
    const what = `${args.join(' ')} ${JSON.stringify(env)}`
    assert.equal(rb.status, rn.status, `${what}: exit code\n${rb.stderr}\n${rn.stderr}`)
    assert.equal(rb.stdout, rn.stdout, `${what}: stdout`)
    if (rn.status !== 0) assert.match(rb.stderr, /brisk ERR!/)
  }
  const missing = await h.cli(['run', 't', '--workspaces'], { cwd: b.dir, env: b.env })
  assert.match(missing.stderr, /Missing script: "t" in ws-b@1\.2\.0/)
})

test('add -w: a failed install changes no file; an unknown or outside workspace is refused', T, async (t) => {
  const b = monorepo(t)
  assert.equal((await brisk(b, ['install', '--ignore-scripts'])).status, 0)
  const before = Object.fromEntries([...FILES, 'package-lock.json'].map((f) => [f, b.read(f)]))
  const fails = async (args, pattern) => {
    const r = await brisk(b, args)
    assert.notEqual(r.status, 0, args.join(' '))
    assert.match(r.stderr, pattern)
    for (const [f, text] of Object.entries(before)) assert.equal(b.read(f), text, `${args.join(' ')}: ${f} unchanged`)
  }
  await fails(['add', 'no-such-package', '-w', 'ws-c'], /E_NOT_FOUND/)
  await fails(['add', 'script-fails', '-w', 'ws-c', '--allow-scripts'], /E_SCRIPT/)
  await fails(['add', 'leaf', '-w', 'nope'], /E_NOT_FOUND.*nope/s)
  await fails(['add', 'leaf', '-w', '../project/packages/../../x'], /E_NOT_FOUND/)
  await fails(['add', 'ws-c', '-w', 'ws-c'], /itself/)
})
