#!/usr/bin/env bash
# The catalogue's speed against genuine OpenStack Nova 34.0.0 (contrib/nova-peer),
# measured in one run (issue 7): Nova's plain GET rate, then `metaconform run`
# with every identity, --jobs 2 and --jobs 1, each timed and its requests
# counted and broken down (benches/nova-peer-report.py). Target: wall time at
# most 1.5 x (requests sent / GET rate). Not a test: run it by hand, on an
# otherwise idle machine.
#
#   benches/nova-peer.sh
#
#   NOVA_PEER_VENV           venv (default ~/.cache/metaconform/nova-peer-venv)
#   NOVA_BENCH_OUT           output folder (default reports/nova-bench)
#   NOVA_BENCH_JOBS          job counts to run (default "2 1")
#   NOVA_BENCH_GETS          timed GETs for the rate (default 300, after 30 warm-up)
#   NOVA_BENCH_BASELINE      a past run's request count: also print wall against
#                            it, so sending fewer requests shows as a gain
#   NOVA_PEER_START_TIMEOUT  seconds to wait for the startup line (default 180)
#   CARGO_TARGET_DIR         where the release metaconform is (built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

out="${NOVA_BENCH_OUT:-reports/nova-bench}"
jobs_list="${NOVA_BENCH_JOBS:-2 1}"
gets="${NOVA_BENCH_GETS:-300}"
bin="${CARGO_TARGET_DIR:-target}/release/metaconform"
mkdir -p "$out"

if [[ ! -x "$bin" ]]; then
    echo "== building $bin"
    cargo build --release --quiet
fi

# shellcheck source=contrib/nova-peer/start.sh
source contrib/nova-peer/start.sh
py="$NOVA_PEER_VENV/bin/python"

# --- Nova's plain GET rate ---------------------------------------------------
# Sequential GET {endpoint}/servers/{id}/metadata on one keep-alive
# connection (the number the target is stated in); for the record also
# server show (what polls send, at 2.9 like metaconform) and the GET rate
# over two connections at once (what --jobs 2 could get at best).
echo "== Nova's plain GET rate ($gets requests after 30 warm-up)"
rate_json="$out/get-rate.json"
"$py" - "$(field endpoint)" "$(field token)" "$(field servers | cut -d' ' -f1)" "$gets" "$rate_json" <<'PY'
import http.client, json, sys, threading, time, urllib.parse
endpoint, token, server, n, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
url = urllib.parse.urlsplit(endpoint)
def timed(path, count, headers=None, warm=30):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    h = {"X-Auth-Token": token, "Accept": "application/json", **(headers or {})}
    def one():
        conn.request("GET", url.path + path, headers=h)
        r = conn.getresponse()
        r.read()
        if r.status != 200 or r.getheader("Connection", "").lower() == "close":
            raise SystemExit(f"GET {path}: {r.status} {r.getheader('Connection')}")
    for _ in range(warm):
        one()
    t = time.perf_counter()
    for _ in range(count):
        one()
    elapsed = time.perf_counter() - t
    conn.close()
    return count / elapsed
meta = f"/servers/{server}/metadata"
rate = timed(meta, n)
show = timed(f"/servers/{server}", max(n // 3, 50), {"X-OpenStack-Nova-API-Version": "2.9"})
rates = []
threads = [threading.Thread(target=lambda: rates.append(timed(meta, n // 2, warm=5))) for _ in range(2)]
for th in threads: th.start()
for th in threads: th.join()
json.dump({"get_metadata": rate, "get_server": show, "get_metadata_2conn": sum(rates)}, open(out, "w"))
print(f"  GET /servers/{{id}}/metadata, 1 connection:  {rate:6.1f} req/s  ({1000 / rate:.1f} ms)")
print(f"  GET /servers/{{id}} (2.9), 1 connection:     {show:6.1f} req/s  ({1000 / show:.1f} ms)")
print(f"  GET /servers/{{id}}/metadata, 2 connections: {sum(rates):6.1f} req/s together")
PY
rate=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["get_metadata"])' "$rate_json")

# --- the catalogue ------------------------------------------------------------
endpoint_flags=(
    --endpoint "$(field endpoint)"
    --project-id "$(field project_id)"
    --token "$(field token)"
    --admin-token "$(field same_project_admin_token)"
    --reader-token "$(field reader_token)"
    --alt-token "$(field alt_token)"
    --alt-project-id "$(field alt_project_id)"
    --journal-dir "$out")
for s in $(field servers); do endpoint_flags+=(--server "$s"); done
for s in $(field alt_servers); do endpoint_flags+=(--alt-server "$s"); done
# The create cases (mr.create.*) make their servers of serve.py's image and
# flavor, as in .ci/nova-peer.sh.
endpoint_flags+=(--image "$(field image)" --flavor "$(field flavor)")

rc=0
for jobs in $jobs_list; do
    echo "== metaconform run against Nova, --jobs $jobs"
    results="$out/results-jobs$jobs.json"
    from=$(stat -c %s "$log")
    t0=$(date +%s.%N)
    "$bin" run "${endpoint_flags[@]}" --jobs "$jobs" \
        --known-failures "$peer/known-failures.yaml" \
        --junit "$out/junit-jobs$jobs.xml" --json "$results" \
        > "$out/run-jobs$jobs.out" 2>&1 || rc=$?
    t1=$(date +%s.%N)
    sleep 1 # the access log line of the last request
    to=$(stat -c %s "$log")
    tail -n 3 "$out/run-jobs$jobs.out"
    if ((rc != 0)); then
        echo "nova-peer: metaconform run --jobs $jobs exited $rc (see $out/run-jobs$jobs.out)" >&2
        exit "$rc"
    fi
    wall=$("$py" -c "print(f'{$t1 - $t0:.2f}')")
    echo "== --jobs $jobs: GET rate $(printf %.1f "$rate") req/s, wall $wall s"
    "$py" benches/nova-peer-report.py "$results" "$log" "$from" "$to" "$wall" "$rate" "$jobs" "${NOVA_BENCH_BASELINE:-}" \
        | tee "$out/report-jobs$jobs.txt"
done
