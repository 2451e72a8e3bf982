"""Submitted files into the store, one at a time or as a batch over worker processes.

Plain Python (no Prefect): the flows in `flows/` drive `run_batch` with their own submit, the batch
benchmark calls `ingest_paths` directly to measure what the orchestration costs.

    discover.py  the files to ingest: folders, globs, files; a watched inbox and filing away (no links
                 followed, nothing overwritten)
    served.py    the inbox and store a served flow may use, whatever its run's parameters say
    pool.py      extraction in worker processes that can be killed (time limit per file)
    files.py     one file: extract, store, record its status; what a run did
    batch.py     one batch runner over any submit; `ingest_paths`, the batch without an orchestrator
"""

from __future__ import annotations

from pipeline.store import absolute_url

from .batch import BatchError, BatchStopped, ingest_paths, ingest_with_retries, run_batch
from .discover import FAILED, PROCESSED, UnsafeInbox, discover, file_away, inbox_files
from .files import (
    FileOutcome,
    Status,
    _stores,
    failing_checks,
    ingest_file,
    is_transient,
    open_store,
    record_lost,
    recorded_outcome,
    run_summary,
    store_ref,
)
from .pool import (
    DEFAULT_TIMEOUT,
    MAX_TASKS_PER_WORKER,
    ExtractionStopped,
    ExtractionTimeout,
    ExtractorCrashed,
    ExtractorPool,
    InlineExtractor,
    PoolStats,
    default_pool,
    extract_contract,
)
from .served import RefusedRun, check_served_run, served_env

__all__ = [
    "DEFAULT_TIMEOUT",
    "FAILED",
    "MAX_TASKS_PER_WORKER",
    "PROCESSED",
    "BatchError",
    "BatchStopped",
    "ExtractionStopped",
    "ExtractionTimeout",
    "ExtractorCrashed",
    "ExtractorPool",
    "FileOutcome",
    "InlineExtractor",
    "PoolStats",
    "RefusedRun",
    "Status",
    "UnsafeInbox",
    "_stores",
    "absolute_url",
    "check_served_run",
    "default_pool",
    "discover",
    "extract_contract",
    "failing_checks",
    "file_away",
    "inbox_files",
    "ingest_file",
    "ingest_paths",
    "ingest_with_retries",
    "is_transient",
    "open_store",
    "record_lost",
    "recorded_outcome",
    "run_batch",
    "run_summary",
    "served_env",
    "store_ref",
]
