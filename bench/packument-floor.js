#!/usr/bin/env node
// The network floor for resolving: download every packument a lockfile
// names, N at a time, with Node's fetch, and nothing else.
//   node bench/packument-floor.js <package-lock.json> [concurrency=16] [registry]
'use strict'
const fs = require('node:fs')

const [lockPath, concArg, registryArg] = process.argv.slice(2)
if (!lockPath) {
  console.error('usage: node bench/packument-floor.js <package-lock.json> [concurrency] [registry]')
  process.exit(2)
}
const registry = (registryArg || 'https://registry.npmjs.org/').replace(/\/?$/, '/')
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'))
const names = [...new Set(Object.entries(lock.packages)
  .filter(([loc, e]) => loc.includes('node_modules/') && !e.link)
  .map(([loc, e]) => e.name || loc.slice(loc.lastIndexOf('node_modules/') + 'node_modules/'.length)))]
const concurrency = Number(concArg) || 16

;(async () => {
  const t0 = Date.now()
  let bytes = 0
  let next = 0
  async function worker () {
    while (next < names.length) {
      const name = names[next++]
      const res = await fetch(registry + name.replace('/', '%2f'), { headers: { accept: 'application/vnd.npm.install-v1+json' } })
      bytes += (await res.arrayBuffer()).byteLength
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  console.log(`${names.length} packuments, ${(bytes / 1e6).toFixed(0)} MB decoded, ${concurrency} at a time: ${((Date.now() - t0) / 1000).toFixed(2)} s`)
})()
