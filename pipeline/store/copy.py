"""A store copied table by table into a new SQLite file: how a PostgreSQL store is browsed with Datasette."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from .schema import metadata

_BATCH = 5_000


def copy_store(
    source: object, path: str | Path, progress: Callable[[str, int, int], None] | None = None
) -> Path:
    """Write every table of `source` (a Store, any backend) into a new SQLite file at `path`.

    `progress(table, done, total)` is called after each table copied.

    The file is written beside its final name and renamed into place, so a reader never sees half a
    copy; an existing file of that name is replaced.
    """
    from . import Store

    assert isinstance(source, Store)
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    for p in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
        p.unlink(missing_ok=True)
    # the columns the source has: a store from before a column was added lacks it (NULL in the copy)
    present = {t.name: source._present(t) for t in metadata.sorted_tables}
    target = Store(f"sqlite:///{tmp}")
    try:
        with source.engine.connect() as src, target._writer.begin() as dst:
            tables = metadata.sorted_tables
            for n, table in enumerate(tables, 1):  # parents before children: the foreign keys hold
                stmt = sa.select(*present[table.name]).order_by(*table.primary_key)
                result = src.execution_options(stream_results=True).execute(stmt)
                while rows := result.mappings().fetchmany(_BATCH):
                    dst.execute(table.insert(), [dict(r) for r in rows])
                if progress is not None:
                    progress(table.name, n, len(tables))
        with target.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        target.close()
    with sa.create_engine(f"sqlite:///{tmp}").connect() as conn:  # one file, no WAL beside it
        conn.exec_driver_sql("PRAGMA journal_mode = DELETE")
    os.replace(tmp, path)
    return path
