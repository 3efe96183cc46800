'use strict'
// `brisk run`, `test`, `start`, `exec`: print what npm prints around a
// script (`> name@version event` and the command line), list the scripts,
// and exit with the script's own exit code, as npm does.

const brisk = require('../brisk.js')

/** npm's listing of `npm run` with no script. */
function listing(result, many) {
  const lines = []
  const { scripts, lifecycle } = result
  const names = Object.keys(scripts)
  if (!names.length) return lines
  const indent = many ? '  ' : ''
  if (many) lines.push(`${result.id || result.dir}:`)
  const show = (name) => lines.push(`${indent}  ${name}`, `${indent}    ${scripts[name]}`)
  if (lifecycle.length) {
    lines.push(`${indent}Lifecycle scripts included in ${result.id || result.dir}:`)
    lifecycle.forEach(show)
  }
  const other = names.filter((n) => !lifecycle.includes(n))
  if (other.length) {
    lines.push(`${indent}available via \`brisk run\`:`)
    other.forEach(show)
  }
  return lines
}

async function main(cmd, printError) {
  const { options, output } = cmd
  // npm's variables of the command: which one ran, and how to call it again.
  const env = { ...(options.env || process.env), npm_command: cmd.command === 'exec' ? 'exec' : cmd.command === 'run' ? 'run-script' : cmd.command }
  env.npm_execpath = require.resolve('./brisk.js')
  const onScript = output.silent || output.json
    ? undefined
    : ({ id, event, command }) => process.stdout.write(`\n> ${id ? `${id} ` : ''}${event}\n> ${command}\n\n`)
  try {
    if (cmd.operation === 'exec') {
      const r = await brisk.exec({ ...options, env })
      if (r.signal) return resendSignal(r.signal)
      return r.code
    }
    const results = await brisk.run({ ...options, env, onScript })
    if (options.script === undefined && !output.silent) {
      const many = results.length > 1
      const lines = results.flatMap((r) => listing(r, many))
      if (lines.length) process.stdout.write(lines.join('\n') + '\n')
    }
    return 0
  } catch (err) {
    if (err && Array.isArray(err.errors)) {
      // Across workspaces: each failure as npm logs it, then the last one's exit code.
      for (const e of err.errors) printError(e, output)
      if (err.signal) return resendSignal(err.signal)
      return err.exitCode
    }
    if (err && err.code === 'E_SCRIPT' && err.exitCode !== undefined) {
      printError(err)
      if (err.signal) return resendSignal(err.signal)
      return err.exitCode
    }
    printError(err, output)
    return 1
  }
}

/** npm exits the way the script did: killed by a signal, it kills itself with it. */
function resendSignal(signal) {
  process.removeAllListeners(signal)
  process.kill(process.pid, signal)
  return 1
}

module.exports = { main, listing }
