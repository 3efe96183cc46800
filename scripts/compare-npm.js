#!/usr/bin/env node
// Compare brisk's lockfile with npm's for the same manifest, resolved now.
// Usage: node scripts/compare-npm.js <dir-with-package.json> [--keep]
// Prints the entries (location@version and flags) that differ.
'use strict'
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const src = path.resolve(process.argv[2] || '.')
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'brisk-compare-'))
const copy = (name) => {
  const dir = path.join(work, name)
  fs.mkdirSync(dir)
  for (const f of ['package.json', '.npmrc']) {
    if (fs.existsSync(path.join(src, f))) fs.copyFileSync(path.join(src, f), path.join(dir, f))
  }
  return dir
}
const npmDir = copy('npm')
const briskDir = copy('brisk')
const t0 = Date.now()
execFileSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: npmDir, stdio: 'inherit' })
const t1 = Date.now()
execFileSync(process.execPath, [path.join(__dirname, '..', 'bin', 'brisk.js'), 'install', '--lockfile-only'], { cwd: briskDir, stdio: 'inherit' })
const t2 = Date.now()
console.log(`npm: ${t1 - t0} ms, brisk: ${t2 - t1} ms`)

const load = (dir) => {
  const lock = JSON.parse(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'))
  const out = new Map()
  for (const [loc, e] of Object.entries(lock.packages)) {
    if (!loc) continue
    const flags = ['dev', 'optional', 'devOptional', 'peer'].filter((f) => e[f]).join(',')
    out.set(loc, `${e.name ? e.name + '@' : ''}${e.version}${flags ? ' [' + flags + ']' : ''}`)
  }
  return out
}
const a = load(npmDir)
const b = load(briskDir)
let diffs = 0
for (const [loc, v] of a) {
  if (b.get(loc) !== v) { diffs++; console.log(`- ${loc} npm=${v} brisk=${b.get(loc) ?? '(missing)'}`) }
}
for (const [loc, v] of b) {
  if (!a.has(loc)) { diffs++; console.log(`+ ${loc} brisk=${v} (npm has none)`) }
}
console.log(`${a.size} npm entries, ${b.size} brisk entries, ${diffs} differ`)
if (!process.argv.includes('--keep')) fs.rmSync(work, { recursive: true, force: true })
else console.log(`kept in ${work}`)
process.exitCode = diffs ? 1 : 0
