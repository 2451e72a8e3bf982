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

import os

from .database import (
    Database,
    StoreError,
    absolute_url,
    classify,
    file_url,
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


def open_store(url_or_path: str | os.PathLike[str] | None = None, read_only: bool = False) -> Store:
    """The store at `url_or_path`: a SQLAlchemy URL or a SQLite file path (`outputs/reports.db`, `~/r.db`).

    None means env `PIPELINE_DB_URL`, else `sqlite:///outputs/reports.db`. Writable by default (a
    missing SQLite file is created with its tables); `read_only=True` changes nothing on disk and
    raises FileNotFoundError for a missing file.
    """
    return Store(None if url_or_path is None else os.fspath(url_or_path), read_only=read_only)


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
    "file_url",
    "is_fatal",
    "is_transient",
    "open_store",
    "resolve_url",
    "store_error",
]
