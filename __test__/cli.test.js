'use strict'
// The brisk command line: argument parsing (no addon needed), then real runs
// against the local registry: exit codes, output, --json, ci, prefetch/link.

const { test, describe, before, after, beforeEach } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { parse, summary, timingsLine, formatBytes } = require('../bin/brisk.js')
const { startRegistry } = require('./registry.js')
const { scenarios } = require('./scenarios.js')
const h = require('./helpers.js')

const T = { timeout: 90_000 }

describe('argument parsing', () => {
  test('commands and aliases', () => {
    assert.equal(parse(['install']).operation, 'install')
    assert.equal(parse(['i']).operation, 'install')
    assert.equal(parse(['ci']).operation, 'install')
    assert.equal(parse(['prefetch']).operation, 'prefetch')
    assert.equal(parse(['link']).operation, 'link')
    assert.deepEqual(parse(['--help']), { help: true })
    assert.deepEqual(parse(['i', '-h']), { help: true, command: 'install' })
    assert.deepEqual(parse(['frob', '-h']), { help: true })
    assert.deepEqual(parse(['-v']), { version: true })
  })

  test('npm flag names map to options', () => {
    const { options, output } = parse([
      'install', '--registry', 'http://r.example/', '--cache-dir=/tmp/c', '--package-lock-only',
      '--omit=dev', '--omit', 'optional', '--ignore-scripts', '--legacy-peer-deps', '--prefer-offline',
      '--json', '--timings', '--prefix', '/tmp/proj', '--allow-scripts', '--foreground-scripts'
    ])
    assert.deepEqual(options, {
      cwd: '/tmp/proj',
      registry: 'http://r.example/',
      cacheDir: '/tmp/c',
      lockfileOnly: true,
      omit: ['dev', 'optional'],
      ignoreScripts: true,
      allowScripts: true,
      foregroundScripts: true,
      legacyPeerDeps: true,
      preferOffline: true
    })
    assert.deepEqual(output, { json: true, silent: false, timings: true, color: undefined, progress: true })
    assert.deepEqual(parse(['i', '--production']).options.omit, ['dev'])
    assert.deepEqual(parse(['i', '--omit=dev,peer']).options.omit, ['dev', 'peer'])
    assert.equal(parse(['i', '--lockfile-only']).options.lockfileOnly, true)
    assert.equal(parse(['i', '--frozen-lockfile']).options.frozenLockfile, true)
    assert.equal(parse(['i', '--cache', 'rel']).options.cacheDir, path.resolve('rel'))
    assert.equal(parse(['i']).options.cwd, process.cwd())
  })

  test('ci means frozen lockfile and a clean node_modules', () => {
    const { options, command } = parse(['ci'])
    assert.equal(command, 'ci')
    assert.equal(options.frozenLockfile, true)
    assert.equal(options.clean, true)
  })

  test('mistakes are E_CONFIG / E_UNSUPPORTED with a clear message', () => {
    const fails = (argv, code, re) => {
      assert.throws(() => parse(argv), (err) => err.code === code && re.test(err.message))
    }
    fails(['install', '--bogus'], 'E_CONFIG', /--bogus/)
    fails(['install', '--registry'], 'E_CONFIG', /--registry/)
    fails(['frob'], 'E_CONFIG', /frob/)
    fails(['i', '--omit=everything'], 'E_CONFIG', /dev, optional, peer/)
    fails(['add'], 'E_CONFIG', /at least one package/)
    fails(['rm'], 'E_CONFIG', /at least one package/)
    fails(['add', 'react', '-D', '--save-peer'], 'E_CONFIG', /--save-dev and --save-peer/)
    fails(['ci', 'react'], 'E_CONFIG', /no arguments/)
    fails(['link', 'extra'], 'E_CONFIG', /no arguments/)
    fails(['prefetch', '--lockfile-only'], 'E_CONFIG', /lockfile-only/)
  })

  test('npm habits: no-op flags accepted, --flag=true|false, --no-<flag>, --include, --no-optional', () => {
    const opts = (...argv) => { const o = { ...parse(argv).options }; delete o.cwd; return o }
    assert.deepEqual(opts('ci', '--no-audit', '--no-fund', '--no-update-notifier', '--no-progress', '--no-color',
      '--quiet', '--verbose', '--loglevel', 'error', '--audit-level=high', '--package-lock'),
    { frozenLockfile: true, clean: true, packageLock: true })
    assert.deepEqual(opts('i', '--install-strategy=linked', '--global-virtual-store'), { installStrategy: 'linked', globalVirtualStore: true })
    assert.deepEqual(opts('i', '--install-strategy', 'hoisted'), { installStrategy: 'hoisted' })
    assert.equal(parse(['i', '--loglevel=silent']).output.silent, true)
    assert.equal(parse(['i', '--loglevel', 'warn']).output.silent, false)
    assert.deepEqual(opts('i', '--frozen-lockfile=true'), { frozenLockfile: true })
    // false is passed on: it overrides .npmrc.
    assert.deepEqual(opts('i', '--frozen-lockfile=false'), { frozenLockfile: false })
    assert.deepEqual(opts('i', '--no-frozen-lockfile', '--no-ignore-scripts'), { frozenLockfile: false, ignoreScripts: false })
    assert.deepEqual(opts('i', '--offline', '--dry-run', '--no-package-lock', '--engine-strict'),
      { offline: true, dryRun: true, packageLock: false, engineStrict: true })
    assert.deepEqual(opts('add', 'x', '--save=false'), { add: ['x'], save: false })
    assert.deepEqual(opts('i', '--no-optional'), { omit: ['optional'] })
    assert.deepEqual(opts('i', '--omit=dev', '--omit=optional', '--include=dev'), { omit: ['optional'] })
    assert.deepEqual(opts('i', '--production', '--include', 'dev'), {})
  })

  test('npm flags brisk does not implement are refused, saying so; typos get a did-you-mean', () => {
    const fails = (argv, code, re) => {
      assert.throws(() => parse(argv), (err) => err.code === code && re.test(err.message), argv.join(' '))
    }
    fails(['i', '-g', 'x'], 'E_UNSUPPORTED', /global installs are not supported/)
    fails(['i', '--global'], 'E_UNSUPPORTED', /global installs are not supported/)
    fails(['prefetch', '--offline'], 'E_CONFIG', /--offline does not apply/)
    fails(['i', '--global-style'], 'E_UNSUPPORTED', /hoisted and linked/)
    fails(['i', '--frozen-lockfil'], 'E_CONFIG', /did you mean "--frozen-lockfile"/)
    fails(['instal'], 'E_CONFIG', /unknown command "instal" \(did you mean "install"\?\)/)
    fails(['prefech'], 'E_CONFIG', /did you mean "prefetch"/)
    fails(['i', '--no-ignore-script'], 'E_CONFIG', /did you mean "--no-ignore-scripts"/)
    fails(['i', '--frozen-lockfile=maybe'], 'E_CONFIG', /true or false/)
    fails(['i', '--include=everything'], 'E_CONFIG', /dev, optional, peer/)
  })

  test('summary lines', () => {
    const base = { added: 0, removed: 0, reused: 0, downloaded: 0, bytes: 0, packages: 0, upToDate: false, lockfileWritten: true, scriptsNotRun: [], warnings: [], timings: { resolveMs: 1, fetchMs: 2, linkMs: 3, totalMs: 1234 } }
    assert.deepEqual(summary('install', {}, { ...base, added: 123, packages: 123, downloaded: 45, bytes: 3.2 * 1024 * 1024 }),
      ['added 123 packages (45 downloaded, 3.2 MB) in 1.23s'])
    assert.deepEqual(summary('install', {}, { ...base, added: 1, removed: 2, packages: 5, reused: 1 }),
      ['added 1 package, removed 2 packages in 1.23s'])
    assert.deepEqual(summary('install', {}, { ...base, upToDate: true, packages: 7 }), ['up to date, 7 packages in 1.23s'])
    assert.deepEqual(summary('install', {}, { ...base, added: 2, packages: 2, scriptsNotRun: ['a@1.0.0', 'b@2.0.0'] }), [
      'added 2 packages in 1.23s',
      '2 packages have install scripts that were not run: a@1.0.0, b@2.0.0',
      '  to run them, add "trustedDependencies": ["a","b"] to package.json or run with --allow-scripts, or run them once now: brisk rebuild a b'
    ])
    assert.deepEqual(summary('install', {}, { ...base, added: 1, packages: 1, scriptsNotRun: ['@s/esbuild@0.1.0'] })[2],
      '  to run them, add "trustedDependencies": ["@s/esbuild"] to package.json or run with --allow-scripts, or run them once now: brisk rebuild @s/esbuild')
    assert.deepEqual(summary('install', {}, { ...base, added: 1, packages: 1, scriptsRun: ['a@1.0.0 postinstall', 'prepare'] }),
      ['added 1 package in 1.23s', 'ran 1 install script: a@1.0.0 postinstall'])
    assert.deepEqual(summary('rebuild', {}, { ...base, scriptsRun: ['a@1.0.0 postinstall'] }),
      ['rebuilt dependencies successfully: a@1.0.0 postinstall'])
    assert.deepEqual(summary('install', { ignoreScripts: true }, { ...base, added: 1, packages: 1, scriptsNotRun: ['a@1.0.0'] }),
      ['added 1 package in 1.23s'])
    assert.equal(timingsLine({ resolveMs: 4.138259, fetchMs: 2.5, linkMs: 0.55, totalMs: 29.9 }),
      'timings: resolve 4ms, fetch 3ms, link 1ms, total 30ms')
    assert.equal(formatBytes(512), '512 B')
    assert.equal(formatBytes(2048), '2.0 kB')
  })
})

describe('brisk binary without the registry', () => {
  test('--version and --help exit 0', () => {
    const v = h.cliSync(['--version'])
    assert.equal(v.status, 0)
    assert.equal(v.stdout.trim(), require('../package.json').version)
    const help = h.cliSync(['--help'])
    assert.equal(help.status, 0)
    assert.match(help.stdout, /Usage: brisk <command>/)
    assert.match(help.stdout, /--frozen-lockfile/)
    const addHelp = h.cliSync(['add', '--help'])
    assert.equal(addHelp.status, 0)
    assert.match(addHelp.stdout, /^brisk add <pkg\.\.\.>/)
    assert.match(addHelp.stdout, /--save-dev/)
  })

  test('no command: usage on stderr, exit 1', () => {
    const r = h.cliSync([])
    assert.equal(r.status, 1)
    assert.match(r.stderr, /Usage: brisk/)
    assert.equal(r.stdout, '')
  })

  test('unknown flag: exit 1 with brisk ERR! and the flag', () => {
    const r = h.cliSync(['install', '--frozen-lockfil'])
    assert.equal(r.status, 1)
    assert.match(r.stderr, /^brisk ERR! E_CONFIG .*--frozen-lockfil/m)
    assert.equal(r.stdout, '')
  })

  test('add without a package: exit 1', () => {
    const r = h.cliSync(['add'])
    assert.equal(r.status, 1)
    assert.match(r.stderr, /^brisk ERR! E_CONFIG .*at least one package/m)
  })

  test('a --prefix that does not exist: exit 1', () => {
    const r = h.cliSync(['install', '--prefix', '/nonexistent/brisk/project'])
    assert.equal(r.status, 1)
    assert.match(r.stderr, /brisk ERR! E_CONFIG .*\/nonexistent\/brisk\/project/)
  })
})

describe('brisk binary against a registry', () => {
  let reg
  before(async () => { reg = await startRegistry() })
  after(async () => { await reg.close() })
  beforeEach(() => reg.reset())

  function setup(t, manifest) {
    const p = h.project(manifest, { npmrc: `registry=${reg.url}\n` })
    t.after(() => p.cleanup())
    return p
  }
  const run = (p, args) => h.cli([...args, '--cache-dir', p.cache], { cwd: p.dir, env: p.env })

  test('install: exit 0, npm-like summary on stdout, nothing on stderr', T, async (t) => {
    const p = setup(t, scenarios['nested-conflicts'].manifest)
    const r = await run(p, ['install'])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /^added 11 packages \(8 downloaded, [\d.]+ (B|kB|MB)\) in \d+\.\d\ds\n/)
    // Then the direct dependencies, with the versions installed.
    assert.deepEqual(r.stdout.split('\n').slice(1, -1), [
      '+ @scope/pkg@1.1.0', '+ deep-a@1.0.0', '+ leaf@1.1.0', '+ leaf-two@2.1.0', '+ mid@1.0.0', '+ mid2@1.0.0', '+ uses-leaf1@1.0.0'
    ])
    assert.equal(r.stderr, '', 'no progress output when stderr is not a TTY')
    assert.deepEqual(h.installedTree(p.dir), scenarios['nested-conflicts'].npmTree)
    const again = await run(p, ['i'])
    assert.equal(again.status, 0, again.stderr)
    assert.match(again.stdout, /^up to date, 11 packages in \d+\.\d\ds\n$/)
  })

  test('npm ci --no-audit --no-fund habits: the same command line works with brisk', T, async (t) => {
    const p = setup(t, scenarios['nested-conflicts'].manifest)
    assert.equal((await run(p, ['install', '--no-audit', '--no-fund', '--loglevel=error'])).status, 0)
    fs.rmSync(p.file('node_modules'), { recursive: true })
    const r = await run(p, ['ci', '--no-audit', '--no-fund', '--no-progress', '--frozen-lockfile=true', '--loglevel', 'silent'])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, '', '--loglevel silent is --silent')
    assert.deepEqual(h.installedTree(p.dir), scenarios['nested-conflicts'].npmTree)
    const g = await run(p, ['i', '-g', 'leaf'])
    assert.equal(g.status, 1)
    assert.match(g.stderr, /^brisk ERR! E_UNSUPPORTED .*global installs are not supported/m)
  })

  test('run from a folder deep inside the project, it installs the project (npm walks up too)', T, async (t) => {
    const p = setup(t, scenarios['nested-conflicts'].manifest)
    const deep = p.file('src', 'deep')
    fs.mkdirSync(deep, { recursive: true })
    const r = await h.cli(['install', '--cache-dir', p.cache], { cwd: deep, env: p.env })
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(h.installedTree(p.dir), scenarios['nested-conflicts'].npmTree)
    assert.ok(p.exists('package-lock.json'))
    assert.equal(fs.existsSync(path.join(deep, 'node_modules')), false)
    assert.equal(fs.existsSync(path.join(deep, 'package-lock.json')), false)
  })

  test('warnings go to stderr, the scripts note to stdout', T, async (t) => {
    const p = setup(t, { dependencies: { 'has-native': '1.0.0', scripted: '1.0.0' } })
    const r = await run(p, ['install'])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stderr, /^brisk WARN .*native-gone/m)
    assert.match(r.stdout, /1 package has install scripts that were not run: scripted@1\.0\.0/)
    assert.match(r.stdout, /add "trustedDependencies": \["scripted"\] to package\.json or run with --allow-scripts/)
  })

  test('--json prints the result object and nothing else on stdout', T, async (t) => {
    const p = setup(t, { dependencies: { leaf: '^1.0.0', tool: '1.0.0' } })
    const r = await run(p, ['install', '--json'])
    assert.equal(r.status, 0, r.stderr)
    const result = JSON.parse(r.stdout)
    assert.equal(result.added, 2)
    assert.equal(result.packages, 2)
    assert.equal(result.lockfileWritten, true)
    assert.deepEqual(Object.keys(result.timings).sort(), ['fetchMs', 'linkMs', 'resolveMs', 'totalMs'])
  })

  test('failure: exit 1, brisk ERR! <code> <message> on stderr; --json error on stdout', T, async (t) => {
    const p = setup(t, { dependencies: { 'no-such-pkg': '^1.0.0' } })
    const r = await run(p, ['install'])
    assert.equal(r.status, 1)
    assert.match(r.stderr, /^brisk ERR! E_NOT_FOUND .*no-such-pkg/m)
    assert.equal(r.stdout, '')
    const j = await run(p, ['install', '--json'])
    assert.equal(j.status, 1)
    assert.equal(JSON.parse(j.stdout).error.code, 'E_NOT_FOUND')
  })

  test('--silent prints nothing on success; --timings prints the stages', T, async (t) => {
    const p = setup(t, { dependencies: { leaf: '^1.0.0' } })
    const s = await run(p, ['install', '--silent'])
    assert.equal(s.status, 0, s.stderr)
    assert.equal(s.stdout, '')
    assert.equal(s.stderr, '')
    const q = setup(t, { dependencies: { leaf: '^1.0.0' } })
    const r = await run(q, ['install', '--timings'])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /^timings: resolve \d+ms, fetch \d+ms, link \d+ms, total \d+ms$/m)
  })

  test('ci: installs from the lockfile into a clean node_modules; refuses a stale lockfile', T, async (t) => {
    const p = setup(t, { dependencies: { leaf: '^1.0.0', mid: '^1.0.0' } })
    assert.equal((await run(p, ['install', '--package-lock-only'])).status, 0)
    assert.ok(!p.exists('node_modules'))
    fs.mkdirSync(p.file('node_modules/junk'), { recursive: true })
    fs.writeFileSync(p.file('node_modules/junk/package.json'), '{"name":"junk","version":"1.0.0"}')
    reg.clearLog()
    const r = await run(p, ['ci'])
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(reg.requestsOf('packument'), [])
    assert.ok(!p.exists('node_modules/junk'))
    assert.deepEqual(Object.keys(h.installedTree(p.dir)).sort(), ['node_modules/leaf', 'node_modules/mid', 'node_modules/mid/node_modules/leaf'])

    const pkg = p.json('package.json')
    pkg.dependencies.tool = '1.0.0'
    fs.writeFileSync(p.file('package.json'), JSON.stringify(pkg))
    const before = h.snapshot(p.dir)
    const stale = await run(p, ['ci'])
    assert.equal(stale.status, 1)
    assert.match(stale.stderr, /^brisk ERR! E_FROZEN_LOCKFILE /m)
    assert.deepEqual(h.snapshot(p.dir), before)
  })

  test('--production and --omit', T, async (t) => {
    const s = scenarios['omit-dev']
    const p = setup(t, s.manifest)
    const r = await run(p, ['install', '--production'])
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(h.installedTree(p.dir), s.npmTree)
    const q = setup(t, s.manifest)
    const r2 = await run(q, ['install', '--omit=optional'])
    assert.equal(r2.status, 0, r2.stderr)
    assert.deepEqual(h.installedTree(q.dir), scenarios['omit-optional'].npmTree)
  })

  test('prefetch then link', T, async (t) => {
    const p = setup(t, scenarios['nested-conflicts'].manifest)
    assert.equal((await run(p, ['install', '--lockfile-only'])).status, 0)
    const noCache = await run(p, ['link'])
    assert.equal(noCache.status, 1)
    assert.match(noCache.stderr, /^brisk ERR! E_NOT_CACHED .*/m)
    assert.match(noCache.stderr, /prefetch/)
    const pre = await run(p, ['prefetch'])
    assert.equal(pre.status, 0, pre.stderr)
    assert.match(pre.stdout, /^prefetched/)
    assert.ok(!p.exists('node_modules'))
    const link = await run(p, ['link'])
    assert.equal(link.status, 0, link.stderr)
    assert.deepEqual(h.installedTree(p.dir), scenarios['nested-conflicts'].npmTree)
  })

  test('--prefix installs another directory; --registry overrides .npmrc', T, async (t) => {
    const p = h.project({ dependencies: { leaf: '^1.0.0' } }, { npmrc: 'registry=http://127.0.0.1:9/\n' })
    t.after(() => p.cleanup())
    const r = await h.cli(['install', '--prefix', p.dir, '--registry', reg.url, '--cache-dir', p.cache], { cwd: p.root, env: p.env })
    assert.equal(r.status, 0, r.stderr)
    assert.ok(p.exists('node_modules/leaf/package.json'))
    assert.ok(!fs.existsSync(path.join(p.root, 'node_modules')))
  })

  test('SIGINT cancels: exit 130, E_CANCELLED, no lockfile', T, async (t) => {
    reg.fault('slow', { on: 'tarball', hang: true })
    const p = setup(t, { dependencies: { slow: '1.0.0' } })
    const { spawn } = require('node:child_process')
    const child = spawn(process.execPath, [h.CLI, 'install', '--cache-dir', p.cache], { cwd: p.dir, env: p.env })
    let stderr = ''
    child.stderr.on('data', (d) => { stderr += d })
    const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)))
    const started = Date.now()
    while (!reg.requestsOf('tarball', 'slow').length && Date.now() - started < 20_000) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    child.kill('SIGINT')
    const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), 5000))])
    if (code === 'timeout') child.kill('SIGKILL')
    assert.equal(code, 130, stderr)
    assert.match(stderr, /brisk ERR! E_CANCELLED/)
    assert.ok(!p.exists('package-lock.json'))
  })
})
