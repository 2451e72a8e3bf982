"""Finding the files to ingest: folders, globs and files given, or what waits in a watched inbox."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import glob
import itertools
import os
import stat
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import messages
from pipeline.safety import printable

if TYPE_CHECKING:
    from .files import FileOutcome

_GLOB_CHARS = set("*?[")


def discover(inputs: str | Path | Iterable[str | Path]) -> Iterator[str]:
    """Absolute paths of the files to ingest: folders (every *.pdf below, sorted), globs, files.

    A path that does not exist is yielded as it is, so that it gets a status (failed: file not found)
    instead of silently vanishing from the batch; so is every entry of a folder named *.pdf, whatever
    it is (a dangling link, a FIFO, a directory): the checks before reading give each its reason.
    Nothing is opened here, and links to folders are not followed (a loop of them cannot trap the
    walk). Each file comes once, in the order given.
    """
    if isinstance(inputs, str | Path):
        inputs = [inputs]
    seen: set[str] = set()
    for item in inputs:
        p = Path(item).expanduser()
        if p.is_dir():
            found = _pdf_entries(p)
        elif not p.exists() and not p.is_symlink() and _GLOB_CHARS & set(str(item)):
            found = sorted(Path(q) for q in glob.glob(str(p), recursive=True) if not os.path.isdir(q))
        else:
            found = [p]
        for q in found:
            a = os.path.abspath(q)
            if a not in seen:
                seen.add(a)
                yield a


def _pdf_entries(folder: Path) -> list[Path]:
    """Every entry below `folder` whose name ends in .pdf (any case), sorted; links to folders not entered."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in dirs + files:
            if name.lower().endswith(".pdf"):
                found.append(Path(root, name))
    return sorted(found)


# -- a watched folder ----------------------------------------------------------------------------------
#
# Whoever may drop files into the inbox may also try to plant links in it, or in its subfolders, to
# make the service write or move something elsewhere. So: only regular files (never a link) are taken
# from the inbox; processed/ and failed/ must be real directories owned by this process' user; every
# name is created exclusively (O_EXCL|O_NOFOLLOW, relative to a directory opened without following
# links), and a move never replaces anything, a dangling link included.

PROCESSED, FAILED = "processed", "failed"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class UnsafeInbox(OSError):
    """The inbox, or one of its subfolders, is not what the service may safely write into."""


def inbox_files(inbox: str | Path, min_age: float = 0.0) -> list[str]:
    """Regular files waiting in `inbox` (top level only), oldest first.

    Hidden files are skipped, and so are links and files changed less than `min_age` seconds ago:
    they may still be being copied in, and a half-copied file would be filed away as corrupt.
    """
    inbox = Path(inbox)
    now = time.time()
    found = []
    for p in inbox.iterdir():
        if p.name.startswith("."):
            continue
        st = p.lstat()  # a link is not followed: it could point anywhere the service may read
        if stat.S_ISREG(st.st_mode) and now - st.st_mtime >= min_age:
            found.append((st.st_mtime, p.name, os.path.abspath(p)))
    return [p for _, _, p in sorted(found)]


def _open_subfolder(inbox_fd: int, name: str, inbox: Path) -> int:
    """A descriptor of inbox/`name`, created when missing; refused when it is a link, not a directory,
    or not owned by this process' user."""
    try:
        os.mkdir(name, 0o750, dir_fd=inbox_fd)  # the group may read, nobody else may write
    except FileExistsError:
        pass
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=inbox_fd)
    except OSError as exc:  # ELOOP: a link; ENOTDIR: a file
        raise UnsafeInbox(f"{inbox / name} is not a real directory ({exc.strerror})") from exc
    st = os.fstat(fd)
    if st.st_uid != os.geteuid():
        os.close(fd)
        raise UnsafeInbox(
            f"{inbox / name} is owned by uid {st.st_uid}, not by this service (uid {os.geteuid()})"
        )
    return fd


def _libc_renameat2() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_renameat2 = _libc_renameat2() if sys.platform.startswith("linux") else None
_RENAME_NOREPLACE = 1


def _move_noreplace(src_fd: int, src: str, dst_fd: int, dst: str) -> None:
    """Rename `src` to `dst` (each relative to a directory descriptor); FileExistsError if `dst` exists
    in any form, a dangling link included. Never follows a link: a link is moved as itself."""
    if _renameat2 is not None:
        if _renameat2(src_fd, os.fsencode(src), dst_fd, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.ENOSYS, errno.EINVAL):  # EINVAL: this file system has no RENAME_NOREPLACE
            raise OSError(err, os.strerror(err), dst)
    # Elsewhere: a hard link cannot replace an existing name either; then drop the inbox's name.
    os.link(src, dst, src_dir_fd=src_fd, dst_dir_fd=dst_fd, follow_symlinks=False)
    os.unlink(src, dir_fd=src_fd)


def _numbered(name: str, n: int) -> str:
    if n == 1:
        return name
    stem, suffix = Path(name).stem, Path(name).suffix
    return f"{stem}.{n}{suffix}"


def _reason_text(path: Path, outcome: FileOutcome) -> bytes:
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    # Shown with `cat` in a terminal: no escape sequence from a file name or a reason gets through.
    return messages.text(
        "reason_file",
        "zh",
        reason=printable(outcome.reason_zh or outcome.reason),
        file=printable(path.name),
        sha256=outcome.sha256 or "-",
        at=stamp,
    ).encode()


def file_away(path: str | Path, outcome: FileOutcome, inbox: str | Path) -> Path | None:
    """Move an ingested inbox file to processed/ (ok, duplicate) or failed/ (with `<name>.reason.txt`).

    Never overwrites nor follows a link: a name already taken there (by anything) gets a number
    (report.2.pdf). Call it after the status is recorded, so that a crash in between only means the
    file is looked at again next time. Returns where the file went, or None when it was gone already
    (or is no longer a regular file). Raises UnsafeInbox when processed/ or failed/ is not a real
    directory of this service's user.
    """
    path, inbox = Path(path), Path(inbox)
    if os.path.dirname(os.path.abspath(path)) != os.path.abspath(inbox):
        raise ValueError(f"{printable(path)} is not a file of the inbox {printable(inbox)}")
    inbox_fd = os.open(inbox, _DIR_FLAGS & ~os.O_NOFOLLOW)  # the inbox itself is the operator's choice
    try:
        try:
            st = os.lstat(path.name, dir_fd=inbox_fd)
        except FileNotFoundError:
            return None  # filed away already (by a run that overlapped this one)
        if not stat.S_ISREG(st.st_mode):
            return None  # swapped for a link or a folder since it was listed: leave it alone
        folder = FAILED if outcome.status == "failed" else PROCESSED
        dir_fd = _open_subfolder(inbox_fd, folder, inbox)
        try:
            for n in itertools.count(1):
                name = _numbered(path.name, n)
                reason = None
                if outcome.status == "failed":
                    reason = name + ".reason.txt"
                    try:
                        fd = os.open(reason, _NEW_FILE, 0o640, dir_fd=dir_fd)
                    except FileExistsError:
                        continue
                    with os.fdopen(fd, "wb") as f:
                        f.write(_reason_text(path, outcome))
                try:
                    _move_noreplace(inbox_fd, path.name, dir_fd, name)
                except OSError as exc:
                    if reason is not None:  # no reason file without its file
                        os.unlink(reason, dir_fd=dir_fd)
                    if isinstance(exc, FileExistsError):
                        continue
                    if isinstance(exc, FileNotFoundError):
                        return None  # moved meanwhile by an overlapping run
                    raise
                return inbox / folder / name
        finally:
            os.close(dir_fd)
    finally:
        os.close(inbox_fd)
    return None  # unreachable: the loop returns
