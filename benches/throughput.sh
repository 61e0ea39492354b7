#!/usr/bin/env bash
# Throughput of `metaconform serve` (GET and POST metadata) against a
# minimal hyper "hello" server as the ceiling, in interleaved short rounds
# (hello, GET, POST, hello, GET, POST, ...) so that load from other users
# hits all three alike. Prints each round and the MEDIAN of the per-round
# ratios GET/hello and POST/hello. Server on CPU 0, wrk on CPU 1.
# Not a test: run it by hand.
#
#   cargo build --release --bin metaconform --example hello
#   benches/throughput.sh [seconds per measurement] [rounds] [connections]
#                                       (defaults: 2 s, 7 rounds, 32 connections)
set -euo pipefail
cd "$(dirname "$0")/.."
T=${CARGO_TARGET_DIR:-target}/release
SECS=${1:-2}
ROUNDS=${2:-7}
CONNS=${3:-32}
WORK=$(mktemp -d)
SERVE_PID='' HELLO_PID=''
trap 'kill $SERVE_PID $HELLO_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT

taskset -c 0 "$T/metaconform" serve --listen 127.0.0.1:0 --servers 1 >"$WORK/serve.json" 2>/dev/null &
SERVE_PID=$!
taskset -c 0 "$T/examples/hello" 127.0.0.1:0 >"$WORK/hello.url" &
HELLO_PID=$!
for _ in $(seq 50); do [ -s "$WORK/serve.json" ] && [ -s "$WORK/hello.url" ] && break; sleep 0.1; done

EP=$(jq -r .endpoint "$WORK/serve.json")
TOKEN=$(jq -r .token "$WORK/serve.json")
S=$(jq -r '.servers[0]' "$WORK/serve.json")
HELLO=$(cat "$WORK/hello.url")
cat >"$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"metadata": {"bench": "value"}}'
wrk.headers["Content-Type"] = "application/json"
LUA

rps() { grep -E '^Requests/sec' | awk '{print $2}'; }
run() { taskset -c 1 wrk -t1 -c"$CONNS" -d"${SECS}s" "$@" | tee -a "$WORK/wrk.log" | rps; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
pct() { awk -v r="$1" 'BEGIN { printf "%.0f%%", 100 * r }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

# One unmeasured warm-up of each, so the first round does not pay for it.
SECS=1 run "$HELLO/" >/dev/null
SECS=1 run -H "X-Auth-Token: $TOKEN" "$EP/servers/$S/metadata" >/dev/null
: >"$WORK/wrk.log"

GET_R=() POST_R=() HELLO_ALL=()
for round in $(seq "$ROUNDS"); do
    H=$(run "$HELLO/")
    G=$(run -H "X-Auth-Token: $TOKEN" "$EP/servers/$S/metadata")
    P=$(run -s "$WORK/post.lua" -H "X-Auth-Token: $TOKEN" "$EP/servers/$S/metadata")
    GR=$(ratio "$G" "$H") PR=$(ratio "$P" "$H")
    GET_R+=("$GR") POST_R+=("$PR") HELLO_ALL+=("$H")
    printf 'round %d: hello %9.0f  GET %9.0f (%s)  POST %9.0f (%s) req/s\n' \
        "$round" "$H" "$G" "$(pct "$GR")" "$P" "$(pct "$PR")"
done
# Non-2xx answers would make the numbers meaningless.
if grep -q 'Non-2xx' "$WORK/wrk.log"; then echo "error: non-2xx answers:" >&2; grep 'Non-2xx' "$WORK/wrk.log" >&2; exit 1; fi

MG=$(median "${GET_R[@]}") MP=$(median "${POST_R[@]}")
echo "ceiling (hello) median: $(median "${HELLO_ALL[@]}") req/s over $ROUNDS rounds of ${SECS}s"
echo "median ratio GET/hello:  $MG ($(pct "$MG"))"
echo "median ratio POST/hello: $MP ($(pct "$MP"))"
