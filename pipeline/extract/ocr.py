"""Scanned pages and text layers that are not text: which pages need OCR, the engine, and its lines.

A page is read by OCR when it has no text layer over a scanned image, or when its text layer is not
text (CID fonts without a ToUnicode map print `(cid:123)`, private-use or replacement characters,
mojibake). The OCR result becomes the same `Line`s of `Glyph`s the text path makes, in page points,
so every later stage works unchanged; its confidence is kept per character (`Page.ocr_boxes`) for
the figures that stand on it. The engine (rapidocr with the models its wheel ships) is imported only
when a page needs it.
"""

from __future__ import annotations

import math
import os
import re
import statistics
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pipeline.messages import Message
from pipeline.model import BBox, Glyph, Line, Page, Report, Table

from .ocr_text import fix_confusions

MODES = ("auto", "always", "never")
# Environment default for the mode, so that worker processes (the batch's, Dask's) follow the command.
MODE_ENV = "PIPELINE_OCR"
# Measured on the scanned corpus and scans of the table cases (bench/bench_ocr.py): text reads the same
# from 100 to 200 dpi (7.5 pt print too), 200 costs half as much time again, and at 100 the thin rules
# of a table blur so that its cells come apart.
DPI = 150
# Share of a page's characters that are not text above which its text layer is garbage. Every page of
# the dev corpus and samples measures 0 (74 pages); a CID font without ToUnicode is near 100 %, GBK read
# as Latin-1 about half. Low enough to catch a report whose digits alone come from a broken font (a
# page's digits are 5-10 % of it), high enough for Word's private-use bullets (a few per page).
GARBAGE_SHARE = 0.04
# A page with fewer characters than this over an image covering a good part of it is a scan (a scan
# placed with margins, or a photographed page, covers less than the whole page).
_SCAN_MAX_CHARS = 20
_SCAN_IMAGE_SHARE = 0.3
# The engine's confidence below which a figure read from it is flagged for a look at the scan. Every
# figure of the scanned corpus and of scans of table-seed and real-C06 is read right, the lowest at
# 0.90 (155 figures): flags start below that, with a margin.
LOW_CONFIDENCE = 0.85
# What one OCR page may add to a file's time limit (about 4 s a page on a quiet core, more when busy).
SECONDS_PER_PAGE = 30.0

_CID = re.compile(r"\(cid:\d+\)")

# Called with the number of pages about to be read by OCR (the batch's worker tells its parent, which
# extends the file's time limit).
_listener: Callable[[int], None] | None = None


def set_listener(fn: Callable[[int], None] | None) -> None:
    global _listener
    _listener = fn


def default_mode() -> str:
    mode = os.environ.get(MODE_ENV, "auto").strip().lower() or "auto"
    if mode not in MODES:
        raise ValueError(f"{MODE_ENV}={mode!r}: use one of {', '.join(MODES)}")
    return mode


# -- detection -------------------------------------------------------------------------------------------


def _is_text_char(ch: str) -> bool:
    cp = ord(ch)
    if cp < 0x80:
        return ch.isprintable()
    if ch == "\ufffd" or unicodedata.category(ch) in ("Co", "Cc", "Cs", "Cn", "Cf"):
        return False
    return any(lo <= cp <= hi for lo, hi in _TEXT_RANGES)


# What Chinese reports print: CJK ideographs, radicals, punctuation and full-width forms, the
# symbols of figures and lists (≤ ≥ × ℃ ① Ⅱ ■ →), Greek. Latin-1 letters are missing on purpose:
# GBK bytes read as Latin-1 (mojibake) are made of them.
_TEXT_RANGES = [
    (0x00A0, 0x00BF),
    (0x00D7, 0x00D7),
    (0x00F7, 0x00F7),
    (0x0391, 0x03C9),
    (0x2000, 0x206F),
    (0x2100, 0x218F),
    (0x2190, 0x21FF),
    (0x2200, 0x22FF),
    (0x2460, 0x24FF),
    (0x2500, 0x25FF),
    (0x2600, 0x27BF),
    (0x2E80, 0x2FDF),
    (0x3000, 0x303F),
    (0x3040, 0x30FF),
    (0x3100, 0x312F),
    (0x3200, 0x33FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFE10, 0xFE1F),
    (0xFE30, 0xFE6F),
    (0xFF00, 0xFFEF),
    (0x20000, 0x3134F),
]


def garbage_share(text: str) -> float:
    """Share of the characters in `text` that are not text ((cid:N) counts as one character)."""
    cids = len(_CID.findall(text))
    chars = [c for c in _CID.sub("", text) if not c.isspace()]
    total = cids + len(chars)
    if not total:
        return 0.0
    return (cids + sum(not _is_text_char(c) for c in chars)) / total


def page_reason(text: str, image_share: float, mode: str) -> str | None:
    """Why a page must be read by OCR ("scan", "garbage", "always"), or None to keep its text layer.

    `text` is the page's text layer, `image_share` the part of the page its images cover.
    """
    if mode == "never":
        return None
    if mode == "always":
        return "always"
    printable = len(re.sub(r"\s+", "", _CID.sub("#", text)))
    if printable < _SCAN_MAX_CHARS:
        return "scan" if image_share >= _SCAN_IMAGE_SHARE else None
    return "garbage" if garbage_share(text) > GARBAGE_SHARE else None


def image_share(page: Any) -> float:
    """Part of a pdfplumber page covered by its images (overlaps counted once, roughly: capped at 1)."""
    area = float(page.width) * float(page.height)
    if not area:
        return 0.0
    covered = 0.0
    for im in page.images:
        x0, x1 = max(0.0, im["x0"]), min(float(page.width), im["x1"])
        t, b = max(0.0, im["top"]), min(float(page.height), im["bottom"])
        covered += max(0.0, x1 - x0) * max(0.0, b - t)
    return min(1.0, covered / area)


# -- the engine ------------------------------------------------------------------------------------------


@cache
def engine() -> Any:
    """The OCR engine, built once per process from the models the rapidocr wheel ships."""
    from rapidocr import RapidOCR

    # One thread per engine: the batch runs one engine per worker process, one worker per core
    # (PIPELINE_OCR_THREADS for a lone extraction on an idle machine).
    threads = int(os.environ.get("PIPELINE_OCR_THREADS", "1"))
    return RapidOCR(
        params={
            "Global.log_level": "error",
            "Global.use_cls": False,  # pages are upright; the direction classifier only costs time
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
    )


def render(path: str | Path, number: int, dpi: float = DPI) -> Any:
    """Page `number` (1-based) as a grey numpy image at `dpi`."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    try:
        page = doc[number - 1]
        bitmap = page.render(scale=dpi / 72, grayscale=True)
        return bitmap.to_numpy().copy()
    finally:
        doc.close()


# One recognised text box: corner points in pixels, text, confidence, and when the engine gives them,
# its characters (character, confidence, corner points).
Box = tuple[list[tuple[float, float]], str, float, list[tuple[str, float, list[tuple[float, float]]]] | None]


def recognise(image: Any) -> list[Box]:
    """Text boxes the engine finds on a page image; a blank page gives none."""
    if image.size == 0 or int(image.max()) - int(image.min()) < 16:  # nothing printed on it
        return []
    result = engine()(image, return_word_box=True, return_single_char_box=True)
    if result.boxes is None or result.txts is None:
        return []
    words = result.word_results if len(result.word_results) == len(result.txts) else [None] * len(result.txts)
    out = []
    for box, text, score, chars in zip(result.boxes, result.txts, result.scores, words):
        pts = [(float(x), float(y)) for x, y in box]
        chars = (
            [(c, float(sc), [(float(x), float(y)) for x, y in cb]) for c, sc, cb in chars if cb is not None]
            if chars
            else None
        )
        out.append((pts, text, float(score), chars or None))
    return out


# -- boxes to lines ----------------------------------------------------------------------------------------


@dataclass
class _Item:
    """One OCR box in page points: its rectangle, text (confusions fixed), confidence, font size, and
    each character's left and right edge and confidence."""

    rect: BBox
    text: str
    score: float
    xs: list[tuple[float, float]]
    scores: list[float]
    em: float = 0.0


def skew(boxes: list[Box]) -> float:
    """The page's rotation in radians, from the top edges of the longer text boxes (0 when unsure)."""
    angles = []
    for pts, text, *_ in boxes:
        (x0, y0), (x1, y1) = pts[0], pts[1]
        if len(text) >= 6 and x1 - x0 > 0:
            angles.append(math.atan2(y1 - y0, x1 - x0))
    return statistics.median(angles) if len(angles) >= 2 else 0.0


def _char_weight(ch: str) -> float:
    # how much of a box's width a character takes: CJK and full-width forms one em, the rest half
    return 1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.5


def boxes_to_lines(
    boxes: list[Box],
    number: int,
    scale: float,
    centre: tuple[float, float],
    angle: float,
    tables: list[Table] | None = None,
) -> tuple[list[Line], list[tuple[BBox, float]]]:
    """OCR boxes (pixels) as printed lines in page points, deskewed about `centre`.

    A character stands where the engine places it; where it gives no places, the box's width is split
    across the characters. Boxes inside one of `tables` fill its cells instead (line by line).
    Returns the lines and each character's box with its confidence (for the figures read from it).
    """
    cos, sin = math.cos(-angle), math.sin(-angle)
    cx, cy = centre

    def straight(x: float, y: float) -> tuple[float, float]:
        dx, dy = x - cx, y - cy
        return (cx + dx * cos - dy * sin) / scale, (cy + dx * sin + dy * cos) / scale

    items = []
    for pts, raw, score, *rest in boxes:
        text = fix_confusions(raw.strip())
        if not text:
            continue
        corners = [straight(x, y) for x, y in pts]
        rect = (
            min(p[0] for p in corners),
            min(p[1] for p in corners),
            max(p[0] for p in corners),
            max(p[1] for p in corners),
        )
        placed = _placed(text, raw.strip(), rest[0] if rest else None, score, straight)
        xs = [x for x, _ in placed] if placed else _split_xs(rect, text)
        scores = [sc for _, sc in placed] if placed else [score] * len(text)
        items.append(_Item(rect, text, score, xs, scores))
    _ems(items)
    if tables:
        inside = [it for it in items if any(_holds(t.bbox, it.rect) for t in tables)]
        _fill_cells(tables, inside, number)
        rest_items = [it for it in items if not any(_holds(t.bbox, it.rect) for t in tables)]
    else:
        rest_items = items
    lines = [
        _line(sorted((rest_items[n] for n in row), key=lambda it: it.rect[0]), number)
        for row in _rows(rest_items)
    ]
    chars = [((x0, it.rect[1], x1, it.rect[3]), sc) for it in items for (x0, x1), sc in zip(it.xs, it.scores)]
    return lines, chars


def _placed(text: str, raw: str, chars: list | None, box_score: float, straight: Callable) -> list | None:
    """Each character's (left, right) in points and confidence from the engine's character boxes, or
    None when they do not line up with the text (spaces get the gap between their neighbours)."""
    if not chars or [c for c, _, _ in chars] != [c for c in raw if not c.isspace()] or len(raw) != len(text):
        return None
    # rapidocr 3.x pairs its character boxes (spaces left out) with the confidences of the line's
    # characters (spaces in): the n-th confidence is the n-th character's of the line, spaces counted,
    # and those of the last characters of a line with spaces are not given (the box's stands in).
    confs = [sc for _, sc, _ in chars]
    out: list = []
    it = iter(chars)
    for n, ch in enumerate(raw):
        score = confs[n] if n < len(confs) else box_score
        if ch.isspace():
            out.append(None)
            continue
        _, _, pts = next(it)
        xs = [straight(x, y)[0] for x, y in pts]
        out.append(((min(xs), max(xs)), score))
    for n, v in enumerate(out):
        if v is None:  # a space: from the end of the character before to the start of the one after
            left = out[n - 1][0][1] if n and out[n - 1] else None
            right = next((w[0][0] for w in out[n + 1 :] if w), None)
            left = left if left is not None else right
            out[n] = ((left, right if right is not None else left), 1.0)
    return out


def _split_xs(rect: BBox, text: str) -> list[tuple[float, float]]:
    """A box's width split across its characters: CJK and full-width forms one em, the rest half."""
    weights = [_char_weight(c) for c in text]
    unit = (rect[2] - rect[0]) / sum(weights)
    out, x = [], rect[0]
    for w in weights:
        out.append((x, x + w * unit))
        x += w * unit
    return out


def _holds(box: BBox | None, rect: BBox) -> bool:
    cx, cy = (rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2
    return box is not None and box[0] <= cx <= box[2] and box[1] <= cy <= box[3]


def _fill_cells(tables: list[Table], items: list[_Item], number: int) -> None:
    """Each cell's text from the characters whose place is inside it, line by line, as pdfplumber
    extracts a drawn table's cells."""
    parts: dict[tuple[int, int, int], list[_Item]] = {}
    for item in items:
        for n, (x0, x1) in enumerate(item.xs):
            place = (x0, item.rect[1], x1, item.rect[3])
            where = next(
                (
                    (k, ri, ci)
                    for k, t in enumerate(tables)
                    for ri, row in enumerate(t.cell_boxes)
                    for ci, box in enumerate(row)
                    if _holds(box, place)
                ),
                None,
            )
            if where is None:
                continue
            cell = parts.setdefault(where, [])
            if cell and getattr(cell[-1], "source", None) is item:  # the same box goes on in this cell
                last = cell[-1]
                last.text += item.text[n]
                last.xs.append(item.xs[n])
                last.scores.append(item.scores[n])
                last.rect = (last.rect[0], last.rect[1], x1, last.rect[3])
            else:
                piece = _Item(place, item.text[n], item.score, [item.xs[n]], [item.scores[n]], item.em)
                piece.source = item  # type: ignore[attr-defined]
                cell.append(piece)
    for k, t in enumerate(tables):
        for ri, row in enumerate(t.cell_boxes):
            for ci, box in enumerate(row):
                if box is None or ri >= len(t.rows) or ci >= len(t.rows[ri]):
                    continue
                cell = parts.get((k, ri, ci), [])
                lines = [
                    _line(sorted((cell[n] for n in r), key=lambda it: it.rect[0]), number).text.strip()
                    for r in _rows(cell)
                ]
                t.rows[ri][ci] = "\n".join(ln for ln in lines if ln)


def _ems(items: list[_Item]) -> None:
    """Font size (the em) of each box: from its width per character, snapped to the page's body size
    so that body lines share one size as they do in a text layer."""
    raw = []
    for it in items:
        # short boxes (一个 "人", a page number) say little by their width: their height says more
        if len(it.text) >= 4:
            raw.append((it.rect[2] - it.rect[0]) / max(sum(_char_weight(c) for c in it.text), 0.5))
        else:
            raw.append((it.rect[3] - it.rect[1]) * 0.8)
    long = [em for em, it in zip(raw, items) if len(it.text) >= 12]
    body = statistics.median(long) if long else (statistics.median(raw) if raw else 0.0)
    for em, it in zip(raw, items):
        it.em = round(body, 1) if body and abs(em - body) <= 0.15 * body else round(em * 2) / 2


def _rows(items: list[_Item]) -> list[list[int]]:
    """Boxes grouped into printed lines by vertical overlap, as the text path groups characters."""
    order = sorted(
        range(len(items)), key=lambda n: ((items[n].rect[1] + items[n].rect[3]) / 2, items[n].rect[0])
    )
    rows: list[list[int]] = []
    top = bottom = 0.0
    for n in order:
        rect = items[n].rect
        if rows:
            overlap = min(bottom, rect[3]) - max(top, rect[1])
            if overlap >= 0.5 * min(bottom - top, rect[3] - rect[1]):
                rows[-1].append(n)
                top, bottom = min(top, rect[1]), max(bottom, rect[3])
                continue
        rows.append([n])
        top, bottom = rect[1], rect[3]
    return rows


def _line(items: list[_Item], number: int) -> Line:
    text: list[str] = []
    glyphs: list[Glyph] = []
    prev: _Item | None = None
    for it in items:
        if prev is not None and it.rect[0] - prev.rect[2] > 0.5 * min(it.em, prev.em) and text[-1] != " ":
            text.append(" ")
            glyphs.append(Glyph(" ", number, (prev.rect[2], prev.rect[1], it.rect[0], prev.rect[3])))
        glyphs += [
            Glyph(ch, number, (x0, it.rect[1], x1, it.rect[3])) for ch, (x0, x1) in zip(it.text, it.xs)
        ]
        text += it.text
        prev = it
    size = max({it.em for it in items}, key=lambda s: sum(len(it.text) for it in items if it.em == s))
    return Line(
        page=number,
        text="".join(text),
        glyphs=glyphs,
        x0=min(it.rect[0] for it in items),
        top=min(it.rect[1] for it in items),
        x1=max(it.rect[2] for it in items),
        bottom=max(it.rect[3] for it in items),
        size=size,
    )


# -- pages of a report -------------------------------------------------------------------------------------


def plan_page(plumber_page: Any, report: Report, mode: str) -> None:
    """Mark the page just read (the report's last) for OCR when its text layer will not do."""
    page = report.pages[-1]
    parts = [ln.text for ln in page.lines]
    parts += [c or "" for t in report.tables if t.page == page.number for row in t.rows for c in row]
    text = "".join(parts)
    # the page's images are looked at only when its text layer is nearly empty
    share = image_share(plumber_page) if len(re.sub(r"\s+", "", text)) < _SCAN_MAX_CHARS else 0.0
    page.ocr = page_reason(text, share, mode)


def read_pages(report: Report, path: str | Path) -> None:
    """Read the pages marked for OCR; their text-layer lines (if any) are replaced by what OCR reads,
    and their ruled tables keep their cells, filled from OCR. Raises RuntimeError naming the page."""
    todo = [p for p in report.pages if p.ocr]
    if not todo:
        return
    if _listener is not None:
        _listener(len(todo))
    for page in todo:
        try:
            _read_page(report, page, path)
        except Exception as exc:
            raise RuntimeError(
                Message("ocr_failed", page=page.number, error=f"{type(exc).__name__}: {exc}"[:260])
            ) from exc
    report.source.ocr_pages = [p.number for p in todo]
    _renumber_tables(report)


def _read_page(report: Report, page: Page, path: str | Path) -> None:
    image = render(path, page.number, DPI)
    boxes = recognise(image)
    height_px, width_px = image.shape[:2]
    scale = width_px / page.width if page.width else DPI / 72
    angle = skew(boxes)
    placeholders = [ln for ln in page.lines if ln.table is not None]
    tables = [t for t in report.tables if t.page == page.number and t.cell_boxes]
    if not tables:  # a scan: its rules are in the image (a garbage text layer's page keeps its drawn ones)
        tables = _scanned_tables(report, page, image, scale, angle)
        placeholders = [Line.table_marker(page.number, t) for t in tables]
    lines, page.ocr_boxes = boxes_to_lines(
        boxes, page.number, scale, (width_px / 2, height_px / 2), angle, tables
    )
    page.lines = sorted(lines + placeholders, key=lambda ln: (ln.top, ln.x0))
    page.has_text = bool(lines)


def _scanned_tables(report: Report, page: Page, image: Any, scale: float, angle: float) -> list[Table]:
    from .ocr_tables import find_tables

    out = []
    for rows in find_tables(image, scale, angle):
        boxes = [c for row in rows for c in row if c is not None]
        bbox = (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
        table = Table(
            id=f"ocr-{page.number}-{len(out) + 1}",
            page=page.number,
            rows=[[None if c is None else "" for c in row] for row in rows],
            bbox=bbox,
            pages=[page.number],
            cell_boxes=rows,
            row_pages=[page.number] * len(rows),
        )
        report.tables.append(table)
        out.append(table)
    return out


def _renumber_tables(report: Report) -> None:
    """Tables found on scans take their place in page order, numbered as the text path numbers them."""
    if not any(t.id.startswith("ocr-") for t in report.tables):
        return
    report.tables.sort(key=lambda t: (t.page, t.bbox[1] if t.bbox else 0.0))
    ids = {}
    for n, t in enumerate(report.tables, 1):
        ids[t.id], t.id = f"t{n}", f"t{n}"
    for page in report.pages:
        for ln in page.lines:
            if ln.table is not None:
                ln.table = ids[ln.table]
