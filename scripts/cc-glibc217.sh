#!/bin/sh
# The C compiler of the portable Linux build (npm run pack:all). napi's
# --use-napi-cross toolchain links against glibc 2.17, but its gcc is 4.8 and
# libdeflate needs 4.9 or newer: C is compiled by the machine's own gcc
# (BRISK_HOST_CC to pick another) against the toolchain's sysroot, whose path
# napi exports as TARGET_SYSROOT. Linking stays with the toolchain's gcc.
if [ -z "$TARGET_SYSROOT" ]; then
  echo "cc-glibc217: TARGET_SYSROOT is not set (run through napi build --use-napi-cross)" >&2
  exit 1
fi
exec "${BRISK_HOST_CC:-gcc}" --sysroot="$TARGET_SYSROOT" "$@"
