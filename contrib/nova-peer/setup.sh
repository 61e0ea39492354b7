#!/usr/bin/env bash
# Make (or bring up to date) the Python venv that contrib/nova-peer/serve.py
# runs in: OpenStack Nova 34.0.0, Placement 16.0.0 and the test-only packages
# Nova's functional-test base imports, all pinned in requirements.txt.
#
# Idempotent: a venv whose installed set already matches requirements.txt is
# left alone (a stamp file holds the hash of the requirements it was made from).
#
#   NOVA_PEER_VENV   where the venv lives (default ~/.cache/metaconform/nova-peer-venv)
#   NOVA_PEER_PYTHON the interpreter to make it with (default python3.11, else python3)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
venv="${NOVA_PEER_VENV:-$HOME/.cache/metaconform/nova-peer-venv}"
reqs="$here/requirements.txt"

python="${NOVA_PEER_PYTHON:-}"
if [[ -z "$python" ]]; then
    if command -v python3.11 >/dev/null 2>&1; then python=python3.11; else python=python3; fi
fi

want="$(sha256sum "$reqs" | cut -d' ' -f1) $("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
stamp="$venv/.nova-peer-requirements"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "nova-peer: venv $venv is up to date" >&2
    exit 0
fi

"$python" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 10) else "nova 34 needs Python >= 3.10")'

if [[ ! -x "$venv/bin/python" ]]; then
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
fi
rm -f "$stamp"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$reqs"
# The api-paste.ini serve.py loads ships with nova's wheel into the venv.
test -f "$venv/etc/nova/api-paste.ini"
"$venv/bin/python" -c 'import nova.tests.functional.integrated_helpers' 2>/dev/null
echo "$want" > "$stamp"
echo "nova-peer: venv $venv ready" >&2
