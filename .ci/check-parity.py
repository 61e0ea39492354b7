"""Issue 8's last bar: `metaconform run` on the embedded default and against
genuine Nova give the same verdict on every case, except Nova's known bugs.

    check-parity.py EMBEDDED.json NOVA.json KNOWN_FAILURES.yaml

Compares the verdicts of the cases that ran (passed or failed) on both.
A case that differs must be listed in the known-failures file (a Nova bug
the embedded server does not have). A case that ran on one side only (a
server or credential the Nova launcher does not lend) is counted and named,
not failed. Exit 1 on an unlisted difference, or when fewer than 500 cases
ran on both (a comparison of nothing proves nothing).
"""
import json
import sys

import yaml

embedded, nova = (
    {c["id"]: c for c in json.load(open(path))["cases"]} for path in sys.argv[1:3]
)
listed = {entry["id"] for entry in yaml.safe_load(open(sys.argv[3])) or []}

ran = ("pass", "fail", "error")
both = sorted(i for i in embedded.keys() & nova.keys()
              if embedded[i]["verdict"] in ran and nova[i]["verdict"] in ran)
one_side = sorted(i for i in embedded.keys() | nova.keys()
                  if i not in both and (embedded.get(i, {}).get("verdict") in ran
                                        or nova.get(i, {}).get("verdict") in ran))
differ = [i for i in both if embedded[i]["verdict"] != nova[i]["verdict"]]
unlisted = [i for i in differ if i not in listed]

print(f"{len(both)} cases ran on both, {len(both) - len(differ)} with the same verdict, "
      f"{len(differ)} differ ({len(differ) - len(unlisted)} listed Nova bugs, {len(unlisted)} unlisted); "
      f"{len(one_side)} ran on one side only")
for i in differ:
    mark = "  (listed Nova bug)" if i in listed else "  UNLISTED"
    print(f"{mark} {i}: embedded {embedded[i]['verdict']}, Nova {nova[i]['verdict']}")
for i in one_side:
    side = lambda r: r.get(i, {}).get("verdict", "absent") + (
        f" ({r[i]['skip_kind']})" if r.get(i, {}).get("skip_kind") else "")
    print(f"  one side only {i}: embedded {side(embedded)}, Nova {side(nova)}")
if len(both) < 500:
    print(f"check-parity: only {len(both)} cases ran on both sides", file=sys.stderr)
    sys.exit(1)
sys.exit(1 if unlisted else 0)
