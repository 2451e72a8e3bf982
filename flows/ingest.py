"""Prefect flows over `pipeline.ingest`: one report, a batch, a watched inbox.

Thin on purpose: what happens to a file is decided in `pipeline.ingest` (tested without Prefect), and
so is the batch loop (`run_batch`), which the flows drive by submitting one task run per file;
Prefect adds retries of transient database errors, one task run per document, logs, artifacts,
schedules and the way to other machines (work pools, Dask).

The CPU-bound extraction runs in `pipeline.ingest`'s worker processes; the tasks themselves run in
threads of the flow's process, so one Prefect client talks to the API however many files are in
flight (many processes writing to the local ephemeral API's SQLite is what makes it slow and flaky).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture, as_completed
from prefect.runtime import flow_run
from prefect.runtime import task_run as task_run_ctx
from prefect.states import State
from sqlalchemy.engine import make_url

from pipeline import settings
from pipeline.ingest import (
    DEFAULT_TIMEOUT,
    BatchError,
    ExtractorPool,
    FileOutcome,
    RefusedRun,
    absolute_url,
    check_served_run,
    default_pool,
    discover,
    failing_checks,
    file_away,
    inbox_files,
    ingest_file,
    is_transient,
    open_store,
    run_batch,
    store_ref,
)
from pipeline.safety import mask_log_handlers, mask_secrets, printable

MAX_LISTED_CHECKS = 500  # the markdown artifact stays readable (and small) for big batches

# Who hears of each file as it finishes, in this process: the command line's progress bar. Not a flow
# parameter: those go to the orchestrator as JSON, and a callback is not one.
OnOutcome = Callable[[int, "int | None", "FileOutcome | None"], None]
_listeners: list[OnOutcome] = []


@contextmanager
def listening(fn: OnOutcome) -> Iterator[None]:
    """While in this block, `fn(done, total, outcome)` is called for each file a flow here finishes,
    and `fn(0, total, None)` when a run has listed its files."""
    _listeners.append(fn)
    try:
        yield
    finally:
        _listeners.remove(fn)


def _retry_if_transient(task: Any, task_run: Any, state: State) -> bool:
    # Retry a task only for errors of the database that may pass (locked, connection lost); a bad file
    # never raises out of ingest_file, and a bug would fail the same way again.
    try:
        state.result()
    except Exception as exc:  # the state's own exception, raised again here to look at it
        return is_transient(exc)
    return False


def _document_task_name() -> str:
    return f"ingest {printable(Path(task_run_ctx.parameters['path']).name)}"


@task(
    name="ingest_document",
    task_run_name=_document_task_name,
    retries=3,
    retry_delay_seconds=[1, 4, 10],
    retry_condition_fn=_retry_if_transient,
    cache_policy=NO_CACHE,  # a re-run must look at the file again; the store knows what is stored
)
def ingest_document(
    path: str, db_url: str, run_id: int | None, timeout: float | None, raw_path: str | None = None
) -> None:
    """One document: extract → reconcile → store, in an extraction worker with a time limit.

    `db_url` is a `store_ref`: task parameters go to the orchestrator, a password must not.

    Returns nothing: the outcome is the file's row in the store. (Prefect keeps, for the whole flow
    run, a copy of the state of every object a task returns: a big batch would grow by it.) A file
    name that is not UTF-8 cannot be a Prefect parameter (they are JSON): `path` is then its
    printable form and `raw_path` the name's bytes in hex.
    """
    real = os.fsdecode(bytes.fromhex(raw_path)) if raw_path else path
    ingest_file(real, open_store(db_url), run_id=run_id, timeout=timeout, extractor=default_pool())


def _inputs_param(inputs: Any) -> Any:
    # The run's parameters go into the store's ingest_runs row: a long file list is cut short there.
    if isinstance(inputs, list | tuple) and len(inputs) > 20:
        return [str(p) for p in inputs[:20]] + [f"... {len(inputs)} in all"]
    return [str(p) for p in inputs] if isinstance(inputs, list | tuple) else str(inputs)


def _run_files(
    files: list[str],
    *,
    db_url: str | None,
    workers: int,
    timeout: float | None,
    kind: str,
    inputs: Any,
    after: Callable[[str, FileOutcome], None] | None = None,
) -> dict[str, Any]:
    """Ingest `files` as one run: at most `workers` documents in flight, each one task run."""
    mask_log_handlers()  # in a served run's own process too: no password in any log line
    logger = get_run_logger()
    url = store_ref(db_url)
    store = open_store(url)
    workers = max(1, int(workers))
    default_pool(workers)  # this process' tasks may use that many extraction workers at once
    run_id = store.start_run(
        {
            "flow": kind,
            "inputs": _inputs_param(inputs),
            "workers": workers,
            "timeout": timeout,
            "prefect_flow_run_id": str(flow_run.get_id()),
        }
    )
    total = len(files)
    logger.info("run %d: %d file(s), %d worker(s), store %s", run_id, total, workers, url)
    _tell(logger, 0, total, None)

    def submit(path: str, run: int) -> PrefectFuture:
        shown = printable(path)
        raw = os.fsencode(path).hex() if shown != path else None
        return ingest_document.submit(shown, url, run, timeout, raw)

    def on_error(path: str, what: str, exc: BaseException) -> None:
        if what == "lost":
            logger.error("%s: %s: %s", printable(path), type(exc).__name__, printable(mask_secrets(str(exc))))
        else:
            logger.error(
                "%s: no status recorded (%s: %s)",
                printable(path),
                type(exc).__name__,
                printable(mask_secrets(str(exc))),
            )

    def on_outcome(done: int, total: int | None, outcome: FileOutcome) -> None:
        why = f" ({printable(outcome.reason)})" if outcome.status == "failed" else ""
        name = printable(os.path.basename(outcome.path))  # a file name may carry escape sequences
        logger.info("[%d/%d] %-9s %s%s", done, total, outcome.status, name, why)
        _tell(logger, done, total, outcome)
        if after is not None:
            try:
                after(outcome.path, outcome)
            except OSError as exc:  # e.g. cannot move it: the status stands, the next run sees it again
                logger.error("%s: %s", printable(outcome.path), printable(exc))

    summary = run_batch(
        files,
        store,
        run_id,
        submit=submit,
        window=workers,
        first_done=lambda futures: next(as_completed(futures)),
        on_outcome=on_outcome,
        on_error=on_error,
        # Prefect turns SIGTERM into TerminationSignal here, then waits for the task runs in flight:
        # killing the extraction workers makes that wait seconds, not the files' time limits.
        on_abort=_stop_extraction,
    )
    seconds = summary["seconds"]
    summary["seconds"] = round(seconds, 2)
    summary["reports_per_min"] = round(total / seconds * 60, 1) if seconds > 0 else None
    _artifacts(store, summary, kind)
    logger.info(
        "run %d done: %d ok, %d duplicate, %d failed of %d in %.1f s",
        run_id, summary["ok"], summary["duplicate"], summary["failed"], total, seconds,
    )  # fmt: skip
    if summary["unrecorded"]:
        raise BatchError(
            f"run {run_id}: {summary['unrecorded']} of {total} file(s) could not be given a status"
        )
    return summary


def _tell(logger: Any, done: int, total: int | None, outcome: FileOutcome | None) -> None:
    for listener in list(_listeners):
        try:
            listener(done, total, outcome)
        except Exception:  # a progress bar that fails must not cost the batch a file's status
            logger.debug("progress listener failed", exc_info=True)


def _stop_extraction() -> None:
    pool = default_pool()
    if isinstance(pool, ExtractorPool):
        pool.terminate()


def _md_cell(value: Any) -> str:
    return printable(str("" if value is None else value).replace("|", "\\|").replace("\n", " "))


def _artifacts(store: Any, summary: dict[str, Any], kind: str) -> None:
    run_id = summary["run_id"]
    create_table_artifact(
        key="ingest-summary",
        table=[{"metric": k, "value": v} for k, v in summary.items()],
        description=f"{kind}: files per status, store run {run_id}",
    )
    rows = failing_checks(store, run_id, limit=MAX_LISTED_CHECKS + 1)
    lines = [f"# Failing checks, store run {run_id}", ""]
    if not rows:
        lines.append("No failing checks in the reports of this run.")
    else:
        lines += ["| unit | year | file | rule | message |", "| --- | --- | --- | --- | --- |"]
        lines += [
            "| " + " | ".join(_md_cell(r[k]) for k in ("unit", "year", "file", "rule", "message")) + " |"
            for r in rows[:MAX_LISTED_CHECKS]
        ]
        if len(rows) > MAX_LISTED_CHECKS:
            lines += ["", f"Only the first {MAX_LISTED_CHECKS} are listed; `pipeline query` has them all."]
    create_markdown_artifact(
        key="failing-checks", markdown="\n".join(lines), description=f"{kind}: failing checks"
    )


@flow(name="ingest_report")
def ingest_report(path: str, db_url: str | None = None, timeout: float | None = DEFAULT_TIMEOUT) -> dict:
    """One file into the store (the unit a work pool's workers pull); returns the run summary."""
    return _run_files([os.path.abspath(path)], db_url=db_url, workers=1, timeout=timeout,
                      kind="ingest_report", inputs=path)  # fmt: skip


@flow(name="ingest_batch")
def ingest_batch(
    paths: list[str] | str,
    db_url: str | None = None,
    workers: int = settings.INGEST_WORKERS,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> dict:
    """Folders, globs or files into the store, `workers` documents at a time; returns the run summary.

    Every file gets a status in the store's ingest_files for this run (ok, duplicate, failed with a
    reason); files already stored by this extractor version are not extracted again, so running a
    killed batch again finishes the rest.
    """
    files = list(discover(paths))
    return _run_files(
        files, db_url=db_url, workers=workers, timeout=timeout, kind="ingest_batch", inputs=paths
    )


@flow(name="ingest_inbox")
def ingest_inbox(
    inbox: str,
    db_url: str | None = None,
    workers: int = settings.INGEST_WORKERS,
    timeout: float | None = DEFAULT_TIMEOUT,
    min_age_seconds: float = settings.INBOX_MIN_AGE,
) -> dict:
    """Ingest the files waiting in `inbox`, then move each to inbox/processed/ or inbox/failed/.

    A failed file gets `<name>.reason.txt` beside it. A file already stored (same bytes) is a
    duplicate and goes to processed/. Files younger than `min_age_seconds` wait for the next run
    (they may still be being copied).

    Run by `pipeline serve`, it takes only the inbox and store the service was started with (or an
    inbox under PIPELINE_INBOX_ROOTS), whatever the run's parameters say: anything else is refused
    and logged, before any file is touched.
    """
    mask_log_handlers()
    logger = get_run_logger()
    try:
        root = check_served_run(inbox, db_url)
    except RefusedRun as exc:
        logger.error("%s", exc)
        raise
    files = inbox_files(root, min_age_seconds)

    def move(path: str, outcome: FileOutcome) -> None:
        target = file_away(path, outcome, root)
        if target is not None:
            logger.info("moved %s to %s/", printable(os.path.basename(path)), target.parent.name)

    return _run_files(files, db_url=db_url, workers=workers, timeout=timeout, kind="ingest_inbox",
                      inputs=str(root), after=move)  # fmt: skip


def dask_task_runner(workers: int = 2, address: str | None = None) -> Any:
    """A DaskTaskRunner: a local cluster of `workers` processes, or the cluster at `address`.

    Dask worker processes are made non-daemonic so that they may start extraction workers (and so
    keep the per-file time limit); a remote cluster's workers need `DASK_DISTRIBUTED__WORKER__DAEMON=False`
    for the same (without it they extract in-process, with no time limit).
    """
    import dask
    from prefect_dask import DaskTaskRunner

    dask.config.set({"distributed.worker.daemon": False})
    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
        }
    )


def ingest_batch_dask(
    paths: list[str] | str,
    db_url: str | None = None,
    workers: int = settings.INGEST_WORKERS,
    timeout: float | None = DEFAULT_TIMEOUT,
    address: str | None = None,
) -> dict:
    """`ingest_batch` with its document tasks run on Dask (a local cluster, or `address`).

    Every Dask worker reports its task runs to PREFECT_API_URL: point it at a real server (each worker
    would otherwise start a temporary one of its own). The store must be reachable from the workers
    (PostgreSQL, or SQLite on a disk they share).
    """
    return ingest_batch.with_options(task_runner=dask_task_runner(workers, address))(
        paths, db_url=param_url(db_url), workers=workers, timeout=timeout
    )


def param_url(db_url: str | None) -> str | None:
    """The store as a flow parameter: its absolute URL, or None (then the environment's store) when
    the URL carries a password, which goes into this process' environment instead. Prefect keeps
    flow-run parameters in its database and shows them in its UI; the environment it never sees, and
    local Dask and extraction workers inherit it."""
    url = absolute_url(db_url)
    if make_url(url).password is None:
        return url
    os.environ[settings.DB_ENV] = url
    return None
