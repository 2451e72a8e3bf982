"""One submitted file into the store: every file ends with one `ingest_files` row, ok, duplicate or failed.

A bad file (not a PDF, encrypted, corrupt, hostile, over its time limit) is a *status*, never an
exception; only errors of the database itself escape `ingest_file` (`is_transient` tells which are
worth a retry), so that a caller can retry them without ever retrying a bad file. A file already
stored by this extractor version is not extracted again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.engine import make_url

from pipeline import EXTRACTOR_VERSION, settings
from pipeline.archive import Archive, archive_dir
from pipeline.errors import ReportError, storable_path
from pipeline.messages import Message, of_exception, zh_only
from pipeline.store import Store, absolute_url
from pipeline.store import is_transient as storage_is_transient

from .checks import hash_job
from .pool import (
    DEFAULT_TIMEOUT,
    ExtractionTimeout,
    ExtractorCrashed,
    ExtractorPool,
    InlineExtractor,
    default_pool,
)

log = logging.getLogger(__name__)

Status = Literal["ok", "failed", "duplicate"]


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
    reason_zh: str | None = None  # the reason in Chinese (reason files, the Chinese outputs)

    def __post_init__(self) -> None:
        if self.reason_zh is None and self.reason is not None:
            self.reason_zh = zh_only(self.reason)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_transient(exc: BaseException) -> bool:
    """True for database errors that may go away on their own (locked, connection lost, pool exhausted).

    Never true for a bad file: those do not raise out of `ingest_file` at all.
    """
    return storage_is_transient(exc)


# -- the store, once per process -----------------------------------------------------------------------

_stores: dict[tuple[int, str], Store] = {}
_stores_lock = threading.Lock()
# masked URL → the URL with its password, for the stores this process was given
_secret_urls: dict[str, str] = {}


def store_ref(url: str | None = None) -> str:
    """A name for the store at `url` that is safe to hand to an orchestrator (task parameters, logs):
    the absolute URL with its password masked. `open_store` takes it back, in this process from what
    it was given, elsewhere from env `PIPELINE_DB_URL`."""
    full = absolute_url(url)
    masked = make_url(full).render_as_string(hide_password=True)
    if masked != full:
        _secret_urls[masked] = full
    return masked


def _real_url(url: str | None) -> str:
    if url is not None and url in _secret_urls:
        return _secret_urls[url]
    full = absolute_url(url)
    if make_url(full).password == "***":  # a store_ref of another process: its password is not here
        env = os.environ.get(settings.DB_ENV)
        if env and store_ref(env) == full:
            return absolute_url(env)
        raise ValueError(
            f"no password for the store {full} in this process: set {settings.DB_ENV} to its URL"
        )
    return full


def open_store(url: str | None = None) -> Store:
    """The process' Store for `url` (opened once; a forked child opens its own). `url` may be a
    `store_ref`."""
    key = (os.getpid(), _real_url(url))
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = Store(key[1])
        return store


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
    path = os.fspath(path)
    shown = storable_path(path)  # what the store and the logs get: a name of any bytes, as text

    def done(status: Status, **kw: Any) -> FileOutcome:
        return FileOutcome(path, status, seconds=round(time.perf_counter() - t0, 3), **kw)

    extractor = extractor or default_pool()
    # Checked, opened and hashed in a worker, under the time limit: a FIFO or a link to a device
    # never blocks this process.
    try:
        sha = extractor.run(hash_job, path, timeout)["sha256"]
    except ReportError as exc:
        reason = exc.reason
    except ExtractionTimeout:
        reason = Message("read_timeout", seconds=timeout)
    except ExtractorCrashed as exc:
        reason = of_exception(exc)
    else:
        reason = None
    if reason is not None:
        store.record_failure(shown, None, reason, run_id=run_id, extractor_version=extractor_version)
        return done("failed", reason=reason)
    archived = _archive(store, path)

    if store.seen(sha, extractor_version):
        reason = Message("already_stored")
        doc_id = store.document_id(sha)
        if archived:
            store.set_archived(sha, archived)
        store.record_file(run_id, shown, sha, "duplicate", reason, doc_id)
        return done("duplicate", sha256=sha, reason=reason, document_id=doc_id, outcome="duplicate")

    try:
        doc = extractor.extract(path, timeout)
    except ReportError as exc:
        reason = exc.reason
    except (ExtractionTimeout, ExtractorCrashed) as exc:
        reason = of_exception(exc)
    else:
        if doc["source"]["sha256"] != sha:
            reason = Message("changed_while_ingested")
        else:
            res = store.save_report(
                doc, path=shown, extractor_version=extractor_version, run_id=run_id, archived=archived
            )
            status: Status = "duplicate" if res.outcome == "duplicate" else "ok"
            reason = Message("already_stored") if status == "duplicate" else None
            return done(status, sha256=sha, reason=reason, document_id=res.document_id, outcome=res.outcome)
    doc_id = store.record_failure(
        shown, sha, reason, run_id=run_id, extractor_version=extractor_version, archived=archived
    )
    return done("failed", sha256=sha, reason=reason, document_id=doc_id)


def _archive(store: Store, path: str) -> str | None:
    """Keep the file's bytes in the store's archive; a full disk there must not fail the file itself."""
    try:
        return str(Archive(archive_dir(store.url)).put(path)[1].resolve())
    except OSError as exc:
        log.warning("%s: not archived: %s", path, exc)
        return None


def record_lost(store: Store, path: str, exc: BaseException, *, run_id: int | None) -> FileOutcome:
    """Record a file whose ingestion raised for good (e.g. retries used up) as failed, with the error."""
    reason = Message("ingest_failed", error=f"{type(exc).__name__}: {exc}")
    # No sha256: hashing would read the file here, in the batch's process, without a time limit.
    doc_id = store.record_failure(
        storable_path(path), None, reason, run_id=run_id, extractor_version=EXTRACTOR_VERSION
    )
    return FileOutcome(path, "failed", reason=reason, document_id=doc_id)


# -- what a run did, read back from the store ---------------------------------------------------------


def run_summary(store: Store, run_id: int) -> dict[str, Any]:
    """Files per status of one ingest run, read back from the store."""
    per_status = store.files_per_status(run_id)
    return {
        "run_id": run_id,
        "files": sum(per_status.values()),
        **{s: per_status.get(s, 0) for s in ("ok", "duplicate", "failed")},
        "ocr_pages": store.run_ocr_pages(run_id),
    }


def recorded_outcome(store: Store, run_id: int, path: str) -> FileOutcome | None:
    """The status `path` got in run `run_id` (its last row), as a FileOutcome; None if it has none."""
    row = store.file_status(run_id, storable_path(path))
    return FileOutcome(path, **row) if row is not None else None


def failing_checks(store: Store, run_id: int, limit: int | None = None) -> list[dict[str, Any]]:
    """Failing checks of the documents this run stored or found stored: unit, year, file, message."""
    return store.run_failing_checks(run_id, limit)
