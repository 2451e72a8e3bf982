"""Progress for long commands: a bar with the current item's name, the count and the time left.

Shown only on a terminal (standard error by default); when the output is a pipe or a file nothing but the
lines a command notes is written, so logs and scripts see plain lines. `PIPELINE_PROGRESS=0` turns the bar
off on a terminal too; `PIPELINE_PROGRESS=1` forces it (for a terminal that does not say it is one).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, TypeVar

from pipeline.safety import printable

T = TypeVar("T")
ENV = "PIPELINE_PROGRESS"


def wanted(stream: IO[str]) -> bool:
    """Whether a bar belongs on `stream`: a terminal that can redraw a line, unless the environment says."""
    forced = os.environ.get(ENV, "").strip().lower()
    if forced in {"0", "no", "false", "off"}:
        return False
    if forced in {"1", "yes", "true", "on"}:
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


class Progress:
    """`with Progress(total, "提取") as bar:` then `bar.start(name)`, `bar.advance()`, `bar.note(line)`.

    `note` prints a line above the bar (a failure, a summary) or, without a bar, to the stream as it is,
    so that what a command reports is the same on a terminal and in a log.
    """

    def __init__(
        self, total: int | None, what: str, *, stream: IO[str] | None = None, enabled: bool | None = None
    ):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = wanted(self.stream) if enabled is None else enabled
        self.total = total
        self.what = what
        self._bar = None
        self._task = None

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bar

            # No markup or emoji codes: a file name like "[red]x.pdf" is printed as it is, also by
            # the code that borrows this console (see `console`).
            console = Console(
                file=self.stream,
                force_terminal=True,
                highlight=False,
                soft_wrap=True,
                markup=False,
                emoji=False,
            )
            self._bar = Bar(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA", style="dim"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[name]}", markup=False),
                console=console,
                transient=False,
                # Lines other code prints (warnings, a library's log) go above the bar, not through it.
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.what, total=self.total, name="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
            self._bar = None

    @property
    def console(self) -> Any:
        """The rich Console the bar draws on (None without a bar): what prints through it goes above the bar.

        For a library that logs through a rich Console of its own (Prefect's console handler): handed
        this one, its lines and the bar do not write over each other.
        """
        return self._bar.console if self._bar is not None else None

    def set_total(self, total: int | None) -> None:
        """The number of items, once it is known (a batch that lists its files itself)."""
        self.total = total
        if self._bar is not None:
            self._bar.update(self._task, total=total)

    def start(self, name: str) -> None:
        """Show `name` (a file name, made printable) as the item being worked on."""
        if self._bar is not None:
            self._bar.update(self._task, name=_short(printable(name)))

    def advance(self, step: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=step)

    def note(self, line: str) -> None:
        """Print `line` (made printable) above the bar, or to the stream when there is no bar."""
        line = printable(line)
        if self._bar is not None:
            self._bar.console.print(line, markup=False, highlight=False, emoji=False)
        else:
            print(line, file=self.stream, flush=True)


def track(
    items: Iterable[T],
    what: str,
    *,
    name: Callable[[T], str] = str,
    total: int | None = None,
    stream: IO[str] | None = None,
) -> Iterator[tuple[T, Progress]]:
    """Yield `(item, bar)` for each item, the bar showing the item's name while it is worked on."""
    items = list(items) if total is None and not hasattr(items, "__len__") else items
    count = total if total is not None else len(items)  # type: ignore[arg-type]
    with Progress(count, what, stream=stream) as bar:
        for item in items:
            bar.start(name(item))
            yield item, bar
            bar.advance()


def _short(name: str, width: int = 40) -> str:
    # The bar keeps one line: a long file name loses its middle, not its end (the end says which file).
    return name if len(name) <= width else name[: width // 3] + "…" + name[-(width - width // 3 - 1) :]
