"""Scale-out over a work pool: deployments of the ingest flows, runs picked up by any number of workers.

    # once, against the server every machine uses (PREFECT_API_URL set)
    python -m flows.deploy deploy --pool reports                 # process pool + deployment
    # on each machine (code installed, files and store reachable)
    prefect worker start --pool reports
    # anywhere: one ingest_report run per file (or --chunk N files per ingest_batch run); waits
    python -m flows.deploy submit /shared/reports/*.pdf --chunk 50 --db postgresql+psycopg://...

See docs/scale-out.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from uuid import UUID

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from pipeline import settings  # noqa: E402
from pipeline.ingest import DEFAULT_TIMEOUT, discover  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
REPORT, BATCH = "ingest_report/ingest-report", "ingest_batch/ingest-batch"
_FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def ensure_process_pool(name: str) -> None:
    """Create a work pool of type "process" called `name`, unless it exists."""
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=name, type="process"))
        except ObjectAlreadyExists:
            pass


def deploy_flows(
    pool: str, *, source: str | Path = REPO, concurrency_limit: int | None = None
) -> dict[str, UUID]:
    """Deploy `ingest_report` (one file a run) and `ingest_batch` (many) to the process pool `pool`.

    Their runs load the flows from `source`: this repository's folder (workers must have the code at
    the same path) or a git URL that workers clone. `concurrency_limit` caps each deployment's
    simultaneous runs over all workers.
    """
    from prefect import flow

    ensure_process_pool(pool)
    ids = {}
    for name, entry, what in (
        (
            REPORT,
            "flows/ingest.py:ingest_report",
            "One file into the store: extract, reconcile, store, a status.",
        ),
        (BATCH, "flows/ingest.py:ingest_batch", "Files into the store, a few at a time, each with a status."),
    ):
        deployable = flow.from_source(source=str(source), entrypoint=entry)
        ids[name] = deployable.deploy(
            name=name.split("/")[1],
            work_pool_name=pool,
            concurrency_limit=concurrency_limit,
            description=what,
            print_next_steps=False,
            ignore_warnings=True,
        )
    return ids


def submit_files(
    paths: str | Path | Iterable[str | Path],
    *,
    db_url: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    chunk: int | None = None,
    workers: int = settings.INGEST_WORKERS,
    wait: bool = True,
    poll: float = 2.0,
) -> dict[UUID, str]:
    """Flow runs for workers to pick up; returns each run's final state name.

    One `ingest_report` run per file, or with `chunk` one `ingest_batch` run per `chunk` files
    (`workers` extraction processes each): a run costs seconds of process start and imports, which a
    chunk shares. With `wait=False` returns at once, with the runs' states as scheduled.
    """
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.deployments import run_deployment

    if db_url and _has_password(db_url):
        # Run parameters are kept by the server and shown in its UI: the workers' environment has it.
        raise ValueError("a store URL with a password is not sent as a run parameter: "
                         "set PIPELINE_DB_URL on the workers and leave --db out")  # fmt: skip
    files = list(discover(paths))
    if chunk:
        jobs = [
            (BATCH, {"paths": files[i : i + chunk], "workers": workers}) for i in range(0, len(files), chunk)
        ]
    else:
        jobs = [(REPORT, {"path": f}) for f in files]
    runs = {}
    for deployment, params in jobs:
        run = run_deployment(
            deployment, parameters={**params, "db_url": db_url, "timeout": timeout}, timeout=0
        )
        runs[run.id] = run.state.type.value if run.state else "SCHEDULED"
    if not wait:
        return runs
    with get_client(sync_client=True) as client:
        while True:
            for fr in client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(runs)))
            ):
                runs[fr.id] = fr.state.type.value if fr.state else "SCHEDULED"
            if all(s in _FINAL for s in runs.values()):
                return runs
            time.sleep(poll)


def _has_password(url: str) -> bool:
    from sqlalchemy.engine import make_url

    return make_url(url).password is not None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m flows.deploy", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("deploy", help="create the process pool and the two deployments")
    d.add_argument("--pool", required=True)
    d.add_argument("--source", default=str(REPO), help="code location for the workers: folder or git URL")
    d.add_argument("--limit", type=int, help="at most this many runs of each deployment at once")
    s = sub.add_parser("submit", help="runs for the workers (one per file, or per --chunk files); wait")
    s.add_argument("paths", nargs="+")
    s.add_argument("--db", metavar="URL", help="store URL as the workers see it, without a password "
                   "(default: their env PIPELINE_DB_URL)")  # fmt: skip
    s.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    s.add_argument("--chunk", type=int, help="files per run (ingest_batch); default one file a run")
    s.add_argument("--workers", type=int, default=2, help="extraction processes per chunked run")
    s.add_argument("--no-wait", action="store_true")
    args = ap.parse_args(argv)
    if not os.environ.get("PREFECT_API_URL"):
        print("error: set PREFECT_API_URL to the server the workers use", file=sys.stderr)
        return 2
    if args.cmd == "deploy":
        for name, dep_id in deploy_flows(args.pool, source=args.source, concurrency_limit=args.limit).items():
            print(f"deployment {name} ({dep_id}) on pool {args.pool!r}")
        print(f"start workers with: prefect worker start --pool {args.pool}")
        return 0
    runs: dict[UUID, Any] = submit_files(
        args.paths, db_url=args.db, timeout=args.timeout, chunk=args.chunk, workers=args.workers,
        wait=not args.no_wait,
    )  # fmt: skip
    counts = Counter(runs.values())
    print(f"{len(runs)} run(s): " + ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items())))
    return 0 if args.no_wait or set(counts) <= {"COMPLETED"} else 1


if __name__ == "__main__":
    raise SystemExit(main())
