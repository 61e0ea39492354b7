#!/usr/bin/env bash
# The HTML report (`run --html`) in a real headless browser (Debian's
# chromium): a run against the embedded server with a fault
# (key-limit-off-by-one: the 256-character key cases fail) plus a case whose
# bodies carry `</script><img onerror=...>` (tests/fixtures/run-hostile).
# Checks, in the DOM chromium dumps after the page's script ran:
#   - one row per case of results.json, and the filter script ran
#     (body data-filters="ready", data-shown = the rows shown);
#   - the filter works: `#verdict=fail` shows exactly the failing cases;
#   - nothing external loads: the page's own strict Content-Security-Policy
#     meta (default-src 'none'; inline style and script only) reported no
#     violation (<html data-csp-violations="0">), and a copy of the page with
#     one external <img> added does report one (the check can fail);
#   - the hostile body stayed text: no <img> element in the DOM.
# Leaves a screenshot at reports/html-report.png.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null; then
  apt-get update
  apt-get install -y --no-install-recommends chromium
fi

mkdir -p reports
report="$PWD/reports/html-report.html"
status=0
cargo run --quiet -- run --fault key-limit-off-by-one --area lengths \
  --cases tests/fixtures/run-hostile --area run-hostile --no-props \
  --junit reports/junit-html.xml --json reports/results-html.json \
  --markdown reports/summary-html.md --html "$report" >/dev/null || status=$?
test "$status" -eq 1

browse() {
  chromium --headless --disable-gpu --no-sandbox --virtual-time-budget=3000 "$@" 2>/dev/null
}

browse --dump-dom "file://$report" >reports/html-dom.html
browse --dump-dom "file://$report#verdict=fail" >reports/html-dom-fail.html
sed 's|<h1>|<img src="https://example.invalid/pixel.png"><h1>|' "$report" >reports/html-external.html
browse --dump-dom "file://$PWD/reports/html-external.html" >reports/html-dom-external.html
browse --screenshot=reports/html-report.png --window-size=1280,2000 "file://$report"
test -s reports/html-report.png

python3 - <<'PY'
import json, re

results = json.load(open("reports/results-html.json"))
cases = results["cases"]
failing = [c["id"] for c in cases if c["verdict"] in ("fail", "error")]
dom = open("reports/html-dom.html").read()
dom_fail = open("reports/html-dom-fail.html").read()
dom_external = open("reports/html-dom-external.html").read()

def attr(text, tag, name):
    m = re.search(r"<%s\b[^>]*\b%s=\"([^\"]*)\"" % (tag, name), text)
    assert m, f"no {name} on <{tag}>"
    return m.group(1)

rows = re.findall(r'<tr class="case ', dom)
assert len(rows) == len(cases), (len(rows), len(cases))
assert attr(dom, "body", "data-filters") == "ready", "the filter script did not run"
assert attr(dom, "body", "data-shown") == str(len(cases))
assert re.search(r'<span id="shown-count">%d</span>' % len(cases), dom)
assert attr(dom_fail, "body", "data-shown") == str(len(failing)), (attr(dom_fail, "body", "data-shown"), failing)
assert len(re.findall(r'<tr class="case [^"]*" [^>]*hidden', dom_fail)) == len(cases) - len(failing)
for case_id in failing:
    assert f"<code>{case_id}</code>" in dom, case_id
assert "fixture-hostile-body" in failing
assert attr(dom, "html", "data-csp-violations") == "0", "something tried to load"
assert "<img" not in dom, "a body became markup"
assert int(attr(dom_external, "html", "data-csp-violations")) >= 1, "the CSP check cannot see an external load"
print(f"html report: {len(rows)} rows, filters ran, #verdict=fail shows {len(failing)}, "
      "0 CSP violations (1+ with an external <img> added), no <img> from bodies; "
      "screenshot reports/html-report.png")
PY
