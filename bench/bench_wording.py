"""Reconciliation on sentences of the genre: false alarms on consistent ones, slips caught in the others.

  .venv/bin/python bench/bench_wording.py [bench/data/wording.txt] [--verbose]

Each line of the data file is `C|sentence` (consistent: no check may fail) or `S|sentence` (one slip:
some check must fail). Every sentence runs through every stage after PDF reading (report_from_text), as
the body of one section. The sentences were written for this bench as bureaus word such statements;
once a pattern has been fixed from them they are no longer unseen, so add new wording rather than
tuning to these.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.fromtext import report_from_text

DATA = Path(__file__).resolve().parent / "data" / "wording.txt"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", type=Path, default=DATA)
    ap.add_argument("--verbose", "-v", action="store_true", help="list every miss and false alarm")
    args = ap.parse_args()
    rows = [
        line.rstrip("\n").split("|", 1)
        for line in args.data.read_text(encoding="utf-8").splitlines()
        if line[:2] in ("C|", "S|")
    ]
    alarms = verified = caught = 0
    consistent = [t for k, t in rows if k == "C"]
    slips = [t for k, t in rows if k == "S"]
    for text in consistent:
        checks = report_from_text("一、基本情况\n" + text).checks
        failing = [c for c in checks if c.status == "fail"]
        alarms += bool(failing)
        verified += any(c.status == "pass" for c in checks)
        if failing and args.verbose:
            print(f"false alarm: {text}\n    {failing[0].message}")
    for text in slips:
        checks = report_from_text("一、基本情况\n" + text).checks
        hit = any(c.status == "fail" for c in checks)
        caught += hit
        if not hit and args.verbose:
            print(f"missed: {text}")
    print(
        f"consistent {len(consistent)}: false alarms {alarms}, with a passing check {verified}; "
        f"slips {len(slips)}: caught {caught} ({caught / max(len(slips), 1):.0%})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
