//! Test helpers: build `.tgz` tarballs in memory, including malformed ones.

use std::io::{Read, Write};

/// One tar entry. Names are written verbatim (no validation), so tests can
/// build archives with `../` or absolute paths.
pub(crate) enum Entry<'a> {
    File(&'a str, &'a [u8], u32),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
}

/// A gzip'd tar of `entries`, in order.
pub(crate) fn tgz(entries: &[Entry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_old();
        let (name, data, mode, kind): (&str, &[u8], u32, tar::EntryType) = match entry {
            Entry::File(name, data, mode) => (name, data, *mode, tar::EntryType::Regular),
            Entry::Dir(name) => (name, b"", 0o755, tar::EntryType::Directory),
            Entry::Symlink(name, target) => {
                header.set_link_name(target).unwrap();
                (name, b"", 0o777, tar::EntryType::Symlink)
            }
        };
        let field = &mut header.as_old_mut().name;
        field.fill(0);
        field[..name.len()].copy_from_slice(name.as_bytes());
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_entry_type(kind);
        header.set_cksum();
        builder.append(&header, data).unwrap();
    }
    gzip(&builder.into_inner().unwrap())
}

pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

pub(crate) fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// A small valid package `name@1.0.0` with one file.
pub(crate) fn simple_package(name: &str) -> Vec<u8> {
    let manifest = format!(r#"{{"name":"{name}","version":"1.0.0"}}"#);
    tgz(&[
        Entry::File("package/package.json", manifest.as_bytes(), 0o644),
        Entry::File("package/index.js", b"module.exports = 1\n", 0o644),
    ])
}
