"""`pipeline` / `python -m pipeline`: extract, export, query, audit, debug, browse, and the commands others register.

One module per command group, each with `register(subparsers)`, imported only when its command runs,
so that `extract` stays quick to start. Commands that need an orchestrator (`ingest`, `serve`) live
with it in `flows/` and are found through the `pipeline.commands` entry points, so that imports run
flows → pipeline only: the library never names the orchestration.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from importlib.metadata import entry_points

# command → module of this package with `register(subparsers)`
COMMANDS = {
    "extract": "pipeline.cli.extract",
    "export": "pipeline.cli.store",
    "query": "pipeline.cli.store",
    "audit": "pipeline.cli.audit",
    "debug": "pipeline.cli.debug",
    "browse": "pipeline.browse.cli",
}
ENTRY_POINTS = "pipeline.commands"  # name = command, value = module with `register(subparsers)`


def _registered() -> dict[str, str]:
    """Commands other installed packages add (e.g. flows: ingest, serve)."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINTS)}


def build_parser(command: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pipeline", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # A command of this package needs no look-up of the installed ones (extract stays quick).
    known = COMMANDS if command in COMMANDS else {**COMMANDS, **_registered()}
    # help or an unknown command: every module, each once, in the order listed
    modules = [known[command]] if command in known else list(dict.fromkeys(known.values()))
    for name in modules:
        try:
            importlib.import_module(name).register(sub)
        except ModuleNotFoundError as exc:
            if command in known:
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
