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
# A submitted file larger than this is refused before anything reads it (the largest real report
# seen is a few MB; a scanned 300-page one some tens).
MAX_FILE_BYTES = 256 * 2**20
# An extraction worker's address space: a file that needs more fails alone ("over the memory limit")
# instead of pushing the machine into swap or the OOM killer. A warm worker maps about 600 MB.
WORKER_MEMORY_MB = 3072

# Structural limits of a submitted PDF (pipeline.pdfguard), checked before pdfminer parses it.
PDF_MAX_PAGES = 5000
PDF_MAX_PAGE_SIDE_PT = 14_400.0  # the PDF specification's own limit (200 inches)
PDF_MAX_NESTING = 64  # dictionaries and arrays inside each other; real files stay under 10
PDF_MAX_STREAM_BYTES = 32 * 2**20  # one stream inflated; a dense real page is well under 1 MB
PDF_MAX_INFLATED_BYTES = 512 * 2**20  # all non-image streams of the file together

# Prefect's temporary API may take a minute to answer on a busy machine; Prefect's own default is 20 s.
PREFECT_STARTUP_TIMEOUT = 300

# Exports, and where the audit goes.
EXPORT_FORMATS = ("xlsx", "csv", "parquet", "json", "sqlite")
AUDIT_OUT = Path("outputs/audit")
DEBUG_OUT = Path("outputs/debug")  # `pipeline debug` page images

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
