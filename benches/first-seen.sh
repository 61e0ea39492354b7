#!/usr/bin/env bash
# How soon the fuzzer finds each semantic fault of the mock: the request
# count at which the first finding was first seen, with and without the
# coverage phase, over the same seeds. Prints a Markdown table.
#
#   bash benches/first-seen.sh [SEEDS...]      (default seeds: 1 2 3)
#
# Each campaign runs against the embedded server with one fault, one
# worker, --until-found and at most 400 random sequences; "—" means the
# fault was not found within that.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=("${@:-1 2 3}")
read -r -a seeds <<< "${seeds[*]}"
cargo build --quiet --release
bin=target/release/metaconform
mapfile -t faults < <("$bin" serve --list-faults | awk '{print $1}' | grep -v '=' \
    | grep -v -x -e truncate-body -e non-json-body -e echo-token -e lone-surrogate)

first_seen() { # fault seed [flags...]
    local fault=$1 seed=$2
    shift 2
    "$bin" fuzz --fault "$fault" --seed "$seed" --until-found --sequences 400 \
        --shrink-budget 2s "$@" 2>/dev/null \
        | grep -o 'first seen at request [0-9]*' | awk '{print $5}' | sort -n | head -1
}

echo "| fault | seed | random only | coverage phase first |"
echo "|---|---|---|---|"
for fault in "${faults[@]}"; do
    for seed in "${seeds[@]}"; do
        before=$(first_seen "$fault" "$seed" --no-coverage-phase || true)
        after=$(first_seen "$fault" "$seed" || true)
        echo "| $fault | $seed | ${before:-—} | ${after:-—} |"
    done
done
