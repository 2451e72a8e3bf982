"""One Excel writer for the store's exports and the audit, with the safety rules both need.

* Text from a PDF stays text: a cell that starts with "=" never becomes a formula, nor "#N/A" an error.
* Control characters that PDF text carries (openpyxl refuses the whole workbook over one) are dropped.
* Rows stream to disk (write-only mode): a store of a few thousand reports is a few hundred thousand
  figure rows, too many to hold as openpyxl cell objects.
* Every sheet has a bold header row that stays in view, a filter, and columns wide enough to read.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

MAX_ROWS = 1_048_576  # per sheet, header included
MAX_WIDTH = 60  # characters; wider columns are cut, not the text
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)


@dataclass(frozen=True)
class Column:
    """A sheet column: its header, the number format of its numbers, its width (None: from its text)."""

    header: str
    number_format: str | None = None
    width: float | None = None


@dataclass(frozen=True)
class Cell:
    """A value with its own number format and, optionally, a link (a relative path or URL) it opens."""

    value: Any
    number_format: str | None = None
    link: str | None = None
    bold: bool = False


# Rows marked in `Writer.sheet(marked=...)`: a reviewer's eye goes to them first.
MARK_FILL = PatternFill("solid", fgColor="FFD7D7")
_LINK_FONT = Font(color="0563C1", underline="single")


def clean(v: Any) -> Any:
    """A value safe for a cell: text loses the control characters Excel cannot hold; the rest is kept."""
    return ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v


def display_width(text: str) -> int:
    """Columns `text` takes in Excel's default fonts: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _auto_width(header: str, shown: Iterable[str]) -> float:
    # From the header and the first rows: enough to read, never wider than MAX_WIDTH.
    width = max([display_width(header) + 2, *(display_width(s) for s in shown)]) + 2
    return min(width, MAX_WIDTH)


class Writer:
    """A workbook being written, sheet after sheet; `save` writes it to `path`."""

    def __init__(self) -> None:
        self.wb = Workbook(write_only=True)

    def sheet(
        self,
        title: str,
        columns: Sequence[Column],
        rows: Sequence[Sequence[Any]],
        shown: Callable[[Any, int], str] | None = None,
        marked: Sequence[bool] | None = None,
        filter: bool = True,
    ) -> None:
        """Add sheet `title` with `rows` (values in column order); `shown(value, i)` is a value's text,
        which sizes columns without a width (default: str). A value may be a `Cell` (its own number
        format, a link); rows whose `marked` entry is true are filled with MARK_FILL. `filter` false
        for sheets that are no list (a grid of tables)."""
        ws = self.wb.create_sheet(title)
        plain = shown or (lambda v, _i: "" if v is None else str(v))

        def show(v: Any, i: int) -> str:
            return plain(v.value if isinstance(v, Cell) else v, i)

        for i, c in enumerate(columns):
            width = (
                c.width if c.width is not None else _auto_width(c.header, (show(r[i], i) for r in rows[:500]))
            )
            ws.column_dimensions[get_column_letter(i + 1)].width = width
        # Write-only sheets take panes, filter and widths before the first row is written.
        ws.freeze_panes = "A2"
        if filter:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"

        header = []
        for c in columns:
            cell = WriteOnlyCell(ws, value=c.header)
            cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGN
            header.append(cell)
        ws.append(header)

        formats = [c.number_format for c in columns]
        for n, r in enumerate(rows):
            mark = bool(marked[n]) if marked is not None else False
            out: list[Any] = []
            for v, fmt in zip(r, formats, strict=True):
                link = None
                bold = False
                if isinstance(v, Cell):
                    v, fmt, link, bold = v.value, v.number_format or fmt, v.link, v.bold
                v = clean(v)
                if v is None and not mark:
                    out.append(None)
                    continue
                cell = WriteOnlyCell(ws, value=v)
                if isinstance(v, str):
                    # openpyxl would store "=…" as a formula and "#N/A" as an error.
                    cell.data_type = "s"
                elif v is not None and fmt is not None:
                    cell.number_format = fmt
                if link:
                    cell.hyperlink = link
                    cell.font = _LINK_FONT
                elif bold:
                    cell.font = _HEADER_FONT
                if mark:
                    cell.fill = MARK_FILL
                out.append(cell)
            ws.append(out)

    def save(self, path: str | Path) -> None:
        self.wb.save(path)
