#!/usr/bin/env bash
# Throughput of `metaconform serve` (GET and POST metadata) against a
# minimal hyper "hello" server measured in the same run as the ceiling.
# Server on CPU 0, wrk on CPU 1, for both. Not a test: run it by hand.
#
#   cargo build --release --bin metaconform --example hello
#   benches/throughput.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
T=${CARGO_TARGET_DIR:-target}/release
SECS=${1:-10}
CONNS=${2:-32}
WORK=$(mktemp -d)
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

HELLO_RPS=$(run "$HELLO/")
GET_RPS=$(run -H "X-Auth-Token: $TOKEN" "$EP/servers/$S/metadata")
POST_RPS=$(run -s "$WORK/post.lua" -H "X-Auth-Token: $TOKEN" "$EP/servers/$S/metadata")
# Non-2xx answers would make the numbers meaningless.
if grep -q 'Non-2xx' "$WORK/wrk.log"; then echo "error: non-2xx answers:" >&2; grep 'Non-2xx' "$WORK/wrk.log" >&2; exit 1; fi

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * a / b }'; }
echo "hello ceiling:  $HELLO_RPS req/s"
echo "GET metadata:   $GET_RPS req/s ($(pct "$GET_RPS" "$HELLO_RPS") of ceiling)"
echo "POST metadata:  $POST_RPS req/s ($(pct "$POST_RPS" "$HELLO_RPS") of ceiling)"
