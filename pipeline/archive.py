"""Every ingested file kept once, named by its content: `<archive>/<sha256>.pdf`.

The inbox moves files to processed/, people rename and delete them; the store, the audit and the
exports point at the archived copy, which stays where it is whatever happens to the submitted file.
Writing is atomic (a temporary file renamed into place), so a reader never sees half a file, and two
processes archiving the same file at once both end with the one copy.

Where: `PIPELINE_ARCHIVE_DIR` when set, else `archive/` beside a SQLite store's file (so
`outputs/reports.db` keeps its files in `outputs/archive/`), else `outputs/archive/`.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from . import settings

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


def archive_dir(db_url: str | None = None) -> Path:
    """The archive folder for the store at `db_url` (see the module's docstring)."""
    env = os.environ.get(settings.ARCHIVE_ENV)
    if env:
        return Path(env)
    from sqlalchemy.engine import make_url

    from .store.database import resolve_url

    url = make_url(resolve_url(db_url))
    db = url.database
    if url.get_backend_name() == "sqlite" and db and db != ":memory:" and not db.startswith("file:"):
        return Path(db).parent / settings.ARCHIVE_NAME
    return settings.ARCHIVE_DEFAULT


class Archive:
    """A content-addressed folder of files."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if not _SHA256.match(sha256 or ""):
            raise ValueError(f"not a lowercase hex sha256: {sha256!r}")
        return self.root / f"{sha256}.pdf"

    def find(self, sha256: str | None) -> Path | None:
        """The archived copy of these bytes, if there is one."""
        if not sha256 or not _SHA256.match(sha256):
            return None
        p = self.path_for(sha256)
        return p if p.is_file() else None

    def put(self, path: str | Path) -> tuple[str, Path]:
        """Archive the file at `path`; returns its sha256 and the archived copy's path.

        The sha256 is that of the bytes copied, so the name always matches the content even if the
        file changed while it was read. A file archived already is not copied again.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".incoming-", suffix=".pdf")
        try:
            with open(path, "rb") as src, os.fdopen(fd, "wb") as dst:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    dst.write(chunk)
            sha = digest.hexdigest()
            target = self.path_for(sha)
            if target.is_file():
                os.unlink(tmp)
            else:
                os.chmod(tmp, 0o644)
                os.replace(tmp, target)  # atomic; a racing writer of the same bytes wrote the same file
            return sha, target
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def locate(
    archived: str | None, sha256: str | None, submitted: str | None, db_url: str | None = None
) -> Path | None:
    """The stored file's bytes on this machine: its archived copy, else the store's archive by sha256
    (the archive folder may have been moved with the store), else the submitted path if still there."""
    for candidate in (archived, Archive(archive_dir(db_url)).find(sha256), submitted):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None
