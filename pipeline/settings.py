"""Defaults written once: where the store is, how long a file may take, what can be exported.

A plain module with no imports beyond the standard library, so that the command line can show these
defaults in its help without loading pandas, SQLAlchemy or Prefect.
"""

from __future__ import annotations

from pathlib import Path

# The store: this URL unless a command gets --db or the environment names one.
DB_ENV = "PIPELINE_DB_URL"
DB_DEFAULT = "sqlite:///outputs/reports.db"
DB_HELP = f"database URL (default: env {DB_ENV}, else {DB_DEFAULT})"
# A writer waits this long for another writer's lock on a SQLite file before it gives up.
SQLITE_BUSY_TIMEOUT_MS = 30_000

# Ingest: a normal report takes about a second, a 200-page one well under a minute.
INGEST_TIMEOUT = 300.0
INGEST_WORKERS = 2
# Workers are replaced after this many files, so that whatever a library caches per file cannot add up.
MAX_TASKS_PER_WORKER = 200
# An inbox file changed less than this many seconds ago may still be being copied in.
INBOX_MIN_AGE = 10.0

# Exports, and where the audit goes.
EXPORT_FORMATS = ("xlsx", "csv", "parquet", "json", "sqlite")
AUDIT_OUT = Path("outputs/audit")

# A served inbox flow takes only what its service was started with, whatever a flow run asks for:
# `serve` puts the inbox here (and the store in DB_ENV) for the runs it starts; an operator may allow
# more inboxes by listing folders under which they may be (os.pathsep between them).
SERVED_INBOX_ENV = "PIPELINE_SERVED_INBOX"
INBOX_ROOTS_ENV = "PIPELINE_INBOX_ROOTS"

# The archive of ingested files (`pipeline.archive`): this folder when the environment names one, else
# `archive/` beside a SQLite store, else ARCHIVE_DEFAULT.
ARCHIVE_ENV = "PIPELINE_ARCHIVE_DIR"
ARCHIVE_NAME = "archive"
ARCHIVE_DEFAULT = Path("outputs/archive")

# `pipeline browse`: Datasette on this machine only, unless told otherwise.
BROWSE_HOST = "127.0.0.1"
BROWSE_PORT = 8001
