#!/usr/bin/env bash
# metaconform against genuine OpenStack Nova 34.0.0 (contrib/nova-peer), a
# stage of .ci/run: make the venv, start serve.py, run every case with every
# identity in two orders (the verdicts must agree and every failure be a
# listed Nova bug), the nova-legacy catalogue against /v2 (every failure a
# listed Nova bug), a short fuzz campaign, stop the server. Exits non-zero
# when any of that fails.
#
#   NOVA_PEER_VENV           venv (default ~/.cache/metaconform/nova-peer-venv)
#   NOVA_PEER_REPORTS        output folder (default reports/nova-peer)
#   NOVA_PEER_START_TIMEOUT  seconds to wait for the startup line (default 180)
#   CARGO_TARGET_DIR         honoured by cargo as usual
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

out="${NOVA_PEER_REPORTS:-reports/nova-peer}"
# shellcheck source=contrib/nova-peer/start.sh
source contrib/nova-peer/start.sh

# metaconform sends the admin's requests to the project-scoped endpoint, and
# Nova refuses a URL project that is not the token's (400), so the admin here
# is an admin of the same project (see contrib/nova-peer/README.md).
endpoint_flags=(
    --endpoint "$(field endpoint)"
    --project-id "$(field project_id)"
    --token "$(field token)"
    --admin-token "$(field same_project_admin_token)"
    --reader-token "$(field reader_token)"
    --alt-token "$(field alt_token)"
    --alt-project-id "$(field alt_project_id)"
    --journal-dir "$out")
servers=()
for s in $(field servers); do servers+=(--server "$s"); done
alt_servers=()
for s in $(field alt_servers); do alt_servers+=(--alt-server "$s"); done

metaconform() { cargo run --quiet -- "$@"; }

# What the cases that create servers (op: create, spec §3.4) and
# --create-servers make them of: the image and flavor serve.py's own
# servers use (Nova's fake driver takes them).
recipe=(--image "$(field image)" --flavor "$(field flavor)")

# Two runs in different orders (two workers, then one): the verdicts must be
# the same, and every failure must be a listed Nova bug (exit 0).
rc=0
for jobs in 2 1; do
    echo "== metaconform run against Nova, --jobs $jobs"
    metaconform run "${endpoint_flags[@]}" "${servers[@]}" "${alt_servers[@]}" "${recipe[@]}" \
        --jobs "$jobs" --known-failures "$peer/known-failures.yaml" \
        --junit "$out/junit-jobs$jobs.xml" --json "$out/results-jobs$jobs.json" || rc=$?
    if ((rc != 0)); then
        echo "nova-peer: metaconform run --jobs $jobs exited $rc" >&2
        exit "$rc"
    fi
done

# Legacy /v2 (spec §6.1): the same servers under legacy_endpoint, one order;
# every failure must be a listed Nova bug (exit 0).
echo "== metaconform run --dialect nova-legacy against Nova's /v2"
metaconform run --dialect nova-legacy --endpoint "$(field legacy_endpoint)" \
    "${endpoint_flags[@]:2}" "${servers[@]}" "${alt_servers[@]}" "${recipe[@]}" \
    --jobs 2 --known-failures "$peer/known-failures-legacy.yaml" \
    --junit "$out/junit-legacy.xml" --json "$out/results-legacy.json" || rc=$?
if ((rc != 0)); then
    echo "nova-peer: metaconform run --dialect nova-legacy exited $rc" >&2
    exit "$rc"
fi

echo "== the two orders agree case by case"
# Listed Nova bugs are races (lost updates): one may not show in one order;
# they are compared but cannot fail the stage.
"$NOVA_PEER_VENV/bin/python" - "$out/results-jobs2.json" "$out/results-jobs1.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
known = {c["id"] for c in a["cases"] + b["cases"] if c.get("known_failure")}
va = {c["id"]: c["verdict"] for c in a["cases"]}
vb = {c["id"]: c["verdict"] for c in b["cases"]}
racy = sorted(k for k in known if va.get(k) != vb.get(k))
for k in racy:
    print(f"  (known Nova race) {k}: {va.get(k)} vs {vb.get(k)}")
differ = sorted(k for k in va.keys() | vb.keys() if va.get(k) != vb.get(k) and k not in known)
print(f"{len(va)} cases, {len(differ)} with different verdicts")
for k in differ:
    print(f"  {k}: {va.get(k)} vs {vb.get(k)}")
sys.exit(1 if differ else 0)
PY

# Issue 8: the embedded default gives the verdicts genuine Nova gives, but
# for Nova's listed bugs.
echo "== the embedded default and genuine Nova agree case by case"
metaconform run --jobs 2 --junit "$out/junit-embedded.xml" --json "$out/results-embedded.json" \
    > "$out/embedded.out" 2>&1 || { echo "nova-peer: the embedded run failed" >&2; tail -n 20 "$out/embedded.out" >&2; exit 1; }
"$NOVA_PEER_VENV/bin/python" -m pip install --quiet --disable-pip-version-check pyyaml
"$NOVA_PEER_VENV/bin/python" .ci/check-parity.py "$out/results-embedded.json" \
    "$out/results-jobs2.json" "$peer/known-failures.yaml"

# Servers the run creates itself, and a dry run: real Nova's POST /servers,
# DELETE and server tags (the lease), and nothing left behind or changed.
echo "== --create-servers and --dry-run against Nova"
project_state() {
    "$NOVA_PEER_VENV/bin/python" - "$(field endpoint)" "$(field token)" <<'PY'
import json, sys, urllib.request
endpoint, token = sys.argv[1:3]
def get(path, version="2.26"):
    request = urllib.request.Request(endpoint + path, headers={
        "X-Auth-Token": token, "OpenStack-API-Version": "compute " + version})
    return json.load(urllib.request.urlopen(request))
state = {}
for server in get("/servers")["servers"]:
    shown = get("/servers/" + server["id"])["server"]
    state[server["id"]] = [shown["metadata"], shown["OS-EXT-STS:vm_state"],
                           shown["locked"], sorted(shown.get("tags", []))]
print(json.dumps(state, sort_keys=True))
PY
}
before="$(project_state)"
metaconform run states.actions "${endpoint_flags[@]}" --no-props --jobs 2 \
    --create-servers 2 "${recipe[@]}" \
    --junit "$out/junit-created.xml" --json "$out/results-created.json"
metaconform run mr. "${endpoint_flags[@]}" "${servers[@]}" "${alt_servers[@]}" --no-props \
    --dry-run > "$out/dry-run.txt"
grep -q "write(s)" "$out/dry-run.txt"
if [[ "$(project_state)" != "$before" ]]; then
    echo "nova-peer: --create-servers or --dry-run left the project changed" >&2
    echo "before: $before" >&2
    echo "after:  $(project_state)" >&2
    exit 1
fi
echo "nova-peer: created servers deleted, dry run wrote nothing"

# A one-minute campaign, as a new user would run it: every Nova bug class
# the catalogue's known-failures file lists must be found, and every finding
# must be a listed Nova bug (contrib/nova-peer/known-findings.yaml). Exit 1
# (findings) is expected; a usage error (2), an abort (3) or a crash fails
# the stage. Its journal puts the servers back.
echo "== metaconform fuzz against Nova (--budget 60s)"
frc=0
metaconform fuzz "${endpoint_flags[@]}" "${servers[@]}" --seed 1 --budget 60s --jobs 2 \
    --junit "$out/fuzz-junit.xml" --json "$out/fuzz-results.json" || frc=$?
case "$frc" in
    0|1) echo "nova-peer: fuzz exited $frc (1: findings, Nova's bugs)" ;;
    *) echo "nova-peer: fuzz failed with exit $frc" >&2; exit "$frc" ;;
esac
"$NOVA_PEER_VENV/bin/python" -m pip install --quiet --disable-pip-version-check pyyaml
"$NOVA_PEER_VENV/bin/python" .ci/check-fuzz-findings.py "$out/fuzz-results.json" \
    "$peer/known-findings.yaml"
exit 0
