'use strict'
// The shared cache against what one project does to its node_modules: files
// there are hardlinks to the cache, so an edit in place or a trusted script
// writing into a sibling package must never reach another project.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const brisk = require('../brisk.js')
const { startRegistry } = require('./registry.js')
const h = require('./helpers.js')

const T = { timeout: 120_000 }
const v = (over = {}) => ({ license: 'MIT', ...over })
const TAMPER = '\n// edited in project A\n'

const packages = {
  a: { versions: { '1.0.0': v() } },
  writer: {
    versions: {
      '1.0.0': v({
        dependencies: { a: '1.0.0' },
        scripts: { postinstall: `node -e "require('fs').appendFileSync('../a/index.js', '${TAMPER.replace(/\n/g, '\\n')}')"` }
      })
    }
  }
}

let reg
before(async () => { reg = await startRegistry({ packages }) })
after(async () => { await reg.close() })

/** Two projects sharing one cache. */
function pair (t, manifestA, manifestB) {
  const A = h.project(manifestA)
  const B = h.project(manifestB)
  t.after(() => { A.cleanup(); B.cleanup() })
  return { A, B, opts: (p) => ({ cwd: p.dir, cacheDir: A.cache, registry: reg.url, env: p.env }) }
}

test('a file edited in place in one project is not what the next project gets', T, async (t) => {
  const { A, B, opts } = pair(t, { dependencies: { a: '1.0.0' } }, { dependencies: { a: '1.0.0' } })
  await brisk.install(opts(A))
  const original = A.read('node_modules/a/index.js')
  fs.appendFileSync(A.file('node_modules/a/index.js'), TAMPER) // through the hardlink
  const tarballs = () => reg.requests.filter(r => r.kind === 'tarball' && r.name === 'a').length
  const fetchedBefore = tarballs()

  const r = await brisk.install(opts(B))
  assert.equal(B.read('node_modules/a/index.js'), original)
  const warning = r.warnings.find(w => /cached copy of a@1\.0\.0 was modified/.test(w))
  assert.ok(warning, `a warning names the package: ${JSON.stringify(r.warnings)}`)
  assert.match(warning, /index\.js\); it was restored from its tarball/)
  assert.equal(tarballs(), fetchedBefore + 1, 'fetched again')
  assert.equal(A.read('node_modules/a/index.js'), original + TAMPER, 'A keeps its edit')

  // The restored entry is linked from then on, without a warning.
  fs.rmSync(B.file('node_modules'), { recursive: true })
  const again = await brisk.install(opts(B))
  assert.deepEqual(again.warnings.filter(w => /cached copy/.test(w)), [])
  assert.equal(B.read('node_modules/a/index.js'), original)
})

test('verify-store-integrity=false skips the check (pnpm\'s setting), so the edit is linked', T, async (t) => {
  const { A, B, opts } = pair(t, { dependencies: { a: '1.0.0' } }, { dependencies: { a: '1.0.0' } })
  await brisk.install(opts(A))
  fs.appendFileSync(A.file('node_modules/a/index.js'), TAMPER)
  fs.writeFileSync(B.file('.npmrc'), 'verify-store-integrity=false\n')
  const r = await brisk.install(opts(B))
  assert.deepEqual(r.warnings.filter(w => /cached copy/.test(w)), [])
  assert.ok(B.read('node_modules/a/index.js').endsWith(TAMPER), 'unchecked, the edited entry is linked as it is')
})

test('a trusted script writing into a sibling cannot change the cache for other projects', T, async (t) => {
  const { A, B, opts } = pair(t,
    { dependencies: { writer: '1.0.0' }, trustedDependencies: ['writer'] },
    { dependencies: { a: '1.0.0', writer: '1.0.0' } })
  const r = await brisk.install(opts(A))
  assert.ok(r.scriptsRun.some(s => /writer/.test(JSON.stringify(s))), `writer's script ran: ${JSON.stringify(r.scriptsRun)}`)
  const edited = A.read('node_modules/a/index.js')
  assert.ok(edited.endsWith(TAMPER), 'the script wrote into its sibling, in project A')
  assert.ok(r.warnings.some(w => /script modified the cached copy of a@1\.0\.0/.test(w)), JSON.stringify(r.warnings))

  const rb = await brisk.install(opts(B))
  assert.equal(B.read('node_modules/a/index.js'), edited.slice(0, -TAMPER.length))
  assert.deepEqual(rb.warnings.filter(w => /cached copy/.test(w)), [], 'the cache was already repaired')
  assert.equal(A.read('node_modules/a/index.js'), edited, 'A keeps what its script did')
})
