#!/usr/bin/env node
// The network floor for p0/p3: download every tarball a package-lock.json
// names, N at a time (default 48), with Node's fetch, discarding the bodies.
//   node bench/download-floor.js path/to/package-lock.json [concurrency]
'use strict'
const fs = require('node:fs')

const REGISTRY = 'https://registry.npmjs.org/'
const lock = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
const concurrency = Number(process.argv[3] || 48)
// npm's os/cpu rules: `!x` excludes, otherwise the value must be listed.
const allows = (list, v) => !list || (!list.includes('!' + v) && (list.every((x) => x.startsWith('!')) || list.includes(v)))
const here = (e) => allows(e.os, process.platform) && allows(e.cpu, process.arch)
const urls = new Set()
for (const [loc, e] of Object.entries(lock.packages)) {
  if (!loc || e.link || !here(e)) continue
  const name = e.name || loc.slice(loc.lastIndexOf('node_modules/') + 13)
  urls.add(e.resolved || `${REGISTRY}${name}/-/${name.split('/').pop()}-${e.version}.tgz`)
}
const queue = [...urls]
let bytes = 0
async function worker () {
  for (let u = queue.pop(); u; u = queue.pop()) {
    const res = await fetch(u)
    if (!res.ok) { await res.arrayBuffer(); continue }
    for await (const chunk of res.body) bytes += chunk.length
  }
}
const t0 = performance.now()
Promise.all(Array.from({ length: concurrency }, worker)).then(() => {
  const s = (performance.now() - t0) / 1000
  console.log(JSON.stringify({ tarballs: urls.size, bytes, seconds: +s.toFixed(2), mbPerSecond: +(bytes / 1e6 / s).toFixed(1) }))
})
