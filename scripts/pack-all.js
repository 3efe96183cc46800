#!/usr/bin/env node
'use strict'
// npm run pack:all: the release build and every publishable tarball.
//
//   1. checks that the versions are in step (scripts/sync-versions.js --check);
//   2. builds the addon as it is published: the `dist` Cargo profile (release,
//      stripped) for x86_64-unknown-linux-gnu against glibc 2.17, with napi's
//      --use-napi-cross toolchain (an npm package, fetched into ~/.napi-rs on
//      first use) and scripts/cc-glibc217.sh as the C compiler, into artifacts/;
//   3. copies the binary into npm/linux-x64-gnu/ (what `napi artifacts` does
//      in the release workflow, where every target is built);
//   4. `npm pack`s the main package and each npm/<platform> package that has
//      its binary into dist/ (old tarballs there are removed first).
//
//   npm run pack:all                 # all of it
//   npm run build:dist               # steps 1-3 only
//   node scripts/pack-all.js --no-build   # step 4 from what npm/ holds
//
// Only linux-x64-gnu can be built here; the other targets in package.json's
// napi.targets are built by .github/workflows/release.yml. The developer build
// (npm run build) is untouched: the dist profile has its own target folders.

const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { platformPackages, differences } = require('./sync-versions.js')

const ROOT = path.join(__dirname, '..')
const DIST = path.join(ROOT, 'dist')
const ARTIFACTS = path.join(ROOT, 'artifacts')
const HOST_TARGET = 'x86_64-unknown-linux-gnu'
const args = process.argv.slice(2)
const buildOnly = args.includes('--build-only')
const noBuild = args.includes('--no-build')

function run(cmd, cmdArgs, opts = {}) {
  console.log(`pack:all: $ ${[cmd, ...cmdArgs].join(' ')}`)
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', cwd: ROOT, ...opts })
  if (r.error) throw r.error
  if (r.status !== 0) {
    console.error(`pack:all: "${cmd} ${cmdArgs.join(' ')}" exited with ${r.status}`)
    process.exit(r.status || 1)
  }
  return r
}

const napi = path.join(ROOT, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js')

const diff = differences()
if (diff.length) {
  for (const d of diff) console.error(`pack:all: ${d}`)
  console.error('pack:all: versions are not in step; `node scripts/sync-versions.js` writes them')
  process.exit(1)
}

if (!noBuild) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    console.error(`pack:all: builds ${HOST_TARGET} only, on a Linux x64 machine (this is ${process.platform}-${process.arch})`)
    process.exit(1)
  }
  const env = { ...process.env }
  // A host build under --use-napi-cross: cc-rs reads CC_<target>.
  if (!env.CC_x86_64_unknown_linux_gnu) env.CC_x86_64_unknown_linux_gnu = path.join(ROOT, 'scripts', 'cc-glibc217.sh')
  fs.rmSync(ARTIFACTS, { recursive: true, force: true })
  run(process.execPath, [napi, 'build', '--platform', '--profile', 'dist', '--features', 'node',
    '--target', HOST_TARGET, '--use-napi-cross', '--output-dir', ARTIFACTS], { env })
  // The loader and types napi generated with this build go in the main
  // package: after a version bump they carry the new version.
  for (const f of ['index.js', 'index.d.ts']) {
    const generated = fs.readFileSync(path.join(ARTIFACTS, f))
    if (!generated.equals(fs.readFileSync(path.join(ROOT, f)))) {
      console.log(`pack:all: ${f} updated from this build`)
      fs.writeFileSync(path.join(ROOT, f), generated)
    }
  }
  // What `napi artifacts` does for a full set of binaries, for the one built
  // here (napi artifacts wants every configured target, and also copies the
  // binary over the developer build at the root).
  for (const p of platformPackages()) {
    const built = path.join(ARTIFACTS, `${p.binaryName}.${p.platformArchABI}.node`)
    if (p.triple === HOST_TARGET) fs.copyFileSync(built, path.join(p.dir, path.basename(built)))
  }
}
if (buildOnly) process.exit(0)

fs.rmSync(DIST, { recursive: true, force: true })
fs.mkdirSync(DIST, { recursive: true })

/** npm pack `dir` into dist/; returns npm's report for it. */
function pack(dir) {
  const r = spawnSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', DIST], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  if (r.status !== 0) {
    console.error(`pack:all: npm pack in ${dir} exited with ${r.status}`)
    process.exit(r.status || 1)
  }
  return JSON.parse(r.stdout)[0]
}

const packed = []
const skipped = []
for (const p of platformPackages()) {
  const main = JSON.parse(fs.readFileSync(path.join(p.dir, 'package.json'), 'utf8')).main
  if (fs.existsSync(path.join(p.dir, main))) packed.push(pack(p.dir))
  else skipped.push(p.platformArchABI)
}
if (!packed.length) {
  console.error('pack:all: no platform package has its binary (npm/<platform>/*.node); build first')
  process.exit(1)
}
// brisk.js names package.json's briskPlatforms when a platform has no binary.
const shipped = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).briskPlatforms || []
const packedPlatforms = platformPackages().map((p) => p.platformArchABI).filter((p) => !skipped.includes(p))
if (shipped.slice().sort().join() !== packedPlatforms.slice().sort().join()) {
  console.error(`pack:all: package.json's briskPlatforms (${shipped.join(', ')}) is not what was packed (${packedPlatforms.join(', ')})`)
  process.exit(1)
}
packed.unshift(pack(ROOT))

const kb = (n) => `${(n / 1024).toFixed(0)} kB`
console.log('\npack:all: wrote to dist/')
for (const t of packed) console.log(`  ${t.filename.padEnd(40)} ${kb(t.size).padStart(9)} packed, ${kb(t.unpackedSize).padStart(9)} unpacked, ${t.entryCount} files`)
if (skipped.length) console.log(`pack:all: not built here, so not packed: ${skipped.join(', ')} (the release workflow builds them)`)
