#!/usr/bin/env bash
# Usage: check-stestr.sh STREAM EXPECTED_EXIT
# Loads a `metaconform run --subunit` stream into a fresh stestr repository
# and checks that `stestr last`, stestr's own verdict on it, agrees with the
# run's exit code (0 green, 1 gating failures).
set -euo pipefail
stream=$(realpath "$1")
want=$2
repo=$(mktemp -d)
trap 'rm -rf "$repo"' EXIT
cd "$repo"
python3 -m stestr init >/dev/null
python3 -m stestr load < "$stream" >/dev/null || true
status=0
python3 -m stestr last > last.txt || status=$?
if [ "$status" -ne "$want" ]; then
  echo "stestr last says $status for $stream, the run said $want:" >&2
  tail -20 last.txt >&2
  exit 1
fi
echo "$stream: stestr loads it; stestr last exits $status as the run did ($(grep -E '^ - (Passed|Failed|Skipped|Expected Fail)' last.txt | tr -d '\n' | sed 's/ - / /g'))"
