"""`pipeline extract PDF [--json OUT]`: one report to the JSON contract (no store, no Prefect)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `extract` command; it sets `func(args) -> int` (the exit code)."""
    p = subparsers.add_parser("extract", help="extract one report to the JSON contract")
    p.add_argument("pdf", type=Path)
    p.add_argument("--json", dest="out", default="-", help="output file, or - for standard output")
    add_ocr_option(p)
    p.set_defaults(func=run_extract)


def add_ocr_option(p: argparse.ArgumentParser) -> None:
    """`--ocr auto|always|never`, for every command that extracts."""
    p.add_argument(
        "--ocr",
        choices=("auto", "always", "never"),
        default=None,
        help="read pages by OCR: auto (scans and text layers that are not text; the default), always, never",
    )


def run_extract(args: argparse.Namespace) -> int:
    from pipeline.errors import ReportError, storable_path
    from pipeline.extract import extract
    from pipeline.serialize import to_contract

    try:
        report = extract(args.pdf, ocr=args.ocr)
    except ReportError as exc:
        from pipeline.safety import printable  # the file's name may carry terminal escapes

        print(f"error: {printable(exc)}", file=sys.stderr)
        return 2
    doc = to_contract(report)
    doc["source"]["file"] = storable_path(doc["source"]["file"])  # else a name not in UTF-8 cannot be written
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    if args.out == "-":
        sys.stdout.write(text + "\n")
    else:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    return 0
