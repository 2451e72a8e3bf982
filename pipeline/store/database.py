"""Opening a store's database: URLs, SQLite's locking set-up, and the Store's life cycle.

SQLite is the default (one file, nothing to run); PostgreSQL is used the same way through
`postgresql+psycopg://…`. Several processes may write to one SQLite file at once: WAL, a busy timeout
and `BEGIN IMMEDIATE` make them queue instead of failing with "database is locked".
"""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url

from pipeline import settings

from .schema import ALL_TABLES, metadata


def now() -> datetime:
    return datetime.now(UTC)


# "sqlite://", "postgresql+psycopg://": anything else given as a store is a file path.
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def file_url(path: str | os.PathLike[str]) -> str:
    """The SQLite URL of the file at `path` (relative, absolute or `~/…`), its characters kept as they are."""
    return URL.create("sqlite", database=str(Path(path).expanduser())).render_as_string()


def resolve_url(url: str | None = None) -> str:
    """The database URL to use: `url`, else env `PIPELINE_DB_URL`, else `sqlite:///outputs/reports.db`.

    A plain file path (`outputs/reports.db`, `~/stores/r.db`) is the SQLite file at that path.

    A bare `postgresql://` or `postgres://` URL is pointed at psycopg 3, the driver the project ships
    (SQLAlchemy would otherwise look for psycopg2).
    """
    url = url or os.environ.get(settings.DB_ENV) or settings.DB_DEFAULT
    if not _URL_SCHEME.match(url):
        return file_url(url)
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


class StoreError(RuntimeError):
    """The store itself failed (corrupt, not writable, unreachable, locked, full, not ours): one line.

    `fatal` is true when trying again cannot help (every fault but a lock or a lost connection); a
    batch then stops at once instead of failing every remaining file the same way.
    """

    def __init__(self, store: str, cause: str, *, fatal: bool = True) -> None:
        super().__init__(f"store {store}: {cause}")
        self.store = store
        self.cause = cause
        self.fatal = fatal


# What a DBAPI message says → the cause a user reads, and whether trying again cannot help.
_FAULTS = (
    (("database or disk is full", "no space left", "disk full"), "the disk is full", True),
    (
        ("readonly database", "read-only", "read only"),
        "not writable (a read-only file, folder or transaction)",
        True,
    ),
    (
        ("file is not a database", "malformed", "not a database"),
        "a corrupt file (not an SQLite database, or damaged)",
        True,
    ),
    (("unable to open database file",), "cannot open the file (its folder is missing or not writable)", True),
    (
        ("disk i/o error",),
        "a disk I/O error (the file or its -wal/-shm companions are damaged or gone)",
        True,
    ),
    (
        ("no such table", "no such column", "has no column named", "does not exist"),
        "not a store of this version (schema mismatch)",
        True,
    ),
    (
        ("database is locked", "database table is locked", "lock timeout", "deadlock"),
        "locked by another process",
        False,
    ),
    (
        (
            "connection refused",
            "could not connect",
            "server closed the connection",
            "connection reset",
            "terminating connection",
            "connection is closed",
            "the connection is lost",
            "timeout expired",
            "could not translate host name",
            "no route to host",
            "consuming input failed",
        ),
        "unreachable (the database server is down or away)",
        False,
    ),
)
# PostgreSQL SQLSTATE classes and codes that no retry cures
_FATAL_SQLSTATES = ("53100", "25006", "42P01", "42703", "3D000", "28P01", "28000", "XX001", "XX002")


def _dbapi_message(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc)
    return " ".join(text.split())[:300]  # one line, without SQLAlchemy's SQL and background link


def classify(exc: BaseException) -> tuple[str, bool] | None:
    """(cause, fatal) for an error of the database itself; None when `exc` is no database error."""
    if isinstance(exc, StoreError):
        return exc.cause, exc.fatal
    if isinstance(exc, OSError) and not isinstance(exc, sa.exc.SQLAlchemyError):
        if exc.errno == 28:  # ENOSPC
            return "the disk is full", True
        return None
    if not isinstance(exc, sa.exc.DBAPIError | sa.exc.TimeoutError):
        return None
    msg = _dbapi_message(exc).lower()
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if sqlstate in _FATAL_SQLSTATES:
        for needles, cause, _ in _FAULTS:
            if any(n in msg for n in needles):
                return f"{cause}: {_dbapi_message(exc)}", True
        return _dbapi_message(exc), True
    for needles, cause, fatal in _FAULTS:
        if any(n in msg for n in needles):
            return f"{cause}: {_dbapi_message(exc)}", fatal
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return f"unreachable (the connection was lost): {_dbapi_message(exc)}", False
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError | sa.exc.TimeoutError):
        return _dbapi_message(exc), False  # an operational hiccup we do not know: worth a retry
    return _dbapi_message(exc), True  # integrity, programming errors: the same again would fail again


def is_transient(exc: BaseException) -> bool:
    """True for database errors that may go away on their own (locked, connection lost, pool exhausted).

    Never for a fault no retry cures (disk full, read-only, corrupt, schema mismatch): see `is_fatal`.
    """
    got = classify(exc)
    return got is not None and not got[1] and not isinstance(exc, sa.exc.IntegrityError)


def is_fatal(exc: BaseException) -> bool:
    """True for store faults that no retry cures: a batch meeting one stops at once."""
    got = classify(exc)
    return got is not None and got[1] and not isinstance(exc, sa.exc.IntegrityError)


def store_error(url: str, exc: BaseException) -> StoreError:
    """`exc` (an error of the database at `url`) as a one-line StoreError naming the store and the cause."""
    got = classify(exc) or (f"{type(exc).__name__}: {exc}", True)
    return StoreError(_shown(url), got[0], fatal=got[1])


def _shown(url: str) -> str:
    u = make_url(url)
    db = _sqlite_file(u)
    return str(db) if db is not None else u.render_as_string(hide_password=True)


def _sqlite_file(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite":
        return None
    db = url.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


def _install_sqlite_hooks(engine: Engine, read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's BEGIN below be the only one: pysqlite would otherwise open deferred
        # transactions by itself, and a deferred transaction that later writes fails at once with
        # "database is locked" instead of waiting for the busy timeout.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # first: the pragmas below may wait
        cur.execute(f"PRAGMA busy_timeout = {settings.SQLITE_BUSY_TIMEOUT_MS}")
        if not read_only:  # switching the journal mode writes to the file
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

    def __init__(
        self, url: str | None = None, *, create: bool = True, read_only: bool = False, echo: bool = False
    ) -> None:
        """Open (and unless `create` is false, create) the database at `url`.

        `url` defaults to env `PIPELINE_DB_URL`, then `sqlite:///outputs/reports.db` (relative to the
        working directory; its folder is created). With `create=False` a missing SQLite file is an
        error instead of a new empty database. `read_only` (what the reading commands use) opens it
        without any write: SQLite `mode=ro`, no tables created, no switch to WAL, PostgreSQL in
        read-only transactions; a database without the store's tables is refused as not ours.
        Failures raise StoreError (one line, naming the store and the cause).
        """
        self.url = resolve_url(url)
        self.read_only = read_only
        self._have_columns: dict[str, set[str]] = {}
        parsed = make_url(self.url)
        self.backend = parsed.get_backend_name()
        db_file = _sqlite_file(parsed)
        if db_file is not None:
            if (read_only or not create) and not db_file.exists():
                raise FileNotFoundError(f"no database at {db_file}")
            if not read_only:
                try:
                    db_file.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(str(db_file), f"cannot create its folder ({exc.strerror})") from None
        try:
            self.engine: Engine = self._engine(parsed, db_file, echo)
            # Write transactions go through this engine: on SQLite its BEGIN is IMMEDIATE.
            self._writer = self.engine.execution_options(pipeline_write=True)
            if read_only:
                self._check_ours()
            else:
                with self._writer.begin() as conn:
                    if self.backend == "postgresql":
                        # Two processes opening a new database at once would both try CREATE TABLE.
                        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242017)")
                    metadata.create_all(conn)
                    _add_missing_columns(conn)
        except StoreError:
            raise
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            raise store_error(self.url, exc) from None

    def _engine(self, parsed: URL, db_file: Path | None, echo: bool) -> Engine:
        if self.read_only and db_file is not None:
            uri = "file:" + quote(str(db_file.resolve())) + "?mode=ro"
            if not os.stat(db_file).st_mode & 0o222 or not os.access(db_file.parent, os.W_OK):
                # Nothing can write it (a read-only copy), so nothing can change it under us; without
                # this SQLite could not open a WAL file whose -shm it may not create.
                uri += "&immutable=1"
            engine = sa.create_engine(
                "sqlite://",
                echo=echo,
                creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
            )
            _install_sqlite_hooks(engine, read_only=True)
            return engine
        kwargs: dict[str, Any] = {}
        if self.read_only and self.backend == "postgresql":
            # keep the URL's own options (a search_path, say): connect_args would replace them
            own = parsed.query.get("options", "")
            own = " ".join(own) if isinstance(own, tuple) else own
            kwargs["connect_args"] = {"options": f"{own} -c default_transaction_read_only=on".strip()}
        engine = sa.create_engine(self.url, echo=echo, **kwargs)
        if self.backend == "sqlite":
            _install_sqlite_hooks(engine)
        return engine

    def _present(self, table: sa.Table, *names: str) -> list[sa.Column]:
        """The columns of `table` (or those of `names`) that this database has.

        A store made before a column was added gets it when it is next opened for writing; opened
        read-only it has not got it yet, and a read must still work (its reasons in English only).
        """
        have = self._have_columns.get(table.name)
        if have is None:
            with self.engine.connect() as conn:
                have = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
            self._have_columns[table.name] = have
        return [c for c in table.columns if c.name in have and (not names or c.name in names)]

    def _check_ours(self) -> None:
        present = set(sa.inspect(self.engine).get_table_names())
        missing = [t for t in ("documents", "ingest_files") if t not in present]
        if missing:
            raise StoreError(_shown(self.url), f"not a store of this pipeline (no {missing[0]} table)")

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
