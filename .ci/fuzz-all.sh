#!/usr/bin/env bash
# Fuzzer self-test. Passes only when:
#  - the fault-free mock gives zero findings (exit 0; with --jobs 2, so a
#    crashed worker, exit 4, fails here);
#  - the mock lists at least MIN_SEMANTIC semantic faults (an empty or short
#    list is an error, never "every fault found");
#  - every semantic fault is found (exit 1; an abort or an unsaved finding
#    exits 4 and counts as missed), its shrunk repro is saved with --save,
#    and each saved case, replayed with `metaconform run`, fails on the
#    mock with that fault and passes on the fault-free mock.
#
# Usage: .ci/fuzz-all.sh [SEED]
#   FUZZ_BUDGET=60s      wall budget of each campaign (default 60s)
#   FUZZ_SEQUENCES=N     run N sequences per campaign instead of a budget
#   FUZZ_ONLY=REGEX      only the semantic faults whose name matches (the
#                        list must still not be empty)
#   METACONFORM_BIN=PATH the binary to test (default: cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."

# The semantic faults the mock had when this script was written: fewer
# listed means faults were lost (or the listing broke), not "all found".
readonly MIN_SEMANTIC=16

seed="${1:-1}"
if [ -n "${FUZZ_SEQUENCES:-}" ]; then
  stop=(--sequences "$FUZZ_SEQUENCES")
else
  stop=(--budget "${FUZZ_BUDGET:-60s}")
fi
if [ -n "${METACONFORM_BIN:-}" ]; then
  bin="$METACONFORM_BIN"
else
  cargo build --release --quiet
  bin="${CARGO_TARGET_DIR:-target}/release/metaconform"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The list is captured by an assignment, so a failing `--list-faults` stops
# the script (set -e does not see a failure inside `for x in $(...)`).
listing="$("$bin" serve --list-faults semantic)"
mapfile -t faults < <(awk 'NF {print $1}' <<<"$listing")
if [ -n "${FUZZ_ONLY:-}" ]; then
  mapfile -t faults < <(printf '%s\n' "${faults[@]}" | grep -E -- "$FUZZ_ONLY" || true)
  if [ "${#faults[@]}" -eq 0 ]; then
    echo "error: FUZZ_ONLY='$FUZZ_ONLY' selects no semantic fault" >&2
    exit 2
  fi
elif [ "${#faults[@]}" -lt "$MIN_SEMANTIC" ]; then
  echo "error: serve --list-faults semantic lists ${#faults[@]} fault(s), at least $MIN_SEMANTIC expected:" >&2
  printf '  %s\n' "${faults[@]}" >&2
  exit 2
fi

echo "== fault-free server: zero findings expected (${stop[*]}, seed $seed, --jobs 2)"
set +e
"$bin" fuzz --seed "$seed" "${stop[@]}" --jobs 2 >"$work/clean.out" 2>&1
code=$?
set -e
tail -n 3 "$work/clean.out"
case "$code" in
  0) ;;
  1) echo "error: findings on the fault-free server (false positives)" >&2; exit 1 ;;
  4) echo "error: the fault-free campaign aborted (exit 4):" >&2; tail -n 5 "$work/clean.out" >&2; exit 1 ;;
  *) echo "error: the fault-free campaign exited $code" >&2; tail -n 5 "$work/clean.out" >&2; exit 1 ;;
esac

# replay FILE FAULT: the saved case must fail with FAULT and pass without.
replay() {
  local file="$1" fault="$2" id out
  id="$(sed -n 's/^  id: *//p' "$file" | head -n 1)"
  if [ -z "$id" ]; then
    echo "no case id in $file"
    return 1
  fi
  # Only the saved case runs: its exact id selects it whether --cases
  # replaces or adds to the built-in catalogue; --no-props leaves out the
  # property trials.
  local -a select=(--cases "$(dirname "$file")" --exact "$id" --no-props)
  out="$work/replay"
  mkdir -p "$out"
  verdict() {
    python3 - "$1" "$id" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["cases"]
cases = [c for c in results if c["id"] == sys.argv[2]]
root = [c["id"] for c in results if c["id"].startswith("setup::") and c["verdict"] == "fail"]
if len(cases) != 1:
    print(f"ran {len(cases)} times")
elif cases[0].get("skip_kind") == "blocked" and root:
    # The fault broke a primitive the runner sets every case up with: the
    # run's root-cause finding (setup::...) is the reproduction.
    print("blocked-by-" + root[0])
else:
    print(cases[0]["verdict"])
PY
  }
  set +e
  "$bin" run "${select[@]}" --fault "$fault" --json "$out/faulty.json" --junit "$out/faulty.xml" >"$out/faulty.log" 2>&1
  local faulty=$?
  "$bin" run "${select[@]}" --json "$out/clean.json" --junit "$out/clean.xml" >"$out/clean.log" 2>&1
  local clean=$?
  set -e
  local on_faulty on_clean
  on_faulty="$(verdict "$out/faulty.json" 2>/dev/null || echo "no results")"
  on_clean="$(verdict "$out/clean.json" 2>/dev/null || echo "no results")"
  if [ "$faulty" -eq 1 ] && { [ "$on_faulty" = fail ] || [ "$on_faulty" = error ] \
      || [[ "$on_faulty" == blocked-by-setup::* ]]; } \
    && [ "$clean" -eq 0 ] && [ "$on_clean" = pass ]; then
    return 0
  fi
  echo "replay of $id: with the fault exit $faulty ($on_faulty), without exit $clean ($on_clean)"
  return 1
}

failed=()
for fault in "${faults[@]}"; do
  saved="$work/saved/$fault"
  set +e
  out="$("$bin" fuzz --seed "$seed" "${stop[@]}" --until-found --fault "$fault" --save "$saved" 2>&1)"
  code=$?
  set -e
  case "$code" in
    1) ;;
    0) echo "MISSED  $fault: no finding"; failed+=("$fault"); continue ;;
    4) echo "ABORTED $fault: $(grep -m1 -E '^stopped early|not saved|crashed' <<<"$out" || echo 'exit 4')"; failed+=("$fault"); continue ;;
    *) echo "ERROR   $fault: exit $code: $(tail -n 1 <<<"$out")"; failed+=("$fault"); continue ;;
  esac
  mapfile -t files < <(find "$saved" -name '*.yaml' 2>/dev/null | sort)
  if [ "${#files[@]}" -eq 0 ]; then
    echo "UNSAVED $fault: found but no case file in $saved"
    failed+=("$fault")
    continue
  fi
  problems=""
  for file in "${files[@]}"; do
    problems+="$(replay "$file" "$fault" || true)"
  done
  if [ -n "$problems" ]; then
    echo "NO REPRO $fault: $problems"
    failed+=("$fault")
    continue
  fi
  echo "found   $fault: $(grep -m1 -E '^\[' <<<"$out"), ${#files[@]} repro(s) replayed"
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "faults not found, or not reproduced by their saved case: ${failed[*]}"
  exit 1
fi
echo "every fault found (${#faults[@]}), each saved repro fails with its fault and passes without"
