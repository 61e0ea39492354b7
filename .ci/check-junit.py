#!/usr/bin/env python3
"""Check a JUnit file the way CI consumers read it.

Usage: check-junit.py JUNIT.xml [XSD]  (XSD defaults to src/report/junit.xsd)

1. It validates against the project's XSD of the Jenkins/GitLab dialect
   (xmlschema from PyPI).
2. junitparser (PyPI), a real consumer, parses it, and every test case must
   have a name, a classname and at most one result.
Prints a one-line summary; exits non-zero on any problem.
"""
import sys
from pathlib import Path

import xmlschema
from junitparser import Error, Failure, JUnitXml, Skipped


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    junit = Path(sys.argv[1])
    root = Path(__file__).resolve().parent.parent
    xsd = Path(sys.argv[2]) if len(sys.argv) == 3 else root / "src/report/junit.xsd"
    schema = xmlschema.XMLSchema(str(xsd))
    errors = list(schema.iter_errors(str(junit)))
    for e in errors[:10]:
        print(f"{junit}: schema: {e.reason} at {e.path}", file=sys.stderr)
    if errors:
        return 1
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    problems = 0
    for suite in JUnitXml.fromfile(str(junit)):
        for case in suite:
            if not case.name or not case.classname:
                print(f"{junit}: a test case lacks name or classname", file=sys.stderr)
                problems += 1
            results = case.result
            if len(results) > 1:
                print(f"{junit}: {case.name} has {len(results)} results", file=sys.stderr)
                problems += 1
            if not results:
                counts["passed"] += 1
            elif isinstance(results[0], Failure):
                counts["failed"] += 1
            elif isinstance(results[0], Error):
                counts["errors"] += 1
            elif isinstance(results[0], Skipped):
                counts["skipped"] += 1
    total = sum(counts.values())
    print(f"{junit}: valid; {total} test cases: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 1 if problems or total == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
