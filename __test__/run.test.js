'use strict'
// brisk run / test / start, exec and rebuild against the local registry,
// next to real npm where their output can be compared: banners, pre/post
// order, extra arguments, the script environment and PATH, exit codes,
// the missing-script message, the listing; exec of a project bin and of a
// package installed into the cache (the project unchanged); rebuild of a
// package installed without its scripts (the cache unchanged).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const brisk = require('../brisk.js')
const h = require('./helpers.js')

const T = { timeout: 120_000 }
const { reg, opts, setup } = h.localRegistry()

const SCRIPTS = {
  pretest: 'echo pre-$npm_lifecycle_event',
  test: 'echo main',
  posttest: 'echo post-$npm_lifecycle_event',
  fail: 'echo failing; exit 7',
  build: 'echo build',
  start: 'echo started'
}

/** npm's output with brisk's name for itself (npm says `npm run`). */
const asBrisk = (text) => text.replace(/`npm run`/g, '`brisk run`')

test('run: banners, pre/post order and args after -- are exactly what npm prints', T, async (t) => {
  const p = setup(t, { scripts: SCRIPTS })
  const args = ['run', 'test', '--', 'a b', "d'e", '', '$HOME', '--flag']
  const b = h.cliSync(args, { cwd: p.dir, env: p.env })
  assert.equal(b.status, 0, b.stderr)
  assert.equal(b.stdout, "\n> fixture-project@1.0.0 pretest\n> echo pre-$npm_lifecycle_event\n\npre-pretest\n\n" +
    "> fixture-project@1.0.0 test\n> echo main a b d'e  $HOME --flag\n\nmain a b d'e  $HOME --flag\n\n" +
    '> fixture-project@1.0.0 posttest\n> echo post-$npm_lifecycle_event\n\npost-posttest\n')
  const n = await h.npm(args, { cwd: p.dir, env: p.env, cache: path.join(p.root, 'npm-cache') })
  assert.equal(n.status, 0, n.stderr)
  assert.equal(b.stdout, n.stdout, 'the same output as npm')
  // The shortcuts.
  for (const cmd of [['test'], ['t'], ['run-script', 'test']]) {
    const r = h.cliSync(cmd, { cwd: p.dir, env: p.env })
    assert.equal(r.stdout, h.cliSync(['run', 'test'], { cwd: p.dir, env: p.env }).stdout, cmd.join(' '))
  }
  assert.match(h.cliSync(['start', 'x'], { cwd: p.dir, env: p.env }).stdout, /> echo started x\n\nstarted x\n/)
  // --ignore-scripts skips pre/post, never the script asked for (npm's rule).
  const ignored = h.cliSync(['test', '--ignore-scripts'], { cwd: p.dir, env: p.env })
  assert.equal(ignored.stdout, '\n> fixture-project@1.0.0 test\n> echo main\n\nmain\n')
  // --silent: no banners.
  assert.equal(h.cliSync(['test', '--silent'], { cwd: p.dir, env: p.env }).stdout, 'pre-pretest\nmain\npost-posttest\n')
})

test('run: the exit code is the script\'s; a failing pre script stops the rest', T, async (t) => {
  const p = setup(t, { scripts: { ...SCRIPTS, prebuild: 'exit 4' } })
  const r = h.cliSync(['run', 'fail'], { cwd: p.dir, env: p.env })
  assert.equal(r.status, 7)
  assert.match(r.stdout, /failing/)
  assert.match(r.stderr, /E_SCRIPT the fail script of fixture-project@1\.0\.0 failed with exit code 7/)
  const n = await h.npm(['run', 'fail'], { cwd: p.dir, env: p.env, cache: path.join(p.root, 'npm-cache') })
  assert.equal(n.status, 7, 'npm exits with the script\'s code too')
  const pre = h.cliSync(['run', 'build'], { cwd: p.dir, env: p.env })
  assert.equal(pre.status, 4)
  assert.doesNotMatch(pre.stdout, /\nbuild\n/, 'the main script did not run')
  // The JS API rejects with E_SCRIPT and the exit code.
  const err = await h.rejection(brisk.run({ cwd: p.dir, env: p.env, script: 'fail', onScript: () => {} }))
  assert.equal(err.code, 'E_SCRIPT')
  assert.equal(err.exitCode, 7)
})

test('run: npm\'s environment, and PATH finds a dependency\'s bin from a subfolder', T, async (t) => {
  const dump = 'node -e "require(\'fs\').writeFileSync(process.env.INIT_CWD + \'/env.json\', JSON.stringify(process.env))"'
  const p = setup(t, {
    dependencies: { tool: '1.0.0' },
    config: { port: '8080' },
    scripts: { env: dump, usebin: 'tool > "$INIT_CWD/tool.json"' }
  })
  assert.equal((await h.cli(['install', '--registry', reg.url, '--cache-dir', p.cache], { cwd: p.dir, env: p.env })).status, 0)
  const sub = p.file('src', 'deep')
  fs.mkdirSync(sub, { recursive: true })
  const r = h.cliSync(['run', 'env'], { cwd: sub, env: { ...p.env, npm_config_foo: 'bar', npm_package_name: 'outer' } })
  assert.equal(r.status, 0, r.stderr)
  const env = JSON.parse(fs.readFileSync(path.join(sub, 'env.json'), 'utf8'))
  assert.equal(env.npm_lifecycle_event, 'env')
  assert.equal(env.npm_lifecycle_script, dump)
  assert.equal(env.npm_package_name, 'fixture-project', 'the outer npm_package_* do not leak')
  assert.equal(env.npm_package_version, '1.0.0')
  assert.equal(env.npm_package_config_port, '8080')
  assert.equal(env.npm_package_json, p.file('package.json'))
  assert.equal(env.npm_command, 'run-script')
  assert.equal(env.npm_config_foo, 'bar')
  assert.match(env.npm_config_user_agent, /^brisk\//)
  assert.equal(env.INIT_CWD, sub)
  assert.equal(env.npm_node_execpath, process.execPath)
  assert.equal(env.npm_execpath, h.CLI)
  const PATH = env.PATH.split(path.delimiter)
  assert.deepEqual(PATH.slice(0, 2), [p.file('node_modules', '.bin'), path.join(p.root, 'node_modules', '.bin')])
  const bin = h.cliSync(['run', 'usebin'], { cwd: sub, env: p.env })
  assert.equal(bin.status, 0, bin.stderr)
  assert.equal(JSON.parse(fs.readFileSync(path.join(sub, 'tool.json'), 'utf8')).bin, 'tool')
})

test('run: a missing script is npm\'s message with a did-you-mean; --if-present exits 0', T, async (t) => {
  const p = setup(t, { scripts: SCRIPTS })
  const r = h.cliSync(['run', 'buld'], { cwd: p.dir, env: p.env })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /brisk ERR! E_NOT_FOUND Missing script: "buld"\n/)
  assert.match(r.stderr, /Did you mean this\?\nbrisk ERR! {3}brisk run build # run the "build" package script/)
  assert.match(r.stderr, /To see a list of scripts, run:\nbrisk ERR! {3}brisk run\n/)
  const n = await h.npm(['run', 'nope'], { cwd: p.dir, env: p.env, cache: path.join(p.root, 'npm-cache') })
  assert.equal(n.status, 1)
  assert.match(n.stderr, /Missing script: "nope"/)
  const far = h.cliSync(['run', 'nope'], { cwd: p.dir, env: p.env })
  assert.doesNotMatch(far.stderr, /Did you mean/)
  const present = h.cliSync(['run', 'nope', '--if-present'], { cwd: p.dir, env: p.env })
  assert.equal(present.status, 0, present.stderr)
  assert.equal(present.stdout, '')
  const err = await h.rejection(brisk.run({ cwd: p.dir, env: p.env, script: 'nope' }))
  assert.equal(err.code, 'E_NOT_FOUND')
})

test('run with no script lists them as npm does', T, async (t) => {
  const p = setup(t, { scripts: { build: 'tsc', test: 'node t.js', posttest: 'echo done', lint: 'eslint .' } })
  const b = h.cliSync(['run'], { cwd: p.dir, env: p.env })
  assert.equal(b.status, 0, b.stderr)
  assert.equal(b.stdout, 'Lifecycle scripts included in fixture-project@1.0.0:\n  test\n    node t.js\n  posttest\n    echo done\n' +
    'available via `brisk run`:\n  build\n    tsc\n  lint\n    eslint .\n')
  const n = await h.npm(['run'], { cwd: p.dir, env: p.env, cache: path.join(p.root, 'npm-cache') })
  assert.equal(b.stdout, asBrisk(n.stdout))
})

test('run -w / --workspaces runs in the workspaces', T, async (t) => {
  const p = setup(t, { workspaces: ['packages/*'], scripts: { hello: 'echo root' } })
  for (const [name, script] of [['a', 'echo in-a $npm_package_name'], ['b', undefined]]) {
    const dir = p.file('packages', name)
    fs.mkdirSync(dir, { recursive: true })
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', scripts: script ? { hello: script } : {} }))
  }
  const one = h.cliSync(['run', 'hello', '-w', 'a'], { cwd: p.dir, env: p.env })
  assert.equal(one.status, 0, one.stderr)
  assert.match(one.stdout, /> a@1\.0\.0 hello\n> echo in-a \$npm_package_name\n\nin-a a\n/)
  const all = h.cliSync(['run', 'hello', '--workspaces'], { cwd: p.dir, env: p.env })
  assert.equal(all.status, 1, 'b has no hello script')
  assert.match(all.stderr, /Missing script: "hello" in b@1\.0\.0/)
  const present = h.cliSync(['run', 'hello', '--workspaces', '--if-present'], { cwd: p.dir, env: p.env })
  assert.equal(present.status, 0, present.stderr)
  assert.match(present.stdout, /in-a a/)
})

test('exec: a bin of the project, with its arguments and exit code', T, async (t) => {
  const p = setup(t, {})
  fs.mkdirSync(p.file('node_modules', '.bin'), { recursive: true })
  fs.writeFileSync(p.file('node_modules', '.bin', 'mine'), '#!/bin/sh\necho "mine:$#:$1:$2:$npm_lifecycle_event"\nexit 5\n', { mode: 0o755 })
  const r = h.cliSync(['exec', 'mine', '--version', 'a b'], { cwd: p.dir, env: p.env })
  assert.equal(r.status, 5)
  assert.equal(r.stdout, 'mine:2:--version:a b:npx\n')
  const x = h.cliSync(['x', '--', 'mine', '$HOME'], { cwd: p.dir, env: p.env })
  assert.equal(x.stdout, 'mine:1:$HOME::npx\n', 'arguments are quoted for the shell')
})

test('exec: a package the project lacks is installed into the cache; the project is unchanged', T, async (t) => {
  const p = setup(t, { dependencies: { leaf: '1.0.0' } })
  assert.equal((await h.cli(['install', '--registry', reg.url, '--cache-dir', p.cache], { cwd: p.dir, env: p.env })).status, 0)
  const before = h.snapshot(p.dir)
  const run = (args) => h.cli(['exec', '--registry', reg.url, '--cache-dir', p.cache, ...args], { cwd: p.dir, env: p.env })
  const r = await run(['tool@1.0.0'])
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout), { bin: 'tool', name: 'tool', version: '1.0.0' }, 'the bin named like the package')
  assert.deepEqual(h.snapshot(p.dir), before, 'package.json, the lockfile and node_modules are untouched')
  const folders = fs.readdirSync(path.join(p.cache, '_exec'))
  assert.equal(folders.length, 1)
  assert.ok(fs.existsSync(path.join(p.cache, '_exec', folders[0], 'node_modules', 'tool', 'package.json')))
  // Again: the same folder; a string bin gets the package's name; --package runs any command.
  assert.equal((await run(['tool'])).status, 0)
  assert.deepEqual(fs.readdirSync(path.join(p.cache, '_exec')), folders, 'tool resolves to tool@1.0.0 again: same folder')
  const str = await run(['strbin'])
  assert.equal(JSON.parse(str.stdout).bin, 'strbin')
  const extra = await run(['--package', 'tool@1.0.0', '--', 'tool-extra'])
  assert.equal(JSON.parse(extra.stdout).bin, 'tool-extra')
  assert.deepEqual(h.snapshot(p.dir), before)
  const missing = await run(['no-such-package-xyz'])
  assert.equal(missing.status, 1)
  assert.match(missing.stderr, /E_NOT_FOUND/)
})

test('rebuild: runs a package installed without its scripts, privately; brisk install stops listing it', T, async (t) => {
  const marker = 'MODIFIED-' + 'BY-POSTINSTALL'
  const manifest = { dependencies: { 'script-appends': '1.0.0', scripted: '1.0.0' } }
  const p = setup(t, manifest)
  const o = opts(p)
  const first = await brisk.install(o)
  assert.deepEqual(first.scriptsNotRun.sort(), ['script-appends@1.0.0', 'scripted@1.0.0'])
  const index = p.file('node_modules', 'script-appends', 'index.js')
  assert.ok(fs.statSync(index).nlink > 1, 'installed as hardlinks into the cache')
  // Without names: only trusted packages (none), so nothing runs.
  const none = await h.cli(['rebuild', '--cache-dir', p.cache, '--registry', reg.url], { cwd: p.dir, env: p.env })
  assert.equal(none.status, 0, none.stderr)
  assert.doesNotMatch(p.read('node_modules', 'script-appends', 'index.js'), new RegExp(marker))
  // Named: it runs, on a private copy.
  const r = await h.cli(['rebuild', 'script-appends', '--cache-dir', p.cache, '--registry', reg.url], { cwd: p.dir, env: p.env })
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /rebuilt dependencies successfully: script-appends@1\.0\.0 postinstall/)
  assert.match(r.stdout, /scripted@1\.0\.0/, 'the other one is still listed')
  assert.match(p.read('node_modules', 'script-appends', 'index.js'), new RegExp(marker))
  assert.equal(fs.statSync(index).nlink, 1)
  assert.deepEqual(h.filesContaining(p.cache, marker), [], 'the cache is unchanged')
  // Another project linking the same package sees the original files.
  const other = setup(t, manifest)
  await brisk.install(opts(other, { cacheDir: p.cache }))
  assert.doesNotMatch(other.read('node_modules', 'script-appends', 'index.js'), new RegExp(marker))
  // The next install (one that reifies: a new dependency) lists only the
  // package still not run, and keeps the rebuilt files.
  fs.writeFileSync(p.file('package.json'), JSON.stringify({ ...p.json('package.json'), dependencies: { ...manifest.dependencies, leaf: '1.0.0' } }))
  const again = await brisk.install(o)
  assert.equal(again.added, 1)
  assert.deepEqual(again.scriptsNotRun, ['scripted@1.0.0'])
  assert.match(p.read('node_modules', 'script-appends', 'index.js'), new RegExp(marker))
  const pending = JSON.parse(p.read('node_modules', '.brisk-scripts')).pending
  assert.deepEqual(Object.values(pending), ['scripted@1.0.0'])
  // Trusted: a plain rebuild runs it; --ignore-scripts runs nothing.
  const pkg = p.json('package.json')
  fs.writeFileSync(p.file('package.json'), JSON.stringify({ ...pkg, trustedDependencies: ['scripted'] }))
  const ignored = await brisk.rebuild({ ...o, ignoreScripts: true })
  assert.deepEqual(ignored.scriptsRun, [])
  assert.equal(p.exists('node_modules', 'scripted', 'postinstall-ran'), false)
  const trusted = await brisk.rebuild(o)
  assert.deepEqual(trusted.scriptsRun, ['scripted@1.0.0 postinstall'])
  assert.equal(p.exists('node_modules', 'scripted', 'postinstall-ran'), true)
  assert.equal(p.exists('node_modules', '.brisk-scripts'), false, 'nothing pending any more')
  assert.deepEqual(h.listFiles(p.cache).filter((f) => path.basename(f) === 'postinstall-ran'), [], 'written beside the private copy, not in the cache')
})

test('rebuild, run, exec: options are checked; nothing installed is E_NOT_FOUND', T, async (t) => {
  const p = setup(t, {})
  const err = await h.rejection(brisk.rebuild({ cwd: p.dir, env: p.env, cacheDir: p.cache }))
  assert.equal(err.code, 'E_NOT_FOUND')
  assert.match(err.message, /run `brisk install` first/)
  assert.equal((await h.rejection(brisk.install({ cwd: p.dir, script: 'x' }))).code, 'E_CONFIG')
  assert.equal((await h.rejection(brisk.run({ cwd: p.dir, args: 'x' }))).code, 'E_CONFIG')
  assert.equal((await h.rejection(brisk.exec({ cwd: p.dir, env: p.env }))).code, 'E_CONFIG')
  const help = h.cliSync(['run', '--help'])
  assert.match(help.stdout, /brisk run <script>/)
})

test('argv: what goes to the script or the command', () => {
  const { parse } = require('../bin/brisk.js')
  const o = (...argv) => { const r = parse(argv); const { cwd, ...rest } = r.options; return [r.operation, rest] }
  assert.deepEqual(o('run', 'test', '--', '--watch', 'a b'), ['run', { script: 'test', args: ['--watch', 'a b'] }])
  assert.deepEqual(o('run', 'test', 'x'), ['run', { script: 'test', args: ['x'] }], 'npm passes positionals after the script')
  assert.deepEqual(o('t', '--', '-u'), ['run', { script: 'test', args: ['-u'] }])
  assert.deepEqual(o('run-script', 'build', '--if-present', '-w', 'a'), ['run', { script: 'build', ifPresent: true, workspaces: ['a'] }])
  assert.deepEqual(o('x', 'tsc', '--version', '--', 'y'), ['exec', { args: ['tsc', '--version', '--', 'y'] }], 'after the command, nothing is brisk\'s')
  assert.deepEqual(o('exec', '--registry', 'http://r/', 'tsc', '-v'), ['exec', { registry: 'http://r/', args: ['tsc', '-v'] }])
  assert.deepEqual(o('exec', '-p', 'a@1', '--package=b', '--', 'cmd', '--x'), ['exec', { packages: ['a@1', 'b'], args: ['cmd', '--x'] }])
  assert.deepEqual(o('rb', 'esbuild', 'sharp'), ['rebuild', { packages: ['esbuild', 'sharp'] }])
  assert.throws(() => parse(['install', '--', 'x']), /takes no arguments after "--"/)
})

test('start without a start script runs server.js, as npm does', T, async (t) => {
  const p = setup(t, {})
  fs.writeFileSync(p.file('server.js'), 'console.log("server up")\n')
  const b = h.cliSync(['start'], { cwd: p.dir, env: p.env })
  assert.equal(b.status, 0, b.stderr)
  const n = await h.npm(['start'], { cwd: p.dir, env: p.env, cache: path.join(p.root, 'npm-cache') })
  assert.equal(b.stdout, n.stdout)
  assert.match(b.stdout, /> node server\.js\n\nserver up\n/)
})
