#!/usr/bin/env bash
# What the reporters cost: the whole catalogue against the embedded server,
# with every report file written (results.json, JUnit, the HTML report, the
# Markdown summary, the subunit stream), and with none (the hidden
# --no-report-files; the terminal's summary is printed in both), in
# interleaved rounds
# (off, on, off, on, ...) so machine load hits both alike; prints each
# round and the median ratio on/off. Target: under 1.10.
#
#   benches/reporters.sh [ROUNDS]     (default 7; builds --release first)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-7}
cargo build --quiet --release
bin=${CARGO_TARGET_DIR:-target}/release/metaconform
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

seconds() { # the wall time of one catalogue run, in seconds
    local start end
    start=$(date +%s.%N)
    "$bin" run --jobs 2 "$@" > /dev/null || [ $? -eq 1 ]
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

off=() on=()
for round in $(seq "$rounds"); do
    a=$(seconds --no-report-files)
    b=$(seconds --junit "$work/junit.xml" --json "$work/results.json" \
        --html "$work/report.html" --markdown "$work/summary.md" --subunit "$work/run.subunit")
    off+=("$a") on+=("$b")
    printf 'round %d: off %.2fs, on %.2fs (%+.1f%%)\n' "$round" "$a" "$b" \
        "$(echo "($b / $a - 1) * 100" | bc -l)"
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
m_off=$(median "${off[@]}") m_on=$(median "${on[@]}")
printf 'median: off %.2fs, on %.2fs, ratio %.3f (%s KB results.json, %s KB junit.xml)\n' \
    "$m_off" "$m_on" "$(echo "$m_on / $m_off" | bc -l)" \
    "$(( $(stat -c %s "$work/results.json") / 1024 ))" "$(( $(stat -c %s "$work/junit.xml") / 1024 ))"
