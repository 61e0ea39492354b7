#!/usr/bin/env bash
# A 5-target version matrix (contrib/version-matrix: /v2.1 at 2.1, 2.101,
# 2.102 and latest, legacy /v2) against the embedded reference server:
#   - the JUnit file (a testsuite per target) through the XSD and
#     junitparser (.ci/check-junit.py);
#   - each target's results.json against schemas/results.schema.json;
#   - matrix.json against schemas/matrix.schema.json, which must be what
#     `metaconform schema matrix` prints;
#   - the 2.102 query cases: skipped at 2.1 and 2.101, passing at 2.102
#     and latest.
set -euo pipefail
cd "$(dirname "$0")/.."

out=reports/version-matrix
rm -rf "$out" && mkdir -p reports
args=()
for name in v2.1 v2.101 v2.102 latest v2; do
  args+=(--target "$name=contrib/version-matrix/$name.toml")
done
status=0
cargo run --quiet -- run --area versions --no-props "${args[@]}" \
  --json "$out/results.json" --junit "$out/junit.xml" --html "$out/report.html" \
  >"$out.stdout" 2>"$out.stderr" || status=$?
test "$status" -le 1

python3 .ci/check-junit.py "$out/junit.xml"
python3 .ci/check-results.py "$out"/*/results.json

bin="${CARGO_TARGET_DIR:-target}/debug/metaconform"
python3 - "$bin" "$out" <<'PY'
import json, subprocess, sys
from jsonschema import Draft202012Validator

binary, out = sys.argv[1], sys.argv[2]
printed = json.loads(subprocess.run([binary, "schema", "matrix"], check=True, capture_output=True, text=True).stdout)
stored = json.load(open("schemas/matrix.schema.json"))
assert printed == stored, "schemas/matrix.schema.json is not what `metaconform schema matrix` prints"
matrix = json.load(open(f"{out}/matrix.json"))
errors = list(Draft202012Validator(stored).iter_errors(matrix))
for e in errors[:10]:
    print(f"matrix.json: {e.message[:300]} at /{'/'.join(map(str, e.absolute_path))}", file=sys.stderr)
assert not errors
names = [t["name"] for t in matrix["targets"]]
assert names == ["v2.1", "v2.101", "v2.102", "latest", "v2"], names
for case in ("versions.query.list.2.102", "versions.query.get.2.102"):
    row = matrix["cases"][case]
    assert [row[t]["verdict"] for t in names] == ["skip", "skip", "pass", "pass", "skip"], (case, row)
steps = ", ".join(f'{s["from"]}->{s["to"]} {len(s["differing"])}' for s in matrix["steps"])
print(f"version matrix: {len(matrix['cases'])} cases, {len(matrix['differing'])} differ across 5 targets ({steps})")
PY

# The HTML matrix in headless chromium: the filter script ran, nothing
# external loaded, a row per case, and #verdict=skip keeps the rows where
# some target skipped (in the matrix: a row holds several verdicts) and the
# skipped cases (in each target's table).
if command -v chromium >/dev/null; then
  page="$PWD/$out/report.html"
  browse() { chromium --headless --disable-gpu --no-sandbox --virtual-time-budget=3000 --dump-dom "$@" 2>/dev/null; }
  browse "file://$page" >"$out/dom.html"
  browse "file://$page#verdict=skip" >"$out/dom-skip.html"
  python3 - "$out" <<'PY'
import json, re, sys
out = sys.argv[1]
matrix = json.load(open(f"{out}/matrix.json"))
dom = open(f"{out}/dom.html").read()
dom_skip = open(f"{out}/dom-skip.html").read()
def attr(text, tag, name):
    m = re.search(r"<%s\b[^>]*\b%s=\"([^\"]*)\"" % (tag, name), text)
    assert m, f"no {name} on <{tag}>"
    return m.group(1)
assert attr(dom, "body", "data-filters") == "ready"
assert attr(dom, "html", "data-csp-violations") == "0"
rows = re.findall(r'<tr class="case matrix-row', dom)
assert len(rows) == len(matrix["cases"]), (len(rows), len(matrix["cases"]))
skip_rows = [i for i, row in matrix["cases"].items() if any(c["verdict"] == "skip" for c in row.values())]
mixed = [i for i in skip_rows if any(c["verdict"] != "skip" for c in matrix["cases"][i].values())]
assert mixed, "no row mixes a skip with another verdict: the check would not see the any-target match"
skipped = sum(c["verdict"] == "skip" for row in matrix["cases"].values() for c in row.values())
shown = int(attr(dom_skip, "body", "data-shown"))
assert shown == len(skip_rows) + skipped, (shown, len(skip_rows), skipped)
print(f"html matrix: {len(rows)} rows, #verdict=skip shows {len(skip_rows)} matrix rows ({len(mixed)} mixed) and {skipped} target cases, 0 CSP violations")
PY
fi
