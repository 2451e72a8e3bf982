"""Submitted files into the store, one at a time or as a batch over worker processes.

Plain Python (no Prefect): the flows in `flows/` wrap these functions, the batch benchmark calls them
directly to measure what the orchestration costs. What this module guarantees:

* every submitted file ends with one `ingest_files` row: ok, duplicate, or failed with a reason; a bad
  file (not a PDF, encrypted, corrupt, hostile) is a *status*, never an exception;
* extraction runs in worker processes that can be killed: a file that takes longer than its time limit
  is stopped, recorded as failed, and its worker replaced;
* a file already stored by this extractor version is not extracted again (a re-run after a crash
  only does the rest);
* only errors of the database itself escape `ingest_file` (`is_transient` tells which are worth a
  retry), so that a caller can retry them without ever retrying a bad file.
"""

from __future__ import annotations

import atexit
import glob
import logging
import multiprocessing as mp
import os
import resource
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from . import EXTRACTOR_VERSION
from .errors import ReportError
from .pdfread import sha256_of
from .store import Store, absolute_url
from .store import is_transient as storage_is_transient

log = logging.getLogger(__name__)

Status = Literal["ok", "failed", "duplicate"]
# A normal report takes about a second; a 200-page one well under a minute.
DEFAULT_TIMEOUT = 300.0
# Workers are replaced after this many files, so that whatever a library caches per file cannot add up.
MAX_TASKS_PER_WORKER = 200
_GLOB_CHARS = set("*?[")


@dataclass
class FileOutcome:
    """What happened to one submitted file (its `ingest_files` row, in short)."""

    path: str
    status: Status
    sha256: str | None = None
    reason: str | None = None
    document_id: int | None = None
    outcome: str | None = None  # the store's word: inserted / replaced / duplicate
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ExtractionTimeout(Exception):
    """A file's extraction ran past its time limit; its worker was killed."""


class ExtractorCrashed(Exception):
    """A worker process died (or could not start) while extracting a file."""


# -- which errors are worth a retry --------------------------------------------------------------------


def is_transient(exc: BaseException) -> bool:
    """True for database errors that may go away on their own (locked, connection lost, pool exhausted).

    Never true for a bad file: those do not raise out of `ingest_file` at all.
    """
    return storage_is_transient(exc)


# -- finding the files ---------------------------------------------------------------------------------


def discover(inputs: str | Path | Iterable[str | Path]) -> Iterator[str]:
    """Absolute paths of the files to ingest: folders (every *.pdf below, sorted), globs, files.

    A path that does not exist is yielded as it is, so that it gets a status (failed: file not found)
    instead of silently vanishing from the batch. Each file comes once, in the order given.
    """
    if isinstance(inputs, str | Path):
        inputs = [inputs]
    seen: set[str] = set()
    for item in inputs:
        p = Path(item).expanduser()
        if p.is_dir():
            found = sorted(q for q in p.rglob("*") if q.suffix.lower() == ".pdf" and q.is_file())
        elif not p.exists() and _GLOB_CHARS & set(str(item)):
            found = sorted(Path(q) for q in glob.glob(str(p), recursive=True) if Path(q).is_file())
        else:
            found = [p]
        for q in found:
            a = os.path.abspath(q)
            if a not in seen:
                seen.add(a)
                yield a


# -- the store, once per process -----------------------------------------------------------------------

_stores: dict[tuple[int, str], Store] = {}
_stores_lock = threading.Lock()


def open_store(url: str | None = None) -> Store:
    """The process' Store for `url` (opened once; a forked child opens its own)."""
    key = (os.getpid(), absolute_url(url))
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = Store(key[1])
        return store


# -- extraction in worker processes --------------------------------------------------------------------


def extract_contract(path: str) -> dict:
    """Extract one report to its contract dict (what a worker process runs)."""
    from .extract import extract
    from .serialize import to_contract

    return to_contract(extract(path))


def _warm() -> None:
    # jieba's dictionary loads on first use (about 0.7 s): pay it once per worker, before its first file's
    # clock starts.
    try:
        from .nlp import pipeline

        pipeline()
    except Exception:  # warming is an optimisation only
        log.debug("warm-up failed", exc_info=True)


def _peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux


def _worker_main(conn: Any, func: Callable[[str], Any], warm: bool) -> None:
    """A worker process: answers paths with ("ok", result) / ("report_error", file, reason) / ("error", text)."""
    if warm:
        _warm()
    conn.send(("ready", os.getpid(), _peak_rss_kb()))
    while True:
        try:
            path = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if path is None:
            return
        try:
            reply: tuple = ("ok", func(path))
        except ReportError as exc:
            reply = ("report_error", exc.file, exc.reason)
        except BaseException as exc:  # a bug on one file must not end the worker
            reply = ("error", f"{type(exc).__name__}: {exc}"[:500])
        try:
            conn.send((*reply, _peak_rss_kb()))
        except Exception as exc:  # e.g. a result that cannot be pickled
            conn.send(("error", f"cannot send the result ({type(exc).__name__}: {exc})"[:500], _peak_rss_kb()))


def _preload_modules() -> list[str]:
    """What the forkserver imports once, so that each worker it forks starts in milliseconds."""
    modules = ["pipeline.extract", "pipeline.serialize", "pipeline.ingest"]
    # multiprocessing runs the parent's main module again in every child; when that is a module run with
    # -m (a Prefect worker's flow runs are `python -m prefect.engine`), importing it in the forkserver
    # first makes that re-run cheap.
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    name = getattr(spec, "name", None)
    if name and not name.endswith("__main__"):
        modules.append(name)
    return modules


@dataclass
class _Worker:
    process: Any
    conn: Any
    tasks: int = 0


@dataclass
class PoolStats:
    """What the pool's workers did: processes started and killed, peak RSS per worker (MB)."""

    started: int = 0
    killed: int = 0
    peak_rss_mb: dict[int, float] = field(default_factory=dict)  # pid → peak RSS

    @property
    def max_rss_mb(self) -> float:
        return max(self.peak_rss_mb.values(), default=0.0)


class ExtractorPool:
    """Worker processes that extract one file at a time each, killable when a file takes too long.

    Any number of threads may call `extract` at once: each borrows an idle worker, or starts one while
    there are fewer than `max_workers`, or waits. Workers are forked from a forkserver that has the
    extractor imported already (a few milliseconds each, and safe from a multithreaded parent), then
    warm their own caches. A worker is replaced after `max_tasks` files, after a timeout (killed), and
    after a crash.
    """

    def __init__(
        self,
        max_workers: int = 2,
        *,
        max_tasks: int = MAX_TASKS_PER_WORKER,
        func: Callable[[str], Any] = extract_contract,
        warm: bool = True,
        start_timeout: float = 120.0,
    ) -> None:
        self.max_workers = max(1, int(max_workers))
        self.max_tasks = max_tasks
        self.func = func
        self.warm = warm
        self.start_timeout = start_timeout
        self.stats = PoolStats()
        self._ctx = mp.get_context("forkserver")
        # Only takes effect if this process' forkserver has not started yet, which is the usual case.
        self._ctx.set_forkserver_preload(_preload_modules())
        self._idle: list[_Worker] = []
        self._live = 0
        self._cond = threading.Condition()
        self._closed = False

    def resize(self, max_workers: int) -> None:
        """Allow up to `max_workers` workers (existing ones are kept)."""
        with self._cond:
            self.max_workers = max(self.max_workers, int(max_workers))
            self._cond.notify_all()

    def prestart(self, n: int | None = None) -> None:
        """Start up to `n` workers now, in background threads (e.g. while Prefect's API starts)."""

        def one() -> None:
            try:
                worker = self._acquire()
            except Exception:  # a worker that cannot start says so again when a file needs it
                return
            self._release(worker, True, count=False)

        for _ in range(min(n or self.max_workers, self.max_workers)):
            threading.Thread(target=one, name="pipeline-prestart", daemon=True).start()

    def extract(self, path: str | Path, timeout: float | None = DEFAULT_TIMEOUT) -> Any:
        """`func(path)` in a worker; raises ReportError, ExtractionTimeout or ExtractorCrashed.

        `timeout` (seconds, None = no limit) counts from the moment the worker gets the file.
        """
        worker = self._handover(str(path))
        healthy = False
        try:
            try:
                if not worker.conn.poll(timeout):
                    raise ExtractionTimeout(f"extraction took longer than {timeout:g} s and was stopped")
                reply = worker.conn.recv()
            except (EOFError, OSError) as exc:
                worker.process.join(1)
                raise ExtractorCrashed(
                    f"extraction worker died (exit code {worker.process.exitcode})"
                ) from exc
            healthy = True
        finally:
            self._release(worker, healthy)
        kind, *rest, rss_kb = reply
        self._note_rss(worker, rss_kb)
        if kind == "ok":
            return rest[0]
        if kind == "report_error":
            raise ReportError(rest[0], rest[1])
        raise ExtractorCrashed(f"extractor error ({rest[0]})")

    def close(self) -> None:
        """Stop every idle worker (busy ones stop when their file is done)."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._live -= len(idle)
            self._cond.notify_all()
        for w in idle:
            self._retire(w)

    def __enter__(self) -> ExtractorPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- workers ---------------------------------------------------------------------------------------

    def _handover(self, path: str) -> _Worker:
        # An idle worker may have died meanwhile (e.g. the OOM killer): that is not this file's fault,
        # so it gets one fresh worker before anything is blamed on it.
        for attempt in range(2):
            worker = self._acquire()
            try:
                worker.conn.send(path)
                return worker
            except OSError as exc:
                self._release(worker, False)
                if attempt:
                    raise ExtractorCrashed("extraction workers die before they get a file") from exc
        raise AssertionError("unreachable")

    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("extractor pool is closed")
                if self._idle:
                    return self._idle.pop()
                if self._live < self.max_workers:
                    self._live += 1
                    break
                self._cond.wait()
        try:
            return self._start()
        except BaseException:
            with self._cond:
                self._live -= 1
                self._cond.notify()
            raise

    def _start(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        # daemon: a worker never outlives its parent's normal exit; after a kill -9 it sees EOF and ends
        proc = self._ctx.Process(
            target=_worker_main, args=(child, self.func, self.warm), name="pipeline-extract", daemon=True
        )
        proc.start()
        child.close()
        worker = _Worker(proc, parent)
        try:
            if not parent.poll(self.start_timeout):
                raise ExtractorCrashed(f"extraction worker did not start within {self.start_timeout:g} s")
            _, _, rss_kb = parent.recv()
        except (EOFError, OSError, ExtractorCrashed) as exc:
            self._kill(worker)
            if isinstance(exc, ExtractorCrashed):
                raise
            raise ExtractorCrashed(f"extraction worker died while starting (exit code {proc.exitcode})") from exc
        self.stats.started += 1
        self._note_rss(worker, rss_kb)
        return worker

    def _release(self, worker: _Worker, healthy: bool, count: bool = True) -> None:
        worker.tasks += count
        keep = healthy and worker.tasks < self.max_tasks
        with self._cond:
            if keep and not self._closed:
                self._idle.append(worker)
            else:
                self._live -= 1
                keep = False
            self._cond.notify()
        if keep:
            return
        if healthy:
            self._retire(worker)
        else:
            self._kill(worker)

    def _note_rss(self, worker: _Worker, rss_kb: int) -> None:
        pid = worker.process.pid
        self.stats.peak_rss_mb[pid] = max(self.stats.peak_rss_mb.get(pid, 0.0), rss_kb / 1024)

    def _retire(self, worker: _Worker) -> None:
        try:
            worker.conn.send(None)
        except OSError:
            pass
        worker.process.join(5)
        if worker.process.is_alive():
            self._kill(worker)
        worker.conn.close()

    def _kill(self, worker: _Worker) -> None:
        if worker.process.is_alive():
            worker.process.kill()
            self.stats.killed += 1
        worker.process.join(5)
        worker.conn.close()


class InlineExtractor:
    """Extraction in this very process: for processes that may not start children (daemonic ones).

    It cannot enforce a time limit; `timeout` is accepted and ignored.
    """

    def __init__(self, func: Callable[[str], Any] = extract_contract) -> None:
        self.func = func

    def extract(self, path: str | Path, timeout: float | None = None) -> Any:
        try:
            return self.func(str(path))
        except ReportError:
            raise
        except Exception as exc:  # a bug on one file is that file's failure
            raise ExtractorCrashed(f"extractor error ({type(exc).__name__}: {exc})"[:500]) from exc


_pool: ExtractorPool | None = None
_pool_lock = threading.Lock()


def default_pool(workers: int | None = None) -> ExtractorPool | InlineExtractor:
    """The process' shared extractor pool, allowed at least `workers` workers (default: one per CPU).

    Workers start on demand, so the number of callers at a time is what sets how many run. Shared so
    that a long-lived process (tests, a served flow, a Dask worker) keeps warm workers across batches.
    A daemonic process (e.g. a Dask worker left at its default) cannot have children: it extracts
    in-process, without a time limit.
    """
    global _pool
    if mp.current_process().daemon:
        return InlineExtractor()
    workers = workers or os.cpu_count() or 1
    with _pool_lock:
        if _pool is None or _pool._closed:
            _pool = ExtractorPool(workers)
            atexit.register(_pool.close)
        else:
            _pool.resize(workers)
        return _pool


# -- one file ------------------------------------------------------------------------------------------


def ingest_file(
    path: str | Path,
    store: Store,
    *,
    run_id: int | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    extractor: ExtractorPool | InlineExtractor | None = None,
    extractor_version: str = EXTRACTOR_VERSION,
) -> FileOutcome:
    """Extract (and reconcile) one file and store it; record its status under `run_id`.

    Returns ok (stored now), duplicate (the same bytes are stored already by this extractor version;
    not extracted again) or failed with a reason (unreadable, not a PDF, encrypted, corrupt, no text,
    over the time limit, the extractor crashed). Raises only when the database fails (see
    `is_transient`); the file then has no row yet, and trying again is safe.
    """
    t0 = time.perf_counter()
    path = str(path)

    def done(status: Status, **kw: Any) -> FileOutcome:
        return FileOutcome(path, status, seconds=round(time.perf_counter() - t0, 3), **kw)

    try:
        sha = sha256_of(Path(path))
    except OSError as exc:
        reason = "file not found" if isinstance(exc, FileNotFoundError) else f"cannot read the file ({exc})"
        store.record_failure(path, None, reason, run_id=run_id, extractor_version=extractor_version)
        return done("failed", reason=reason)

    if store.seen(sha, extractor_version):
        reason = "already stored by this extractor version"
        doc_id = store.document_id(sha)
        store.record_file(run_id, path, sha, "duplicate", reason, doc_id)
        return done("duplicate", sha256=sha, reason=reason, document_id=doc_id, outcome="duplicate")

    extractor = extractor or default_pool()
    try:
        doc = extractor.extract(path, timeout)
    except ReportError as exc:
        reason = exc.reason
    except (ExtractionTimeout, ExtractorCrashed) as exc:
        reason = str(exc)
    else:
        res = store.save_report(doc, path=path, extractor_version=extractor_version, run_id=run_id)
        status: Status = "duplicate" if res.outcome == "duplicate" else "ok"
        reason = "already stored by this extractor version" if status == "duplicate" else None
        return done(status, sha256=sha, reason=reason, document_id=res.document_id, outcome=res.outcome)
    doc_id = store.record_failure(path, sha, reason, run_id=run_id, extractor_version=extractor_version)
    return done("failed", sha256=sha, reason=reason, document_id=doc_id)


def record_lost(store: Store, path: str, exc: BaseException, *, run_id: int | None) -> FileOutcome:
    """Record a file whose ingestion raised for good (e.g. retries used up) as failed, with the error."""
    reason = f"ingestion failed: {type(exc).__name__}: {exc}"[:500]
    try:
        sha: str | None = sha256_of(Path(path))
    except OSError:
        sha = None
    doc_id = store.record_failure(path, sha, reason, run_id=run_id, extractor_version=EXTRACTOR_VERSION)
    return FileOutcome(path, "failed", sha256=sha, reason=reason, document_id=doc_id)


# -- a batch without any orchestrator -----------------------------------------------------------------


def run_summary(store: Store, run_id: int) -> dict[str, Any]:
    """Files per status of one ingest run, read back from the store."""
    per_status = store.files_per_status(run_id)
    return {
        "run_id": run_id,
        "files": sum(per_status.values()),
        **{s: per_status.get(s, 0) for s in ("ok", "duplicate", "failed")},
    }


def recorded_outcome(store: Store, run_id: int, path: str) -> FileOutcome | None:
    """The status `path` got in run `run_id` (its last row), as a FileOutcome; None if it has none."""
    row = store.file_status(run_id, path)
    return FileOutcome(path, **row) if row is not None else None


def failing_checks(store: Store, run_id: int, limit: int | None = None) -> list[dict[str, Any]]:
    """Failing checks of the documents this run stored or found stored: unit, year, file, message."""
    return store.run_failing_checks(run_id, limit)


def ingest_paths(
    paths: Iterable[str],
    store: Store,
    *,
    workers: int = 2,
    timeout: float | None = DEFAULT_TIMEOUT,
    retries: int = 2,
    params: dict[str, Any] | None = None,
    on_outcome: Callable[[int, int | None, FileOutcome], None] | None = None,
) -> dict[str, Any]:
    """Ingest files with `workers` extraction processes, no orchestrator; returns the run summary.

    Streams: at most `workers` files are in flight, so memory does not grow with the batch. Transient
    database errors are retried `retries` times; a file that still raises is recorded as failed.
    `on_outcome(done, total, outcome)` is called once per file as it finishes (total None when
    `paths` is an iterator).
    """
    total = len(paths) if isinstance(paths, Sequence) else None
    run_id = store.start_run({"runner": "pipeline.ingest", "workers": workers, **(params or {})})
    pool = default_pool(workers)
    t0 = time.perf_counter()

    def one(path: str) -> FileOutcome:
        for attempt in range(retries + 1):
            try:
                return ingest_file(path, store, run_id=run_id, timeout=timeout, extractor=pool)
            except Exception as exc:
                if attempt < retries and is_transient(exc):
                    time.sleep(2**attempt)
                    continue
                return record_lost(store, path, exc, run_id=run_id)
        raise AssertionError("unreachable")

    done = 0
    it = iter(paths)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest") as ex:
        pending: set[Future] = set()
        while True:
            while len(pending) < workers and (path := next(it, None)) is not None:
                pending.add(ex.submit(one, path))
            if not pending:
                break
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                done += 1
                if on_outcome:
                    on_outcome(done, total, fut.result())
    seconds = time.perf_counter() - t0
    summary = run_summary(store, run_id)
    store.finish_run(run_id, {**{k: summary[k] for k in ("ok", "duplicate", "failed")}, "seconds": seconds})
    return {**summary, "submitted": done, "seconds": round(seconds, 3)}


# -- a watched folder ----------------------------------------------------------------------------------

PROCESSED, FAILED = "processed", "failed"


def inbox_files(inbox: str | Path, min_age: float = 0.0) -> list[str]:
    """Files waiting in `inbox` (top level only), oldest first.

    Hidden files are skipped, and so are files changed less than `min_age` seconds ago: they may still
    be being copied in, and a half-copied file would be filed away as corrupt.
    """
    inbox = Path(inbox)
    now = time.time()
    found = []
    for p in inbox.iterdir():
        if p.name.startswith(".") or not p.is_file():
            continue
        st = p.stat()
        if now - st.st_mtime >= min_age:
            found.append((st.st_mtime, p.name, os.path.abspath(p)))
    return [p for _, _, p in sorted(found)]


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 1
    while target.exists() or target.with_name(target.name + ".reason.txt").exists():
        n += 1
        target = folder / f"{stem}.{n}{suffix}"
    return target


def file_away(path: str | Path, outcome: FileOutcome, inbox: str | Path) -> Path | None:
    """Move an ingested inbox file to processed/ (ok, duplicate) or failed/ (with `<name>.reason.txt`).

    Never overwrites: a name already taken there gets a number (report.2.pdf). Call it after the status
    is recorded, so that a crash in between only means the file is looked at again next time. Returns
    where the file went, or None when it was gone already.
    """
    path = Path(path)
    if not path.exists():
        return None  # filed away already (by a run that overlapped this one)
    folder = Path(inbox) / (FAILED if outcome.status == "failed" else PROCESSED)
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_name(folder, path.name)
    if outcome.status == "failed":
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        target.with_name(target.name + ".reason.txt").write_text(
            f"{outcome.reason}\n\nfile: {path.name}\nsha256: {outcome.sha256 or '-'}\nat: {stamp}\n",
            encoding="utf-8",
        )
    shutil.move(str(path), target)
    return target
