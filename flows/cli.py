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
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import settings
from pipeline.cli.extract import add_ocr_option

if TYPE_CHECKING:
    from prefect.logging.handlers import PrefectConsoleHandler

    from pipeline.ingest import FileOutcome
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
    add_ocr_option(p)
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

    srv = sub.add_parser(
        "server",
        help="start or stop a lasting local Prefect server that ingest and serve reuse",
        description="`start`: a local Prefect server (with its UI) in the background, kept after this "
        "command ends; every later `pipeline ingest`/`serve` without PREFECT_API_URL reuses it instead of "
        "starting Prefect's temporary API (a minute on a busy machine). `stop` ends it. `status` says "
        "whether one runs. State and run history: $PIPELINE_SERVER_HOME (default ~/.prefect/pipeline-server).",
    )
    srv.add_argument("action", choices=("start", "stop", "status"))
    srv.add_argument("--port", type=int, default=4200, help="port on 127.0.0.1 (default 4200)")
    srv.set_defaults(func=_run_server)


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


def _protect(own_api: bool) -> None:
    """Before Prefect is imported: Prefect's home this user's only, and an API this process starts
    itself (own_api: the temporary one) asking for an auth string."""
    from flows.server import api_auth_string, make_private, protected_server_env

    make_private()
    if own_api and not os.environ.get("PREFECT_API_URL"):
        # The temporary API is a server on a 127.0.0.1 port for as long as the command runs: as
        # protected as the one `serve` starts. Its port is not known beforehand: no origin allowed.
        for key, value in protected_server_env(api_auth_string(), None).items():
            os.environ.setdefault(key, value)


def _store_by_env(db: str | None) -> None:
    # The store goes to the flows through the environment, never as a parameter: Prefect keeps flow-run
    # parameters in its database and shows them in its UI, password and all.
    from pipeline.ingest import absolute_url
    from pipeline.settings import DB_ENV

    if db:
        os.environ[DB_ENV] = absolute_url(db)


def _shown(text: object) -> str:
    from pipeline.safety import mask_secrets, printable

    return printable(mask_secrets(str(text)))


def _run_ingest(args: argparse.Namespace) -> int:
    """Exit codes: 0 every file got a status (failed ones included); 1 the batch failed otherwise;
    3 the store failed (one line names it and the cause); 4 Prefect's API could not be had;
    130 / 143 stopped by SIGINT / SIGTERM."""
    from flows.runtime import Stopped, choose_api, process_age, startup_failure, stop_on_signals
    from pipeline.ingest import BatchStopped, default_pool, open_store
    from pipeline.store import StoreError

    t0 = time.perf_counter() - (process_age() or 0.0)
    _store_by_env(args.db)
    _protect(own_api=True)
    if args.ocr:  # the extraction workers (and Dask's) read the mode from the environment they inherit
        from pipeline.extract.ocr import MODE_ENV

        os.environ[MODE_ENV] = args.ocr
    use_dask = args.dask or bool(args.dask_address)
    pool = default_pool(args.workers)
    if not use_dask:
        # Extraction workers start (imports, dictionaries) while Prefect starts its temporary API.
        pool.prestart(args.workers)
    api = choose_api()  # a server left by `pipeline server start`, else the temporary API with time to start
    quiet = _prefect_env(quiet=True)
    from flows.ingest import ingest_batch, ingest_batch_dask
    from flows.server import make_private
    from pipeline.safety import mask_log_handlers

    if quiet:
        _show_progress()
    mask_log_handlers()

    paths = [str(p) for p in args.paths]
    try:
        with stop_on_signals(pool.terminate), _ingest_progress(quiet):
            if use_dask:
                summary = ingest_batch_dask(
                    paths, workers=args.workers, timeout=args.timeout, address=args.dask_address
                )
            else:
                summary = ingest_batch(paths, workers=args.workers, timeout=args.timeout)
    except Stopped as exc:
        print(f"stopped by {exc}: the files without a status in this run are ingested by the next one",
              file=sys.stderr)  # fmt: skip
        return 128 + exc.signum
    except (BatchStopped, StoreError) as exc:
        print(f"error: {_shown(exc)}", file=sys.stderr)
        return 3
    except Exception as exc:
        hint = startup_failure(exc)
        if hint:
            print(f"error: {hint}", file=sys.stderr)
            return 4
        print(f"error: the batch failed: {type(exc).__name__}: {_shown(exc)}", file=sys.stderr)
        return 1
    finally:
        make_private()  # what the temporary server wrote meanwhile
    _print_summary(summary, open_store(None), wall=time.perf_counter() - t0, api=api)
    return 0


def _prefect_console_handlers() -> list[PrefectConsoleHandler]:
    from prefect.logging.handlers import PrefectConsoleHandler

    loggers = [
        logging.getLogger(),
        *(x for x in logging.root.manager.loggerDict.values() if isinstance(x, logging.Logger)),
    ]
    found: list[PrefectConsoleHandler] = []
    for lg in loggers:
        found += [h for h in lg.handlers if isinstance(h, PrefectConsoleHandler) and h not in found]
    return found


@contextmanager
def _ingest_progress(quiet: bool) -> Iterator[None]:
    """On a terminal, a progress bar over the batch's files, with Prefect's console lines printed above it.

    Prefect logs through rich Consoles of its own; two Consoles on one terminal write over each other,
    so while the bar is shown Prefect's console handlers print through the bar's Console. In quiet mode
    (the default) the bar stands for the per-file INFO lines, and a failed file is noted above it. In a
    pipe or a log nothing changes: the per-file lines are the progress there.
    """
    from flows.ingest import listening
    from pipeline.progress import Progress, wanted

    if not wanted(sys.stderr):
        yield
        return
    runs = logging.getLogger("prefect.flow_runs")
    with Progress(None, "ingesting", stream=sys.stderr) as bar:
        borrowed = [(h, h.console) for h in _prefect_console_handlers()]
        level = runs.level
        for h, _ in borrowed:
            h.console = bar.console
        if quiet:
            runs.setLevel(logging.WARNING)

        def heard(done: int, total: int | None, outcome: FileOutcome | None) -> None:
            if total is not None and bar.total != total:
                bar.set_total(total)
            if outcome is None:  # the run has listed its files
                return
            bar.start(os.path.basename(outcome.path))
            bar.advance()
            if quiet and outcome.status == "failed":
                bar.note(f"failed: {_shown(outcome.path)}: {_shown(outcome.reason)}")

        try:
            with listening(heard):
                yield
        finally:
            for h, console in borrowed:
                h.console = console
            runs.setLevel(level)


_API_WORDS = {"configured": "PREFECT_API_URL", "reused": "the local server", "temporary": "a temporary API"}


def _print_summary(summary: dict, store: Store, wall: float | None = None, api: str | None = None) -> None:
    total = summary["submitted"]
    if total == 0:
        print("no files to ingest", file=sys.stderr)
        return
    rate = f", {summary['reports_per_min']:g} reports/min" if summary.get("reports_per_min") else ""
    print(f"ingest run {summary['run_id']}: {total} file(s) in {summary['seconds']:g} s of work{rate}")
    if wall is not None:
        # What the command cost in all: Prefect's start-up (and the workers') is the difference.
        print(f"  wall time {wall:.1f} s (Prefect through {_API_WORDS.get(api or '', api)}: "
              f"{max(wall - summary['seconds'], 0):.1f} s before and after the work)")  # fmt: skip
    for status in ("ok", "duplicate", "failed"):
        print(f"  {status:<10} {summary[status]}")
    if summary.get("ocr_pages"):
        print(f"  {'OCR pages':<10} {summary['ocr_pages']} (scanned or without usable text)")
    if summary.get("unfinished_before"):
        runs = ", ".join(map(str, summary["unfinished_before"][-5:]))
        print(f"  (run(s) {runs} did not finish; the files they left without a status were ingested now)")
    if summary["failed"]:
        files = store.ingest_files_df(summary["run_id"])
        failed = files[files["status"] == "failed"]
        print("failed files:")
        for path, reason in list(zip(failed["path"], failed["reason"]))[:50]:
            print(f"  {_shown(path)}: {_shown(reason)}")
        if len(failed) > 50:
            print(f"  ... and {len(failed) - 50} more (pipeline query / the store's ingest_files)")


def _run_server(args: argparse.Namespace) -> int:
    from flows.runtime import running_server, server_home, start_server, stop_server

    if args.action == "start":
        try:
            state = start_server(port=args.port)
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        word = "already running" if state.get("already") else "started"
        print(f"Prefect server {word}: {state['ui']} (API {state['api']}); `pipeline server stop` ends it")
        return 0
    if args.action == "stop":
        state = stop_server()
        print(f"stopped the Prefect server at {state['ui']}" if state else "no Prefect server was running")
        return 0
    state = running_server()
    print(f"running: {state['ui']}" if state else f"not running (state in {server_home()})")
    return 0 if state else 1


def _run_serve(args: argparse.Namespace) -> int:
    from flows.server import api_auth_string, local_server, make_private
    from pipeline.ingest import served_env

    _prefect_env(quiet=False)  # a served run's logs are what the UI shows: keep them
    inbox = args.inbox.resolve()
    inbox.mkdir(parents=True, exist_ok=True)
    # The runs this service starts take their inbox and store from here, not from their parameters.
    os.environ.update(served_env(inbox, args.db))
    _protect(own_api=False)
    with ExitStack() as stack:
        stack.callback(make_private)  # what was written meanwhile: inside a home others cannot enter
        from flows.runtime import running_server, use_server

        if os.environ.get("PREFECT_API_URL") and not os.environ.get("PREFECT_API_AUTH_STRING"):
            print(
                f"warning: no PREFECT_API_AUTH_STRING for {os.environ['PREFECT_API_URL']}: whoever reaches "
                "that API can start runs (see docs/security.md)",
                file=sys.stderr,
            )
        reuse = None if os.environ.get("PREFECT_API_URL") else running_server()
        if reuse is not None:
            use_server(reuse)
            print(f"using the local Prefect server: {reuse['ui']} (its auth string is in {reuse.get('auth_file')})",
                  flush=True)  # fmt: skip
        elif not os.environ.get("PREFECT_API_URL"):
            configured = bool(os.environ.get("PREFECT_API_AUTH_STRING"))
            auth = api_auth_string()
            api = stack.enter_context(local_server(auth_string=auth))
            os.environ["PREFECT_API_URL"] = api  # before Prefect is imported: it reads it once
            print(f"started a local Prefect server: {api.removesuffix('/api')} (stopped on exit)", flush=True)
            if not configured:  # the UI asks for it; a file only this user reads, not the terminal
                auth_file = make_private() / "pipeline-api-auth"
                auth_file.unlink(missing_ok=True)
                fd = os.open(auth_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(auth + "\n")
                print(f"its API asks for the auth string in {auth_file}", flush=True)
        from flows.ingest import ingest_inbox
        from pipeline.safety import mask_log_handlers

        mask_log_handlers()

        ingest_inbox.serve(
            name=args.name,
            cron=args.cron,
            global_limit=1,  # a run that outlasts the interval makes the next one wait, not race it
            parameters={
                "inbox": str(inbox),
                "db_url": None,  # the served store (environment): a URL here would be stored, password and all
                "workers": args.workers,
                "timeout": args.timeout,
                "min_age_seconds": args.min_age,
            },
        )
    return 0
