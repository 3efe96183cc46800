#!/usr/bin/env node
'use strict'
// Replays the file system work of an install, without the install, to
// measure what the kernel charges for it (bench/README: "A
// content-addressed store, measured" and "The kernel floor of a warm link").
//
//   node bench/replay.js store <cache-dir> <out-dir> [pkg|cas|trusted ...]
//     Reads every package file of a brisk cache into memory (untimed), then
//     writes them all under <out-dir>/<n>-<layout>, one thread, and reports
//     the system time of each layout in the order given:
//       pkg      as brisk's store does: each package's folders and files;
//       cas      content-addressed: 256 bucket folders made beforehand, one
//                file per distinct content (and mode), named by its hash;
//                a second copy is found by O_EXCL failing and read back to
//                check it;
//       trusted  content-addressed, a second copy not read back.
//     Hashes are computed before the timer starts: the store's best case.
//
//   node bench/replay.js link <node_modules> <out-dir>
//     Makes exactly <node_modules>' folders and hard links to its files
//     under <out-dir>, one thread, and reports the system time.
//
// Nothing is deleted: run it on a quiet file system (ext4 makes inode
// allocation slow for minutes after a big delete) and remove <out-dir>
// yourself afterwards. On a VM that reports free pages to its host, turn
// that off first as bench/run.js does (steadyMemory): with it on, the same
// writes cost four times the system time, most of it faulting memory back.

const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')

function timed (label, fn) {
  const before = process.resourceUsage()
  const t0 = process.hrtime.bigint()
  fn()
  const wall = Number(process.hrtime.bigint() - t0) / 1e9
  const after = process.resourceUsage()
  const sys = (after.systemCPUTime - before.systemCPUTime) / 1e6
  const user = (after.userCPUTime - before.userCPUTime) / 1e6
  console.log(`${label}: wall ${wall.toFixed(2)} s, system ${sys.toFixed(2)} s, user ${user.toFixed(2)} s`)
}

// Every regular file and folder under `root`, folders parents first.
function walk (root) {
  const dirs = ['']
  const files = []
  for (let i = 0; i < dirs.length; i++) {
    for (const e of fs.readdirSync(path.join(root, dirs[i]), { withFileTypes: true })) {
      const rel = path.join(dirs[i], e.name)
      if (e.isDirectory()) dirs.push(rel)
      else if (e.isFile()) files.push(rel)
    }
  }
  return { dirs, files }
}

// brisk's cache: store/v2/<algo>/<2 hex>/<rest>/pkg/...
function packages (cache) {
  const v1 = path.join(cache, 'store', 'v1')
  const out = []
  for (const algo of fs.readdirSync(v1)) {
    for (const a of fs.readdirSync(path.join(v1, algo))) {
      for (const b of fs.readdirSync(path.join(v1, algo, a))) {
        const dir = path.join(v1, algo, a, b, 'pkg')
        if (!fs.existsSync(dir)) continue
        const { dirs, files } = walk(dir)
        out.push({
          dirs,
          files: files.map((rel) => {
            const data = fs.readFileSync(path.join(dir, rel))
            const mode = fs.statSync(path.join(dir, rel)).mode & 0o777
            const hash = crypto.createHash('sha1').update(data).digest('hex') + (mode & 0o111 ? 'x' : '')
            return { rel, data, mode, hash }
          })
        })
      }
    }
  }
  return out
}

function writeFile (file, data, mode) {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, mode)
  fs.writeSync(fd, data)
  fs.closeSync(fd)
}

const LAYOUTS = ['pkg', 'cas', 'trusted']

function store (cache, out, layouts) {
  const unknown = layouts.find((l) => !LAYOUTS.includes(l))
  if (unknown) throw new Error(`unknown layout ${unknown} (not one of ${LAYOUTS.join(', ')})`)
  const pkgs = packages(cache)
  const files = pkgs.reduce((n, p) => n + p.files.length, 0)
  const distinct = new Set(pkgs.flatMap((p) => p.files.map((f) => f.hash))).size
  console.log(`${pkgs.length} packages, ${files} files, ${distinct} distinct contents`)
  layouts.forEach((layout, n) => {
    const dest = path.join(out, `${n}-${layout}`)
    fs.mkdirSync(dest, { recursive: true })
    if (layout === 'pkg') {
      timed(layout, () => pkgs.forEach((p, i) => {
        const base = path.join(dest, String(i))
        for (const d of p.dirs) fs.mkdirSync(path.join(base, d))
        for (const f of p.files) writeFile(path.join(base, f.rel), f.data, f.mode)
      }))
      return
    }
    for (let b = 0; b < 256; b++) fs.mkdirSync(path.join(dest, b.toString(16).padStart(2, '0')))
    timed(layout, () => {
      for (const p of pkgs) {
        for (const f of p.files) {
          const file = path.join(dest, f.hash.slice(0, 2), f.hash.slice(2))
          try {
            writeFile(file, f.data, f.mode)
          } catch (err) {
            if (err.code !== 'EEXIST') throw err
            if (layout === 'cas' && !fs.readFileSync(file).equals(f.data)) throw new Error(`hash collision at ${file}`)
          }
        }
      }
    })
  })
}

function link (nodeModules, out) {
  const { dirs, files } = walk(nodeModules)
  console.log(`${dirs.length} folders, ${files.length} files`)
  const dest = path.join(out, 'link')
  fs.mkdirSync(out, { recursive: true })
  timed('link', () => {
    for (const d of dirs) fs.mkdirSync(path.join(dest, d))
    for (const f of files) fs.linkSync(path.join(nodeModules, f), path.join(dest, f))
  })
}

const [mode, src, out, ...rest] = process.argv.slice(2)
if (mode === 'store' && src && out) store(src, out, rest.length ? rest : LAYOUTS)
else if (mode === 'link' && src && out) link(src, out)
else {
  console.error('usage: node bench/replay.js store <cache-dir> <out-dir> [pkg|cas|trusted ...]\n       node bench/replay.js link <node_modules> <out-dir>')
  process.exit(2)
}
