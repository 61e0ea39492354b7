#!/usr/bin/env python3
"""Check `metaconform schema KIND` against the files metaconform reads.

Usage: check-schemas.py METACONFORM_BINARY

Every case file under cases/ (dialects/ aside) must validate against
`schema case`, every profile under cases/dialects/ against `schema
profile`, every known-failures file under contrib/ against `schema
baseline` and every target file (*.toml) under contrib/ against `schema
target`; and a case with an unknown field, a baseline entry without a
reason and a target file holding a token must not (so the check can fail). jsonschema (PyPI) validates.
Prints one summary line; exits non-zero on any problem.
"""
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import yaml


def schema(binary: str, kind: str) -> dict:
    out = subprocess.run([binary, "schema", kind], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = sys.argv[1]
    root = Path(__file__).resolve().parent.parent
    groups = {
        "case": [p for p in (root / "cases").rglob("*.yaml") if "dialects" not in p.parts],
        "profile": sorted((root / "cases" / "dialects").glob("*.yaml")),
        "baseline": sorted((root / "contrib").rglob("known-failures.yaml")),
        "target": sorted((root / "contrib").rglob("*.toml")),
    }
    problems = 0
    for kind, files in groups.items():
        validator = jsonschema.Draft202012Validator(schema(binary, kind))
        if not files:
            print(f"check-schemas: no {kind} files found", file=sys.stderr)
            problems += 1
        for path in files:
            document = (tomllib.loads(path.read_text()) if path.suffix == ".toml"
                        else yaml.safe_load(path.read_text()))
            for error in validator.iter_errors(document):
                where = "/".join(str(p) for p in error.absolute_path)
                print(f"{path}: {kind} schema: {error.message} at {where}", file=sys.stderr)
                problems += 1
    must_fail = [
        ("case", {"cases": [{"id": "x", "name": "x", "spec": "1", "steps": [], "typo": 1}]}),
        ("baseline", [{"id": "x"}]),
        ("target", {"dialect": "nova", "token": "gAAAAABk"}),
    ]
    for kind, document in must_fail:
        if jsonschema.Draft202012Validator(schema(binary, kind)).is_valid(document):
            print(f"check-schemas: the {kind} schema accepts {document}", file=sys.stderr)
            problems += 1
    counted = ", ".join(f"{len(files)} {kind}" for kind, files in groups.items())
    print(f"check-schemas: {counted} file(s) checked, {problems} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
