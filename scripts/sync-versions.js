#!/usr/bin/env node
'use strict'
// Keeps the release in step: package.json's version, each npm/<platform>
// package's version and the root's optionalDependencies on them.
//
//   node scripts/sync-versions.js          # write (npm version runs it, after `napi version`)
//   node scripts/sync-versions.js --check  # only say what differs; exit 1 if anything does
//   node scripts/sync-versions.js --set-platforms
//       # package.json's briskPlatforms := the npm/<platform> packages that hold
//       # their binary (the release workflow, before it publishes)
//
// `napi version` updates npm/*/package.json; the rest is ours: the root's
// optionalDependencies (package.json and package-lock.json) and the version
// the napi loader (index.js) expects of its platform package, which napi
// writes only when it builds.

const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.join(__dirname, '..')

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'))
}

function writeJson(file, value) {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n')
}

/** The platform packages napi's targets name: [{ dir, name, triple, platformArchABI, binaryName }]. */
function platformPackages(pkg = readJson(path.join(ROOT, 'package.json'))) {
  const { parseTriple } = require('@napi-rs/cli')
  const packageName = pkg.napi.packageName || pkg.name
  return pkg.napi.targets.map((triple) => {
    const t = parseTriple(triple)
    return {
      triple,
      binaryName: pkg.napi.binaryName,
      platformArchABI: t.platformArchABI,
      name: `${packageName}-${t.platformArchABI}`,
      dir: path.join(ROOT, 'npm', t.platformArchABI)
    }
  })
}

/** What differs from the root version, as sentences; [] when all is in step. */
function differences() {
  const pkg = readJson(path.join(ROOT, 'package.json'))
  const out = []
  const optional = pkg.optionalDependencies || {}
  for (const p of platformPackages(pkg)) {
    const file = path.join(p.dir, 'package.json')
    if (!fs.existsSync(file)) {
      out.push(`npm/${p.platformArchABI}/package.json is missing (npx napi create-npm-dirs)`)
      continue
    }
    const sub = readJson(file)
    if (sub.name !== p.name) out.push(`npm/${p.platformArchABI} is named ${sub.name}, not ${p.name}`)
    if (sub.version !== pkg.version) out.push(`${p.name} is at ${sub.version}, the root at ${pkg.version}`)
    if (optional[p.name] !== pkg.version) out.push(`optionalDependencies["${p.name}"] is ${optional[p.name]}, not ${pkg.version}`)
  }
  const loader = fs.readFileSync(path.join(ROOT, 'index.js'), 'utf8')
  const expected = new Set([...loader.matchAll(/bindingPackageVersion !== '([^']*)'/g)].map((m) => m[1]))
  for (const v of expected) if (v !== pkg.version) out.push(`index.js expects platform packages at ${v}, not ${pkg.version}`)
  return out
}

function sync() {
  const file = path.join(ROOT, 'package.json')
  const pkg = readJson(file)
  const optional = { ...(pkg.optionalDependencies || {}) }
  for (const p of platformPackages(pkg)) optional[p.name] = pkg.version
  pkg.optionalDependencies = optional
  writeJson(file, pkg)
  for (const p of platformPackages(pkg)) {
    const subFile = path.join(p.dir, 'package.json')
    const sub = readJson(subFile)
    if (sub.version !== pkg.version) writeJson(subFile, { ...sub, version: pkg.version })
  }
  const lockFile = path.join(ROOT, 'package-lock.json')
  if (fs.existsSync(lockFile)) {
    const lock = readJson(lockFile)
    const root = lock.packages && lock.packages['']
    if (root) {
      root.optionalDependencies = { ...(root.optionalDependencies || {}), ...optional }
      writeJson(lockFile, lock)
    }
  }
  const loader = path.join(ROOT, 'index.js')
  const text = fs.readFileSync(loader, 'utf8')
  const updated = text
    .replace(/bindingPackageVersion !== '[^']*'/g, `bindingPackageVersion !== '${pkg.version}'`)
    .replace(/expected [^ ]+ but got/g, `expected ${pkg.version} but got`)
  if (updated !== text) fs.writeFileSync(loader, updated)
}

module.exports = { platformPackages, differences }

/** briskPlatforms := the platform packages whose binary is in npm/<platform>/. */
function setPlatforms() {
  const file = path.join(ROOT, 'package.json')
  const pkg = readJson(file)
  pkg.briskPlatforms = platformPackages(pkg)
    .filter((p) => fs.existsSync(path.join(p.dir, `${p.binaryName}.${p.platformArchABI}.node`)))
    .map((p) => p.platformArchABI)
  writeJson(file, pkg)
  console.log(`sync-versions: briskPlatforms = ${pkg.briskPlatforms.join(', ')}`)
}

if (require.main === module) {
  if (process.argv.includes('--set-platforms')) {
    setPlatforms()
    process.exit(0)
  }
  if (!process.argv.includes('--check')) sync()
  const diff = differences()
  for (const d of diff) console.error(`sync-versions: ${d}`)
  process.exit(diff.length ? 1 : 0)
}
