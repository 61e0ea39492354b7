#!/usr/bin/env python3
"""Check a fuzz campaign's findings against a list of known ones.

Usage: check-fuzz-findings.py RESULTS.json KNOWN.yaml

RESULTS.json is `metaconform fuzz --json`: one failed case per finding, id
`fuzz::<cause>`; setup troubles are erred cases `fuzz::setup-N`. KNOWN.yaml
lists `cause` regexes with `required` and `why`. Fails when a required class
was not found, when a finding matches no entry, or when a server could not
be prepared (a setup trouble). Prints one line per finding.
"""
import json
import re
import sys

import yaml


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    results = json.load(open(sys.argv[1]))
    known = yaml.safe_load(open(sys.argv[2]))
    findings = [c for c in results["cases"] if c["id"] != "fuzz::campaign" and not c["id"].startswith("fuzz::campaign ")]
    problems = 0
    seen = set()
    for case in findings:
        cause = case["id"].removeprefix("fuzz::")
        if case["verdict"] == "error" or cause.startswith("setup-"):
            print(f"unexpected: {cause}: {case.get('failure')}", file=sys.stderr)
            problems += 1
            continue
        match = next((k for k in known if re.search(k["cause"], cause)), None)
        if match is None:
            print(f"UNLISTED finding: {cause} (a new Nova bug with evidence, or metaconform's error)", file=sys.stderr)
            problems += 1
        else:
            seen.add(match["cause"])
            print(f"known:    {cause}")
    for entry in known:
        if entry.get("required") and entry["cause"] not in seen:
            print(f"MISSED required class {entry['cause']} ({', '.join(entry['known_failures'])})", file=sys.stderr)
            problems += 1
    print(f"check-fuzz-findings: {len(findings)} finding(s), {len(seen)} known class(es) matched, {problems} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
