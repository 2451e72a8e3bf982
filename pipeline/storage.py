"""The one module that talks to databases: stores extracted reports (the JSON contract, as dicts).

Works on the contract's dicts, not on the extractor's model, so that the store does not move each
time extraction does. SQLite is the default (one file, nothing to run); PostgreSQL is used the same
way through `postgresql+psycopg://…`.

Guarantees the rest of the pipeline relies on:

* one report is written in one transaction: it is either all there or not there at all;
* a report is identified by the sha256 of its file: storing it again with the same extractor version
  writes nothing, storing it with another version replaces its rows in place (same document id);
* several processes may write to one SQLite file at once: WAL, a busy timeout and `BEGIN IMMEDIATE`
  make them queue instead of failing with "database is locked";
* every submitted file leaves an `ingest_files` row (ok / failed / duplicate / skipped).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError

DEFAULT_URL = "sqlite:///outputs/reports.db"
ENV_URL = "PIPELINE_DB_URL"
SQLITE_BUSY_TIMEOUT_MS = 30_000

Outcome = Literal["inserted", "replaced", "duplicate"]
DOC_STATUSES = ("ok", "failed", "duplicate")
FILE_STATUSES = ("ok", "failed", "duplicate", "skipped")

# The contract's top-level keys, and those of its `source` and `report` objects. Anything else a
# document carries ("extra properties are allowed everywhere") is kept in an `extra` JSON column so
# that the JSON export gives back what was stored.
_TOP_KEYS = {"schema_version", "source", "report", "sections", "figures", "checks", "tables"}
_SOURCE_KEYS = {"file", "sha256", "pages"}
_REPORT_KEYS = {"title", "unit", "year", "date", "doc_type"}
_SECTION_KEYS = {"id", "level", "number", "title", "page", "parent"}
_FIGURE_KEYS = {
    "id",
    "kind",
    "value",
    "unit",
    "value_yuan",
    "label",
    "qualifier",
    "page",
    "bbox",
    "section",
    "text",
}
_CHECK_KEYS = {"id", "rule", "status", "figures", "expected", "stated", "message"}
_TABLE_KEYS = {"id", "page", "title", "rows"}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

metadata = sa.MetaData()

# Timestamps are written by Python in UTC (not by server defaults) so both backends hold the same
# values; SQLite drops the zone on the way in, the loaders put it back.
documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("file_name", sa.Text),
    sa.Column("path", sa.Text),
    sa.Column("unit", sa.Text),
    sa.Column("year", sa.Integer),
    # The contract's ISO date string, kept as text: the extractor may print a date that matches the
    # pattern but is no calendar day, and the store should not be the place that rejects it.
    sa.Column("date", sa.String(10)),
    sa.Column("doc_type", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("pages", sa.Integer),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("extractor_version", sa.String(64)),
    sa.Column("schema_version", sa.Integer),
    sa.Column("n_sections", sa.Integer, nullable=False, default=0),
    sa.Column("n_figures", sa.Integer, nullable=False, default=0),
    sa.Column("n_checks", sa.Integer, nullable=False, default=0),
    sa.Column("n_checks_failed", sa.Integer, nullable=False, default=0),
    sa.Column("n_tables", sa.Integer, nullable=False, default=0),
    sa.Column("extra", sa.JSON),
    sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(f"status IN {DOC_STATUSES}", name="documents_status"),
    sa.Index("ix_documents_unit_year", "unit", "year"),
    sa.Index("ix_documents_status", "status"),
)


def _doc_fk() -> sa.Column:
    # Child rows go with their document; indexed because every replace deletes by it.
    return sa.Column(
        "document_id",
        sa.Integer,
        sa.ForeignKey("documents.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


sections = sa.Table(
    "sections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _doc_fk(),
    sa.Column("sec_id", sa.String(64), nullable=False),
    sa.Column("level", sa.Integer),
    sa.Column("number", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("page", sa.Integer),
    sa.Column("parent", sa.String(64)),
    sa.Column("ord", sa.Integer, nullable=False),
    sa.Column("extra", sa.JSON),
)

# Double, not Numeric: the contract's numbers are JSON numbers (binary floats) and the loaders hand
# them to pandas as float64; Numeric would only add a Decimal round trip on PostgreSQL.
figures = sa.Table(
    "figures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _doc_fk(),
    sa.Column("fig_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16)),
    sa.Column("value", sa.Double),
    sa.Column("unit", sa.String(32)),
    sa.Column("value_yuan", sa.Double),
    sa.Column("label", sa.Text),
    sa.Column("qualifier", sa.String(32)),
    sa.Column("page", sa.Integer),
    sa.Column("bbox_x0", sa.Double),
    sa.Column("bbox_top", sa.Double),
    sa.Column("bbox_x1", sa.Double),
    sa.Column("bbox_bottom", sa.Double),
    sa.Column("section", sa.String(64)),
    sa.Column("text", sa.Text),
    sa.Column("ord", sa.Integer, nullable=False),
    sa.Column("extra", sa.JSON),
    sa.Index("ix_figures_label", "label"),
)

checks = sa.Table(
    "checks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _doc_fk(),
    sa.Column("check_id", sa.String(64), nullable=False),
    sa.Column("rule", sa.String(32)),
    sa.Column("status", sa.String(16)),
    sa.Column("expected", sa.Double),
    sa.Column("stated", sa.Double),
    sa.Column("message", sa.Text),
    sa.Column("ord", sa.Integer, nullable=False),
    sa.Column("extra", sa.JSON),
    sa.Index("ix_checks_status", "status"),
)

# A check names its figures by contract id; `fig_id` keeps that id even when it matches no figure of
# the document (figure_id NULL then), so the JSON export gives the check back unchanged.
check_figures = sa.Table(
    "check_figures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "check_id", sa.Integer, sa.ForeignKey("checks.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("figure_id", sa.Integer, sa.ForeignKey("figures.id", ondelete="CASCADE"), index=True),
    sa.Column("fig_id", sa.String(64), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
)

report_tables = sa.Table(
    "report_tables",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _doc_fk(),
    sa.Column("table_id", sa.String(64), nullable=False),
    sa.Column("page", sa.Integer),
    sa.Column("title", sa.Text),
    # Kept so that empty rows and ragged rows survive the trip through cells.
    sa.Column("n_rows", sa.Integer, nullable=False),
    sa.Column("ord", sa.Integer, nullable=False),
    sa.Column("extra", sa.JSON),
)

# Every cell is stored, empty (NULL) ones too: a row's length is its highest column + 1.
table_cells = sa.Table(
    "table_cells",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("table_id", sa.Integer, sa.ForeignKey("report_tables.id", ondelete="CASCADE"), nullable=False),
    sa.Column("row", sa.Integer, nullable=False),
    sa.Column("col", sa.Integer, nullable=False),
    sa.Column("text", sa.Text),
    sa.Index("ix_table_cells_table", "table_id", "row", "col"),
)

ingest_runs = sa.Table(
    "ingest_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("params", sa.JSON),
    sa.Column("counts", sa.JSON),
)

ingest_files = sa.Table(
    "ingest_files",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("ingest_runs.id", ondelete="CASCADE"), index=True),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="SET NULL")),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(f"status IN {FILE_STATUSES}", name="ingest_files_status"),
)

# Order matters for counts() and for dropping: children before parents.
ALL_TABLES = (
    "documents",
    "sections",
    "figures",
    "checks",
    "check_figures",
    "report_tables",
    "table_cells",
    "ingest_runs",
    "ingest_files",
)


@dataclass(frozen=True)
class SaveResult:
    """What `Store.save_report` did with one report."""

    document_id: int
    outcome: Outcome
    sha256: str
    previous_version: str | None = None  # extractor version of the rows that were replaced
    rows: int = 0  # child rows written (sections, figures, checks, links, tables, cells)


def _now() -> datetime:
    return datetime.now(UTC)


def absolute_url(url: str | None = None) -> str:
    """`url` (or the default store) with a relative SQLite file made absolute.

    Workers elsewhere (Dask, work pools) may start in another folder; an absolute URL means the same
    database wherever it is opened.
    """
    resolved = resolve_url(url)
    u = make_url(resolved)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        if not u.database.startswith("file:") and not os.path.isabs(u.database):
            return u.set(database=os.path.abspath(u.database)).render_as_string(hide_password=False)
    return resolved


def is_transient(exc: BaseException) -> bool:
    """True for database errors that may go away on their own (locked, connection lost, pool exhausted)."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError | sa.exc.TimeoutError)


def resolve_url(url: str | None = None) -> str:
    """The database URL to use: `url`, else env `PIPELINE_DB_URL`, else `sqlite:///outputs/reports.db`.

    A bare `postgresql://` or `postgres://` URL is pointed at psycopg 3, the driver the project ships
    (SQLAlchemy would otherwise look for psycopg2).
    """
    url = url or os.environ.get(ENV_URL) or DEFAULT_URL
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_file(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite":
        return None
    db = url.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's BEGIN below be the only one: pysqlite would otherwise open deferred
        # transactions by itself, and a deferred transaction that later writes fails at once with
        # "database is locked" instead of waiting for the busy timeout.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")  # first: the pragmas below may wait
        cur.execute("PRAGMA journal_mode = WAL")  # readers never block the writer, nor it them
        cur.execute(
            "PRAGMA synchronous = NORMAL"
        )  # safe with WAL; only an OS crash can lose the last commits
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front, so two writers queue on busy_timeout; readers stay
        # deferred so that they never wait for a writer.
        if conn.get_execution_options().get("pipeline_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


def _int(x: Any) -> int | None:
    return None if x is None else int(x)


def _extra(d: dict, known: set[str]) -> dict | None:
    rest = {k: v for k, v in d.items() if k not in known}
    return rest or None


class Store:
    """Extracted reports in a SQL database (SQLite by default, PostgreSQL via `postgresql+psycopg://`).

    Open one per process: the engine's connections must not cross a fork.
    """

    def __init__(self, url: str | None = None, *, create: bool = True, echo: bool = False) -> None:
        """Open (and unless `create` is false, create) the database at `url`.

        `url` defaults to env `PIPELINE_DB_URL`, then `sqlite:///outputs/reports.db` (relative to the
        working directory; its folder is created). With `create=False` a missing SQLite file is an
        error instead of a new empty database, which is what read-only commands want.
        """
        self.url = resolve_url(url)
        parsed = make_url(self.url)
        self.backend = parsed.get_backend_name()
        db_file = _sqlite_file(parsed)
        if db_file is not None:
            if not create and not db_file.exists():
                raise FileNotFoundError(f"no database at {db_file}")
            db_file.parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = sa.create_engine(self.url, echo=echo)
        if self.backend == "sqlite":
            _install_sqlite_hooks(self.engine)
        # Write transactions go through this engine: on SQLite its BEGIN is IMMEDIATE.
        self._writer = self.engine.execution_options(pipeline_write=True)
        with self._writer.begin() as conn:
            if self.backend == "postgresql":
                # Two processes opening a new database at once would both try CREATE TABLE.
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242017)")
            metadata.create_all(conn)

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({make_url(self.url).render_as_string(hide_password=True)!r})"

    # -- writing ---------------------------------------------------------------------------------

    def save_report(
        self,
        doc: dict,
        *,
        path: str | None = None,
        extractor_version: str,
        run_id: int | None = None,
    ) -> SaveResult:
        """Store one extracted report (a contract dict), idempotently by `source.sha256`.

        * sha256 not stored yet (or stored only as a failed file) → rows written, outcome "inserted";
        * stored by the same `extractor_version` → nothing written, outcome "duplicate";
        * stored by another version → its child rows replaced and the document row updated in place
          (same document id), outcome "replaced". Any different version replaces: the store does not
          order version strings, the caller decides which extractor runs.

        Everything, the `ingest_files` row included, happens in one transaction: an error part-way
        leaves the database as it was. The file's `ingest_files` row (status ok or duplicate, under
        `run_id` when given) is written here, so callers must not `record_file` it again.
        """
        sha = self._validate(doc)
        path = path or doc["source"].get("file") or sha
        for attempt in range(2):
            try:
                with self._writer.begin() as conn:
                    return self._save(conn, doc, sha, path, extractor_version, run_id)
            except IntegrityError:
                # Another process inserted the same sha256 between our look-up and our insert
                # (PostgreSQL; SQLite's IMMEDIATE transactions cannot race). Once more, it is found.
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def record_failure(
        self,
        path: str,
        sha256: str | None,
        reason: str,
        *,
        run_id: int | None = None,
        extractor_version: str | None = None,
    ) -> int | None:
        """Record a file that could not be extracted or stored; returns its document id, if any.

        With a known sha256 the file gets a `documents` row with status failed and `error` = reason
        (a later successful save of the same file fills that row in). A document already stored
        successfully is left as it is: a failing re-run must not destroy good data; the failure then
        shows in `ingest_files` only. The `ingest_files` row (status failed) is always written.
        """
        now = _now()
        with self._writer.begin() as conn:
            doc_id: int | None = None
            if sha256:
                self._lock_sha(conn, sha256)
                row = conn.execute(
                    sa.select(documents.c.id, documents.c.status).where(documents.c.sha256 == sha256)
                ).first()
                if row is None:
                    doc_id = conn.execute(
                        documents.insert().returning(documents.c.id),
                        {
                            "sha256": sha256,
                            "file_name": os.path.basename(path),
                            "path": path,
                            "status": "failed",
                            "error": reason,
                            "extractor_version": extractor_version,
                            "ingested_at": now,
                            "updated_at": now,
                        },
                    ).scalar_one()
                else:
                    doc_id = row.id
                    if row.status != "ok":
                        conn.execute(
                            documents.update()
                            .where(documents.c.id == doc_id)
                            .values(
                                status="failed",
                                error=reason,
                                extractor_version=extractor_version,
                                updated_at=now,
                            )
                        )
            self._file_row(conn, run_id, path, sha256, "failed", reason, doc_id)
        return doc_id

    def start_run(self, params: dict) -> int:
        """Open an ingest run (its parameters as JSON); returns the run id."""
        with self._writer.begin() as conn:
            return conn.execute(
                ingest_runs.insert().returning(ingest_runs.c.id), {"started_at": _now(), "params": params}
            ).scalar_one()

    def finish_run(self, run_id: int, counts: dict) -> None:
        """Close an ingest run with its counts (e.g. {"ok": 10, "failed": 1}).

        The counts of the run's `ingest_files` rows per status are merged in under "files" so the
        run row tells what happened even if the caller counted differently.
        """
        with self._writer.begin() as conn:
            per_status = self._files_per_status(conn, run_id)
            result = conn.execute(
                ingest_runs.update()
                .where(ingest_runs.c.id == run_id)
                .values(finished_at=_now(), counts={**counts, "files": per_status})
            )
            if result.rowcount != 1:
                raise KeyError(f"no ingest run {run_id}")

    @staticmethod
    def _files_per_status(conn: Connection, run_id: int) -> dict[str, int]:
        return dict(conn.execute(
            sa.select(ingest_files.c.status, sa.func.count())
            .where(ingest_files.c.run_id == run_id)
            .group_by(ingest_files.c.status)
        ).all())

    def files_per_status(self, run_id: int) -> dict[str, int]:
        """How many files of ingest run `run_id` ended with each status."""
        with self.engine.connect() as conn:
            return self._files_per_status(conn, run_id)

    def file_status(self, run_id: int, path: str) -> dict[str, Any] | None:
        """The last status `path` got in run `run_id`: status, sha256, reason, document_id."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(ingest_files.c.status, ingest_files.c.sha256, ingest_files.c.reason,
                          ingest_files.c.document_id)
                .where(ingest_files.c.run_id == run_id, ingest_files.c.path == path)
                .order_by(ingest_files.c.id.desc())
                .limit(1)
            ).first()
        return dict(row._mapping) if row is not None else None

    def document_id(self, sha256: str) -> int | None:
        """The id of the document stored for these bytes, if any."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(documents.c.id).where(documents.c.sha256 == sha256)).scalar()

    def run_failing_checks(self, run_id: int, limit: int | None = None) -> list[dict[str, Any]]:
        """Failing checks of the documents run `run_id` stored or found stored: unit, year, file, rule, message."""
        docs = sa.select(ingest_files.c.document_id).where(
            ingest_files.c.run_id == run_id, ingest_files.c.status.in_(("ok", "duplicate"))
        )
        stmt = (
            sa.select(documents.c.unit, documents.c.year, documents.c.path, checks.c.rule, checks.c.message)
            .join(documents, checks.c.document_id == documents.c.id)
            .where(checks.c.status == "fail", checks.c.document_id.in_(docs))
            .order_by(documents.c.unit, documents.c.year, documents.c.id, checks.c.ord)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                {"unit": u, "year": y, "file": os.path.basename(p or ""), "rule": r, "message": m}
                for u, y, p, r, m in conn.execute(stmt)
            ]

    def record_file(
        self,
        run_id: int | None,
        path: str,
        sha256: str | None,
        status: str,
        reason: str | None = None,
        document_id: int | None = None,
    ) -> None:
        """Record a submitted file that never reached `save_report`/`record_failure` (e.g. skipped)."""
        if status not in FILE_STATUSES:
            raise ValueError(f"status must be one of {FILE_STATUSES}, not {status!r}")
        with self._writer.begin() as conn:
            self._file_row(conn, run_id, path, sha256, status, reason, document_id)

    def seen(self, sha256: str, extractor_version: str) -> bool:
        """True when this file is stored successfully by this extractor version (so it can be skipped).

        A file that failed is not "seen": it is tried again.
        """
        with self.engine.connect() as conn:
            return (
                conn.execute(
                    sa.select(documents.c.id).where(
                        documents.c.sha256 == sha256,
                        documents.c.extractor_version == extractor_version,
                        documents.c.status == "ok",
                    )
                ).first()
                is not None
            )

    # -- the write, step by step (separate methods so a test can make one of them fail) -----------

    def _lock_sha(self, conn: Connection, sha: str) -> None:
        if self.backend == "postgresql":
            # Writers of the same file queue here instead of racing to insert it and losing on the
            # unique index (save_report would survive that by retrying, at the cost of the work done).
            # SQLite needs nothing: its write transactions are serial already.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:sha, 0))"), {"sha": sha})

    @staticmethod
    def _validate(doc: dict) -> str:
        try:
            sha = doc["source"]["sha256"]
            for key in ("report", "sections", "figures", "checks", "tables"):
                doc[key]  # noqa: B018 - presence check
        except (KeyError, TypeError) as e:
            raise ValueError(f"not a report contract dict: missing {e}") from None
        if not isinstance(sha, str) or not _SHA256.match(sha):
            raise ValueError(f"source.sha256 is not a lowercase hex sha256: {sha!r}")
        return sha

    def _save(
        self, conn: Connection, doc: dict, sha: str, path: str, version: str, run_id: int | None
    ) -> SaveResult:
        self._lock_sha(conn, sha)
        existing = conn.execute(
            sa.select(documents.c.id, documents.c.status, documents.c.extractor_version)
            .where(documents.c.sha256 == sha)
            .with_for_update()  # PostgreSQL: two replacers of one report queue here
        ).first()
        if existing is not None and existing.status == "ok" and existing.extractor_version == version:
            self._file_row(
                conn, run_id, path, sha, "duplicate", "already stored by this extractor version", existing.id
            )
            return SaveResult(existing.id, "duplicate", sha, existing.extractor_version)

        values = self._document_values(doc, path, version)
        now = _now()
        if existing is None:
            doc_id = conn.execute(
                documents.insert().returning(documents.c.id),
                {**values, "sha256": sha, "ingested_at": now, "updated_at": now},
            ).scalar_one()
            outcome: Outcome = "inserted"
            previous = None
        else:
            doc_id = existing.id
            self._delete_children(conn, doc_id)
            conn.execute(documents.update().where(documents.c.id == doc_id).values(**values, updated_at=now))
            # A failed file that now extracts is new data, not a replacement of data.
            outcome = "replaced" if existing.status == "ok" else "inserted"
            previous = existing.extractor_version if existing.status == "ok" else None

        rows = self._insert_sections(conn, doc_id, doc["sections"])
        fig_ids, n = self._insert_figures(conn, doc_id, doc["figures"])
        rows += n
        rows += self._insert_checks(conn, doc_id, doc["checks"], fig_ids)
        rows += self._insert_tables(conn, doc_id, doc["tables"])
        self._file_row(conn, run_id, path, sha, "ok", None, doc_id)
        return SaveResult(doc_id, outcome, sha, previous, rows)

    @staticmethod
    def _document_values(doc: dict, path: str, version: str) -> dict:
        source, report = doc["source"], doc["report"] or {}
        extra = {
            "top": _extra(doc, _TOP_KEYS),
            "source": _extra(source, _SOURCE_KEYS),
            "report": _extra(report, _REPORT_KEYS),
        }
        checks_ = doc["checks"]
        return {
            "file_name": source.get("file"),
            "path": path,
            "unit": report.get("unit"),
            "year": _int(report.get("year")),
            "date": report.get("date"),
            "doc_type": report.get("doc_type"),
            "title": report.get("title"),
            "pages": _int(source.get("pages")),
            "status": "ok",
            "error": None,
            "extractor_version": version,
            "schema_version": _int(doc.get("schema_version")),
            "n_sections": len(doc["sections"]),
            "n_figures": len(doc["figures"]),
            "n_checks": len(checks_),
            "n_checks_failed": sum(1 for c in checks_ if c.get("status") == "fail"),
            "n_tables": len(doc["tables"]),
            "extra": {k: v for k, v in extra.items() if v} or None,
        }

    @staticmethod
    def _delete_children(conn: Connection, doc_id: int) -> None:
        # Explicit, children first, rather than relying on ON DELETE CASCADE: the document row stays
        # (its id is referenced by ingest_files), and SQLite enforces cascades only when told to.
        check_rows = sa.select(checks.c.id).where(checks.c.document_id == doc_id).scalar_subquery()
        table_rows = (
            sa.select(report_tables.c.id).where(report_tables.c.document_id == doc_id).scalar_subquery()
        )
        conn.execute(check_figures.delete().where(check_figures.c.check_id.in_(check_rows)))
        conn.execute(table_cells.delete().where(table_cells.c.table_id.in_(table_rows)))
        for t in (checks, figures, sections, report_tables):
            conn.execute(t.delete().where(t.c.document_id == doc_id))

    @staticmethod
    def _insert_sections(conn: Connection, doc_id: int, items: Sequence[dict]) -> int:
        rows = [
            {
                "document_id": doc_id,
                "sec_id": str(s["id"]),
                "level": _int(s.get("level")),
                "number": s.get("number"),
                "title": s.get("title"),
                "page": _int(s.get("page")),
                "parent": s.get("parent"),
                "ord": i,
                "extra": _extra(s, _SECTION_KEYS),
            }
            for i, s in enumerate(items)
        ]
        if rows:
            conn.execute(sections.insert(), rows)
        return len(rows)

    @staticmethod
    def _insert_figures(conn: Connection, doc_id: int, items: Sequence[dict]) -> tuple[dict[str, int], int]:
        rows = []
        for i, f in enumerate(items):
            bbox = f.get("bbox") or (None, None, None, None)
            if len(bbox) != 4:
                raise ValueError(f"figure {f.get('id')}: bbox must have 4 numbers, has {len(bbox)}")
            rows.append(
                {
                    "document_id": doc_id,
                    "fig_id": str(f["id"]),
                    "kind": f.get("kind"),
                    "value": _num(f.get("value")),
                    "unit": f.get("unit"),
                    "value_yuan": _num(f.get("value_yuan")),
                    "label": f.get("label"),
                    "qualifier": f.get("qualifier"),
                    "page": _int(f.get("page")),
                    "bbox_x0": _num(bbox[0]),
                    "bbox_top": _num(bbox[1]),
                    "bbox_x1": _num(bbox[2]),
                    "bbox_bottom": _num(bbox[3]),
                    "section": f.get("section"),
                    "text": f.get("text"),
                    "ord": i,
                    "extra": _extra(f, _FIGURE_KEYS),
                }
            )
        if not rows:
            return {}, 0
        conn.execute(figures.insert(), rows)
        # Row ids by contract id, for the check links; one extra query is cheaper and more portable
        # than RETURNING over executemany. A repeated contract id links to its first figure.
        ids: dict[str, int] = {}
        for row_id, fig_id in conn.execute(
            sa.select(figures.c.id, figures.c.fig_id)
            .where(figures.c.document_id == doc_id)
            .order_by(figures.c.ord)
        ):
            ids.setdefault(fig_id, row_id)
        return ids, len(rows)

    @staticmethod
    def _insert_checks(conn: Connection, doc_id: int, items: Sequence[dict], fig_ids: dict[str, int]) -> int:
        rows = [
            {
                "document_id": doc_id,
                "check_id": str(c["id"]),
                "rule": c.get("rule"),
                "status": c.get("status"),
                "expected": _num(c.get("expected")),
                "stated": _num(c.get("stated")),
                "message": c.get("message"),
                "ord": i,
                "extra": _extra(c, _CHECK_KEYS),
            }
            for i, c in enumerate(items)
        ]
        if not rows:
            return 0
        conn.execute(checks.insert(), rows)
        check_rows = (
            conn.execute(sa.select(checks.c.id).where(checks.c.document_id == doc_id).order_by(checks.c.ord))
            .scalars()
            .all()
        )
        links = [
            {"check_id": row_id, "figure_id": fig_ids.get(str(fid)), "fig_id": str(fid), "position": p}
            for row_id, c in zip(check_rows, items, strict=True)
            for p, fid in enumerate(c.get("figures") or [])
        ]
        if links:
            conn.execute(check_figures.insert(), links)
        return len(rows) + len(links)

    @staticmethod
    def _insert_tables(conn: Connection, doc_id: int, items: Sequence[dict]) -> int:
        rows = [
            {
                "document_id": doc_id,
                "table_id": str(t["id"]),
                "page": _int(t.get("page")),
                "title": t.get("title"),
                "n_rows": len(t.get("rows") or []),
                "ord": i,
                "extra": _extra(t, _TABLE_KEYS),
            }
            for i, t in enumerate(items)
        ]
        if not rows:
            return 0
        conn.execute(report_tables.insert(), rows)
        table_rows = (
            conn.execute(
                sa.select(report_tables.c.id)
                .where(report_tables.c.document_id == doc_id)
                .order_by(report_tables.c.ord)
            )
            .scalars()
            .all()
        )
        cells = [
            {"table_id": row_id, "row": r, "col": c, "text": None if text is None else str(text)}
            for row_id, t in zip(table_rows, items, strict=True)
            for r, cells_ in enumerate(t.get("rows") or [])
            for c, text in enumerate(cells_)
        ]
        if cells:
            conn.execute(table_cells.insert(), cells)
        return len(rows) + len(cells)

    @staticmethod
    def _file_row(
        conn: Connection,
        run_id: int | None,
        path: str,
        sha256: str | None,
        status: str,
        reason: str | None,
        document_id: int | None,
    ) -> None:
        conn.execute(
            ingest_files.insert(),
            {
                "run_id": run_id,
                "path": path,
                "sha256": sha256,
                "status": status,
                "reason": reason,
                "document_id": document_id,
                "recorded_at": _now(),
            },
        )

    # -- reading ---------------------------------------------------------------------------------

    def _read(self, stmt: sa.Select, dtypes: dict[str, str], utc: Sequence[str] = ()) -> pd.DataFrame:
        with self.engine.connect() as conn:
            result = conn.execute(stmt)
            df = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        # Same dtypes whatever the backend and even for an empty result, so that callers (and the
        # parquet export) can rely on them.
        for col in utc:
            df[col] = pd.to_datetime(df[col], utc=True)
        return df.astype({c: t for c, t in dtypes.items() if c in df.columns})

    @staticmethod
    def _doc_filters(stmt: sa.Select, unit: str | None, year: int | None) -> sa.Select:
        if unit is not None:
            stmt = stmt.where(documents.c.unit == unit)
        if year is not None:
            stmt = stmt.where(documents.c.year == int(year))
        return stmt

    def documents_df(
        self, unit: str | None = None, year: int | None = None, status: str | None = None
    ) -> pd.DataFrame:
        """One row per stored file (ok and failed), filtered by reporting unit, year and status."""
        stmt = sa.select(*[c for c in documents.c if c.name != "extra"]).order_by(documents.c.id)
        stmt = self._doc_filters(stmt, unit, year)
        if status is not None:
            stmt = stmt.where(documents.c.status == status)
        return self._read(stmt, _DOC_DTYPES, utc=("ingested_at", "updated_at"))

    def figures_df(
        self,
        unit: str | None = None,
        year: int | None = None,
        label: str | None = None,
        kind: str | None = None,
    ) -> pd.DataFrame:
        """Figures with their document's unit, year and file; `label` matches as a substring.

        The reporting unit is column `unit`; the figure's own unit of measure (万元, %, 人) is
        `value_unit`.
        """
        stmt = (
            sa.select(
                figures.c.document_id,
                documents.c.unit,
                documents.c.year,
                documents.c.file_name,
                figures.c.fig_id,
                figures.c.kind,
                figures.c.label,
                figures.c.value,
                figures.c.unit.label("value_unit"),
                figures.c.value_yuan,
                figures.c.qualifier,
                figures.c.text,
                figures.c.page,
                figures.c.section,
                figures.c.bbox_x0,
                figures.c.bbox_top,
                figures.c.bbox_x1,
                figures.c.bbox_bottom,
                figures.c.ord,
            )
            .join(documents, figures.c.document_id == documents.c.id)
            .order_by(figures.c.document_id, figures.c.ord)
        )
        stmt = self._doc_filters(stmt, unit, year)
        if label is not None:
            stmt = stmt.where(figures.c.label.contains(label, autoescape=True))
        if kind is not None:
            stmt = stmt.where(figures.c.kind == kind)
        return self._read(stmt, _FIG_DTYPES)

    def checks_df(
        self, unit: str | None = None, year: int | None = None, status: str | None = None
    ) -> pd.DataFrame:
        """Checks with their document's unit, year and file; `figures` lists the involved figure ids."""
        stmt = (
            sa.select(
                checks.c.id.label("check_row"),
                checks.c.document_id,
                documents.c.unit,
                documents.c.year,
                documents.c.file_name,
                checks.c.check_id,
                checks.c.rule,
                checks.c.status,
                checks.c.expected,
                checks.c.stated,
                checks.c.message,
                checks.c.ord,
            )
            .join(documents, checks.c.document_id == documents.c.id)
            .order_by(checks.c.document_id, checks.c.ord)
        )
        stmt = self._doc_filters(stmt, unit, year)
        if status is not None:
            stmt = stmt.where(checks.c.status == status)
        df = self._read(stmt, _CHECK_DTYPES)
        # Figure ids per check, gathered here rather than with group_concat/string_agg, which differ
        # between the backends.
        links = sa.select(check_figures.c.check_id, check_figures.c.fig_id, check_figures.c.position).where(
            check_figures.c.check_id.in_(stmt.with_only_columns(checks.c.id).order_by(None).scalar_subquery())
        )
        with self.engine.connect() as conn:
            by_check: dict[int, list[tuple[int, str]]] = {}
            for check_row, fig_id, pos in conn.execute(links):
                by_check.setdefault(check_row, []).append((pos, fig_id))
        df.insert(
            df.columns.get_loc("message"),
            "figures",
            pd.Series(
                [",".join(f for _, f in sorted(by_check.get(int(r), []))) for r in df["check_row"]],
                index=df.index,
                dtype="string",
            ),
        )
        return df.drop(columns=["check_row"])

    def sections_df(self, unit: str | None = None, year: int | None = None) -> pd.DataFrame:
        """Section headings in reading order, with their document's unit, year and file."""
        stmt = (
            sa.select(
                sections.c.document_id,
                documents.c.unit,
                documents.c.year,
                documents.c.file_name,
                sections.c.sec_id,
                sections.c.level,
                sections.c.number,
                sections.c.title,
                sections.c.page,
                sections.c.parent,
                sections.c.ord,
            )
            .join(documents, sections.c.document_id == documents.c.id)
            .order_by(sections.c.document_id, sections.c.ord)
        )
        return self._read(self._doc_filters(stmt, unit, year), _SECTION_DTYPES)

    def table_cells_df(self, unit: str | None = None, year: int | None = None) -> pd.DataFrame:
        """Every table cell (one row per cell), with its table's id, page and title."""
        stmt = (
            sa.select(
                report_tables.c.document_id,
                documents.c.unit,
                documents.c.year,
                documents.c.file_name,
                report_tables.c.table_id,
                report_tables.c.page,
                report_tables.c.title,
                table_cells.c.row,
                table_cells.c.col,
                table_cells.c.text,
            )
            .join(report_tables, table_cells.c.table_id == report_tables.c.id)
            .join(documents, report_tables.c.document_id == documents.c.id)
            .order_by(report_tables.c.document_id, report_tables.c.ord, table_cells.c.row, table_cells.c.col)
        )
        return self._read(self._doc_filters(stmt, unit, year), _CELL_DTYPES)

    def ingest_files_df(self, run_id: int | None = None) -> pd.DataFrame:
        """The submission log: one row per submitted file and attempt."""
        stmt = sa.select(ingest_files).order_by(ingest_files.c.id)
        if run_id is not None:
            stmt = stmt.where(ingest_files.c.run_id == run_id)
        return self._read(stmt, _FILE_DTYPES, utc=("recorded_at",))

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        with self.engine.connect() as conn:
            return {
                name: conn.execute(sa.select(sa.func.count()).select_from(metadata.tables[name])).scalar_one()
                for name in ALL_TABLES
            }

    def document_ids(self, status: str | None = "ok") -> list[int]:
        """Ids of the stored documents (by default the successfully extracted ones), in id order."""
        stmt = sa.select(documents.c.id).order_by(documents.c.id)
        if status is not None:
            stmt = stmt.where(documents.c.status == status)
        with self.engine.connect() as conn:
            return list(conn.execute(stmt).scalars())

    def iter_reports(self, status: str | None = "ok") -> Iterator[dict]:
        """Each stored document rebuilt in the contract's shape (see `load_report`)."""
        for doc_id in self.document_ids(status):
            yield self.load_report(doc_id)

    def load_report(self, document_id: int) -> dict:
        """Rebuild one stored document as a contract dict (extra properties included).

        Numbers come back as floats (an integer `value` of 247 as 247.0) and `year`/`pages`/`page`/
        `level` as ints; everything else as stored.
        """
        with self.engine.connect() as conn:
            d = conn.execute(sa.select(documents).where(documents.c.id == document_id)).mappings().first()
            if d is None:
                raise KeyError(f"no document {document_id}")
            extra = d["extra"] or {}
            secs = conn.execute(
                sa.select(sections).where(sections.c.document_id == document_id).order_by(sections.c.ord)
            ).mappings()
            out_sections = [
                {
                    "id": s["sec_id"],
                    "level": s["level"],
                    "number": s["number"],
                    "title": s["title"],
                    "page": s["page"],
                    "parent": s["parent"],
                    **(s["extra"] or {}),
                }
                for s in secs
            ]
            figs = conn.execute(
                sa.select(figures).where(figures.c.document_id == document_id).order_by(figures.c.ord)
            ).mappings()
            out_figures = []
            for f in figs:
                bbox = [f["bbox_x0"], f["bbox_top"], f["bbox_x1"], f["bbox_bottom"]]
                out_figures.append(
                    {
                        "id": f["fig_id"],
                        "kind": f["kind"],
                        "value": f["value"],
                        "unit": f["unit"],
                        "value_yuan": f["value_yuan"],
                        "label": f["label"],
                        "qualifier": f["qualifier"],
                        "page": f["page"],
                        "bbox": None if all(v is None for v in bbox) else bbox,
                        "section": f["section"],
                        "text": f["text"],
                        **(f["extra"] or {}),
                    }
                )
            links: dict[int, list[tuple[int, str]]] = {}
            for check_row, fig_id, pos in conn.execute(
                sa.select(check_figures.c.check_id, check_figures.c.fig_id, check_figures.c.position)
                .join(checks, check_figures.c.check_id == checks.c.id)
                .where(checks.c.document_id == document_id)
            ):
                links.setdefault(check_row, []).append((pos, fig_id))
            chks = conn.execute(
                sa.select(checks).where(checks.c.document_id == document_id).order_by(checks.c.ord)
            ).mappings()
            out_checks = [
                {
                    "id": c["check_id"],
                    "rule": c["rule"],
                    "status": c["status"],
                    "figures": [f for _, f in sorted(links.get(c["id"], []))],
                    "expected": c["expected"],
                    "stated": c["stated"],
                    "message": c["message"],
                    **(c["extra"] or {}),
                }
                for c in chks
            ]
            tabs = (
                conn.execute(
                    sa.select(report_tables)
                    .where(report_tables.c.document_id == document_id)
                    .order_by(report_tables.c.ord)
                )
                .mappings()
                .all()
            )
            cells: dict[int, dict[int, dict[int, str | None]]] = {}
            for table_row, r, c, text in conn.execute(
                sa.select(table_cells.c.table_id, table_cells.c.row, table_cells.c.col, table_cells.c.text)
                .join(report_tables, table_cells.c.table_id == report_tables.c.id)
                .where(report_tables.c.document_id == document_id)
            ):
                cells.setdefault(table_row, {}).setdefault(r, {})[c] = text
            out_tables = []
            for t in tabs:
                grid = cells.get(t["id"], {})
                rows = []
                for r in range(t["n_rows"]):
                    row = grid.get(r, {})
                    rows.append([row.get(c) for c in range(max(row) + 1)] if row else [])
                out_tables.append(
                    {
                        "id": t["table_id"],
                        "page": t["page"],
                        "title": t["title"],
                        "rows": rows,
                        **(t["extra"] or {}),
                    }
                )
        return {
            "schema_version": d["schema_version"],
            "source": {
                "file": d["file_name"],
                "sha256": d["sha256"],
                "pages": d["pages"],
                **(extra.get("source") or {}),
            },
            "report": {
                "title": d["title"],
                "unit": d["unit"],
                "year": d["year"],
                "date": d["date"],
                "doc_type": d["doc_type"],
                **(extra.get("report") or {}),
            },
            "sections": out_sections,
            "figures": out_figures,
            "checks": out_checks,
            "tables": out_tables,
            **(extra.get("top") or {}),
        }

    # -- maintenance -----------------------------------------------------------------------------

    def drop_all(self) -> None:
        """Drop every table of the store (tests and throw-away databases only)."""
        with self._writer.begin() as conn:
            metadata.drop_all(conn)


_DOC_DTYPES = {
    "id": "Int64",
    "sha256": "string",
    "file_name": "string",
    "path": "string",
    "unit": "string",
    "year": "Int64",
    "date": "string",
    "doc_type": "string",
    "title": "string",
    "pages": "Int64",
    "status": "string",
    "error": "string",
    "extractor_version": "string",
    "schema_version": "Int64",
    "n_sections": "Int64",
    "n_figures": "Int64",
    "n_checks": "Int64",
    "n_checks_failed": "Int64",
    "n_tables": "Int64",
}
_COMMON = {"document_id": "Int64", "unit": "string", "year": "Int64", "file_name": "string", "ord": "Int64"}
_FIG_DTYPES = {
    **_COMMON,
    "fig_id": "string",
    "kind": "string",
    "label": "string",
    "value": "float64",
    "value_unit": "string",
    "value_yuan": "float64",
    "qualifier": "string",
    "text": "string",
    "page": "Int64",
    "section": "string",
    "bbox_x0": "float64",
    "bbox_top": "float64",
    "bbox_x1": "float64",
    "bbox_bottom": "float64",
}
_CHECK_DTYPES = {
    **_COMMON,
    "check_row": "Int64",
    "check_id": "string",
    "rule": "string",
    "status": "string",
    "expected": "float64",
    "stated": "float64",
    "message": "string",
}
_SECTION_DTYPES = {
    **_COMMON,
    "sec_id": "string",
    "level": "Int64",
    "number": "string",
    "title": "string",
    "page": "Int64",
    "parent": "string",
}
_CELL_DTYPES = {
    **_COMMON,
    "table_id": "string",
    "page": "Int64",
    "title": "string",
    "row": "Int64",
    "col": "Int64",
    "text": "string",
}
_FILE_DTYPES = {
    "id": "Int64",
    "run_id": "Int64",
    "path": "string",
    "sha256": "string",
    "status": "string",
    "reason": "string",
    "document_id": "Int64",
}
