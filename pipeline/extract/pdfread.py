"""Stage 1: PDF → pages of printed lines (with glyph boxes) and ruled tables, via pdfplumber."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

from pipeline.errors import ReportError
from pipeline.extract.pdfguard import check_pdf
from pipeline.messages import Message
from pipeline.model import Glyph, Line, Page, Report, Source, Table

from .ocr import default_mode, plan_page, read_pages

# pdfplumber's table finder is the costliest call per page; only pages with ruling lines get it.
_TABLE_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines", "intersection_tolerance": 4}
_MIN_TEXT_CHARS = 20  # fewer printable characters in the whole file: a scan without a text layer


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_pdf(path: str | Path, ocr: str | None = None) -> Report:
    """Open a submitted file and read every page's lines and ruled tables.

    `ocr` (auto, always, never; default from the environment, else auto) says which pages are read by
    OCR: in auto, those without a text layer over a scan and those whose text layer is not text.

    Raises ReportError (file name and reason) for anything that is not a readable report.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise ReportError(name, Message("file_not_found"))
    with open(path, "rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" not in head:
        raise ReportError(name, Message("not_pdf"))
    check_pdf(path)  # hostile structure refused in milliseconds, before pdfminer trusts it
    try:
        pdf = pdfplumber.open(path)
    except Exception as exc:  # pdfminer raises many kinds on a damaged file; pdfplumber wraps them
        if _encrypted(exc):
            raise ReportError(name, Message("encrypted")) from exc
        raise ReportError(name, Message("corrupt", cause=_cause(exc).__class__.__name__)) from exc
    report = Report(source=Source(file=name, sha256=sha256_of(path), pages=0, path=str(path)))
    mode = ocr or default_mode()
    try:
        with pdf:
            report.source.pages = len(pdf.pages)
            for page in pdf.pages:
                _read_page(page, report)
                plan_page(page, report, mode)
    except ReportError:
        raise
    except Exception as exc:  # a damaged page stream surfaces only when the page is parsed
        if _encrypted(exc):
            raise ReportError(name, Message("encrypted")) from exc
        cause = _cause(exc)
        raise ReportError(
            name, Message("corrupt", cause=f"{cause.__class__.__name__}: {cause}"[:270])
        ) from exc
    if report.source.pages == 0:
        raise ReportError(name, Message("no_pages"))
    try:
        read_pages(report, path)
    except RuntimeError as exc:
        raise ReportError(
            name, exc.args[0] if exc.args and isinstance(exc.args[0], Message) else str(exc)
        ) from exc
    chars = sum(len(line.text.strip()) for p in report.pages for line in p.lines)
    chars += sum(len(c or "") for t in report.tables for row in t.rows for c in row)
    if chars < _MIN_TEXT_CHARS:
        raise ReportError(name, Message("no_text_ocr_off" if mode == "never" else "no_text"))
    return report


def _chain(exc: BaseException) -> list[BaseException]:
    out = []
    while exc is not None and exc not in out:
        out.append(exc)
        exc = (
            exc.__cause__
            or exc.__context__
            or (exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None)
        )
    return out


def _encrypted(exc: BaseException) -> bool:
    return any(
        isinstance(e, (PDFPasswordIncorrect, PDFEncryptionError)) or "password" in str(e).lower()
        for e in _chain(exc)
    )


def _cause(exc: BaseException) -> BaseException:
    return _chain(exc)[-1]


def _read_page(page: pdfplumber.page.Page, report: Report) -> None:
    number = page.page_number
    tables: list = []
    if page.edges:
        tables = [t for t in page.find_tables(_TABLE_SETTINGS) if len(t.rows) >= 2 and len(t.columns) >= 2]
    boxes = [t.bbox for t in tables]

    def outside_tables(obj: dict) -> bool:
        cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
        return not any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in boxes)

    chars = [c for c in page.chars if c.get("upright", True) and (not boxes or outside_tables(c))]
    lines = []
    for group in _cluster_lines(chars):
        text, glyphs = _line_text(group, number)
        if not text.strip():
            continue
        size = Counter(round(c["size"], 1) for c in group if c["text"].strip()).most_common(1)[0][0]
        lines.append(
            Line(
                page=number,
                text=text,
                glyphs=glyphs,
                x0=min(c["x0"] for c in group),
                top=min(c["top"] for c in group),
                x1=max(c["x1"] for c in group),
                bottom=max(c["bottom"] for c in group),
                size=size,
            )
        )
    report.pages.append(
        Page(
            number=number,
            width=float(page.width),
            height=float(page.height),
            lines=lines,
            has_text=bool(lines),
        )
    )
    for t in tables:
        rows = t.extract()
        cell_boxes = [[c for c in row.cells] for row in t.rows]
        report.tables.append(
            Table(
                id=f"t{len(report.tables) + 1}",
                page=number,
                rows=rows,
                bbox=tuple(t.bbox),
                pages=[number],
                cell_boxes=cell_boxes,
                row_pages=[number] * len(rows),
            )
        )
        # the table's place in reading order: a line-like marker so paragraphs and tables interleave
        report.pages[-1].lines.append(Line.table_marker(number, report.tables[-1]))
    report.pages[-1].lines.sort(key=lambda ln: (ln.top, ln.x0))


def _cluster_lines(chars: list[dict]) -> list[list[dict]]:
    """Characters grouped into printed lines by vertical overlap (cheaper than pdfplumber's text map,
    which the whole extraction would otherwise pay for on every page)."""
    lines: list[list[dict]] = []
    top = bottom = 0.0
    for c in sorted((c for c in chars if c["text"].strip()), key=lambda c: (c["top"], c["x0"])):
        if lines:
            overlap = min(bottom, c["bottom"]) - max(top, c["top"])
            if overlap >= 0.5 * min(bottom - top, c["bottom"] - c["top"]):
                lines[-1].append(c)
                top, bottom = min(top, c["top"]), max(bottom, c["bottom"])
                continue
        lines.append([c])
        top, bottom = c["top"], c["bottom"]
    return lines


def _line_text(chars: list[dict], page: int) -> tuple[str, list[Glyph]]:
    """The line's text with a space where the printed gap is wide, and one glyph per character."""
    chars = sorted(chars, key=lambda c: c["x0"])
    text: list[str] = []
    glyphs: list[Glyph] = []
    prev = None
    for c in chars:
        ch = c["text"]
        if prev is not None and ch != " " and text and text[-1] != " ":
            gap = c["x0"] - prev["x1"]
            if gap > 0.5 * min(c["size"], prev["size"]):
                text.append(" ")
                glyphs.append(Glyph(" ", page, (prev["x1"], prev["top"], c["x0"], prev["bottom"])))
        if ch == " " and (not text or text[-1] == " "):
            continue
        for sub in ch:  # ligatures come as one char object with several letters
            text.append(sub)
            glyphs.append(Glyph(sub, page, (c["x0"], c["top"], c["x1"], c["bottom"])))
        prev = c
    while text and text[-1] == " ":
        text.pop()
        glyphs.pop()
    return "".join(text), glyphs
