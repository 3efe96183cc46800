'use strict'
// Dependency trees with a known npm layout, served by the local registry.
// `npmTree` is what npm 11 installs for `manifest` (node_modules paths →
// versions); registry.test.js checks that real npm still produces exactly
// this, and compat.test.js checks that brisk produces what npm does.
// `lockOnly` lists lockfile entries npm records but does not install
// (platform mismatches).

const OMIT_MANIFEST = {
  dependencies: { 'has-native': '^1.0.0', tool: '^1.0.0' },
  devDependencies: { devonly: '^1.0.0' },
  optionalDependencies: { 'opt-user': '^1.0.0' }
}
const OMIT_LOCK = {
  'node_modules/dev-child': '1.0.0',
  'node_modules/devonly': '1.0.0',
  'node_modules/has-native': '1.0.0',
  'node_modules/native-darwin-arm': '1.0.0',
  'node_modules/native-linux': '1.0.0',
  'node_modules/native-linux-mips': '1.0.0',
  'node_modules/native-linux-musl': '1.0.0',
  'node_modules/native-win': '1.0.0',
  'node_modules/opt-user': '1.0.0',
  'node_modules/tool': '1.0.0'
}

/**
 * name → { manifest, npmTree, lockOnly?, lockTree?, npmArgs?, options? }.
 * `lockTree` (default: npmTree + lockOnly) is the lockfile's path → version map;
 * `npmArgs`/`options` are the npm flags and the brisk options of the scenario.
 */
const scenarios = {
  // Version conflicts: the root's leaf@1 wins the top level; each consumer
  // of leaf@2 gets its own nested copy; deep-b is hoisted; aliases and
  // scoped packages; uses-leaf1 dedupes onto the root's leaf.
  'nested-conflicts': {
    manifest: {
      dependencies: {
        leaf: '^1.0.0',
        mid: '^1.0.0',
        mid2: '1.0.0',
        'deep-a': '^1.0.0',
        'uses-leaf1': '^1.0.0',
        '@scope/pkg': '^1.0.0',
        'leaf-two': 'npm:leaf@^2.0.0'
      }
    },
    npmTree: {
      'node_modules/@scope/pkg': '1.1.0',
      'node_modules/deep-a': '1.0.0',
      'node_modules/deep-b': '1.0.0',
      'node_modules/deep-b/node_modules/leaf': '2.1.0',
      'node_modules/leaf': '1.1.0',
      'node_modules/leaf-two': '2.1.0',
      'node_modules/mid': '1.0.0',
      'node_modules/mid/node_modules/leaf': '2.1.0',
      'node_modules/mid2': '1.0.0',
      'node_modules/mid2/node_modules/leaf': '2.1.0',
      'node_modules/uses-leaf1': '1.0.0'
    }
  },

  // No root leaf: at depth 1 npm visits edges in name order, so mid's
  // leaf@2 takes the top level and uses-leaf1's leaf@1 nests.
  'hoist-order': {
    manifest: { dependencies: { 'uses-leaf1': '^1.0.0', mid: '^1.0.0', 'deep-a': '1' } },
    npmTree: {
      'node_modules/deep-a': '1.0.0',
      'node_modules/deep-b': '1.0.0',
      'node_modules/leaf': '2.1.0',
      'node_modules/mid': '1.0.0',
      'node_modules/uses-leaf1': '1.0.0',
      'node_modules/uses-leaf1/node_modules/leaf': '1.1.0'
    }
  },

  // Peers (npm 7+): a missing peer is installed (flagged "peer": true); an
  // optional peer is not, even though it exists.
  peers: {
    manifest: { dependencies: { 'peer-plugin': '^1.0.0', 'peer-opt': '^1.0.0' } },
    npmTree: {
      'node_modules/peer-host': '1.0.0',
      'node_modules/peer-opt': '1.0.0',
      'node_modules/peer-plugin': '1.0.0'
    }
  },

  // A peer that conflicts with the root's version: npm nests the plugin and
  // its own peer-host@1 under the package that depends on the plugin.
  'nested-peer': {
    manifest: { dependencies: { 'peer-host': '^2.0.0', 'plugin-wrapper': '^1.0.0' } },
    npmTree: {
      'node_modules/peer-host': '2.0.0',
      'node_modules/plugin-wrapper': '1.0.0',
      'node_modules/plugin-wrapper/node_modules/peer-host': '1.0.0',
      'node_modules/plugin-wrapper/node_modules/peer-plugin': '1.0.0'
    }
  },

  // A peer that a non-root dependent also depends on (another version): npm
  // puts the plugin and its peer-host@1 at the top and gives peer-clash its
  // own peer-host@2, with no conflict.
  'peer-replace': {
    manifest: { dependencies: { 'peer-clash': '^1.0.0' } },
    npmTree: {
      'node_modules/peer-clash': '1.0.0',
      'node_modules/peer-clash/node_modules/peer-host': '2.0.0',
      'node_modules/peer-host': '1.0.0',
      'node_modules/peer-plugin': '1.0.0'
    }
  },

  // package.json overrides: nested (leaf only under mid; leaf under deep-b
  // only when reached from deep-a), a `name@range` key with a `$ref` value
  // (uses-leaf1's leaf@^1 becomes the root's 2.1.0; mid2's leaf@^2 is not
  // matched by the key and is served by the root's copy).
  overrides: {
    manifest: {
      dependencies: { mid: '^1.0.0', mid2: '1.0.0', 'deep-a': '^1.0.0', 'uses-leaf1': '^1.0.0', leaf: '2.1.0' },
      overrides: {
        mid: { leaf: '2.0.0' },
        'leaf@^1': '$leaf',
        'deep-a': { 'deep-b': { leaf: '2.0.0' } }
      }
    },
    npmTree: {
      'node_modules/deep-a': '1.0.0',
      'node_modules/deep-b': '1.0.0',
      'node_modules/deep-b/node_modules/leaf': '2.0.0',
      'node_modules/leaf': '2.1.0',
      'node_modules/mid': '1.0.0',
      'node_modules/mid/node_modules/leaf': '2.0.0',
      'node_modules/mid2': '1.0.0',
      'node_modules/uses-leaf1': '1.0.0'
    }
  },

  // Platform binaries, bins, dev/optional/devOptional flags, install scripts.
  // native-gone is a 404: npm drops it without a trace (no lockfile entry).
  'platform-and-flags': {
    manifest: {
      dependencies: {
        'has-native': '^1.0.0',
        tool: '^1.0.0',
        strbin: '^1.0.0',
        '@scope/cli': '^1.0.0',
        scripted: '^1.0.0'
      },
      devDependencies: { devonly: '^1.0.0' },
      optionalDependencies: { 'opt-user': '^1.0.0' }
    },
    npmTree: {
      'node_modules/@scope/cli': '1.0.0',
      'node_modules/dev-child': '1.0.0',
      'node_modules/devonly': '1.0.0',
      'node_modules/has-native': '1.0.0',
      'node_modules/native-linux': '1.0.0',
      'node_modules/opt-user': '1.0.0',
      'node_modules/scripted': '1.0.0',
      'node_modules/strbin': '1.0.0',
      'node_modules/tool': '1.0.0'
    },
    lockOnly: {
      'node_modules/native-win': '1.0.0',
      'node_modules/native-darwin-arm': '1.0.0',
      'node_modules/native-linux-mips': '1.0.0',
      'node_modules/native-linux-musl': '1.0.0'
    }
  },

  // dist-tags: "*" takes `latest` (1.1.0) even though 2.1.0 exists; aliases
  // to tags; an exact version below the highest.
  'dist-tags': {
    manifest: {
      dependencies: {
        leaf: '*',
        'a-leaf': 'npm:leaf@next',
        'leaf-beta': 'npm:leaf@beta',
        '@scope/pkg': '1.0.0',
        'peer-host': 'latest'
      }
    },
    npmTree: {
      'node_modules/@scope/pkg': '1.0.0',
      'node_modules/a-leaf': '2.1.0',
      'node_modules/leaf': '1.1.0',
      'node_modules/leaf-beta': '3.0.0-beta.1',
      'node_modules/peer-host': '2.0.0'
    }
  },

  // --omit: dev-child is devOptional (reached from a dev and an optional
  // dependency), so it stays unless both are omitted. The lockfile keeps all.
  'omit-dev': {
    manifest: OMIT_MANIFEST,
    npmArgs: ['--omit=dev'],
    options: { omit: ['dev'] },
    lockTree: OMIT_LOCK,
    npmTree: {
      'node_modules/dev-child': '1.0.0',
      'node_modules/has-native': '1.0.0',
      'node_modules/native-linux': '1.0.0',
      'node_modules/opt-user': '1.0.0',
      'node_modules/tool': '1.0.0'
    }
  },
  'omit-optional': {
    manifest: OMIT_MANIFEST,
    npmArgs: ['--omit=optional'],
    options: { omit: ['optional'] },
    lockTree: OMIT_LOCK,
    npmTree: {
      'node_modules/dev-child': '1.0.0',
      'node_modules/devonly': '1.0.0',
      'node_modules/has-native': '1.0.0',
      'node_modules/tool': '1.0.0'
    }
  },
  'omit-dev-and-optional': {
    manifest: OMIT_MANIFEST,
    npmArgs: ['--omit=dev', '--omit=optional'],
    options: { omit: ['dev', 'optional'] },
    lockTree: OMIT_LOCK,
    npmTree: {
      'node_modules/has-native': '1.0.0',
      'node_modules/tool': '1.0.0'
    }
  },

  // A root optional dependency that does not exist: skipped, install succeeds.
  'optional-404': {
    manifest: { dependencies: { leaf: '^1.0.0' }, optionalDependencies: { 'opt-gone': '^1.0.0' } },
    npmTree: { 'node_modules/leaf': '1.1.0' }
  }
}

for (const s of Object.values(scenarios)) {
  s.lockTree = s.lockTree || { ...s.npmTree, ...s.lockOnly }
  s.npmArgs = s.npmArgs || []
  s.options = s.options || {}
}

module.exports = { scenarios }
