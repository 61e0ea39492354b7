#!/usr/bin/env bash
# Throughput of `metaconform serve` (GET and POST metadata) against a minimal
# hyper "hello" server measured in the same run as the ceiling. Both servers
# are pinned to CPU 0 and wrk to CPU 1 (taskset), same connections and time.
#
#   bash benches/serve.sh [SECONDS] [CONNECTIONS]
#
# Needs: wrk (Debian package `wrk`), a release build (the script builds it).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
conns=${2:-32}
command -v wrk >/dev/null || { echo "install wrk: apt-get install -y wrk" >&2; exit 2; }
cargo build --release --quiet --bin metaconform --example hello_server
bin=target/release/metaconform
hello=target/release/examples/hello_server
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

# Start a server pinned to CPU 0 and print the first stdout line it writes.
start() {
  local out=$tmp/$1.out
  shift
  taskset -c 0 "$@" >"$out" 2>"$tmp/err.log" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
  head -n1 "$out"
}

rps() { awk '/Requests\/sec/ {print $2}'; }

hello_url=$(start hello "$hello" 127.0.0.1:0)
info=$(start mock "$bin" serve --listen 127.0.0.1:0 --dialect nova --servers 1)
endpoint=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["endpoint"])' "$info")
token=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"])' "$info")
server=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["servers"][0])' "$info")
url="$endpoint/servers/$server/metadata"

cat >"$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"metadata": {"bench": "value"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Auth-Token"] = "$token"
LUA
cat >"$tmp/get.lua" <<LUA
wrk.headers["X-Auth-Token"] = "$token"
LUA

run() { taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" "$@" | rps; }
hello_get=$(run "$hello_url/")
mock_get=$(run -s "$tmp/get.lua" "$url")
hello_post=$(run -s "$tmp/post.lua" "$hello_url/")
mock_post=$(run -s "$tmp/post.lua" "$url")

printf 'connections=%s duration=%ss (server on CPU 0, wrk on CPU 1)\n' "$conns" "$secs"
printf '%-22s %12s %12s %8s\n' request hello_rps mock_rps ratio
for op in get post; do
  h=hello_$op; m=mock_$op
  printf '%-22s %12.0f %12.0f %7.0f%%\n' "$op metadata" "${!h}" "${!m}" \
    "$(python3 -c "print(100*${!m}/${!h})")"
done
