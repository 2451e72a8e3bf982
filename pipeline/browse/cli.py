"""`pipeline browse [--db URL]`: the store in Datasette (registered into `pipeline`'s argument parser).

Datasette and the store are imported only when the command runs.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

from pipeline import settings


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "browse",
        help="browse the store in Datasette: facets, canned queries, links to the audit cards",
        description="Serve the SQLite store with Datasette on this machine: reports, figures and checks "
        "with Chinese column names, facets on unit, year, type and status, the common questions as canned "
        "queries, and each finding linked to its audit card (write the audit first: pipeline audit --db "
        "URL) and to the archived original. A PostgreSQL store: pipeline export --format sqlite, then "
        "browse that file.",
    )
    p.add_argument("--db", default=None, help=settings.DB_HELP)
    p.add_argument(
        "--host", default=settings.BROWSE_HOST, help=f"address to listen on (default {settings.BROWSE_HOST})"
    )
    p.add_argument(
        "--port", type=int, default=settings.BROWSE_PORT, help=f"port (default {settings.BROWSE_PORT})"
    )
    p.add_argument("--audit", type=Path, default=settings.AUDIT_OUT, metavar="DIR",
                   help=f"audit folder the findings link to (default {settings.AUDIT_OUT}/)")  # fmt: skip
    p.add_argument("--archive", type=Path, default=None, metavar="DIR",
                   help="archive of the originals (default: archive/ beside the store)")  # fmt: skip
    p.set_defaults(func=run_browse)


def run_browse(args: argparse.Namespace) -> int:
    from pipeline.browse import BrowseError, serve, sqlite_file

    try:
        db_file = sqlite_file(args.db)
    except BrowseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not (args.audit / "index.html").is_file():
        print(f"note: no audit in {args.audit}/; findings will not link to cards until "
              f"`pipeline audit --db sqlite:///{db_file} --out {args.audit}` has written it", file=sys.stderr)  # fmt: skip
    elif (args.audit / "index.html").stat().st_mtime < db_file.stat().st_mtime:
        print(f"note: the audit in {args.audit}/ is older than the store; write it again to link every finding",
              file=sys.stderr)  # fmt: skip
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: listening on {args.host}: anyone who can reach it reads the whole store",
            file=sys.stderr,
        )
    print(f"browse: http://{args.host}:{args.port}/ (Ctrl-C stops)", flush=True)
    try:
        serve(args.db, host=args.host, port=args.port, audit_dir=args.audit, archive_dir=args.archive)
    except sqlite3.Error as exc:  # the views could not be written (a read-only file, a locked store)
        print(f"error: {db_file}: cannot add the browse views ({exc}); browse a copy made with "
              "`pipeline export --format sqlite --out DIR`", file=sys.stderr)  # fmt: skip
        return 2
    return 0
