"""Opening a store's database: URLs, SQLite's locking set-up, and the Store's life cycle.

SQLite is the default (one file, nothing to run); PostgreSQL is used the same way through
`postgresql+psycopg://…`. Several processes may write to one SQLite file at once: WAL, a busy timeout
and `BEGIN IMMEDIATE` make them queue instead of failing with "database is locked".
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url

from pipeline import settings

from .schema import ALL_TABLES, metadata


def now() -> datetime:
    return datetime.now(UTC)


def resolve_url(url: str | None = None) -> str:
    """The database URL to use: `url`, else env `PIPELINE_DB_URL`, else `sqlite:///outputs/reports.db`.

    A bare `postgresql://` or `postgres://` URL is pointed at psycopg 3, the driver the project ships
    (SQLAlchemy would otherwise look for psycopg2).
    """
    url = url or os.environ.get(settings.DB_ENV) or settings.DB_DEFAULT
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


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
        # first: the pragmas below may wait
        cur.execute(f"PRAGMA busy_timeout = {settings.SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")  # readers never block the writer, nor it them
        # safe with WAL; only an OS crash can lose the last commits
        cur.execute("PRAGMA synchronous = NORMAL")
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


def _add_missing_columns(conn: Connection) -> None:
    """Add the nullable columns a newer schema has to the tables of a store made by an older one.

    `create_all` creates missing tables only; without this a store written before a column was added
    could not be opened by the code that reads it.
    """
    inspector = sa.inspect(conn)
    for table in metadata.sorted_tables:
        have = {c["name"] for c in inspector.get_columns(table.name)}
        for col in table.columns:
            if col.name not in have and col.nullable and not col.primary_key:
                kind = col.type.compile(dialect=conn.dialect)
                conn.exec_driver_sql(f'ALTER TABLE {table.name} ADD COLUMN "{col.name}" {kind}')


class Database:
    """An open store database: its engine, a writer engine, and the tables created if missing.

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
            _add_missing_columns(conn)

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({make_url(self.url).render_as_string(hide_password=True)!r})"

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        with self.engine.connect() as conn:
            return {
                name: conn.execute(sa.select(sa.func.count()).select_from(metadata.tables[name])).scalar_one()
                for name in ALL_TABLES
            }

    def drop_all(self) -> None:
        """Drop every table of the store (tests and throw-away databases only)."""
        with self._writer.begin() as conn:
            metadata.drop_all(conn)

    def _lock_sha(self, conn: Connection, sha: str) -> None:
        if self.backend == "postgresql":
            # Writers of the same file queue here instead of racing to insert it and losing on the
            # unique index (save_report would survive that by retrying, at the cost of the work done).
            # SQLite needs nothing: its write transactions are serial already.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:sha, 0))"), {"sha": sha})
