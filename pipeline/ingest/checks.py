"""A submitted path checked before anything reads it, read and hashed inside an extraction worker.

Whatever a folder holds ends up here: a FIFO would block the first `open` for ever, a link to
/dev/zero would be hashed for ever, a directory named x.pdf is no file. `stat` never blocks on any
of them, so the kind of thing is known before it is opened; the file is then opened without blocking
and checked again on the open descriptor (the path may have been swapped in between), and hashed
from that descriptor up to the size cap. This runs in the worker (`ingest_job`), under the file's
time limit, never in the batch's own process.

File names may be any bytes: `printable` (pipeline.errors) turns one into text that can be stored,
logged and printed.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path
from typing import Any

from pipeline import settings
from pipeline.errors import ReportError, storable_path
from pipeline.messages import Message


def _kind(mode: int) -> Message | None:
    """What a file of this mode is when it is refused (a message code's words), or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return Message("kind_directory")
    if stat.S_ISFIFO(mode):
        return Message("kind_fifo")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return Message("kind_device")
    if stat.S_ISSOCK(mode):
        return Message("kind_socket")
    return Message("kind_other")


def check_path(path: str, max_bytes: int = settings.MAX_FILE_BYTES) -> os.stat_result:
    """The file's stat (links followed) if it may be read; else ReportError with the reason. Reads nothing."""
    name = storable_path(Path(path).name)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise ReportError(
                name, Message("symlink_to_nothing", target=storable_path(os.readlink(path)))
            ) from None
        raise ReportError(name, Message("file_not_found")) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ReportError(name, Message("symlink_loop")) from None
        raise ReportError(name, Message("cannot_read", error=exc.strerror)) from None
    kind = _kind(st.st_mode)
    if kind:
        if os.path.islink(path):
            raise ReportError(
                name, Message("symlink_to_other", kind=kind, target=storable_path(os.path.realpath(path)))
            )
        raise ReportError(
            name, Message("not_regular") if kind.code == "kind_other" else Message("not_a_file", kind=kind)
        )
    if st.st_size == 0:
        raise ReportError(name, Message("empty_file"))
    if st.st_size > max_bytes:
        raise ReportError(name, Message("too_large", size_mb=st.st_size / 2**20, limit_mb=max_bytes / 2**20))
    return st


def hash_file(path: str, max_bytes: int = settings.MAX_FILE_BYTES) -> str:
    """sha256 of the regular file at `path`, checked first (see `check_path`); ReportError if refused."""
    st = check_path(path, max_bytes)
    name = storable_path(Path(path).name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise ReportError(name, Message("cannot_read", error=exc.strerror)) from None
    with os.fdopen(fd, "rb") as fh:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino) or not stat.S_ISREG(now.st_mode):
            raise ReportError(name, Message("replaced_while_checked"))
        h = hashlib.sha256()
        left = max_bytes + 1
        try:
            while left > 0 and (block := fh.read(min(1 << 20, left))):
                h.update(block)
                left -= len(block)
        except OSError as exc:
            raise ReportError(name, Message("cannot_read", error=exc.strerror)) from None
        if left <= 0:
            raise ReportError(name, Message("grew_past_limit", limit_mb=max_bytes / 2**20))
    return h.hexdigest()


def hash_job(path: str) -> dict[str, Any]:
    """What a worker does first with a file: check and hash it ({"sha256": …}; ReportError if refused)."""
    return {"sha256": hash_file(path)}
