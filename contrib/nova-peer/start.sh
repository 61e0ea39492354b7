# Sourced by .ci/nova-peer.sh and benches/nova-peer.sh: make the venv, start
# serve.py in the background, stop it when the sourcing script exits, and
# wait for its startup line.
#
# Needs: $out (an output folder). Gives: $peer, $startup (the startup line's
# file), $log (Nova's log), $pid, field NAME (a value of the startup line,
# lists joined by spaces).
#   NOVA_PEER_VENV           venv (default ~/.cache/metaconform/nova-peer-venv)
#   NOVA_PEER_START_TIMEOUT  seconds to wait for the startup line (default 180)

peer=contrib/nova-peer
export NOVA_PEER_VENV="${NOVA_PEER_VENV:-$HOME/.cache/metaconform/nova-peer-venv}"
mkdir -p "$out"

echo "== nova-peer: venv"
bash "$peer/setup.sh"

echo "== nova-peer: starting Nova"
startup="$out/startup.json"
log="$out/nova.log"
rm -f "$startup" "$log"
"$NOVA_PEER_VENV/bin/python" "$peer/serve.py" --log-file "$log" \
    > "$startup" 2> "$out/serve.err" &
pid=$!
stop_server() {
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}
trap stop_server EXIT

field() {
    "$NOVA_PEER_VENV/bin/python" -c '
import json, sys
v = json.loads(open(sys.argv[1]).readline())[sys.argv[2]]
print(" ".join(v) if isinstance(v, list) else v)' "$startup" "$1"
}

start_timeout="${NOVA_PEER_START_TIMEOUT:-180}"
deadline=$((SECONDS + start_timeout))
until [[ -s "$startup" ]] && field endpoint >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "nova-peer: serve.py exited before its startup line" >&2
        tail -n 40 "$out/serve.err" >&2
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        echo "nova-peer: no startup line after ${start_timeout}s" >&2
        tail -n 40 "$out/serve.err" >&2
        exit 1
    fi
    sleep 1
done
echo "nova-peer: $(field endpoint) (Nova $(field nova_version), up in $(field startup_seconds)s)"
