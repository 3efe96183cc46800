'use strict'
// Every option is written once, in options.js: the CLI's flags, brisk.d.ts,
// the addon's generated types and the README's flag table are held to it,
// and a `false` given by the caller overrides .npmrc.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { OPTIONS } = require('../options.js')
const { parse } = require('../bin/brisk.js')
const brisk = require('../brisk.js')
const h = require('./helpers.js')

const root = path.join(__dirname, '..')
const read = (f) => fs.readFileSync(path.join(root, f), 'utf8')

/** The keys of `interface <name> { … }` in a .d.ts file. */
function interfaceKeys(text, name) {
  const start = text.indexOf(`export interface ${name} {`)
  assert.ok(start >= 0, `no interface ${name}`)
  const body = text.slice(start, text.indexOf('\n}', start))
  return [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]).sort()
}

/** The flags named in the first column of the README's flag table. */
function readmeFlags() {
  const text = read('README.md')
  const start = text.indexOf('| flag | meaning |')
  assert.ok(start >= 0, 'the README has a flag table')
  const rows = text.slice(start).split('\n\n')[0].split('\n').slice(2)
  return rows.flatMap((row) => [...row.split(' | ')[0].matchAll(/`(--?[a-zA-Z][\w-]*)/g)].map((m) => m[1]))
}

const OUTPUT_FLAGS = ['--json', '--parseable', '--long', '--timings', '--silent', '-h', '--help', '-v', '--version']

test('brisk.d.ts and the addon types declare exactly the options of options.js', () => {
  const all = Object.keys(OPTIONS).sort()
  assert.deepEqual(interfaceKeys(read('brisk.d.ts'), 'Options'), all)
  const native = all.filter((k) => !OPTIONS[k].js)
  assert.deepEqual(interfaceKeys(read('index.d.ts'), 'Options'), native)
})

test("the README's flag table and options.js name the same flags", () => {
  const documented = readmeFlags()
  const listed = Object.values(OPTIONS).flatMap((o) => o.flags)
  for (const flag of listed) assert.ok(documented.includes(flag), `${flag} is not in the README's flag table`)
  for (const flag of documented) {
    assert.ok(listed.includes(flag) || OUTPUT_FLAGS.includes(flag), `the README documents ${flag}, which options.js does not list`)
  }
})

test('every flag of options.js sets its option on the command line', () => {
  const value = { string: 'x', strings: 'dev', number: '3', date: '2024-05-01' }
  for (const [key, spec] of Object.entries(OPTIONS)) {
    for (const flag of spec.flags.filter((f) => f !== '--include')) {
      const bare = spec.type === 'boolean' || flag === '--production' || flag === '--no-optional'
      const command = key.startsWith('save') ? ['add', 'x'] : ['install']
      const { options } = parse([...command, flag, ...(bare ? [] : [value[spec.type]])])
      assert.notEqual(options[key], undefined, `${flag} sets options.${key}`)
    }
  }
  assert.deepEqual(parse(['install', '--omit', 'dev,optional', '--include', 'dev']).options.omit, ['optional'])
})

test('--no-<flag> and --<flag>=false give false, which overrides .npmrc', () => {
  assert.equal(parse(['install', '--no-ignore-scripts']).options.ignoreScripts, false)
  assert.equal(parse(['install', '--legacy-peer-deps=false']).options.legacyPeerDeps, false)
  assert.equal(parse(['install']).options.ignoreScripts, undefined)
})

test('unknown keys and wrong types are E_CONFIG, with the nearest option named', async () => {
  const fails = async (options, pattern) => {
    const err = await brisk.prefetch(options).then(() => assert.fail('accepted'), (e) => e)
    assert.equal(err.code, 'E_CONFIG', err.message)
    assert.match(err.message, pattern)
  }
  await fails({ ignoreScript: true }, /options\.ignoreScript is not an option.*ignoreScripts/)
  await fails({ ignoreScripts: 'yes' }, /true or false/)
  await fails({ cwd: 5 }, /options\.cwd takes a non-empty string/)
  await fails({ workspaces: [1] }, /array of strings/)
  await fails({ env: 'HOME=/' }, /object of strings/)
})

test('ignoreScripts: false overrides ignore-scripts=true in .npmrc', async (t) => {
  const p = h.project(
    { scripts: { postinstall: 'node -e "require(\'fs\').writeFileSync(\'ran\', \'\')"' } },
    { npmrc: 'ignore-scripts=true\n' }
  )
  t.after(p.cleanup)
  const options = { cwd: p.dir, cacheDir: p.cache, env: p.env }
  await brisk.install(options)
  assert.equal(p.exists('ran'), false, '.npmrc ignore-scripts=true is honoured')
  const r = await brisk.install({ ...options, ignoreScripts: false })
  assert.deepEqual(r.scriptsRun, ['postinstall'])
  assert.equal(p.exists('ran'), true)
})
