"""The one package that talks to databases: extracted reports (the JSON contract, as dicts) in SQL.

    schema.py      one mapping per entity: contract key → column → dtype; the tables derive from it
    database.py    URLs, SQLite's locking set-up, opening and closing
    reports.py     save a report in one transaction, load it back
    ingest_log.py  ingest runs and one row per submitted file
    frames.py      DataFrames for reviewers and exports
    queries.py     questions reviewers ask (failing checks, a label across years)
    exports.py     Excel, CSV, Parquet, JSON

Guarantees the rest of the pipeline relies on: one report is written in one transaction; a report is
identified by the sha256 of its file (the same extractor version again writes nothing, another one
replaces its rows in place); several processes may write to one SQLite file at once; every submitted
file leaves an `ingest_files` row.
"""

from __future__ import annotations

from .database import (
    Database,
    StoreError,
    absolute_url,
    classify,
    is_fatal,
    is_transient,
    resolve_url,
    store_error,
)
from .frames import FramesMixin
from .ingest_log import IngestLogMixin
from .reports import Outcome, ReportsMixin, SaveResult
from .schema import ALL_TABLES, DOC_STATUSES, FILE_STATUSES, DocStatus, FileStatus


class Store(ReportsMixin, IngestLogMixin, FramesMixin, Database):
    """Extracted reports in a SQL database (SQLite by default, PostgreSQL via `postgresql+psycopg://`).

    Open one per process: the engine's connections must not cross a fork. Its methods come in three
    groups, one module each: reports (save, load), the ingest log, and the DataFrame read models.
    """

    def __enter__(self) -> Store:
        return self


__all__ = [
    "ALL_TABLES",
    "DOC_STATUSES",
    "FILE_STATUSES",
    "DocStatus",
    "FileStatus",
    "Outcome",
    "SaveResult",
    "Store",
    "StoreError",
    "absolute_url",
    "classify",
    "is_fatal",
    "is_transient",
    "resolve_url",
    "store_error",
]
