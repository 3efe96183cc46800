#!/usr/bin/env bash
# Fuzz smoke: runs every fuzz target briefly from its seeds (fuzz/seeds/<target>),
# so a parser that panics on malformed input fails `npm test`.
#
#   FUZZ_SECONDS=180 scripts/fuzz-smoke.sh            # longer runs
#   FUZZ_SECONDS=600 scripts/fuzz-smoke.sh tarball    # one target
#
# Stable Rust only: `--sanitizer none` is the cargo-fuzz mode that needs no
# nightly. Crash inputs land in fuzz/artifacts/<target>/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-15}"
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  targets=(packument package_json lockfile tarball spec npmrc)
fi
# The same flags for build and run, so `run` does not build again.
flags=(--sanitizer none --release --debug-assertions)

# libfuzzer-sys builds libFuzzer from C++: a machine with only Rust and
# Node may lack the compiler (Debian's g++ installs it where we are root).
if ! command -v c++ >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "fuzz-smoke: installing g++ (libFuzzer is C++)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null
  else
    echo "fuzz-smoke: no C++ compiler (c++) to build libFuzzer with; install g++ or clang" >&2
    exit 1
  fi
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz-smoke: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

start=$(date +%s)
cargo fuzz build "${flags[@]}"
echo "fuzz-smoke: built in $(($(date +%s) - start)) s"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=0
for t in "${targets[@]}"; do
  # A scratch corpus: what the run adds must not land in the repo.
  corpus="$work/corpus/$t"
  mkdir -p "$corpus"
  cp fuzz/seeds/"$t"/* "$corpus"/
  log="$work/$t.log"
  if cargo fuzz run "$t" "${flags[@]}" "$corpus" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    echo "fuzz-smoke: $t ok (${runs:-?} runs in ${seconds} s)"
  else
    failed=1
    echo "fuzz-smoke: $t FAILED" >&2
    grep -a -A 2 'panicked at\|ERROR: libFuzzer' "$log" >&2 || tail -n 40 "$log" >&2
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    if [ -n "$artifact" ]; then
      echo "fuzz-smoke: crash input: $artifact" >&2
      echo "fuzz-smoke: reproduce: cargo fuzz run $t ${flags[*]} $artifact" >&2
    fi
  fi
done
echo "fuzz-smoke: done in $(($(date +%s) - start)) s"
exit "$failed"
