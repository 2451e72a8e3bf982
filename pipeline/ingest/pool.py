"""Extraction in worker processes that can be killed: a file over its time limit is stopped, its worker replaced.

Workers are forked from a forkserver that has the extractor imported already, then warm their own caches
(jieba's dictionary); a worker is replaced after `MAX_TASKS_PER_WORKER` files, after a timeout and after
a crash. A daemonic process (which may not have children) extracts in-process instead.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing as mp
import os
import pickle
import resource
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import settings
from pipeline.errors import ReportError, storable_path
from pipeline.extract import ocr
from pipeline.extract.ocr import SECONDS_PER_PAGE as OCR_SECONDS_PER_PAGE
from pipeline.messages import Message

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = settings.INGEST_TIMEOUT
MAX_TASKS_PER_WORKER = settings.MAX_TASKS_PER_WORKER


class ExtractionTimeout(Exception):
    """A file's extraction ran past its time limit; its worker was killed."""


class ExtractorCrashed(Exception):
    """A worker process died (or could not start) while extracting a file."""


class ExtractionStopped(Exception):
    """The pool was terminated (the batch is stopping) while this file waited or was extracted.

    Not the file's fault: `ingest_file` lets it through without recording a status, so the next run
    ingests the file as never seen.
    """


def extract_contract(path: str) -> dict:
    """Extract one report to its contract dict (what a worker process runs)."""
    from pipeline.extract import extract
    from pipeline.serialize import to_contract

    doc = to_contract(extract(path))  # pdfread refuses hostile structure first (extract/pdfguard.py)
    doc["source"]["file"] = storable_path(doc["source"]["file"])  # a name of any bytes, as storable text
    return doc


def _warm() -> None:
    # jieba's dictionary loads on first use (about 0.7 s): pay it once per worker, before its first file's
    # clock starts.
    try:
        from pipeline.extract.prose.nlp import pipeline

        pipeline()
    except Exception:  # warming is an optimisation only
        log.debug("warm-up failed", exc_info=True)


def _peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux


def _limit_memory(mb: int) -> None:
    # Address space, not RSS: a runaway allocation fails with MemoryError in this worker instead of
    # the OOM killer choosing a victim on the whole machine.
    try:
        cap = mb * 2**20
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ValueError, OSError):  # e.g. a container that forbids it: the time limit still holds
        log.debug("cannot limit worker memory", exc_info=True)


def _worker_main(conn: Any, func: Callable[[str], Any], warm: bool, memory_mb: int | None = None) -> None:
    """A worker process: answers jobs with ("ok", result) / ("report_error", file, reason) / ("error", text).

    A job is a path (for `func`) or a (function, path) pair.
    """
    if warm:
        _warm()
    if memory_mb:
        _limit_memory(memory_mb)
    # before OCR starts, the parent hears how many pages it reads and extends the file's time limit
    ocr.set_listener(lambda pages: conn.send(("ocr_pages", pages)))
    conn.send(("ready", os.getpid(), _peak_rss_kb()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if job is None:
            return
        run, path = job if isinstance(job, tuple) else (func, job)
        # Pickled before the file is touched: at the memory limit not even a reply could be built then.
        out_of_memory = pickle.dumps(
            ("report_error", storable_path(Path(path).name), Message("out_of_memory", limit_mb=memory_mb), 0)
        )
        try:
            reply: tuple = ("ok", run(path))
        except ReportError as exc:
            reply = ("report_error", exc.file, exc.reason)
        except MemoryError:
            reply = ()
        except BaseException as exc:  # a bug on one file must not end the worker
            reply = ("error", f"{type(exc).__name__}: {exc}"[:500])
        if not reply:
            conn.send_bytes(out_of_memory)
            return  # what failed to allocate may have left the heap in pieces: a fresh worker takes over
        try:
            conn.send((*reply, _peak_rss_kb()))
        except Exception as exc:  # e.g. a result that cannot be pickled
            conn.send(
                ("error", f"cannot send the result ({type(exc).__name__}: {exc})"[:500], _peak_rss_kb())
            )


def _preload_modules() -> list[str]:
    """What the forkserver imports once, so that each worker it forks starts in milliseconds."""
    modules = ["pipeline.extract.stages", "pipeline.serialize", "pipeline.ingest"]
    # multiprocessing runs the parent's main module again in every child; when that is a module run with
    # -m (a Prefect worker's flow runs are `python -m prefect.engine`), importing it in the forkserver
    # first makes that re-run cheap.
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    name = getattr(spec, "name", None)
    if name and not name.endswith("__main__"):
        modules.append(name)
    return modules


@dataclass(eq=False)  # hashable by identity: busy workers are kept in a set
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
        memory_mb: int | None = settings.WORKER_MEMORY_MB,
    ) -> None:
        self.max_workers = max(1, int(max_workers))
        self.memory_mb = memory_mb
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
        self._stopping = False
        self._busy: set[_Worker] = set()

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
        return self.run(None, path, timeout)

    def run(
        self, func: Callable[[str], Any] | None, path: str | Path, timeout: float | None = DEFAULT_TIMEOUT
    ) -> Any:
        """`func(path)` (a module-level function; None: the pool's own) in a worker, as `extract`."""
        worker = self._handover(str(path) if func is None else (func, str(path)))
        healthy = False
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            try:
                while True:
                    left = None if deadline is None else max(0.0, deadline - time.monotonic())
                    if not worker.conn.poll(left):
                        raise ExtractionTimeout(Message("extract_timeout", seconds=timeout))
                    reply = worker.conn.recv()
                    if reply[0] != "ocr_pages":
                        break
                    if deadline is not None:  # each page read by OCR adds its allowance to the limit
                        deadline += reply[1] * OCR_SECONDS_PER_PAGE
                        timeout += reply[1] * OCR_SECONDS_PER_PAGE
            except (EOFError, OSError) as exc:
                if self._stopping:
                    raise ExtractionStopped("the batch is stopping") from exc
                worker.process.join(1)
                raise ExtractorCrashed(Message("worker_died", exit_code=worker.process.exitcode)) from exc
            healthy = True
        finally:
            self._release(worker, healthy)
        kind, *rest, rss_kb = reply
        self._note_rss(worker, rss_kb)
        if kind == "ok":
            return rest[0]
        if kind == "report_error":
            raise ReportError(rest[0], rest[1])
        raise ExtractorCrashed(Message("extractor_error", error=rest[0]))

    def close(self) -> None:
        """Stop every idle worker (busy ones stop when their file is done)."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._live -= len(idle)
            self._cond.notify_all()
        for w in idle:
            self._retire(w)

    def terminate(self) -> None:
        """Kill every worker now, busy ones too: their callers get ExtractionStopped (a batch stopping)."""
        with self._cond:
            self._closed = self._stopping = True
            workers, self._idle = [*self._idle, *self._busy], []
            self._cond.notify_all()
        for w in workers:
            if w.process.is_alive():
                w.process.kill()

    def __enter__(self) -> ExtractorPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- workers ---------------------------------------------------------------------------------------

    def _handover(self, job: Any) -> _Worker:
        # An idle worker may have died meanwhile (e.g. the OOM killer): that is not this file's fault,
        # so it gets one fresh worker before anything is blamed on it.
        for attempt in range(2):
            worker = self._acquire()
            try:
                worker.conn.send(job)
                with self._cond:
                    self._busy.add(worker)
                return worker
            except OSError as exc:
                self._release(worker, False)
                if attempt:
                    raise ExtractorCrashed(Message("workers_die_at_start")) from exc
        raise AssertionError("unreachable")

    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                if self._stopping:
                    raise ExtractionStopped("the batch is stopping")
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
            target=_worker_main,
            args=(child, self.func, self.warm, self.memory_mb),
            name="pipeline-extract",
            daemon=True,
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
            raise ExtractorCrashed(
                f"extraction worker died while starting (exit code {proc.exitcode})"
            ) from exc
        self.stats.started += 1
        self._note_rss(worker, rss_kb)
        return worker

    def _release(self, worker: _Worker, healthy: bool, count: bool = True) -> None:
        worker.tasks += count
        keep = healthy and worker.tasks < self.max_tasks
        with self._cond:
            self._busy.discard(worker)
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
        return self.run(None, path, timeout)

    def run(self, func: Callable[[str], Any] | None, path: str | Path, timeout: float | None = None) -> Any:
        """`func(path)` (None: this extractor's own) here and now; errors as `ExtractorPool.run`."""
        try:
            return (func or self.func)(str(path))
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
