#!/usr/bin/env node
'use strict'
// `npm run example`: install a real project (../shared/fixtures/platform-and-peers:
// esbuild, @swc/core, sharp, react, eslint, typescript, …) with brisk from the
// public registry, then show what npm sees. Builds the addon first if needed.
//
//   npm run example              # fresh temp project, fresh cache
//   npm run example -- <dir>     # another project folder to copy

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const ROOT = path.join(__dirname, '..')
const source = path.resolve(process.argv[2] || path.join(ROOT, '..', 'shared', 'fixtures', 'platform-and-peers'))

function run(cmd, args, opts = {}) {
  console.log(`\n$ ${[cmd, ...args].join(' ')}`)
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts })
  if (r.status !== 0) {
    console.error(`example: "${cmd} ${args.join(' ')}" exited with ${r.status}`)
    process.exit(r.status || 1)
  }
}

if (!fs.existsSync(path.join(source, 'package.json'))) {
  console.error(`example: no package.json in ${source}`)
  process.exit(1)
}
const built = fs.existsSync(path.join(ROOT, 'index.js')) &&
  fs.readdirSync(ROOT).some((f) => f.startsWith('brisk-pm.') && f.endsWith('.node'))
if (!built) run('npm', ['run', 'build'], { cwd: ROOT })

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'brisk-example-'))
const project = path.join(work, 'project')
fs.cpSync(source, project, { recursive: true })
console.log(`example: installing a copy of ${source}\n         in ${project}`)

const cache = path.join(work, 'cache')
run(process.execPath, [path.join(ROOT, 'bin', 'brisk.js'), 'install', '--cache-dir', cache, '--timings'], { cwd: project })
run('npm', ['ls', '--depth=0'], { cwd: project })
console.log('\nexample: a second install with nothing to do:')
run(process.execPath, [path.join(ROOT, 'bin', 'brisk.js'), 'install', '--cache-dir', cache], { cwd: project })
console.log(`\nexample: the project is left in ${project} (delete ${work} when done)`)
