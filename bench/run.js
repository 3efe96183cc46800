#!/usr/bin/env node
// brisk against npm, pnpm, bun and utoo on the same projects, in one run,
// interleaved. See bench/README.md.
//
//   node bench/run.js [--projects ant-design,platform-and-peers,vite-react]
//                     [--tools brisk,npm,pnpm,bun,utoo,brisk-linked,brisk-gvs,npm-linked,bun-isolated]
//                     [--phases p0,p1,p3,p4,p5,p6,p7,p8]
//                     [--rounds 3] [--in-process] [--out bench/results.json]
//                     [--settle 361] [--min-free 25] [--no-floor]
//                     [--no-drop-caches] [--keep-page-reporting]
//                     [--base path/to/brisk.node]   (tool `base`: another brisk build)
'use strict'
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { parseArgs } = require('node:util')

const repo = path.resolve(__dirname, '..')
const { values: args } = parseArgs({
  options: {
    projects: { type: 'string', default: 'ant-design,platform-and-peers,vite-react' },
    tools: { type: 'string', default: 'brisk,npm,pnpm,bun,utoo' },
    phases: { type: 'string', default: 'p1,p0,p3,p4,p5' },
    rounds: { type: 'string', default: '3' },
    'in-process': { type: 'boolean', default: false },
    // Seconds to wait after deleting old trials before timing (see discard()).
    settle: { type: 'string', default: '361' },
    // GB of free disk below which old trials are deleted before a phase.
    'min-free': { type: 'string', default: '25' },
    // Also time plain parallel downloads of what brisk's lockfile names.
    'no-floor': { type: 'boolean', default: false },
    // Leave the kernel's caches alone between timed runs (see coldStart()).
    'no-drop-caches': { type: 'boolean', default: false },
    // Leave the VM's free page reporting on (see steadyMemory()).
    'keep-page-reporting': { type: 'boolean', default: false },
    // A baseline brisk build (a .node file), run as the tool `base` through
    // the same shim, to measure a change before and after in one run.
    base: { type: 'string' },
    out: { type: 'string', default: path.join(__dirname, 'results.json') },
    work: { type: 'string', default: path.join(os.tmpdir(), 'brisk-bench') },
  },
})
const REGISTRY = 'https://registry.npmjs.org/'
const projectDirs = {
  'ant-design': path.join(repo, '..', 'shared', 'fixtures', 'ant-design'),
  'platform-and-peers': path.join(repo, '..', 'shared', 'fixtures', 'platform-and-peers'),
  'vite-react': path.join(__dirname, 'projects', 'vite-react'),
}

// ---- peers, installed from the npm registry into an ignored folder ----
const toolsDir = path.join(__dirname, '.tools')
function ensurePeers () {
  const bin = (n) => path.join(toolsDir, 'node_modules', '.bin', n)
  if (!['pnpm', 'bun', 'utoo'].every((n) => fs.existsSync(bin(n)))) {
    fs.mkdirSync(toolsDir, { recursive: true })
    fs.writeFileSync(path.join(toolsDir, 'package.json'), '{"private":true}\n')
    run('npm', ['install', '--no-audit', '--no-fund', '--registry', REGISTRY, 'pnpm@latest', 'bun@latest', 'utoo@latest'], { cwd: toolsDir, stdio: 'inherit' })
  }
  return { pnpm: bin('pnpm'), bun: bin('bun'), utoo: bin('utoo') }
}

function run (cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts })
  if (r.status !== 0) {
    throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${(r.stderr || '').slice(-2000)}`)
  }
  return r
}

// ---- how each tool does each phase ----
// install(dir, cache) and resolve(dir, cache) return [cmd, argv, env].
function toolTable (peers) {
  const briskJs = path.join(repo, 'bin', 'brisk.js')
  // A tool run with more flags: its isolated (symlinked) layout.
  const variant = (spec, extra) => {
    const more = (f) => (...a) => { const [cmd, argv, env] = f(...a); return [cmd, [...argv, ...extra], env] }
    return { ...spec, install: more(spec.install), resolve: more(spec.resolve), add: more(spec.add), remove: more(spec.remove), bump: spec.bump && more(spec.bump) }
  }
  const table = {
    brisk: {
      lockfiles: ['package-lock.json'],
      warm: [process.execPath, ['-e', `require(${JSON.stringify(path.join(repo, 'brisk.js'))})`]],
      // Started as npx and node_modules/.bin start it (see bin/brisk.js).
      install: (c) => [briskJs, ['install', '--ignore-scripts', '--silent', '--cache-dir', c]],
      resolve: (c) => [briskJs, ['install', '--lockfile-only', '--silent', '--cache-dir', c]],
      add: (c, pkg) => [briskJs, ['add', pkg, '--ignore-scripts', '--silent', '--cache-dir', c]],
      remove: (c, name) => [briskJs, ['remove', name, '--ignore-scripts', '--silent', '--cache-dir', c]],
    },
    base: {
      lockfiles: ['package-lock.json'],
      warm: [process.execPath, ['-e', `require(${JSON.stringify(path.join(repo, 'brisk.js'))})`]],
      install: (c) => [briskJs, ['install', '--ignore-scripts', '--silent', '--cache-dir', c], { NAPI_RS_NATIVE_LIBRARY_PATH: args.base }],
      resolve: (c) => [briskJs, ['install', '--lockfile-only', '--silent', '--cache-dir', c], { NAPI_RS_NATIVE_LIBRARY_PATH: args.base }],
      add: (c, pkg) => [briskJs, ['add', pkg, '--ignore-scripts', '--silent', '--cache-dir', c], { NAPI_RS_NATIVE_LIBRARY_PATH: args.base }],
      remove: (c, name) => [briskJs, ['remove', name, '--ignore-scripts', '--silent', '--cache-dir', c], { NAPI_RS_NATIVE_LIBRARY_PATH: args.base }],
    },
    npm: {
      lockfiles: ['package-lock.json'],
      warm: ['npm', ['--version']],
      install: (c) => ['npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--silent', '--cache', c]],
      resolve: (c) => ['npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--silent', '--cache', c]],
      add: (c, pkg) => ['npm', ['install', pkg, '--ignore-scripts', '--no-audit', '--no-fund', '--silent', '--cache', c]],
      remove: (c, name) => ['npm', ['uninstall', name, '--ignore-scripts', '--no-audit', '--no-fund', '--silent', '--cache', c]],
    },
    pnpm: {
      lockfiles: ['pnpm-lock.yaml'],
      warm: [peers.pnpm, ['--version']],
      install: (c) => [peers.pnpm, ['install', '--ignore-scripts', '--silent', '--store-dir', path.join(c, 'store'), '--cache-dir', path.join(c, 'cache')]],
      resolve: (c) => [peers.pnpm, ['install', '--lockfile-only', '--ignore-scripts', '--silent', '--store-dir', path.join(c, 'store'), '--cache-dir', path.join(c, 'cache')]],
      add: (c, pkg) => [peers.pnpm, ['add', pkg, '--ignore-scripts', '--silent', '--store-dir', path.join(c, 'store'), '--cache-dir', path.join(c, 'cache')]],
      remove: (c, name) => [peers.pnpm, ['remove', name, '--ignore-scripts', '--silent', '--store-dir', path.join(c, 'store'), '--cache-dir', path.join(c, 'cache')]],
      // p8: pnpm keeps the lockfile frozen here unless told otherwise.
      bump: (c) => [peers.pnpm, ['install', '--no-frozen-lockfile', '--ignore-scripts', '--silent', '--store-dir', path.join(c, 'store'), '--cache-dir', path.join(c, 'cache')]],
    },
    bun: {
      lockfiles: ['bun.lock', 'bun.lockb'],
      warm: [peers.bun, ['--version']],
      install: (c) => [peers.bun, ['install', '--ignore-scripts', '--silent'], { BUN_INSTALL_CACHE_DIR: c }],
      resolve: (c) => [peers.bun, ['install', '--lockfile-only', '--ignore-scripts', '--silent'], { BUN_INSTALL_CACHE_DIR: c }],
      add: (c, pkg) => [peers.bun, ['add', pkg, '--ignore-scripts', '--silent'], { BUN_INSTALL_CACHE_DIR: c }],
      remove: (c, name) => [peers.bun, ['remove', name, '--ignore-scripts', '--silent'], { BUN_INSTALL_CACHE_DIR: c }],
    },
    utoo: {
      lockfiles: ['package-lock.json'],
      warm: [peers.utoo, ['--version']],
      install: (c) => [peers.utoo, ['install', '--ignore-scripts', '--quiet', '--registry', REGISTRY, '--cache-dir', c]],
      resolve: (c) => [peers.utoo, ['deps', '--quiet', '--registry', REGISTRY, '--cache-dir', c]],
      add: (c, pkg) => [peers.utoo, ['install', pkg, '--ignore-scripts', '--quiet', '--registry', REGISTRY, '--cache-dir', c]],
      remove: (c, name) => [peers.utoo, ['uninstall', name, '--quiet', '--registry', REGISTRY, '--cache-dir', c]],
    },
  }
  // Isolated layouts: npm's install-strategy=linked (brisk-linked), with
  // brisk's global virtual store (brisk-gvs: package folders shared through
  // the cache), bun's isolated linker. pnpm's default layout is isolated.
  table['brisk-linked'] = variant(table.brisk, ['--install-strategy=linked'])
  table['brisk-gvs'] = variant(table.brisk, ['--install-strategy=linked', '--global-virtual-store'])
  table['npm-linked'] = variant(table.npm, ['--install-strategy=linked'])
  table['bun-isolated'] = variant(table.bun, ['--linker', 'isolated'])
  return table
}

// ---- one measured command: wall, user, sys, peak RSS (GNU time) ----
function measure (dir, [cmd, argv, env]) {
  const stats = path.join(dir, '..', 'time.txt')
  const t0 = process.hrtime.bigint()
  const r = spawnSync('/usr/bin/time', ['-o', stats, '-f', '%U %S %M', cmd, ...argv], {
    cwd: dir, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, CI: 'true', ...env },
  })
  const wall = Number(process.hrtime.bigint() - t0) / 1e9
  const [user, sys, rssKb] = fs.readFileSync(stats, 'utf8').trim().split('\n').pop().split(' ').map(Number)
  return { ok: r.status === 0, wall, user, sys, rss: rssKb / 1024, err: r.status === 0 ? '' : (r.stderr || r.stdout || '').slice(-400) }
}

const rm = (p) => fs.rmSync(p, { recursive: true, force: true })

// Old trials are moved aside, not deleted, until the disk runs low. With no
// journal (as here), ext4's inode allocator skips inodes deleted within the
// last 60 s, or 360 s while their inode-table block is dirty, and it checks
// every candidate: right after a clean-up deleted a 150,000-file tree, a cold
// install spent a third of its CPU in recently_deleted() and find_inode_bit()
// (perf), and which tool it hit depended on where the allocator landed (bun
// p3 13-16 s, against 10.4 s in a run that happened to miss). A 61 s wait
// was not enough, because an install dirties the blocks it allocates from.
// So nothing is deleted between timed runs; when free space falls under
// --min-free GB, the trash is deleted, synced, and the run waits --settle
// seconds (past the 360 s) before timing anything.
const trash = path.join(args.work, 'trash')
const purgedAt = path.join(args.work, 'purged-at')
let trashed = 0
function discard (p) {
  if (!fs.existsSync(p)) return
  fs.mkdirSync(trash, { recursive: true })
  fs.renameSync(p, path.join(trash, `${process.pid}-${trashed++}`))
}
function purge () {
  if (!fs.existsSync(trash)) return
  rm(trash)
  run('sync', [])
  fs.writeFileSync(purgedAt, String(Date.now()))
}
// Called before each phase's timed runs: room on disk, nothing recently
// deleted, dirty pages of the set-up written back.
function settle () {
  const { bavail, bsize } = fs.statfsSync(args.work)
  if ((bavail * bsize) / 2 ** 30 < Number(args['min-free'])) purge()
  const since = fs.existsSync(purgedAt) ? (Date.now() - Number(fs.readFileSync(purgedAt, 'utf8'))) / 1000 : Infinity
  const wait = Number(args.settle) - since
  if (wait > 0) spawnSync('sleep', [String(Math.ceil(wait))])
  run('sync', [])
}

function prepare (phase, project, tool, spec, dir, cache) {
  const src = projectDirs[project]
  switch (phase) {
    case 'p0': case 'p1':
      discard(dir); discard(cache)
      fs.mkdirSync(dir, { recursive: true })
      for (const f of ['package.json', '.npmrc']) {
        if (fs.existsSync(path.join(src, f))) fs.copyFileSync(path.join(src, f), path.join(dir, f))
      }
      break
    case 'p3': discard(cache); discard(path.join(dir, 'node_modules')); break
    case 'p4': discard(path.join(dir, 'node_modules')); break
    case 'p5': break
  }
  if (['p3', 'p4', 'p5', 'p6', 'p7', 'p8'].includes(phase) && !spec.lockfiles.some((f) => fs.existsSync(path.join(dir, f)))) {
    return `${tool} has no lockfile in ${dir} for ${phase} (an earlier phase failed)`
  }
  // p6 adds EVERYDAY to an installed project without it, p7 removes it
  // again: each starts from the state the other (or p5) leaves, made so
  // untimed with the tool's own command when a phase ran alone.
  if (phase === 'p6' || phase === 'p7') {
    const has = fs.existsSync(path.join(dir, 'node_modules', EVERYDAY_NAME))
    const setUp = phase === 'p6'
      ? (has ? spec.remove(cache, EVERYDAY_NAME) : spec.install(cache))
      : (has ? spec.install(cache) : spec.add(cache, EVERYDAY))
    const m = measure(dir, setUp)
    if (!m.ok) return `${tool} could not set up ${phase}: ${m.err}`
  }
  // p8 bumps a handful of locked versions: the installed project (its
  // package.json as the fixture has it, set up untimed), then the same
  // package.json edit for every tool (BUMPS direct dependencies moved to
  // an older release, as a `git pull` might), then the tool's install.
  if (phase === 'p8') {
    fs.copyFileSync(path.join(src, 'package.json'), path.join(dir, 'package.json'))
    const m = measure(dir, spec.install(cache))
    if (!m.ok) return `${tool} could not set up ${phase}: ${m.err}`
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
    for (const [section, name, version] of bumps(project, src)) pkg[section][name] = version
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n')
  }
  return null
}

// p8's edit, the same for every tool: the first BUMPS direct dependencies
// (by name) whose range is `^x.y.z`, each pinned to the newest release
// below x.y.z (asked of the registry once per run).
const BUMPS = 5
const bumpsOf = {}
function bumps (project, src) {
  if (bumpsOf[project]) return bumpsOf[project]
  const pkg = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8'))
  const out = []
  const deps = ['dependencies', 'devDependencies'].flatMap((section) => Object.entries(pkg[section] || {}).map(([n, r]) => [section, n, r]))
  deps.sort((a, b) => a[1].localeCompare(b[1]))
  for (const [section, name, range] of deps) {
    if (out.length === BUMPS) break
    const m = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range)
    if (!m) continue
    const floor = m.slice(1).map(Number)
    const r = spawnSync('npm', ['view', name, 'versions', '--json', '--registry', REGISTRY], { encoding: 'utf8' })
    if (r.status !== 0) continue
    const below = [].concat(JSON.parse(r.stdout)).filter((v) => /^\d+\.\d+\.\d+$/.test(v)).filter((v) => {
      const p = v.split('.').map(Number)
      return p[0] < floor[0] || (p[0] === floor[0] && (p[1] < floor[1] || (p[1] === floor[1] && p[2] < floor[2])))
    })
    const key = (v) => v.split('.').map(Number)
    below.sort((a, b) => key(a)[0] - key(b)[0] || key(a)[1] - key(b)[1] || key(a)[2] - key(b)[2])
    if (below.length) out.push([section, name, below[below.length - 1]])
  }
  console.log(`p8 bumps (${project}): ${out.map(([, n, v]) => `${n}@${v}`).join(', ')}`)
  return (bumpsOf[project] = out)
}

// The package p6 adds and p7 removes: small, with one dependency.
const EVERYDAY = 'is-odd@3.0.1'
const EVERYDAY_NAME = 'is-odd'

// Before each timed run: the same kernel caches for every tool. Each
// trial leaves ~150,000 inodes and dentries cached (nothing is deleted, see
// discard()), and a tool timed after several trials paid for it: brisk p3's
// sys time grew from 8.5 s to 12.9 s over six back-to-back trials, and held
// at 7.7-8.7 s with the caches dropped before each. So (as root) the caches
// are dropped, then the tool's code is loaded once untimed (its version, or
// brisk's addon) and, for the warm phases, its cache and the project are
// read back in (every inode, and every file under 1 MB: indexes, metadata,
// lockfiles, package.json). `-size -1024k`, not `-1M`: find rounds sizes up
// to whole units, so `-1M` matches only empty files.
const canDrop = !args['no-drop-caches'] && (() => {
  try { fs.accessSync('/proc/sys/vm/drop_caches', fs.constants.W_OK); return true } catch { return false }
})()
function dropCaches () {
  run('sync', [])
  fs.writeFileSync('/proc/sys/vm/drop_caches', '3\n')
}
function coldStart (phase, spec, dir, cache) {
  if (!canDrop) return
  dropCaches()
  const [cmd, argv] = spec.warm
  run(cmd, argv, { cwd: dir })
  if (['p4', 'p5', 'p6', 'p7', 'p8'].includes(phase)) {
    spawnSync('sh', ['-c', 'find "$0" "$1" -type f -size -1024k -exec cat {} + >/dev/null', cache, dir], { stdio: 'ignore' })
  }
}

// On a VM with free page reporting (virtio-balloon), memory the guest frees
// is handed back to the host, and the next touch of each page faults it in
// from the host again. Dropping the caches before each trial frees gigabytes,
// so a trial's system time depended on how much of that the host had taken
// back when it started: brisk's p0 took 7.4-8.7 s of system time as the
// first trial after the bench's start-up wait and 3.3-3.9 s otherwise, and
// bun's 8.5 s when it went first. Touching 4 GB took 7.4-8.5 s of system
// time with reporting on and 1.7 s with it off and the pages backed. So (as
// root, where the kernel has it) reporting is turned off for the run
// (page_reporting_order above the largest order reports nothing), the free
// memory is touched once so the host backs it, and the setting is restored
// on exit. Every tool then starts on memory the guest already has.
const reporting = '/sys/module/page_reporting/parameters/page_reporting_order'
function steadyMemory () {
  if (args['keep-page-reporting'] || !canDrop) return 'not changed'
  let before
  try { before = fs.readFileSync(reporting, 'utf8').trim(); fs.writeFileSync(reporting, '11\n') } catch { return 'no page reporting' }
  const restore = () => { try { fs.writeFileSync(reporting, `${before}\n`) } catch {} }
  process.on('exit', restore)
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { restore(); process.exit(130) })
  dropCaches()
  const free = Number(/MemFree:\s+(\d+)/.exec(fs.readFileSync('/proc/meminfo', 'utf8'))[1]) / 2 ** 20
  const gib = Math.max(0, Math.floor(free) - 2)
  run(process.execPath, ['-e', `const k = []; for (let i = 0; i < ${gib}; i++) k.push(Buffer.alloc(2 ** 30, 1))`])
  return `free page reporting off (order ${before} -> 11), ${gib} GiB touched`
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }

// The physical floor beside p4: hardlink an installed tree with `cp -al`.
function cpFloor (dir) {
  const ref = path.join(dir, '..', 'floor-ref')
  const out = path.join(dir, '..', 'floor-out')
  discard(ref); discard(out)
  run('cp', ['-a', path.join(dir, 'node_modules'), ref])
  settle()
  if (canDrop) { // the same warm state as p4: inodes and directories in memory
    dropCaches()
    spawnSync('du', ['-s', ref], { stdio: 'ignore' })
  }
  const t0 = process.hrtime.bigint()
  run('cp', ['-al', ref, out])
  const wall = Number(process.hrtime.bigint() - t0) / 1e9
  discard(ref); discard(out)
  return wall
}

// brisk's own API in-process: no node start-up in the number.
function inProcess (dir, cache, phase, spec) {
  const script = `
    const brisk = require(${JSON.stringify(path.join(repo, 'brisk.js'))})
    const t0 = process.hrtime.bigint()
    brisk.install({ cwd: process.cwd(), cacheDir: ${JSON.stringify(cache)}, ignoreScripts: true })
      .then(() => console.log(Number(process.hrtime.bigint() - t0) / 1e6))`
  if (phase === 'p4') { discard(path.join(dir, 'node_modules')); settle() }
  coldStart(phase, spec, dir, cache)
  return Number(run(process.execPath, ['-e', script], { cwd: dir }).stdout.trim())
}

// The network floor beside p1 (every packument brisk's lockfile names) and
// p3 (every tarball), p0 both: plain Node fetch, 16 at a time, nothing kept.
function floorCommand (phase, lock) {
  const packuments = `${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(__dirname, 'packument-floor.js'))} ${JSON.stringify(lock)} 16`
  const tarballs = `${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(__dirname, 'download-floor.js'))} ${JSON.stringify(lock)} 16`
  const sh = { p1: packuments, p3: tarballs, p0: `${packuments} && ${tarballs}` }[phase]
  return sh && ['sh', ['-c', sh]]
}

const results = {} // project → phase → tool → [samples]
function record (project, round, phase, tool, m) {
  ;(results[project][phase][tool] ??= []).push({ ...m, round })
  console.error(`[${project} r${round} ${phase}] ${tool.padEnd(5)} ${m.ok ? '' : 'FAILED '}${m.wall.toFixed(2)}s user ${m.user}s sys ${m.sys}s rss ${m.rss.toFixed(0)}MB${m.ok ? '' : '\n' + m.err}`)
}

function main () {
  const tools = args.tools.split(',')
  if (tools.includes('base') && !args.base) throw new Error('--tools base needs --base <path to a brisk .node build>')
  const phases = args.phases.split(',')
  const rounds = Number(args.rounds)
  const peers = ensurePeers()
  const table = toolTable(peers)
  purge() // an aborted run's trash
  const memory = steadyMemory()
  console.error(`memory: ${memory}`)
  const floors = {}
  const inproc = {}
  for (const project of args.projects.split(',')) {
    results[project] = {}
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? [...tools].reverse() : tools
      for (const phase of phases) {
        results[project][phase] ??= {}
        const where = (tool) => {
          const base = path.join(args.work, project, tool)
          return { dir: path.join(base, 'project'), cache: path.join(base, 'cache') }
        }
        const unready = {}
        for (const tool of order) {
          const { dir, cache } = where(tool)
          unready[tool] = prepare(phase, project, tool, table[tool], dir, cache)
        }
        settle()
        for (const tool of order) {
          const { dir, cache } = where(tool)
          const spec = table[tool]
          if (unready[tool]) {
            record(project, r, phase, tool, { ok: false, wall: NaN, user: NaN, sys: NaN, rss: NaN, err: unready[tool] })
            continue
          }
          coldStart(phase, spec, dir, cache)
          const command = { p1: spec.resolve(cache), p6: spec.add(cache, EVERYDAY), p7: spec.remove(cache, EVERYDAY_NAME), p8: (spec.bump ?? spec.install)(cache) }[phase] ?? spec.install(cache)
          const m = measure(dir, command)
          record(project, r, phase, tool, m)
        }
        const lock = path.join(where('brisk').dir, 'package-lock.json')
        const floor = floorCommand(phase, lock)
        if (!args['no-floor'] && floor && fs.existsSync(lock)) {
          record(project, r, phase, 'floor', measure(path.dirname(lock), floor))
        }
      }
      if (tools.includes('brisk') && phases.includes('p5') && fs.existsSync(path.join(args.work, project, 'brisk', 'project', 'node_modules'))) {
        const base = path.join(args.work, project, 'brisk')
        // In-process first, in the state the round's CLI trials ran in,
        // not after the floor's set-up writes a full copy of node_modules
        // (`cp -a`).
        if (args['in-process']) {
          const ip = (inproc[project] ??= { p5: [], p4: [] })
          ip.p5.push(inProcess(path.join(base, 'project'), path.join(base, 'cache'), 'p5', table.brisk))
          ip.p4.push(inProcess(path.join(base, 'project'), path.join(base, 'cache'), 'p4', table.brisk))
        }
        ;(floors[project] ??= []).push(cpFloor(path.join(base, 'project')))
      }
    }
  }
  const versions = toolVersions(tools, table)
  fs.writeFileSync(args.out, JSON.stringify({ date: new Date().toISOString(), machine: machine(), memory, versions, results, floors, inproc }, null, 2))
  purge()
  console.log(`Memory: ${memory}`)
  console.log(`Versions: ${Object.entries(versions).map(([t, v]) => `${t} ${v}`).join(', ')}`)
  console.log(report(results, floors, inproc))
}

// Each tool's version (brisk's: its package.json and commit), so runs on
// different days can tell a peer's release from a change of brisk's.
function toolVersions (tools, table) {
  const out = {}
  for (const tool of tools) {
    if (tool === 'base') {
      out.base = `brisk build ${args.base}`
      continue
    }
    if (tool.startsWith('brisk')) {
      const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).stdout.trim()
      out[tool] = `${require(path.join(repo, 'package.json')).version} (${commit || 'no git'})`
      continue
    }
    const [cmd] = table[tool].warm
    const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' })
    out[tool] = r.status === 0 ? r.stdout.trim().split('\n')[0] : 'unknown'
  }
  return out
}

function machine () {
  return `${os.cpus().length} × ${os.cpus()[0].model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, node ${process.version}`
}

// The ratio within each round, where both ran: the two ran minutes apart
// in the same state of the machine, which medians over rounds mix.
function byRound (mine, theirs) {
  const ratios = mine.filter((m) => m.ok).flatMap((m) => {
    const t = theirs.find((x) => x.ok && x.round === m.round)
    return t ? [(m.wall / t.wall).toFixed(2)] : []
  })
  return ratios.length > 1 ? `; by round ${ratios.join(', ')}` : ''
}

function report (results, floors, inproc) {
  const lines = []
  for (const [project, phases] of Object.entries(results)) {
    lines.push(`\n### ${project}\n`)
    lines.push('| phase | tool | wall median (min–max) s | user s | sys s | peak RSS MB | brisk / best peer |')
    lines.push('| --- | --- | --- | --- | --- | --- | --- |')
    for (const [phase, tools] of Object.entries(phases)) {
      const med = {}
      for (const [tool, ms] of Object.entries(tools)) {
        const ok = ms.filter((m) => m.ok)
        if (!ok.length) { lines.push(`| ${phase} | ${tool} | failed | | | | |`); continue }
        med[tool] = median(ok.map((m) => m.wall))
        const w = ok.map((m) => m.wall)
        lines.push(`| ${phase} | ${tool} | ${med[tool].toFixed(2)} (${Math.min(...w).toFixed(2)}–${Math.max(...w).toFixed(2)}) | ${median(ok.map((m) => m.user)).toFixed(2)} | ${median(ok.map((m) => m.sys)).toFixed(2)} | ${median(ok.map((m) => m.rss)).toFixed(0)} | |`)
      }
      const peers = Object.entries(med).filter(([t]) => t !== 'brisk' && t !== 'floor')
      if (med.brisk && peers.length) {
        const [bestTool, best] = peers.sort((a, b) => a[1] - b[1])[0]
        lines.push(`| ${phase} | **ratio** | brisk ${med.brisk.toFixed(2)} / ${bestTool} ${best.toFixed(2)}${byRound(tools.brisk, tools[bestTool])} | | | | **${(med.brisk / best).toFixed(2)}** |`)
      }
    }
    if (floors[project]) lines.push(`\n\`cp -al\` floor for p4: median ${median(floors[project]).toFixed(2)} s`)
    if (inproc[project]) lines.push(`In-process \`require('brisk-pm').install\`: p5 median ${median(inproc[project].p5).toFixed(1)} ms, p4 median ${median(inproc[project].p4).toFixed(0)} ms`)
  }
  return lines.join('\n')
}

main()
