'use strict'
// Text and JSON for `brisk ls`, `why` and `outdated`, as npm 11 prints them,
// from the plain data the API returns (brisk.ls, brisk.why, brisk.outdated).

const path = require('node:path')

/** archy (npm ls's tree printer): `├── `, `└─┬ `, `│ ` continuation. */
function archy(obj, prefix = '') {
  const nodes = obj.nodes || []
  const lines = (obj.label || '').split('\n')
  const splitter = '\n' + prefix + (nodes.length ? '│' : ' ') + ' '
  return prefix + lines.join(splitter) + '\n' + nodes.map((node, ix) => {
    const last = ix === nodes.length - 1
    const more = node.nodes && node.nodes.length
    const prefix_ = prefix + (last ? ' ' : '│') + ' '
    return prefix + (last ? '└' : '├') + '─' + (more ? '┬' : '─') + ' ' + archy(node, prefix_).slice(prefix.length + 2)
  }).join('')
}

/** npm ls's label for one item. */
function lsLabel(item) {
  if (item.root) return item.version !== undefined || item.name ? `${item.pkgid} ${item.path}` : item.path
  let label = ''
  if (item.missing !== undefined) label += `UNMET ${item.optional ? 'OPTIONAL ' : ''}DEPENDENCY `
  label += item.pkgid
  if (item.deduped) label += ' deduped'
  if (item.invalid) label += ` invalid: ${item.invalid}`
  if (item.extraneous) label += ' extraneous'
  if (item.overridden) label += ' overridden'
  if (item.git && item.resolved) label += ` (${item.resolved})`
  if (item.link !== undefined) label += ` -> .${path.sep}${item.link}`
  return label
}

/** `npm ls` text. */
function lsText(listing) {
  const toArchy = (item) => ({ label: lsLabel(item), nodes: item.dependencies.map(toArchy) })
  const tree = toArchy(listing.root)
  if (!tree.nodes.length) tree.nodes = [{ label: '(empty)' }]
  return archy(tree)
}

/** `npm ls --json`: name/version/dependencies{…}, problems, as npm shapes them. */
function lsJson(listing) {
  const convert = (item) => {
    const out = {}
    if (item.version !== undefined) out.version = item.version
    if (item.resolved !== undefined) out.resolved = item.resolved
    if (item.overridden !== undefined) out.overridden = item.overridden
    if (item.root) out.name = item.name
    if (item.extraneous) out.extraneous = true
    if (item.invalid) out.invalid = item.invalid
    if (item.missing !== undefined && !item.optional) {
      out.required = item.required
      out.missing = true
    }
    if (item.problems.length) out.problems = item.problems
    for (const dep of item.dependencies) {
      out.dependencies = out.dependencies || {}
      out.dependencies[dep.name] = convert(dep)
    }
    return out
  }
  const out = convert(listing.root)
  if (listing.problems.length) out.problems = listing.problems
  // npm keeps the root's own problems key where it is and puts `problems` before the deps.
  if (out.dependencies) {
    const deps = out.dependencies
    delete out.dependencies
    out.dependencies = deps
  }
  return out
}

/** Whether `brisk ls` fails: problems other than extraneous folders (npm's ELSPROBLEMS). */
function lsFails(listing) {
  return listing.problems.length > 0 && !listing.problems.every((p) => p.startsWith('extraneous:'))
}

// npm explain's text (lib/utils/explain-dep.js), without colours.

function printNode(node) {
  const extra = []
  for (const meta of ['extraneous', 'dev', 'optional', 'peer', 'bundled', 'overridden']) {
    if (node[meta]) extra.push(` ${meta}`)
  }
  return `${node.name}@${node.version}${extra.join('')}` + (node.location ? `\n${node.location}` : '')
}

function explainNode(node, depth, seen = new Set()) {
  return printNode(node) + explainDependents(node, depth, seen) + explainLinksIn(node, depth, seen)
}

function explainLinksIn({ linksIn }, depth, seen) {
  if (!linksIn || !linksIn.length || depth <= 0) return ''
  const str = '\n' + linksIn.map((link) => explainNode(link, depth - 1, seen)).join('\n')
  return str.split('\n').join('\n  ')
}

function explainDependents({ dependents }, depth, seen) {
  if (!dependents || !dependents.length || depth <= 0) return ''
  const max = Math.ceil(depth / 2)
  const messages = dependents.slice(0, max).map((edge) => explainEdge(edge, depth, seen))
  if (dependents.length > max) {
    let len = 0
    const showNames = []
    for (let i = max; i < dependents.length; i++) {
      const { from: { name: depName = 'the root project' } } = dependents[i]
      len += depName.length
      if (len >= 50 && i < dependents.length - 1) {
        showNames.push('...')
        break
      }
      showNames.push(depName)
    }
    messages.push(`${dependents.length - max} more (${showNames.join(', ')})`)
  }
  const str = '\n' + messages.join('\n')
  return str.split('\n').join('\n  ')
}

function explainEdge({ name, type, bundled, from, spec, rawSpec, overridden }, depth, seen) {
  let dep = type === 'workspace' ? path.posix.relative(from.location, spec.slice('file:'.length)) : `${name}@"${spec}"`
  if (overridden) dep = `overridden ${dep} (was "${rawSpec}")`
  return (type === 'prod' ? '' : `${type} `) + (bundled ? 'bundled ' : '') + `${dep} from ${explainFrom(from, depth, seen)}`
}

function explainFrom(from, depth, seen) {
  if (!from.name && !from.version) return 'the root project'
  const id = `${from.name}@${from.version}:${from.location}`
  if (seen.has(id)) return printNode(from)
  seen.add(id)
  const result = printNode(from) + explainDependents(from, depth - 1, seen) + explainLinksIn(from, depth - 1, seen)
  seen.delete(id)
  return result
}

/** `npm explain` text for a list of explanations. */
function whyText(explanations) {
  return explanations.map((e) => explainNode(e, Infinity)).join('\n\n')
}

// npm outdated.

/** text-table with npm outdated's alignment: two spaces apart, trailing spaces trimmed. */
function table(rows, align) {
  const widths = []
  for (const row of rows) row.forEach((c, i) => { widths[i] = Math.max(widths[i] || 0, String(c).length) })
  return rows.map((row) => row.map((c, i) => {
    const pad = ' '.repeat(widths[i] - String(c).length)
    return align[i] === 'r' ? pad + c : c + pad
  }).join('  ').replace(/\s+$/, '')).join('\n')
}

function outdatedText(list, { long } = {}) {
  if (!list.length) return ''
  const head = ['Package', 'Current', 'Wanted', 'Latest', 'Location', 'Depended by',
    ...(long ? ['Package Type', 'Homepage', 'Depended By Location'] : [])]
  const rows = list.map((d) => [
    d.name,
    d.current ?? 'MISSING',
    d.wanted,
    d.latest,
    d.location ?? '-',
    d.workspaceDependent ?? d.dependent,
    ...(long ? [d.type, '', d.dependedByLocation] : [])
  ])
  return table([head, ...rows], ['l', 'r', 'r', 'r', 'l'])
}

/** `npm outdated --json`: by name; a name outdated in several places holds an array. */
function outdatedJson(list, { long } = {}) {
  const acc = {}
  for (const d of list) {
    const dep = {
      current: d.current,
      wanted: d.wanted,
      latest: d.latest,
      dependent: d.dependent,
      location: d.path,
      ...(long ? { type: d.type, dependedByLocation: d.dependedByLocation } : {})
    }
    acc[d.name] = acc[d.name] ? [].concat(acc[d.name], dep) : dep
  }
  return acc
}

function outdatedParseable(list) {
  return list.map((d) => [
    d.path, `${d.name}@${d.wanted}`, d.current ? `${d.name}@${d.current}` : 'MISSING', `${d.name}@${d.latest}`, d.dependent
  ].join(':')).join('\n')
}

// Commands whose answer is data to print, not an install summary.
const QUERY_COMMANDS = ['ls', 'why', 'outdated']

module.exports = { QUERY_COMMANDS, archy, lsText, lsJson, lsFails, whyText, outdatedText, outdatedJson, outdatedParseable }
