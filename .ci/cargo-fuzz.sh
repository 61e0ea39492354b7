#!/usr/bin/env bash
# Builds the cargo-fuzz crate (fuzz/, its own workspace) and runs every
# target for a fixed number of executions, so the targets cannot rot and a
# setup that panics (a profile that stops loading, a mock that stops
# starting) fails CI. About a minute in all on the 2-core machine.
#
# Usage: .ci/cargo-fuzz.sh          FUZZ_RUNS=N executions per target
#                                   (default 20000)
# Needs a nightly toolchain (sanitizers); installs cargo-fuzz when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${FUZZ_RUNS:-20000}"

if rustup toolchain list | grep -q '^nightly'; then
  toolchain=(+nightly)
  sanitizer=address
else
  # No nightly here: the stable compiler with nightly flags allowed builds
  # the targets without a sanitizer (libFuzzer itself still runs).
  echo "note: no nightly toolchain; building with stable, RUSTC_BOOTSTRAP=1 and --sanitizer none"
  export RUSTC_BOOTSTRAP=1
  toolchain=()
  sanitizer=none
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
cargo fuzz --version

cd fuzz
listing="$(cargo "${toolchain[@]}" fuzz list)"
mapfile -t targets <<<"$listing"
if [ "${#targets[@]}" -lt 5 ] || [ -z "${targets[0]}" ]; then
  echo "error: cargo fuzz list names ${#targets[@]} target(s), 5 expected: ${targets[*]}" >&2
  exit 1
fi
echo "== build (${targets[*]})"
cargo "${toolchain[@]}" fuzz build --sanitizer "$sanitizer"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for target in "${targets[@]}"; do
  echo "== $target: $runs executions"
  # -runs bounds the work, not the time; no corpus dir is kept between
  # CI runs, so each run starts from the same empty corpus.
  if ! cargo "${toolchain[@]}" fuzz run --sanitizer "$sanitizer" "$target" -- \
    -runs="$runs" -seed=1 -max_len=4096 >"$log" 2>&1; then
    echo "error: cargo-fuzz target $target failed:" >&2
    grep -m 3 -A 2 'panicked at' "$log" >&2 || true
    tail -n 20 "$log" >&2
    exit 1
  fi
  grep -E '^Done [0-9]+ runs' "$log" || tail -n 1 "$log"
done
echo "every cargo-fuzz target built and ran $runs executions"
