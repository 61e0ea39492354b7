#!/usr/bin/env bash
# Re-record genuine Nova's answers for the differential test (issue 8):
# start Nova 34 (contrib/nova-peer) and `metaconform serve --dialect nova`,
# run the catalogue against the mock with every identity (its results hold
# every metadata request a run makes), and the nova-legacy catalogue against
# its legacy /v2 (spec §6.1), send those requests and the
# transport-level scenarios to Nova, write tests/data/nova-recording.json,
# then replay it against the mock and print the comparison.
#
#   DIFFERENTIAL_OUT   scratch folder (default reports/differential)
#   NOVA_PEER_VENV     as in contrib/nova-peer/start.sh
#   CARGO_TARGET_DIR   honoured by cargo as usual
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TERM_COLOR=never
out="${DIFFERENTIAL_OUT:-reports/differential}"
recording=tests/data/nova-recording.json
known=contrib/differential/known-divergences.yaml

cargo build --quiet --bin metaconform --example differential
bin="${CARGO_TARGET_DIR:-target}/debug"

# shellcheck source=contrib/nova-peer/start.sh
source contrib/nova-peer/start.sh
nova_startup="$startup"

echo "== the catalogue against metaconform serve (every identity, 4 servers)"
mock_startup="$out/mock-startup.json"
"$bin/metaconform" serve --listen 127.0.0.1:0 --dialect nova --servers 4 \
    > "$mock_startup" 2> "$out/mock.err" &
mock_pid=$!
stop_all() { kill -TERM "$mock_pid" 2>/dev/null || true; wait "$mock_pid" 2>/dev/null || true; stop_server; }
trap stop_all EXIT
until [[ -s "$mock_startup" ]]; do sleep 0.2; done
mock() { "$NOVA_PEER_VENV/bin/python" -c '
import json, sys
v = json.loads(open(sys.argv[1]).readline())[sys.argv[2]]
print(" ".join(v) if isinstance(v, list) else v)' "$mock_startup" "$1"; }
args=(--endpoint "$(mock endpoint)" --project-id "$(mock project_id)" --token "$(mock token)"
      --admin-token "$(mock admin_token)" --reader-token "$(mock reader_token)"
      --alt-token "$(mock alt_token)" --alt-project-id "$(mock alt_project_id)"
      --journal-dir "$out")
for s in $(mock servers); do args+=(--server "$s"); done
for s in $(mock alt_servers); do args+=(--alt-server "$s"); done
# The create cases (mr.create.*) are left out: server creation is not a
# metadata request, so no scenario is made of them.
"$bin/metaconform" run "${args[@]}" --no-props --jobs 2 --skip mr.create \
    --json "$out/catalogue.json" --junit "$out/catalogue.xml" | tail -n 1
echo "== the nova-legacy catalogue against the mock's legacy /v2"
root="$(mock endpoint)"; root="${root%/v2.1/*}"
"$bin/metaconform" run --dialect nova-legacy "${args[@]:2}" --skip mr.create \
    --endpoint "$root/v2/$(mock project_id)" --no-props --jobs 2 \
    --json "$out/catalogue-legacy.json" --junit "$out/catalogue-legacy.xml" | tail -n 1

echo "== recording Nova"
"$bin/examples/differential" record --target "$nova_startup" \
    --catalogue "$out/catalogue.json" --catalogue-startup "$mock_startup" \
    --legacy-catalogue "$out/catalogue-legacy.json" --out "$recording"

echo "== replaying the recording against Nova itself (must agree: Nova is deterministic here)"
"$bin/examples/differential" replay --recording "$recording" --target "$nova_startup" --details \
    | tail -n 1

echo "== replaying the recording against the mock"
"$bin/examples/differential" replay --recording "$recording" --target "$mock_startup" \
    --known "$known" --details
