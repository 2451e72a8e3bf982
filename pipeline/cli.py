"""`pipeline` / `python -m pipeline`: extract, ingest, export, query, audit, serve.

Each command's module is imported only when that command runs, so `extract` stays quick to start
(and never starts Prefect).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

# command → module with `register(subparsers)`; extract lives here
COMMANDS = {
    "export": "pipeline.cli_store",
    "query": "pipeline.cli_store",
    "ingest": "flows.cli",
    "serve": "flows.cli",
    "audit": "pipeline.cli_audit",
}


def _extract_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("extract", help="extract one report to the JSON contract")
    p.add_argument("pdf", type=Path)
    p.add_argument("--json", dest="out", default="-", help="output file, or - for standard output")
    p.set_defaults(func=_run_extract)


def _run_extract(args: argparse.Namespace) -> int:
    from .errors import ReportError
    from .extract import extract
    from .serialize import to_contract

    try:
        report = extract(args.pdf)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    doc = to_contract(report)
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    if args.out == "-":
        sys.stdout.write(text + "\n")
    else:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    return 0


def build_parser(command: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pipeline", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _extract_command(sub)
    modules = [COMMANDS[command]] if command in COMMANDS else sorted(set(COMMANDS.values()))
    for name in modules:
        try:
            importlib.import_module(name).register(sub)
        except ModuleNotFoundError as exc:
            if command in COMMANDS:
                raise SystemExit(f"error: command {command!r} is not available ({exc})") from exc
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and not argv[0].startswith("-") else None
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
