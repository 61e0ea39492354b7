#!/usr/bin/env bash
# Fuzzer self-test: every semantic fault of the mock must be found (and
# shrunk) within the default budget, and the fault-free mock must give zero
# findings. Usage: .ci/fuzz-all.sh [SEED]   (FUZZ_BUDGET=60s by default)
set -euo pipefail
cd "$(dirname "$0")/.."
seed="${1:-1}"
budget="${FUZZ_BUDGET:-60s}"
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/metaconform"

echo "== fault-free server: zero findings expected (budget $budget, seed $seed)"
"$bin" fuzz --seed "$seed" --budget "$budget" --jobs 2 | tail -n 3

failed=()
# Faults that take a parameter (latency, reset, error500) are transport
# noise, not semantic faults: they are not part of this loop.
for fault in $("$bin" serve --list-faults | awk '$1 !~ /=/ {print $1}'); do
  set +e
  out="$("$bin" fuzz --seed "$seed" --budget "$budget" --until-found --fault "$fault" 2>&1)"
  code=$?
  set -e
  if [ "$code" -eq 1 ]; then
    echo "found  $fault: $(grep -m1 -E '^\[|^stopped early' <<<"$out")"
  else
    echo "MISSED $fault (exit $code)"
    failed+=("$fault")
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "faults not found: ${failed[*]}"
  exit 1
fi
echo "every fault found"
