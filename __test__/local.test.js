'use strict'
// Dependencies that are not registry ranges: workspaces, `file:` and `link:`
// folders, local and remote tarballs, `workspace:`. Checked against real npm
// on the same local registry (same lockfile bytes, same node_modules, npm ls
// and npm ci accept brisk's result), plus what a user notices: symlinks,
// require(), the up-to-date path, errors.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const brisk = require('../brisk.js')
const h = require('./helpers.js')

const T = { timeout: 120_000 }
const { reg, opts } = h.localRegistry()

function writeJson(p, rel, obj) {
  fs.mkdirSync(path.dirname(p.file(rel)), { recursive: true })
  fs.writeFileSync(p.file(rel), JSON.stringify(obj, null, 2) + '\n')
}

/** A monorepo: two workspaces (one nests a conflicting leaf, one has dev deps and a bin), a file: folder inside and one outside the project, a file: tarball and a tarball URL. */
async function monorepo() {
  const p = h.project({
    workspaces: ['packages/*'],
    dependencies: {
      leaf: '^1.0.0',
      'local-dir': 'file:./libs/local-dir',
      'out-dir': 'file:../outside',
      tgz: 'file:./vendor/strbin-1.0.0.tgz',
      urltgz: `${reg.url}uses-leaf1/-/uses-leaf1-1.0.0.tgz`
    }
  })
  writeJson(p, 'packages/a/package.json', { name: 'ws-a', version: '1.0.0', dependencies: { leaf: '^2.0.0', 'ws-b': '^1.0.0' } })
  fs.writeFileSync(p.file('packages/a/index.js'), 'module.exports = { leaf: require("leaf/package.json").version, b: require("ws-b") }\n')
  writeJson(p, 'packages/b/package.json', { name: 'ws-b', version: '1.2.0', bin: { 'ws-b-cli': 'cli.js' }, dependencies: { mid: '1.0.0' }, devDependencies: { tool: '1.0.0' } })
  fs.writeFileSync(p.file('packages/b/index.js'), 'module.exports = "ws-b"\n')
  fs.writeFileSync(p.file('packages/b/cli.js'), '#!/usr/bin/env node\nconsole.log("ws-b-cli")\n')
  writeJson(p, 'libs/local-dir/package.json', { name: 'local-dir', version: '0.1.0', dependencies: { 'deep-a': '^1.0.0' } })
  const outside = path.join(p.root, 'outside')
  fs.mkdirSync(outside, { recursive: true })
  fs.writeFileSync(path.join(outside, 'package.json'), JSON.stringify({ name: 'out-dir', version: '3.0.0', dependencies: { leaf: '^1.0.0' } }))
  const tgz = Buffer.from(await (await fetch(`${reg.url}strbin/-/strbin-1.0.0.tgz`)).arrayBuffer())
  fs.mkdirSync(p.file('vendor'), { recursive: true })
  fs.writeFileSync(p.file('vendor/strbin-1.0.0.tgz'), tgz)
  return p
}


test('workspaces, file: folders and tarballs: the same lockfile and node_modules as npm', T, async (t) => {
  const p = await monorepo()
  const n = await monorepo()
  t.after(() => { p.cleanup(); n.cleanup() })
  await brisk.install(opts(p))
  const ni = await h.npm(['install', '--ignore-scripts'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
  assert.equal(ni.status, 0, ni.stderr)

  // Byte-identical apart from the project paths being the same shape.
  assert.equal(p.read('package-lock.json'), n.read('package-lock.json'))
  assert.deepEqual(h.installedTree(p.dir), h.installedTree(n.dir))
  for (const [link, to] of [['ws-a', '../packages/a'], ['ws-b', '../packages/b'], ['local-dir', '../libs/local-dir'], ['out-dir', '../../outside']]) {
    assert.equal(fs.readlinkSync(p.file('node_modules', link)), to, link)
  }
  assert.deepEqual(fs.readdirSync(p.file('node_modules/.bin')).sort(), fs.readdirSync(n.file('node_modules/.bin')).sort())

  // Node finds what each workspace asked for (ws-a's own leaf@2 is nested in its folder).
  const a = JSON.parse(h.nodeEval(p.dir, 'process.stdout.write(JSON.stringify(require("ws-a")))', p.env))
  assert.deepEqual(a, { leaf: '2.1.0', b: 'ws-b' })
  assert.equal(h.requireIn(p.dir, 'urltgz').name, 'uses-leaf1')
  assert.equal(h.requireIn(p.dir, 'tgz').name, 'strbin')

  // npm ls reports only what it reports for its own install (the folder
  // outside the project keeps its dependencies to itself).
  const lsB = await h.npm(['ls', '--all', '--parseable'], { cwd: p.dir, env: p.env, cache: p.cache, registry: reg.url })
  const lsN = await h.npm(['ls', '--all', '--parseable'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
  assert.equal(lsB.stderr.replaceAll(p.root, 'ROOT').replace(/\/_logs\/\S+/, ''), lsN.stderr.replaceAll(n.root, 'ROOT').replace(/\/_logs\/\S+/, ''))
  assert.equal(lsB.stdout.replaceAll(p.root, 'ROOT'), lsN.stdout.replaceAll(n.root, 'ROOT'))

  // npm ci takes brisk's lockfile.
  fs.rmSync(n.file('node_modules'), { recursive: true })
  fs.copyFileSync(p.file('package-lock.json'), n.file('package-lock.json'))
  const ci = await h.npm(['ci', '--ignore-scripts'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
  assert.equal(ci.status, 0, ci.stderr)
  assert.deepEqual(h.installedTree(n.dir), h.installedTree(p.dir))
})

test('workspaces: up to date, then a workspace package.json change is noticed; the workspace folders are never touched', T, async (t) => {
  const p = await monorepo()
  t.after(() => p.cleanup())
  await brisk.install(opts(p))
  const lock = p.read('package-lock.json')
  const again = await brisk.install(opts(p))
  assert.equal(again.upToDate, true)

  // From lockfile alone, with node_modules gone.
  fs.rmSync(p.file('node_modules'), { recursive: true })
  const fromLock = await brisk.install(opts(p))
  assert.equal(fromLock.lockfileWritten, false)
  assert.equal(p.read('package-lock.json'), lock)
  assert.ok(p.exists('packages/a/node_modules/leaf/package.json'))
  assert.equal(p.read('packages/b/index.js'), 'module.exports = "ws-b"\n')

  // A workspace gains a dependency: the lockfile is stale, the new dep lands.
  writeJson(p, 'packages/b/package.json', { name: 'ws-b', version: '1.2.0', bin: { 'ws-b-cli': 'cli.js' }, dependencies: { mid: '1.0.0', strbin: '1.0.0' }, devDependencies: { tool: '1.0.0' } })
  const changed = await brisk.install(opts(p))
  assert.equal(changed.upToDate, false)
  assert.equal(p.lock().packages['packages/b'].dependencies.strbin, '1.0.0')
  assert.equal(p.json('node_modules/strbin/package.json').version, '1.0.0')
  assert.ok(p.exists('packages/b/cli.js'), 'workspace files stay')
})

test('run from inside a workspace folder, brisk installs the root project', T, async (t) => {
  const p = await monorepo()
  t.after(() => p.cleanup())
  const r = await h.cli(['install', '--registry', reg.url, '--cache-dir', p.cache], { cwd: p.file('packages/a'), env: p.env })
  assert.equal(r.status, 0, r.stderr)
  assert.ok(p.exists('package-lock.json'))
  assert.ok(!p.exists('packages/a/package-lock.json'))
  assert.equal(fs.readlinkSync(p.file('node_modules/ws-a')), '../packages/a')
})

test('--workspace installs only what that workspace uses', T, async (t) => {
  const p = await monorepo()
  t.after(() => p.cleanup())
  const r = await h.cli(['install', '-w', 'ws-b', '--registry', reg.url, '--cache-dir', p.cache], { cwd: p.dir, env: p.env })
  assert.equal(r.status, 0, r.stderr)
  assert.ok(p.exists('node_modules/mid/package.json'))
  assert.ok(p.exists('node_modules/tool/package.json'))
  assert.ok(!p.exists('node_modules/deep-a'), 'local-dir\'s deps are not installed')
  assert.ok(!p.exists('node_modules/ws-a'), 'the other workspace is not linked')
  assert.ok(p.lock().packages['packages/a'], 'the lockfile still covers every workspace')
  // A full install afterwards completes node_modules.
  await brisk.install(opts(p))
  assert.ok(p.exists('node_modules/deep-a/package.json'))
  assert.equal(fs.readlinkSync(p.file('node_modules/ws-a')), '../packages/a')
  assert.ok(p.exists('node_modules/mid/package.json'))

  const bad = await h.cli(['install', '-w', 'nope', '--registry', reg.url, '--cache-dir', p.cache], { cwd: p.dir, env: p.env })
  assert.notEqual(bad.status, 0)
  assert.match(bad.stderr, /E_NOT_FOUND.*nope/s)
})

test('workspace: protocol links the workspace; a version it does not have is an error', T, async (t) => {
  const p = h.project({ workspaces: ['packages/*'] })
  t.after(() => p.cleanup())
  writeJson(p, 'packages/app/package.json', { name: 'app', version: '1.0.0', dependencies: { lib: 'workspace:*' } })
  writeJson(p, 'packages/lib/package.json', { name: 'lib', version: '2.0.0' })
  fs.writeFileSync(p.file('packages/lib/index.js'), 'module.exports = "lib"\n')
  await brisk.install(opts(p))
  assert.equal(fs.readlinkSync(p.file('node_modules/lib')), '../packages/lib')
  assert.equal(h.nodeEval(p.file('packages/app'), 'process.stdout.write(require("lib"))', p.env), 'lib')
  assert.equal(p.lock().packages['packages/app'].dependencies.lib, 'workspace:*')

  writeJson(p, 'packages/app/package.json', { name: 'app', version: '1.0.0', dependencies: { lib: 'workspace:^1.0.0' } })
  const err = await h.rejection(brisk.install(opts(p)))
  assert.equal(err.code, 'E_NO_MATCHING_VERSION')
})

test('link: and bare paths are folders; a missing folder or tarball is a clear error that changes nothing', T, async (t) => {
  const p = h.project({ dependencies: { a: 'link:./a', b: './b' } })
  t.after(() => p.cleanup())
  writeJson(p, 'a/package.json', { name: 'a', version: '1.0.0' })
  writeJson(p, 'b/package.json', { name: 'b', version: '1.0.0', dependencies: { leaf: '1.0.0' } })
  await brisk.install(opts(p))
  assert.equal(fs.readlinkSync(p.file('node_modules/a')), '../a')
  assert.equal(fs.readlinkSync(p.file('node_modules/b')), '../b')
  assert.equal(p.json('node_modules/leaf/package.json').version, '1.0.0')

  const before = h.snapshot(p.dir)
  writeJson(p, 'package.json', { name: 'x', version: '1.0.0', dependencies: { gone: 'file:./missing' } })
  const e1 = await h.rejection(brisk.install(opts(p)))
  assert.equal(e1.code, 'E_NOT_FOUND')
  assert.match(e1.message, /missing/)
  writeJson(p, 'package.json', { name: 'x', version: '1.0.0', dependencies: { gone: 'file:./missing-1.0.0.tgz' } })
  const e2 = await h.rejection(brisk.install(opts(p)))
  assert.equal(e2.code, 'E_NOT_FOUND')
  const after = h.snapshot(p.dir)
  delete before['package.json']
  delete after['package.json']
  assert.deepEqual(after, before)
})

test('a tampered file: tarball fails the integrity check against the lockfile', T, async (t) => {
  const p = await monorepo()
  t.after(() => p.cleanup())
  await brisk.install(opts(p, { lockfileOnly: true }))
  const tgz = p.file('vendor/strbin-1.0.0.tgz')
  const buf = fs.readFileSync(tgz)
  buf[buf.length - 20] ^= 0xff
  fs.writeFileSync(tgz, buf)
  // A fresh cache: the tarball is read again (the cached copy stays valid).
  const err = await h.rejection(brisk.install(opts(p, { cacheDir: path.join(p.root, 'cache2') })))
  assert.equal(err.code, 'E_INTEGRITY')
  assert.ok(!p.exists('node_modules/tgz'))
})

/** A bare git repo holding one package, tagged v1.0.0 and v1.1.0. */
function gitRepo(root) {
  const work = path.join(root, 'gitwork')
  const bare = path.join(root, 'gitdep.git')
  fs.mkdirSync(work, { recursive: true })
  const git = (...args) => {
    const r = require('node:child_process').spawnSync('git', args, { cwd: work, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } })
    assert.equal(r.status, 0, r.stderr)
    return r.stdout.trim()
  }
  git('init', '-q', '-b', 'main')
  const commit = (version) => {
    fs.writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'gitdep', version, dependencies: { leaf: '^1.0.0' } }, null, 2))
    fs.writeFileSync(path.join(work, 'index.js'), `module.exports = ${JSON.stringify(version)}\n`)
    fs.writeFileSync(path.join(work, '.npmignore'), 'secret.txt\n')
    fs.writeFileSync(path.join(work, 'secret.txt'), 'not packed\n')
    git('add', '-A')
    git('commit', '-q', '-m', version)
    git('tag', `v${version}`)
    return git('rev-parse', 'HEAD')
  }
  const v1 = commit('1.0.0')
  const v11 = commit('1.1.0')
  git('clone', '-q', '--bare', work, bare)
  return { url: `git+file://${bare}`, v1, v11 }
}

test('git dependencies: resolved to a commit as npm records it, packed as npm packs, cached by commit', T, async (t) => {
  const p = h.project()
  const n = h.project()
  t.after(() => { p.cleanup(); n.cleanup() })
  const repo = gitRepo(p.root)
  const manifest = { name: 'fixture-project', version: '1.0.0', dependencies: { gitdep: `${repo.url}#semver:~1.0.0`, pinned: `${repo.url}#${repo.v11}` } }
  for (const x of [p, n]) fs.writeFileSync(x.file('package.json'), JSON.stringify(manifest, null, 2) + '\n')

  await brisk.install(opts(p))
  const ni = await h.npm(['install', '--ignore-scripts'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
  assert.equal(ni.status, 0, ni.stderr)
  assert.deepEqual(h.lockEntries(p.lock()), h.lockEntries(n.lock()))
  assert.equal(p.lock().packages['node_modules/gitdep'].resolved, `${repo.url}#${repo.v1}`)
  assert.equal(h.requireIn(p.dir, 'gitdep'), '1.0.0')
  assert.equal(h.requireIn(p.dir, 'pinned'), '1.1.0')
  assert.ok(!p.exists('node_modules/gitdep/secret.txt'), '.npmignore is honoured')
  assert.ok(p.exists('node_modules/leaf/package.json'), 'its dependencies are installed')
  const ls = await h.npm(['ls', '--all'], { cwd: p.dir, env: p.env, cache: p.cache, registry: reg.url })
  assert.equal(ls.status, 0, ls.stdout + ls.stderr)

  // From the lockfile with a warm cache: no clone needed (the repo is gone).
  fs.rmSync(path.join(p.root, 'gitdep.git'), { recursive: true })
  fs.rmSync(p.file('node_modules'), { recursive: true })
  const again = await brisk.install(opts(p))
  assert.equal(again.lockfileWritten, false)
  assert.equal(h.requireIn(p.dir, 'gitdep'), '1.0.0')

  // No tag in range: a clear error.
  const q = h.project({ dependencies: { gitdep: `${gitRepo(path.join(p.root, 'q')).url}#semver:^2` } })
  t.after(() => q.cleanup())
  const err = await h.rejection(brisk.install(opts(q)))
  assert.equal(err.code, 'E_NO_MATCHING_VERSION')
})

test('a git dependency with a prepare script: prepared (devDependencies installed, prepare run) only when trusted', T, async (t) => {
  const scratch = h.project()
  t.after(() => scratch.cleanup())
  const root = scratch.root
  const work = path.join(root, 'prep-work')
  const bare = path.join(root, 'preparer.git')
  fs.mkdirSync(work, { recursive: true })
  const git = (...args) => {
    const r = require('node:child_process').spawnSync('git', args, { cwd: work, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } })
    assert.equal(r.status, 0, r.stderr)
  }
  const build = "require('fs').writeFileSync('built.js', 'module.exports = ' + JSON.stringify(require('leaf/package.json').version))"
  fs.writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'preparer', version: '1.0.0', main: 'built.js', scripts: { prepare: `node -e "${build}"` }, devDependencies: { leaf: '1.0.0' } }, null, 2))
  fs.writeFileSync(path.join(work, '.gitignore'), 'node_modules\n')
  git('init', '-q', '-b', 'main')
  git('add', '-A')
  git('commit', '-q', '-m', 'init')
  git('clone', '-q', '--bare', work, bare)

  const spec = `git+file://${bare}`
  const trusted = h.project({ dependencies: { preparer: spec }, trustedDependencies: ['preparer'] })
  const untrusted = h.project({ dependencies: { preparer: spec } })
  t.after(() => { trusted.cleanup(); untrusted.cleanup() })
  await brisk.install(opts(trusted))
  assert.equal(h.requireIn(trusted.dir, 'preparer'), '1.0.0', 'built by prepare with its devDependency')
  assert.ok(!trusted.exists('node_modules/preparer/node_modules'), 'the clone\'s node_modules is not packed')
  await brisk.install(opts(untrusted))
  assert.ok(untrusted.exists('node_modules/preparer/package.json'))
  assert.ok(!untrusted.exists('node_modules/preparer/built.js'), 'not prepared without trust')
})

test('bundleDependencies: installed as the tarball ships them (inBundle), never from the registry; the same lockfile as npm', T, async (t) => {
  const manifest = { dependencies: { bundler: '1.0.0', leaf: '^1.0.0' } }
  const p = h.project(manifest)
  const n = h.project(manifest)
  t.after(() => { p.cleanup(); n.cleanup() })
  reg.clearLog()
  await brisk.install(opts(p))
  assert.ok(!reg.requests.some((r) => r.kind === 'tarball' && /leaf-2\./.test(r.url)), 'the bundled leaf@2 is not downloaded')
  const ni = await h.npm(['install', '--ignore-scripts'], { cwd: n.dir, env: n.env, cache: n.cache, registry: reg.url })
  assert.equal(ni.status, 0, ni.stderr)
  assert.equal(p.read('package-lock.json'), n.read('package-lock.json'))
  assert.deepEqual(h.installedTree(p.dir), h.installedTree(n.dir))
  assert.match(p.read('node_modules/bundler/node_modules/leaf/index.js'), /bundled: true/)
  const ls = await h.npm(['ls', '--all'], { cwd: p.dir, env: p.env, cache: p.cache, registry: reg.url })
  assert.equal(ls.status, 0, ls.stdout + ls.stderr)
  // From the lockfile, with node_modules gone.
  fs.rmSync(p.file('node_modules'), { recursive: true })
  const again = await brisk.install(opts(p))
  assert.equal(again.lockfileWritten, false)
  assert.match(p.read('node_modules/bundler/node_modules/leaf/index.js'), /bundled: true/)
})
