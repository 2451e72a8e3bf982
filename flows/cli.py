"""`pipeline ingest` and `pipeline serve`: the Prefect flows from the command line.

Registered into `pipeline`'s parser through the `pipeline.commands` entry points (pyproject.toml), so
that the library never imports flows.

Prefect, pandas and SQLAlchemy are imported only when one of these commands runs, so that
`pipeline --help` and `pipeline extract` stay quick; Prefect only after its environment is set: no
telemetry, quiet logs, and for `serve` a real local server when none is configured (schedules never
fire on the temporary one).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import settings

if TYPE_CHECKING:
    from pipeline.store import Store

DEFAULT_TIMEOUT = settings.INGEST_TIMEOUT


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ingest",
        help="extract files (PDFs, folders, globs) into the store as a Prefect flow",
        description="Extract every file into the store, WORKERS at a time; each file gets a status "
        "(ok, duplicate, failed with a reason) in the store's ingest_files. Exit status 0 when every "
        "file got one, failed files included.",
    )
    p.add_argument("paths", nargs="+", help="PDF files, folders (every *.pdf below) or globs")
    _common(p)
    p.add_argument("--dask", action="store_true", help="run the document tasks on a local Dask cluster")
    p.add_argument("--dask-address", metavar="ADDRESS", help="run them on the Dask cluster at ADDRESS")
    p.set_defaults(func=_run_ingest)

    s = sub.add_parser(
        "serve",
        help="watch an inbox folder on a cron schedule (a served Prefect deployment)",
        description="Serve the ingest_inbox flow with a cron schedule: new files in DIR are ingested and "
        "moved to DIR/processed/ or DIR/failed/ (with a .reason.txt). Uses PREFECT_API_URL, or starts a "
        "local Prefect server for as long as it runs.",
    )
    s.add_argument("--inbox", required=True, type=Path, metavar="DIR")
    s.add_argument("--cron", required=True, help='cron schedule, e.g. "0 2 * * *" (server time zone: UTC)')
    s.add_argument("--name", default="inbox", help="deployment name (default: inbox)")
    s.add_argument(
        "--min-age", type=float, default=settings.INBOX_MIN_AGE, metavar="SECONDS",
        help="leave files younger than this for the next run: they may still be being copied "
        f"(default {settings.INBOX_MIN_AGE:g})",
    )  # fmt: skip
    _common(s)
    s.set_defaults(func=_run_serve)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="URL", help=settings.DB_HELP)
    p.add_argument(
        "--workers", type=int, default=settings.INGEST_WORKERS,
        help=f"extraction processes (default {settings.INGEST_WORKERS})",
    )  # fmt: skip
    p.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
        help=f"time limit per file; a file over it is stopped and failed (default {DEFAULT_TIMEOUT:g})",
    )  # fmt: skip


def _prefect_env(quiet: bool) -> bool:
    """Environment Prefect reads at import: set defaults the user has not set. True if made quiet."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # else a telemetry error is logged
    if quiet and "PREFECT_LOGGING_LEVEL" not in os.environ:
        os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"  # no per-task chatter, no server banner...
        return True
    return False


def _show_progress() -> None:
    # ...but the flow's own progress lines; after Prefect is imported, which configures logging.
    logging.getLogger("prefect.flow_runs").setLevel(logging.INFO)


def _run_ingest(args: argparse.Namespace) -> int:
    from pipeline.ingest import default_pool, open_store

    use_dask = args.dask or bool(args.dask_address)
    if not use_dask:
        # Extraction workers start (imports, dictionaries) while Prefect starts its temporary API.
        default_pool(args.workers).prestart(args.workers)
    quiet = _prefect_env(quiet=True)
    from flows.ingest import ingest_batch, ingest_batch_dask

    if quiet:
        _show_progress()

    paths = [str(p) for p in args.paths]
    try:
        if use_dask:
            summary = ingest_batch_dask(
                paths, db_url=args.db, workers=args.workers, timeout=args.timeout, address=args.dask_address
            )
        else:
            summary = ingest_batch(paths, db_url=args.db, workers=args.workers, timeout=args.timeout)
    except Exception as exc:
        print(f"error: the batch failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    _print_summary(summary, open_store(args.db))
    return 0


def _print_summary(summary: dict, store: Store) -> None:
    total = summary["submitted"]
    if total == 0:
        print("no files to ingest", file=sys.stderr)
        return
    rate = f", {summary['reports_per_min']:g} reports/min" if summary.get("reports_per_min") else ""
    print(f"ingest run {summary['run_id']}: {total} file(s) in {summary['seconds']:g} s{rate}")
    for status in ("ok", "duplicate", "failed"):
        print(f"  {status:<10} {summary[status]}")
    if summary["failed"]:
        files = store.ingest_files_df(summary["run_id"])
        failed = files[files["status"] == "failed"]
        print("failed files:")
        for path, reason in list(zip(failed["path"], failed["reason"]))[:50]:
            print(f"  {path}: {reason}")
        if len(failed) > 50:
            print(f"  ... and {len(failed) - 50} more (pipeline query / the store's ingest_files)")


def _param_url(db: str | None) -> str | None:
    """The store URL to put into the deployment's parameters.

    Parameters are stored by the Prefect server and shown in its UI: a URL from the environment that is
    not a local file (so may carry a password) stays in the environment instead.
    """
    from sqlalchemy.engine import make_url

    from pipeline.ingest import absolute_url

    if db:
        return absolute_url(db)
    url = absolute_url(None)
    return url if make_url(url).get_backend_name() == "sqlite" else None


def _run_serve(args: argparse.Namespace) -> int:
    from flows.server import local_server

    _prefect_env(quiet=False)  # a served run's logs are what the UI shows: keep them
    inbox = args.inbox.resolve()
    inbox.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        if not os.environ.get("PREFECT_API_URL"):
            api = stack.enter_context(local_server())
            os.environ["PREFECT_API_URL"] = api  # before Prefect is imported: it reads it once
            print(f"started a local Prefect server: {api.removesuffix('/api')} (stopped on exit)", flush=True)
        from flows.ingest import ingest_inbox

        ingest_inbox.serve(
            name=args.name,
            cron=args.cron,
            global_limit=1,  # a run that outlasts the interval makes the next one wait, not race it
            parameters={
                "inbox": str(inbox),
                "db_url": _param_url(args.db),
                "workers": args.workers,
                "timeout": args.timeout,
                "min_age_seconds": args.min_age,
            },
        )
    return 0
