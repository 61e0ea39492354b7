#!/usr/bin/env python3
"""Check a `metaconform run --subunit` stream with OpenStack's own reader.

Usage: check-subunit.py STREAM RESULTS_JSON

Reads STREAM with python-subunit and testtools (as stestr, subunit2html and
subunit2sql do) and checks, case by case against the run's results.json:
every case is in the stream once, with the status the run's gate implies
(success; fail for a gating failure or a required case not run; xfail for a
baselined or advisory failure; skip otherwise), its area and class as tags,
and for a failure a `traceback` attachment holding a curl repro. The
mapping is written out here on its own, not read from metaconform.
"""

import json
import sys

import subunit
import testtools

GATING_SKIPS = {"credentials", "blocked", "case"}


def expected_status(case):
    verdict = case["verdict"]
    required = case.get("class", "required") == "required"
    baselined = case.get("known_failure") == "still-failing"
    if verdict == "pass":
        return "success"
    if verdict in ("fail", "error"):
        return "fail" if required and not baselined else "xfail"
    if required and not baselined and case.get("skip_kind") in GATING_SKIPS:
        return "fail"
    return "skip"


def read_stream(path):
    tests = {}
    with open(path, "rb") as f:
        stream = subunit.ByteStreamToStreamResult(f, non_subunit_name="stdout")
        result = testtools.StreamToDict(lambda test: tests.setdefault(test["id"], []).append(test))
        result.startTestRun()
        try:
            stream.run(result)
        finally:
            result.stopTestRun()
    return tests


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    stream_path, results_path = sys.argv[1:]
    tests = read_stream(stream_path)
    with open(results_path) as f:
        results = json.load(f)
    problems = []
    counts = {}
    for case in results["cases"]:
        seen = tests.pop(case["id"], [])
        if len(seen) != 1:
            problems.append(f"{case['id']}: {len(seen)} times in the stream")
            continue
        test = seen[0]
        want = expected_status(case)
        counts[want] = counts.get(want, 0) + 1
        if test["status"] != want:
            problems.append(f"{case['id']}: status {test['status']}, the gate implies {want}")
        for tag in (f"area:{case['area']}", f"class:{case.get('class', 'required')}"):
            if tag not in test["tags"]:
                problems.append(f"{case['id']}: no tag {tag} in {sorted(test['tags'])}")
        if case["verdict"] in ("fail", "error"):
            traceback = test["details"].get("traceback")
            text = traceback.as_text() if traceback else ""
            if "curl " not in text and case["exchanges"]:
                problems.append(f"{case['id']}: no traceback with a curl repro")
    for extra in tests:
        problems.append(f"{extra}: in the stream, not in the results")
    for problem in problems[:20]:
        print("subunit:", problem, file=sys.stderr)
    if problems:
        sys.exit(f"{stream_path}: {len(problems)} problem(s)")
    print(f"{stream_path}: {sum(counts.values())} cases, statuses {dict(sorted(counts.items()))}, as results.json and the gate say")


if __name__ == "__main__":
    main()
