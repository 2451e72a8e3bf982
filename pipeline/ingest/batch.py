"""One batch runner: files in a bounded window, each one a future, every file given a status.

Whoever runs the batch says how a file is submitted: `ingest_paths` submits to a thread pool (no
orchestrator at all), the Prefect flows submit a task run per file. Either way the runner keeps at
most `window` files in flight (memory stays flat however long the batch, progress comes in the order
files finish), reads each file's status back from the store, and records a file whose submission
raised for good as failed, so that a crash on one file never stops the batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from pipeline import settings
from pipeline.store import Store, StoreError, is_fatal, store_error

from .files import FileOutcome, ingest_file, is_transient, record_lost, recorded_outcome, run_summary
from .pool import ExtractionStopped, ExtractorPool, InlineExtractor, default_pool

# (path, run id) → a future whose result() is the file's FileOutcome, or None once its row is written
Submit = Callable[[str, int], Any]
OnOutcome = Callable[[int, int | None, FileOutcome], None]
OnError = Callable[[str, str, BaseException], None]


class BatchError(RuntimeError):
    """The batch itself failed: some files could not even be given a status."""


class BatchStopped(BatchError):
    """The store failed in a way no retry cures (or cannot record a status at all): the batch stopped.

    Every report stored before is intact; the files the batch did not reach have no status in this
    run and are ingested by the next one like any file never seen.
    """

    def __init__(self, message: str, *, done: int, total: int | None) -> None:
        super().__init__(message)
        self.done = done
        self.total = total


def first_completed(futures: list[Future]) -> Future:
    """The first of `futures` to finish (concurrent.futures)."""
    done, _ = wait(futures, return_when=FIRST_COMPLETED)
    return next(iter(done))


def run_batch(
    files: Iterable[str],
    store: Store,
    run_id: int,
    *,
    submit: Submit,
    window: int,
    first_done: Callable[[list[Any]], Any] = first_completed,
    on_outcome: OnOutcome | None = None,
    on_error: OnError | None = None,
    on_abort: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Run `files` as ingest run `run_id` (opened by the caller), then close the run; returns its summary.

    `on_abort()` is called when the loop is left by an interruption (a signal, KeyboardInterrupt):
    e.g. to kill the extraction workers, so that the files in flight stop now rather than when done.

    `on_outcome(done, total, outcome)` is called once per file as it finishes (total None when `files`
    is an iterator); `on_error(path, what, exc)` when a file's submission raised (what: "lost") or not
    even its failure could be recorded ("unrecorded"). The summary has the files per status, the
    number submitted, how many got no status ("unrecorded") and the seconds taken.
    """
    total = len(files) if isinstance(files, Sequence) else None
    t0 = time.perf_counter()
    in_flight: dict[Any, str] = {}
    queue = iter(files)
    done = unrecorded = 0
    stop: BaseException | None = None  # a store fault that ends the batch

    def fill() -> None:
        while stop is None and len(in_flight) < window and (path := next(queue, None)) is not None:
            in_flight[submit(path, run_id)] = path

    try:
        fill()
        while in_flight:
            fut = first_done(list(in_flight))
            path = in_flight.pop(fut)
            done += 1
            try:
                outcome = fut.result()
                if not isinstance(outcome, FileOutcome):
                    outcome = recorded_outcome(store, run_id, path)
                if outcome is None:
                    raise RuntimeError("the task ended without recording a status")
            except Exception as exc:  # retries used up, or a bug: the file is failed, the batch goes on
                if isinstance(
                    exc, ExtractionStopped
                ):  # the batch is stopping: no status, the next run has it
                    stop = stop or exc
                    unrecorded += 1
                    continue
                if is_fatal(exc):  # disk full, read-only, corrupt, schema: every next file would fail alike
                    stop = stop or exc
                    unrecorded += 1
                    continue
                if on_error:
                    on_error(path, "lost", exc)
                try:
                    outcome = record_lost(store, path, exc, run_id=run_id)
                except Exception as exc2:  # not even a status could be written (the database is gone)
                    if on_error:
                        on_error(path, "unrecorded", exc2)
                    unrecorded += 1
                    stop = stop or exc2
                    continue
            finally:
                fill()
            if on_outcome:
                on_outcome(done, total, outcome)
    except BaseException as exc:
        if on_abort is not None and not isinstance(exc, Exception):
            on_abort()
        raise
    if isinstance(stop, ExtractionStopped):
        raise stop
    if stop is not None:
        err = stop if isinstance(stop, StoreError) else store_error(store.url, stop)
        left = f" of {total}" if total is not None else ""
        raise BatchStopped(
            f"{err}; the batch stopped after {done - unrecorded}{left} file(s) got a status (run {run_id}); "
            "every report stored before is intact, and the next run ingests the rest",
            done=done - unrecorded,
            total=total,
        ) from stop
    seconds = round(time.perf_counter() - t0, 3)
    summary = run_summary(store, run_id)
    summary.update(submitted=done, unrecorded=unrecorded, seconds=seconds)
    # Earlier runs that never finished left their unreached files unstored: this run ingested them.
    summary["unfinished_before"] = store.unfinished_runs(run_id)
    store.finish_run(run_id, {k: summary[k] for k in ("ok", "duplicate", "failed", "unrecorded", "seconds")})
    return summary


def ingest_with_retries(
    path: str,
    store: Store,
    run_id: int,
    *,
    timeout: float | None,
    extractor: ExtractorPool | InlineExtractor,
    retries: int,
) -> FileOutcome:
    """`ingest_file`, tried again `retries` times (with back-off) when the database fails transiently."""
    for attempt in range(retries + 1):
        try:
            return ingest_file(path, store, run_id=run_id, timeout=timeout, extractor=extractor)
        except Exception as exc:
            if attempt < retries and is_transient(exc):
                time.sleep(2**attempt)
                continue
            raise
    raise AssertionError("unreachable")


def ingest_paths(
    paths: Iterable[str],
    store: Store,
    *,
    workers: int = settings.INGEST_WORKERS,
    timeout: float | None = settings.INGEST_TIMEOUT,
    retries: int = 2,
    params: dict[str, Any] | None = None,
    on_outcome: OnOutcome | None = None,
) -> dict[str, Any]:
    """Ingest files with `workers` extraction processes, no orchestrator; returns the run summary.

    Streams: at most `workers` files are in flight, so memory does not grow with the batch. Transient
    database errors are retried `retries` times; a file that still raises is recorded as failed.
    `on_outcome(done, total, outcome)` is called once per file as it finishes (total None when
    `paths` is an iterator).
    """
    run_id = store.start_run({"runner": "pipeline.ingest", "workers": workers, **(params or {})})
    pool = default_pool(workers)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest") as ex:

        def submit(path: str, run: int) -> Future:
            return ex.submit(
                ingest_with_retries, path, store, run, timeout=timeout, extractor=pool, retries=retries
            )

        on_abort = pool.terminate if isinstance(pool, ExtractorPool) else None
        summary = run_batch(
            paths, store, run_id, submit=submit, window=workers, on_outcome=on_outcome, on_abort=on_abort
        )
    if summary["unrecorded"]:
        raise BatchError(f"run {run_id}: {summary['unrecorded']} file(s) could not be given a status")
    return summary
