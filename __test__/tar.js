'use strict'
// A small ustar writer, enough to build npm-style package tarballs in memory.
// Entries are written exactly as given (no path normalisation), so tests can
// also build hostile tarballs (`package/../evil`, symlinks).

const zlib = require('node:zlib')

const BLOCK = 512
// npm pack stamps every entry with this date (1985-10-26T08:15:00Z).
const NPM_MTIME = 499162500

function writeString(buf, offset, length, value) {
  const bytes = Buffer.from(value, 'utf8')
  if (bytes.length > length) throw new Error(`tar: "${value}" is longer than ${length} bytes`)
  bytes.copy(buf, offset)
}

function writeOctal(buf, offset, length, value) {
  // length - 1 octal digits followed by a NUL.
  const text = value.toString(8).padStart(length - 1, '0')
  writeString(buf, offset, length, text + '\0')
}

/** Split a path into ustar's prefix (155 bytes) and name (100 bytes). */
function splitName(path) {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path }
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== '/') continue
    const prefix = path.slice(0, i)
    const name = path.slice(i + 1)
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { prefix, name }
  }
  throw new Error(`tar: path too long for ustar: ${path}`)
}

const TYPES = { file: '0', link: '1', symlink: '2', dir: '5' }

function header({ path, size = 0, mode = 0o644, type = 'file', linkname = '', mtime = NPM_MTIME }) {
  const buf = Buffer.alloc(BLOCK)
  const { prefix, name } = splitName(path)
  writeString(buf, 0, 100, name)
  writeOctal(buf, 100, 8, mode)
  writeOctal(buf, 108, 8, 0) // uid
  writeOctal(buf, 116, 8, 0) // gid
  writeOctal(buf, 124, 12, size)
  writeOctal(buf, 136, 12, mtime)
  buf.fill(0x20, 148, 156) // checksum is computed with this field as spaces
  writeString(buf, 156, 1, TYPES[type])
  writeString(buf, 157, 100, linkname)
  writeString(buf, 257, 6, 'ustar\0')
  writeString(buf, 263, 2, '00')
  writeString(buf, 345, 155, prefix)
  let sum = 0
  for (const byte of buf) sum += byte
  writeString(buf, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ')
  return buf
}

/**
 * Build an uncompressed tar archive.
 * @param {Array<{path: string, content?: string|Buffer, mode?: number,
 *   type?: 'file'|'dir'|'symlink'|'link', linkname?: string}>} entries
 */
function tar(entries) {
  const parts = []
  for (const entry of entries) {
    const type = entry.type || 'file'
    const data = type === 'file' ? Buffer.from(entry.content ?? '') : Buffer.alloc(0)
    parts.push(header({ ...entry, type, size: data.length, mode: entry.mode ?? (type === 'dir' ? 0o755 : 0o644) }))
    if (data.length) {
      parts.push(data)
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK
      if (pad) parts.push(Buffer.alloc(pad))
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2)) // end of archive
  return Buffer.concat(parts)
}

/** Build a gzipped tarball (`.tgz`). */
function tgz(entries) {
  return zlib.gzipSync(tar(entries), { level: 9 })
}

module.exports = { tar, tgz, header, NPM_MTIME }
