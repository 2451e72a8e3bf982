"""Finding the files to ingest: folders, globs and files given, or what waits in a watched inbox."""

from __future__ import annotations

import glob
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

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

PROCESSED, FAILED = "processed", "failed"


def inbox_files(inbox: str | Path, min_age: float = 0.0) -> list[str]:
    """Files waiting in `inbox` (top level only), oldest first.

    Hidden files are skipped, and so are files changed less than `min_age` seconds ago: they may still
    be being copied in, and a half-copied file would be filed away as corrupt.
    """
    inbox = Path(inbox)
    now = time.time()
    found = []
    for p in inbox.iterdir():
        if p.name.startswith(".") or not p.is_file():
            continue
        st = p.stat()
        if now - st.st_mtime >= min_age:
            found.append((st.st_mtime, p.name, os.path.abspath(p)))
    return [p for _, _, p in sorted(found)]


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 1
    while target.exists() or target.with_name(target.name + ".reason.txt").exists():
        n += 1
        target = folder / f"{stem}.{n}{suffix}"
    return target


def file_away(path: str | Path, outcome: FileOutcome, inbox: str | Path) -> Path | None:
    """Move an ingested inbox file to processed/ (ok, duplicate) or failed/ (with `<name>.reason.txt`).

    Never overwrites: a name already taken there gets a number (report.2.pdf). Call it after the status
    is recorded, so that a crash in between only means the file is looked at again next time. Returns
    where the file went, or None when it was gone already.
    """
    path = Path(path)
    if not path.exists():
        return None  # filed away already (by a run that overlapped this one)
    folder = Path(inbox) / (FAILED if outcome.status == "failed" else PROCESSED)
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_name(folder, path.name)
    if outcome.status == "failed":
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        target.with_name(target.name + ".reason.txt").write_text(
            f"{outcome.reason}\n\nfile: {path.name}\nsha256: {outcome.sha256 or '-'}\nat: {stamp}\n",
            encoding="utf-8",
        )
    shutil.move(str(path), target)
    return target
