#!/usr/bin/env python3
"""Writes the bulk-import benchmark's files: N families, and guardians and students (1.5 per
family each) that refer to them, as NDJSON and CSV.

usage: imports_gen.py DIR [FAMILIES]
"""
import csv
import json
import os
import sys

out = sys.argv[1]
families = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
langs = ["en", "es", "vi", "zh-Hans", "ar", "so"]
os.makedirs(out, exist_ok=True)


def rows_families():
    for i in range(families):
        yield {
            "external_id": f"F{i:07d}",
            "display_name": f"The Family {i}",
            "primary_language": langs[i % len(langs)],
            "sms_opt_in": i % 3 == 0,
            "address": {"line1": f"{i} Elm Street", "city": "Springfield", "country": "US"},
        }


def rows_guardians():
    for i in range(families * 3 // 2):
        yield {
            "family_external_id": f"F{i * 2 // 3:07d}",
            "external_id": f"G{i:07d}",
            "given_name": f"Given{i}",
            "family_name": f"Family{i * 2 // 3}",
            "email": f"g{i}@example.org",
            "phone": f"+1555{i:07d}",
            "is_primary": i % 3 == 0,
        }


def rows_students():
    for i in range(families * 3 // 2):
        yield {
            "family_external_id": f"F{i * 2 // 3:07d}",
            "external_id": f"S{i:07d}",
            "given_name": f"Kid{i}",
            "family_name": f"Family{i * 2 // 3}",
            "grade_level": str(i % 12 + 1),
            "date_of_birth": f"{2010 + i % 12}-0{i % 9 + 1}-1{i % 9}",
        }


def flat(row):
    out = {}
    for k, v in row.items():
        if isinstance(v, dict):
            for kk, vv in v.items():
                out[f"{k}_{kk}"] = vv
        elif isinstance(v, bool):
            out[k] = "true" if v else "false"
        else:
            out[k] = v
    return out


for name, gen in [("families", rows_families), ("guardians", rows_guardians), ("students", rows_students)]:
    with open(os.path.join(out, f"{name}.ndjson"), "w") as f:
        for row in gen():
            f.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    first = flat(next(gen()))
    with open(os.path.join(out, f"{name}.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(first.keys()))
        w.writeheader()
        for row in gen():
            w.writerow(flat(row))
