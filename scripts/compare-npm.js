#!/usr/bin/env node
// Compare brisk with npm on one project: the lockfiles both resolve now (entry
// by entry, every field, and byte for byte) and, with --install, the
// node_modules trees `npm ci` and `brisk ci` build from npm's lockfile.
// Usage: node scripts/compare-npm.js <project-dir> [--install] [--keep]
// scripts/corpus.js runs the same comparison over a corpus of projects.
'use strict'
const { spawnSync } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const BRISK = path.join(__dirname, '..', 'bin', 'brisk.js')
// A hung registry request must not stall a whole corpus run.
const TIMEOUT_MS = 20 * 60 * 1000
// Each tool's own record of what it installed: not part of the tree users see.
const isToolFile = (rel) => rel === 'node_modules/.package-lock.json' || rel.startsWith('node_modules/.brisk-')

// Copies a project's manifests (package.json files, .npmrc, workspace folders),
// leaving out whatever an earlier install left there.
function copyProject (src, dst) {
  fs.cpSync(src, dst, {
    recursive: true,
    filter: (from) => !['node_modules', 'package-lock.json', '.git'].includes(path.basename(from))
  })
}

// Runs a command to completion, never throwing: a failure is a result to report.
function run (cmd, args, cwd) {
  const t0 = Date.now()
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: TIMEOUT_MS,
    env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' }
  })
  const ms = Date.now() - t0
  const code = r.error ? (r.error.code || 'error') : (r.status ?? r.signal)
  return { code, ms, stdout: r.stdout || '', stderr: r.stderr || '', error: r.error ? r.error.message : undefined }
}

const npmResolve = (dir) => run('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], dir)
const briskResolve = (dir) => run(process.execPath, [BRISK, 'install', '--lockfile-only'], dir)
const npmCi = (dir) => run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], dir)
const briskCi = (dir) => run(process.execPath, [BRISK, 'ci', '--ignore-scripts'], dir)

// `npm ls --all` with the project's own folder replaced, so two copies print alike.
function npmLs (dir) {
  const r = run('npm', ['ls', '--all'], dir)
  // npm names its debug log after the moment it ran: not a difference.
  const err = r.stderr.split(dir).join('<project>').split('\n').filter((l) => !/A complete log of this run can be found in/.test(l)).join('\n')
  return { code: r.code, out: r.stdout.split(dir).join('<project>'), err }
}

// A stable JSON text: key order must not make two equal values differ.
function canonical (v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`
  return JSON.stringify(v)
}

// Compares two package-lock.json files: every entry of `packages` (the root
// included), every field of each entry, the top-level fields and the bytes.
function compareLockfiles (npmFile, briskFile) {
  const aText = fs.readFileSync(npmFile, 'utf8')
  const bText = fs.readFileSync(briskFile, 'utf8')
  const a = JSON.parse(aText)
  const b = JSON.parse(bText)
  const diffs = []
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (k !== 'packages' && canonical(a[k]) !== canonical(b[k])) diffs.push({ loc: `(top-level ${k})`, fields: [{ field: k, npm: a[k], brisk: b[k] }] })
  }
  const ap = a.packages || {}
  const bp = b.packages || {}
  const aDup = duplicateEntries(aText)
  const bDup = duplicateEntries(bText)
  let identical = 0
  for (const loc of new Set([...Object.keys(ap), ...Object.keys(bp)])) {
    const x = ap[loc]
    const y = bp[loc]
    if (aDup.has(loc) || bDup.has(loc)) {
      diffs.push({ loc, fields: [{ field: '(times written)', npm: aDup.get(loc) || 1, brisk: bDup.get(loc) || 1 }] })
      continue
    }
    if (!x || !y) {
      diffs.push({ loc, only: x ? 'npm' : 'brisk', version: (x || y).version, entry: x || y })
      continue
    }
    const fields = []
    for (const f of new Set([...Object.keys(x), ...Object.keys(y)])) {
      if (canonical(x[f]) !== canonical(y[f])) fields.push({ field: f, npm: x[f], brisk: y[f] })
    }
    if (fields.length) diffs.push({ loc, fields })
    else if (loc !== '') identical++
  }
  // Entries mean installed packages, so the root entry "" is not counted.
  const count = (p) => Object.keys(p).filter((l) => l !== '').length
  return {
    npmEntries: count(ap),
    briskEntries: count(bp),
    identical,
    bytesIdentical: aText === bText,
    diffs
  }
}

// Locations written more than once in a lockfile's text: JSON.parse keeps only
// the last, so a duplicate would otherwise pass as one equal entry.
function duplicateEntries (text) {
  const seen = new Map()
  for (const m of text.matchAll(/^ {4}("(?:[^"\\]|\\.)*"): \{$/gm)) {
    const loc = JSON.parse(m[1])
    seen.set(loc, (seen.get(loc) || 0) + 1)
  }
  return new Map([...seen].filter(([, n]) => n > 1))
}

// Every file, folder and symlink under a project (its manifests and
// node_modules) by relative path: type, permission bits, link target, content hash.
function snapshotTree (root) {
  const out = new Map()
  const walk = (rel) => {
    for (const d of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name
      if (isToolFile(r)) continue
      const abs = path.join(root, r)
      const st = fs.lstatSync(abs)
      const mode = (st.mode & 0o777).toString(8)
      if (st.isSymbolicLink()) out.set(r, `link -> ${fs.readlinkSync(abs)}`)
      else if (st.isDirectory()) { out.set(r, `dir ${mode}`); walk(r) } else if (st.isFile()) out.set(r, `file ${mode} ${crypto.createHash('sha1').update(fs.readFileSync(abs)).digest('hex')}`)
      else out.set(r, `other ${mode}`)
    }
  }
  walk('')
  return out
}

// Compares the trees npm ci and brisk ci built; `total` is the union of paths.
function compareTrees (npmRoot, briskRoot) {
  const a = snapshotTree(npmRoot)
  const b = snapshotTree(briskRoot)
  const diffs = []
  let identical = 0
  for (const p of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(p) === b.get(p)) identical++
    else diffs.push({ path: p, npm: a.get(p) ?? '(none)', brisk: b.get(p) ?? '(none)' })
  }
  diffs.sort((x, y) => (x.path < y.path ? -1 : 1))
  return { total: identical + diffs.length, identical, diffs }
}

// One lockfile difference as a line a developer can act on.
function describeLockDiff (d) {
  if (d.only) return `${d.only === 'npm' ? '-' : '+'} ${d.loc}@${d.version} only in ${d.only}'s lockfile`
  const show = (v) => (v === undefined ? '(absent)' : JSON.stringify(v))
  return `~ ${d.loc}: ${d.fields.map((f) => `${f.field} npm=${show(f.npm)} brisk=${show(f.brisk)}`).join('; ')}`
}

// The whole comparison for one project, in fresh folders under `work`.
// Returns a plain object (it goes into the corpus's JSON results as is).
function compareProject (src, work, { install = true, log = () => {} } = {}) {
  const dirs = {}
  for (const name of ['npm', 'brisk', 'npm-ci', 'brisk-ci']) {
    dirs[name] = path.join(work, name)
    fs.rmSync(dirs[name], { recursive: true, force: true })
    copyProject(src, dirs[name])
  }
  const res = { work }
  // Both resolve back to back, so both see the registry as it is now.
  log('npm resolve')
  const n = npmResolve(dirs.npm)
  log('brisk resolve')
  const b = briskResolve(dirs.brisk)
  res.resolve = { npm: { code: n.code, ms: n.ms }, brisk: { code: b.code, ms: b.ms } }
  if (n.code !== 0) res.resolve.npm.error = tail(n.stderr || n.error)
  if (b.code !== 0) res.resolve.brisk.error = tail(b.stderr || b.error)
  const npmLock = path.join(dirs.npm, 'package-lock.json')
  const briskLock = path.join(dirs.brisk, 'package-lock.json')
  if (n.code === 0 && b.code === 0) res.lock = compareLockfiles(npmLock, briskLock)
  if (!install || n.code !== 0) return res
  // Both trees come from npm's lockfile, so only the installers differ.
  for (const d of ['npm-ci', 'brisk-ci']) fs.copyFileSync(npmLock, path.join(dirs[d], 'package-lock.json'))
  log('npm ci')
  const nc = npmCi(dirs['npm-ci'])
  log('brisk ci')
  const bc = briskCi(dirs['brisk-ci'])
  res.ci = { npm: { code: nc.code, ms: nc.ms }, brisk: { code: bc.code, ms: bc.ms } }
  if (nc.code !== 0) res.ci.npm.error = tail(nc.stderr || nc.error)
  if (bc.code !== 0) res.ci.brisk.error = tail(bc.stderr || bc.error)
  if (nc.code !== 0 || bc.code !== 0) return res
  log('compare trees')
  res.tree = compareTrees(dirs['npm-ci'], dirs['brisk-ci'])
  log('npm ls')
  const la = npmLs(dirs['npm-ci'])
  const lb = npmLs(dirs['brisk-ci'])
  res.ls = { npm: la.code, brisk: lb.code, same: la.out === lb.out && la.err === lb.err }
  if (!res.ls.same) res.ls.diff = lineDiff(la.out + la.err, lb.out + lb.err)
  return res
}

// An error output without its blank and usage lines, cut short: npm says why
// near the top (e.g. "npm ci can only install…") and then prints its usage.
function tail (text = '') {
  const lines = String(text).trim().split('\n').filter((l) => !/^npm error\s*$/.test(l))
  return lines.length > 12 ? [...lines.slice(0, 9), '…', ...lines.slice(-2)].join('\n') : lines.join('\n')
}

// Lines in one text and not the other (npm ls output is a tree, so a set difference shows what moved).
function lineDiff (a, b) {
  const as = new Set(a.split('\n'))
  const bs = new Set(b.split('\n'))
  return [...[...as].filter((l) => !bs.has(l)).map((l) => `- ${l}`), ...[...bs].filter((l) => !as.has(l)).map((l) => `+ ${l}`)]
}

module.exports = { copyProject, compareLockfiles, compareTrees, compareProject, describeLockDiff, npmLs }

if (require.main === module) {
  const args = process.argv.slice(2)
  const src = path.resolve(args.find((a) => !a.startsWith('--')) || '.')
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'brisk-compare-'))
  const res = compareProject(src, work, { install: args.includes('--install'), log: (s) => console.error(`.. ${s}`) })
  console.log(`resolve: npm ${res.resolve.npm.ms} ms (exit ${res.resolve.npm.code}), brisk ${res.resolve.brisk.ms} ms (exit ${res.resolve.brisk.code})`)
  for (const t of ['npm', 'brisk']) if (res.resolve[t].error) console.log(`${t} failed:\n${res.resolve[t].error}`)
  if (res.lock) {
    for (const d of res.lock.diffs) console.log(describeLockDiff(d))
    console.log(`${res.lock.npmEntries} npm entries, ${res.lock.briskEntries} brisk entries, ${res.lock.identical} identical, lockfile bytes ${res.lock.bytesIdentical ? 'identical' : 'differ'}`)
  }
  if (res.ci) console.log(`ci: npm exit ${res.ci.npm.code}, brisk exit ${res.ci.brisk.code}`)
  if (res.tree) {
    for (const d of res.tree.diffs.slice(0, 50)) console.log(`tree ${d.path}: npm=${d.npm} brisk=${d.brisk}`)
    console.log(`files: ${res.tree.identical} identical of ${res.tree.total}; npm ls exit npm tree ${res.ls.npm}, brisk tree ${res.ls.brisk}, output ${res.ls.same ? 'same' : 'differs'}`)
  }
  if (!args.includes('--keep')) fs.rmSync(work, { recursive: true, force: true })
  else console.log(`kept in ${work}`)
  process.exitCode = res.lock && res.lock.bytesIdentical && (!res.tree || !res.tree.diffs.length) ? 0 : 1
}
