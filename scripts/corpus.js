#!/usr/bin/env node
// Run scripts/compare-npm.js's comparison over a corpus of real projects and
// print one table: lockfile entries, byte identity, installed files, npm ls.
// Usage: node scripts/corpus.js [--corpus <dir>]... [--only a,b] [--skip a,b]
//        [--lockfile-only] [--details <n>] [--keep] [--json <file>]
//        node scripts/corpus.js --report <results.json>   (print a saved run again)
// A project is a folder with a package.json (plus .npmrc and workspace folders)
// directly inside a corpus folder. Network and minutes: never part of npm test.
'use strict'
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { compareProject, describeLockDiff } = require('./compare-npm.js')

const repo = path.join(__dirname, '..')
// Other projects' manifests are data kept in shared/ beside the repo, not in the repo itself.
const DEFAULT_CORPORA = [path.join(repo, '..', 'shared', 'fixtures'), path.join(repo, '..', 'shared', 'corpus'), path.join(repo, 'bench', 'corpus')]

function parseArgs (argv) {
  const opts = { corpora: [], only: null, skip: [], install: true, details: 15, keep: false, json: path.join(repo, 'bench', 'corpus-results.json') }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const val = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i] }
    if (a === '--corpus') opts.corpora.push(path.resolve(val()))
    else if (a === '--only') opts.only = val().split(',')
    else if (a === '--skip') opts.skip = val().split(',')
    else if (a === '--lockfile-only') opts.install = false
    else if (a === '--details') opts.details = Number(val())
    else if (a === '--keep') opts.keep = true
    else if (a === '--json') opts.json = path.resolve(val())
    else if (a === '--report') opts.report = path.resolve(val())
    else throw new Error(`unknown argument ${a}`)
  }
  if (!opts.corpora.length) opts.corpora = DEFAULT_CORPORA.filter((d) => fs.existsSync(d))
  return opts
}

// Every project folder of the corpora, by name; the first corpus to have a name wins.
function findProjects (corpora) {
  const found = new Map()
  for (const dir of corpora) {
    for (const name of fs.readdirSync(dir).sort()) {
      if (!found.has(name) && fs.existsSync(path.join(dir, name, 'package.json'))) found.set(name, path.join(dir, name))
    }
  }
  return found
}

const secs = (ms) => (ms === undefined ? '-' : (ms / 1000).toFixed(1))

// One table row; a project that failed says where in the row instead of crashing the run.
function row (name, r) {
  if (r.crash) return [name, `crash: ${r.crash.split('\n')[0]}`, '', '', '', '', '', '', '']
  const res = r.resolve
  const resolveCell = `${secs(res.npm.ms)} / ${secs(res.brisk.ms)}`
  if (res.npm.code !== 0 || res.brisk.code !== 0) {
    const who = [res.npm.code !== 0 && `npm exit ${res.npm.code}`, res.brisk.code !== 0 && `brisk exit ${res.brisk.code}`].filter(Boolean).join(', ')
    return [name, `resolve failed (${who})`, '', '', '', '', '', '', resolveCell]
  }
  const l = r.lock
  let files = '-'
  let ls = '-'
  let lsSame = '-'
  if (r.ci && (r.ci.npm.code !== 0 || r.ci.brisk.code !== 0)) files = `ci failed (npm ${r.ci.npm.code}, brisk ${r.ci.brisk.code})`
  if (r.tree) {
    files = `${r.tree.identical} / ${r.tree.total}`
    ls = `${r.ls.npm} / ${r.ls.brisk}`
    lsSame = r.ls.same ? 'yes' : 'no'
  }
  return [name, l.npmEntries, l.briskEntries, l.identical, l.bytesIdentical ? 'yes' : 'no', files, ls, lsSame, resolveCell]
}

const HEAD = ['project', 'npm entries', 'brisk entries', 'identical entries', 'lockfile bytes identical', 'files identical / total', 'npm ls exit (npm / brisk tree)', 'npm ls output same', 'resolve s (npm / brisk)']

function markdownTable (rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`
  return [line(HEAD), line(HEAD.map(() => '---')), ...rows.map(line)].join('\n')
}

// What a developer needs to find each difference's cause: the first n of each kind.
function details (name, r, n) {
  const out = []
  const more = (list) => (list.length > n ? [`  … and ${list.length - n} more`] : [])
  for (const t of ['npm', 'brisk']) {
    if (r.resolve && r.resolve[t].error) out.push(`  ${t} resolve failed:`, ...indent(r.resolve[t].error))
    if (r.ci && r.ci[t].error) out.push(`  ${t} ci failed:`, ...indent(r.ci[t].error))
  }
  if (r.crash) out.push(...indent(r.crash))
  if (r.lock && r.lock.diffs.length) out.push(`  lockfile (${r.lock.diffs.length} entries differ):`, ...r.lock.diffs.slice(0, n).map((d) => `    ${describeLockDiff(d)}`), ...more(r.lock.diffs))
  if (r.tree && r.tree.diffs.length) out.push(`  node_modules (${r.tree.diffs.length} paths differ):`, ...r.tree.diffs.slice(0, n).map((d) => `    ${d.path}: npm=${d.npm} brisk=${d.brisk}`), ...more(r.tree.diffs))
  if (r.ls && !r.ls.same) out.push('  npm ls output (- npm tree, + brisk tree):', ...r.ls.diff.slice(0, n).map((l) => `    ${l}`), ...more(r.ls.diff))
  return out.length ? [`### ${name}`, ...out] : []
}
const indent = (text) => String(text).split('\n').map((l) => `    ${l}`)

function main () {
  const opts = parseArgs(process.argv.slice(2))
  if (opts.report) return report(JSON.parse(fs.readFileSync(opts.report, 'utf8')), opts.details)
  let projects = findProjects(opts.corpora)
  if (opts.only) {
    const missing = opts.only.filter((n) => !projects.has(n))
    if (missing.length) throw new Error(`not in the corpus: ${missing.join(', ')}`)
    // In the order given, so a long project can go last.
    projects = new Map(opts.only.map((n) => [n, projects.get(n)]))
  }
  projects = new Map([...projects].filter(([n]) => !opts.skip.includes(n)))
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'brisk-corpus-'))
  const commit = (() => { try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim() } catch { return 'unknown' } })()
  const npmVersion = execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim()
  const results = { date: new Date().toISOString(), brisk: commit, npm: npmVersion, node: process.version, projects: {} }
  for (const [name, src] of projects) {
    const work = path.join(root, name)
    const t0 = Date.now()
    let r
    try {
      r = compareProject(src, work, { install: opts.install, log: (s) => process.stderr.write(`[${name}] ${s} (${secs(Date.now() - t0)} s)\n`) })
    } catch (err) {
      r = { crash: err.stack || String(err) }
    }
    r.source = path.relative(repo, src)
    results.projects[name] = r
    if (!opts.keep) fs.rmSync(work, { recursive: true, force: true })
    // Written after each project, so an interrupted run still leaves its results.
    fs.writeFileSync(opts.json, JSON.stringify(results, null, 2) + '\n')
  }
  report(results, opts.details)
  console.log(`results: ${opts.json}${opts.keep ? `; project copies kept in ${root}` : ''}`)
  if (!opts.keep) fs.rmSync(root, { recursive: true, force: true })
}

// The table and the details of a run's results (also of a saved results file, with --report).
function report (results, n) {
  const names = Object.keys(results.projects)
  console.log(`brisk ${results.brisk}, npm ${results.npm}, node ${results.node}, ${results.date}\n`)
  console.log(markdownTable(names.map((name) => row(name, results.projects[name]))))
  console.log('\n## Details\n')
  for (const name of names) {
    const d = details(name, results.projects[name], n)
    if (d.length) console.log(d.join('\n') + '\n')
  }
}

main()
