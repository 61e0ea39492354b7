#!/usr/bin/env python3
"""Check results.json files against the project's JSON Schema.

Usage: check-results.py RESULTS.json... [--schema SCHEMA]
       (SCHEMA defaults to schemas/results.schema.json)

Each file is validated with jsonschema (PyPI, draft 2020-12); a file that
holds failed or erred cases must carry a typed `failure` for each of them.
Prints a one-line summary per file; exits non-zero on any problem.
"""
import json
import sys
from pathlib import Path

from jsonschema import Draft202012Validator


def check(path: Path, validator: Draft202012Validator) -> int:
    results = json.loads(path.read_text())
    errors = sorted(validator.iter_errors(results), key=lambda e: list(e.path))
    for e in errors[:10]:
        where = "/".join(str(p) for p in e.absolute_path)
        print(f"{path}: schema: {e.message[:300]} at /{where}", file=sys.stderr)
    if errors:
        return 1
    cases = results["cases"]
    untyped = [c["id"] for c in cases if c["verdict"] in ("fail", "error") and "failure" not in c]
    for case_id in untyped[:10]:
        print(f"{path}: {case_id} failed without a typed failure", file=sys.stderr)
    failing = sum(c["verdict"] in ("fail", "error") for c in cases)
    print(f"{path}: valid; {len(cases)} cases, {failing} with a typed failure")
    return 1 if untyped else 0


def main() -> int:
    args = sys.argv[1:]
    root = Path(__file__).resolve().parent.parent
    schema_path = root / "schemas/results.schema.json"
    if "--schema" in args:
        at = args.index("--schema")
        schema_path = Path(args[at + 1])
        del args[at : at + 2]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    schema = json.loads(schema_path.read_text())
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    return max(check(Path(a), validator) for a in args)


if __name__ == "__main__":
    sys.exit(main())
