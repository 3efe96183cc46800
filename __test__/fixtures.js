'use strict'
// The packages the local test registry serves. Each entry is a package name
// with its versions; every version becomes a packument entry and a real
// tarball (see registry.js). Shapes follow real packages: platform binaries
// (os/cpu/libc) as optional dependencies, peers, bins in both forms, scopes.
//
// Each tarball's index.js exports { name, version, deps } where `deps` maps
// every dependency it can require() to the version it got, so a test that
// spawns node in the project checks that Node's resolution finds the right
// copies (nested conflicts, peers, aliases).

/** @typedef {{ dependencies?: object, optionalDependencies?: object,
 *   peerDependencies?: object, peerDependenciesMeta?: object, bin?: string|object,
 *   binMode?: number, os?: string[], cpu?: string[], libc?: string[],
 *   engines?: object, license?: string, scripts?: object, deprecated?: string,
 *   extraEntries?: Array<object>, files?: object,
 *   distTarball?: string }} VersionDef (distTarball: what the packument says dist.tarball is) */

const v = (over = {}) => ({ license: 'MIT', ...over })

/** @type {Record<string, {distTags?: Record<string,string>, versions: Record<string, VersionDef>}>} */
const packages = {
  // A leaf whose `latest` tag is not its highest version, plus a prerelease.
  leaf: {
    distTags: { latest: '1.1.0', next: '2.1.0', beta: '3.0.0-beta.1' },
    versions: {
      '1.0.0': v(),
      '1.1.0': v({ engines: { node: '>=10' } }),
      '2.0.0': v(),
      '2.1.0': v(),
      '3.0.0-beta.1': v()
    }
  },
  // Two consumers of leaf@2 next to a root that wants leaf@1: npm nests a copy
  // under each of them.
  mid: { versions: { '1.0.0': v({ dependencies: { leaf: '^2.0.0' } }) } },
  mid2: { versions: { '1.0.0': v({ dependencies: { leaf: '^2.0.0' } }) } },
  // A chain: deep-a -> deep-b -> leaf@^2 (deep-b is hoisted, leaf@2 nests under it).
  'deep-a': { versions: { '1.0.0': v({ dependencies: { 'deep-b': '^1.0.0' } }) } },
  'deep-b': { versions: { '1.0.0': v({ dependencies: { leaf: '^2.0.0' } }), '2.0.0': v() } },
  // Dedupe: both want leaf@^1, the root's copy serves them.
  'uses-leaf1': { versions: { '1.0.0': v({ dependencies: { leaf: '^1.0.0' } }) } },

  // Bins: object form (executable), string form (mode 0644 in the tarball,
  // must still end up executable), scoped string form (bin named "cli").
  tool: {
    versions: {
      '1.0.0': v({ bin: { tool: 'bin/tool.js', 'tool-extra': './bin/extra.js' }, binMode: 0o755 })
    }
  },
  strbin: { versions: { '1.0.0': v({ bin: 'cli.js', binMode: 0o644 }) } },
  '@scope/cli': { versions: { '1.0.0': v({ bin: './cli.js', binMode: 0o755 }) } },
  '@scope/pkg': {
    versions: {
      '1.0.0': v({ dependencies: { leaf: '^1.0.0' } }),
      '1.1.0': v({ dependencies: { leaf: '^1.0.0' } })
    }
  },

  // Peers.
  'peer-host': { distTags: { latest: '2.0.0' }, versions: { '1.0.0': v(), '2.0.0': v() } },
  'peer-plugin': { versions: { '1.0.0': v({ peerDependencies: { 'peer-host': '^1.0.0' } }) } },
  // Wraps peer-plugin: with the root on peer-host@2, npm nests the plugin and
  // its peer-host@1 under the wrapper.
  'plugin-wrapper': { versions: { '1.0.0': v({ dependencies: { 'peer-plugin': '^1.0.0' } }) } },
  'peer-opt': {
    versions: {
      '1.0.0': v({
        peerDependencies: { 'peer-missing': '^1.0.0' },
        peerDependenciesMeta: { 'peer-missing': { optional: true } }
      })
    }
  },
  'peer-missing': { versions: { '1.0.0': v() } },
  // Wants peer-host@2 itself and peer-plugin (peer peer-host@^1) next to it:
  // a peer conflict below the root (npm warns and leaves the peer unmet).
  'peer-clash': { versions: { '1.0.0': v({ dependencies: { 'peer-host': '^2.0.0', 'peer-plugin': '^1.0.0' } }) } },

  // Platform binaries the way esbuild/swc ship them.
  'has-native': {
    versions: {
      '1.0.0': v({
        optionalDependencies: {
          'native-linux': '1.0.0',
          'native-win': '1.0.0',
          'native-darwin-arm': '1.0.0',
          'native-linux-mips': '1.0.0',
          'native-linux-musl': '1.0.0',
          'native-gone': '1.0.0'
        }
      })
    }
  },
  'native-linux': { versions: { '1.0.0': v({ os: ['linux'] }) } },
  'native-win': { versions: { '1.0.0': v({ os: ['win32'], cpu: ['x64'] }) } },
  'native-darwin-arm': { versions: { '1.0.0': v({ os: ['darwin'], cpu: ['arm64'] }) } },
  'native-linux-mips': { versions: { '1.0.0': v({ os: ['linux'], cpu: ['mips'] }) } },
  'native-linux-musl': { versions: { '1.0.0': v({ os: ['linux'], libc: ['musl'] }) } },
  // 'native-gone' is deliberately not defined: the registry answers 404.

  // dev / optional / devOptional flags.
  devonly: { versions: { '1.0.0': v({ dependencies: { 'dev-child': '^1.0.0' } }) } },
  'dev-child': { versions: { '1.0.0': v() } },
  'opt-user': { versions: { '1.0.0': v({ dependencies: { 'dev-child': '^1.0.0' } }) } },

  // Install scripts: run only for trusted packages (scripts.test.js).
  scripted: {
    versions: {
      '1.0.0': v({ scripts: { postinstall: 'node -e "require(\'fs\').writeFileSync(\'postinstall-ran\', \'\')"' } })
    }
  },
  // Dumps its environment, and runs a dependency's bin through PATH.
  'script-env': {
    versions: {
      '1.0.0': v({
        dependencies: { tool: '1.0.0' },
        config: { port: '8080' },
        scripts: { postinstall: 'node -e "require(\'fs\').writeFileSync(\'env.json\', JSON.stringify(process.env))" && tool > tool-out.json' }
      })
    }
  },
  // Writes into its own files: must not reach the cache. (The marker is
  // split in package.json so that only the modified file contains it.)
  'script-appends': {
    versions: {
      '1.0.0': v({ scripts: { postinstall: 'node -e "require(\'fs\').appendFileSync(\'index.js\', \'// MODIFIED-\' + \'BY-POSTINSTALL\\n\')"' } })
    }
  },
  // Every install event, logged to $BRISK_TEST_LOG; one nested level below.
  'script-phases': {
    versions: {
      '1.0.0': v({
        dependencies: { 'script-phases-child': '1.0.0' },
        scripts: {
          preinstall: 'echo "$npm_package_name $npm_lifecycle_event" >> "$BRISK_TEST_LOG"',
          install: 'echo "$npm_package_name $npm_lifecycle_event" >> "$BRISK_TEST_LOG"',
          postinstall: 'echo "$npm_package_name $npm_lifecycle_event" >> "$BRISK_TEST_LOG"'
        }
      })
    }
  },
  'script-phases-child': {
    versions: {
      '1.0.0': v({
        scripts: {
          preinstall: 'echo "$npm_package_name $npm_lifecycle_event" >> "$BRISK_TEST_LOG"',
          postinstall: 'echo "$npm_package_name $npm_lifecycle_event" >> "$BRISK_TEST_LOG"'
        }
      })
    }
  },
  // A postinstall that fails with some output.
  'script-fails': {
    versions: {
      '1.0.0': v({ scripts: { postinstall: 'node -e "console.log(\'about to fail: xyzzy\'); console.error(\'on stderr: plugh\'); process.exit(3)"' } })
    }
  },
  // A binding.gyp and no install script: npm runs `node-gyp rebuild`.
  'gyp-native': {
    versions: {
      '1.0.0': v({ extraEntries: [{ path: 'package/binding.gyp', content: '{ "targets": [] }\n' }] })
    }
  },

  // bundleDependencies: leaf@2.0.0 (and its own dependency-free files) ships
  // inside the tarball; npm installs it from there, never from the registry.
  bundler: {
    versions: {
      '1.0.0': v({
        dependencies: { leaf: '^2.0.0', 'uses-leaf1': '^1.0.0' },
        bundleDependencies: ['leaf'],
        extraEntries: [
          { path: 'package/node_modules/leaf/package.json', content: JSON.stringify({ name: 'leaf', version: '2.0.0', license: 'MIT', main: 'index.js' }) },
          { path: 'package/node_modules/leaf/index.js', content: "module.exports = { name: 'leaf', version: '2.0.0', bundled: true }\n" }
        ]
      })
    }
  },

  // npm's file-level details (npmtree.test.js): archive modes npm keeps
  // (0754, 0744), .gitignore renamed .npmignore unless one is there, a bin
  // whose #! line ends in CRLF.
  'odd-files': {
    versions: {
      '1.0.0': v({
        bin: { 'crlf-tool': 'cli.js' },
        extraEntries: [
          { path: 'package/cli.js', mode: 0o644, content: '#!/usr/bin/env node\r\nconsole.log("crlf ok")\r\n' },
          { path: 'package/run.sh', mode: 0o754, content: '#!/bin/sh\necho run\n' },
          { path: 'package/lib/x.js', mode: 0o744, content: 'module.exports = 1\n' },
          { path: 'package/lib/ro.js', mode: 0o600, content: 'module.exports = 2\n' },
          { path: 'package/.gitignore', content: 'a\n' },
          { path: 'package/sub/.npmignore', content: 'keep\n' },
          { path: 'package/sub/.gitignore', content: 'dropped\n' }
        ]
      })
    }
  },
  // Two packages with one bin name: npm links the first by depth, then path
  // in locale order (@aaa/dupbin), not the one named like the bin.
  dupbin: { versions: { '1.0.0': v({ bin: { dupbin: 'a.js' } }) } },
  '@aaa/dupbin': { versions: { '1.0.0': v({ bin: { dupbin: 'b.js' } }) } },
  // Bundles leaf@1.0.0 (which the root's leaf@1.1.0 would also serve: npm
  // keeps the bundled copy) and a bundled package with a bin (./ path, 0644).
  'bundler-dedupe': {
    versions: {
      '1.0.0': v({
        dependencies: { leaf: '^1.0.0', 'bundled-tool': '^1.0.0' },
        bundleDependencies: ['leaf', 'bundled-tool'],
        extraEntries: [
          { path: 'package/node_modules/leaf/package.json', content: JSON.stringify({ name: 'leaf', version: '1.0.0', license: 'MIT' }) },
          { path: 'package/node_modules/leaf/index.js', content: "module.exports = { name: 'leaf', version: '1.0.0', bundled: true }\n" },
          { path: 'package/node_modules/bundled-tool/package.json', content: JSON.stringify({ name: 'bundled-tool', version: '1.0.0', bin: { btool: './bin/b.js' } }) },
          { path: 'package/node_modules/bundled-tool/bin/b.js', mode: 0o644, content: '#!/usr/bin/env node\r\nconsole.log("btool")\n' }
        ]
      })
    }
  },
  // prefer-dedupe: dd-a takes leaf@1.1.0, dd-b pins 1.0.0.
  'dd-a': { versions: { '1.0.0': v({ dependencies: { leaf: '^1.0.0' } }) } },
  'dd-b': { versions: { '1.0.0': v({ dependencies: { leaf: '1.0.0' } }) } },

  // Packages tests put faults on (see Registry#fault).
  flaky: { versions: { '1.0.0': v() } },
  slow: { versions: { '1.0.0': v() } },
  tampered: { versions: { '1.0.0': v() } },
  '@private/secret': { versions: { '1.0.0': v() } },

  // Hostile tarballs: paths that climb out of the package, and a symlink
  // out of the package followed by a file written through it.
  evil: {
    versions: {
      '1.0.0': v({
        extraEntries: [
          { path: 'package/../../brisk-escape-dotdot.txt', content: 'escaped\n' },
          { path: 'package/../../../../../../../../../tmp/brisk-escape-deep.txt', content: 'escaped\n' }
        ]
      })
    }
  },
  'evil-link': {
    versions: {
      '1.0.0': v({
        extraEntries: [
          { path: 'package/lnk', type: 'symlink', linkname: '../../../../../../../../../tmp' },
          { path: 'package/lnk/brisk-escape-symlink.txt', content: 'escaped\n' }
        ]
      })
    }
  },
  // Peer placement (issue 31): a newcomer whose peer (optional or required)
  // meets an older version already hoisted nests with its peer, as npm does.
  'pm': { versions: { '2.0.0': v(), '4.0.0': v() } },
  'mm-user': { versions: { '1.0.0': v({ dependencies: { pm: '^2.0.0' } }) } },
  'fd-opt': {
    versions: {
      '1.0.0': v({ peerDependencies: { pm: '^3.0.0 || ^4.0.0' }, peerDependenciesMeta: { pm: { optional: true } } })
    }
  },
  'tg-user': { versions: { '1.0.0': v({ dependencies: { 'fd-opt': '^1.0.0', pm: '^4.0.0' } }) } },
  'ajd-req': { versions: { '1.0.0': v({ peerDependencies: { pm: '^4.0.0' } }) } },
  'yl-user': { versions: { '1.0.0': v({ dependencies: { 'ajd-req': '^1.0.0', pm: '^4.0.0' } }) } },
  // Workspace order (issue 31): the workspace `wsbl` (cs ^7) is also a
  // registry package (cs ^6) that `wsarb` needs; npm builds the root's
  // tree first, so cs@6 gets the top.
  wscs: { versions: { '6.0.0': v(), '7.0.0': v() } },
  wsbl: { versions: { '4.0.0': v({ dependencies: { wscs: '^6.0.0' } }) } },
  wsarb: { versions: { '1.0.0': v({ dependencies: { wsbl: '^4.0.0' } }) } }
}

module.exports = { packages }
