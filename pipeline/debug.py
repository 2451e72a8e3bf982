"""A page drawn with what extraction found on it, to see why a figure was missed or misread.

`page_overlay(path, page)` renders the page (pdfplumber's `to_image`; a scanned page shows its scan)
and draws every figure framed in its kind's colour with its id and label, the figures of failing
checks in red and thicker, every heading and table outlined (a table's cells as a grid), optionally
every word the PDF (or OCR) gave, and a legend strip below the page. All boxes are in PDF points
with pdfplumber's top-left origin, text layer and OCR alike (the OCR stage maps its pixels back).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from pipeline.model import BBox, CheckStatus, Figure, Glyph, Kind, Paragraph, Report, Section

RESOLUTION = 150  # dpi: an A4 page is 1240 × 1754 pixels, six-point labels stay legible

KIND_COLOURS: dict[Kind, tuple[int, int, int]] = {
    Kind.AMOUNT: (0, 90, 215),
    Kind.PERCENT: (0, 150, 70),
    Kind.COUNT: (150, 60, 195),
    Kind.SCORE: (220, 125, 0),
}
FAILING = (225, 0, 0)  # a figure some failing check reads
HEADING = (0, 160, 175)
TABLE = (80, 80, 80)
CELL = (175, 175, 175)
WORD = (255, 110, 160)

_PAD = 1.5  # points between a prose figure's digits and its frame (inside a cell: the rule stays visible)
_LABEL_PT = 6.0  # label height in points (never below _LABEL_MIN_PX)
_LABEL_MIN_PX = 10
_LABEL_CHARS = 14  # label text cut after this many characters
_LEGEND_PT = 8.0


@dataclass
class Overlay:
    """The drawn page and what was drawn on it; `to_pixels` maps a box in points onto `image`."""

    image: Image.Image
    page: int
    pages: int
    scale: float  # pixels per point
    origin: tuple[float, float]  # the page box's top-left corner, in points
    figures: int
    failing: int  # of them, read by a failing check
    unboxed: list[str]  # ids of figures the report puts on this page without a box (not drawn)
    headings: int
    tables: int
    words: int
    ocr: str | None  # why the page was read by OCR, if it was
    cjk_font: bool  # labels carry their Chinese text (else ids only)

    def to_pixels(self, box: BBox) -> tuple[int, int, int, int]:
        return to_pixels(box, self.origin, self.scale)


def to_pixels(box: BBox, origin: tuple[float, float], scale: float) -> tuple[int, int, int, int]:
    """A box in points → pixels of a page image at `scale` whose top-left corner is `origin` (points),
    as pdfplumber's PageImage maps them."""
    ox, oy = origin
    return (
        int((box[0] - ox) * scale),
        int((box[1] - oy) * scale),
        int((box[2] - ox) * scale),
        int((box[3] - oy) * scale),
    )


def page_overlay(
    path: str | Path,
    page_number: int,
    report: Report | None = None,
    resolution: float = RESOLUTION,
    words: bool = False,
    ocr: str | None = None,
) -> Image.Image:
    """Page `page_number` (1-based) of the PDF at `path`, with what extraction found drawn on it.

    The report is extracted when not given (`ocr` as for `extract`). Raises ReportError for an
    unreadable file, ValueError for a page the PDF does not have."""
    return overlay(path, page_number, report, resolution, words, ocr).image


def page_count(path: str | Path) -> int | None:
    """Pages of the PDF, read cheaply to refuse a wrong page before extraction; None when it is not
    readable that way (extraction then says why, after its own structural checks)."""
    import pdfplumber

    from pipeline.extract.pdfguard import check_pdf

    path = Path(path)
    try:
        with open(path, "rb") as fh:
            if b"%PDF-" not in fh.read(1024):
                return None
        check_pdf(path)  # hostile structure never reaches the parser
        with pdfplumber.open(path) as pdf:
            return len(pdf.pages) or None  # none at all: extraction says so
    except Exception:  # missing, refused, damaged (pdfminer raises many kinds): extraction names the reason
        return None


def check_page(page_number: int, pages: int) -> None:
    if not 1 <= page_number <= pages:
        raise ValueError(f"no page {page_number}: the PDF has {pages} page{'s' if pages != 1 else ''}")


def overlay(
    path: str | Path,
    page_number: int,
    report: Report | None = None,
    resolution: float = RESOLUTION,
    words: bool = False,
    ocr: str | None = None,
) -> Overlay:
    """`page_overlay` with the counts of what was drawn and the points → pixels mapping."""
    import pdfplumber

    from pipeline.audit.crops import crop_resolution

    if report is None:
        from pipeline.extract import extract

        report = extract(path, ocr=ocr)
    check_page(page_number, report.source.pages)
    info = next((p for p in report.pages if p.number == page_number), None)
    with pdfplumber.open(path) as pdf:
        page = pdf.pages[page_number - 1]
        dpi = crop_resolution(float(page.width), float(page.height), resolution)  # a huge page: fewer dpi
        im = page.to_image(resolution=dpi, antialias=True)
        word_boxes = (
            [b for b, _ in info.ocr_boxes]
            if info is not None and info.ocr
            else [(w["x0"], w["top"], w["x1"], w["bottom"]) for w in page.extract_words()]
        )
        canvas = _Canvas(im, font_px(im.scale), word_boxes)
        if words:
            im.draw_rects(word_boxes, fill=WORD + (40,), stroke=WORD + (150,), stroke_width=1)
        else:
            word_boxes = []
        n_tables = _draw_tables(canvas, report, page_number)
        n_headings = _draw_headings(canvas, report, page_number)
        n_figures, n_failing = _draw_figures(canvas, report, page_number)
        canvas.draw_labels()
        picture = _with_legend(
            im.annotated.convert("RGB"),
            canvas,
            report,
            page_number,
            (n_figures, n_failing, n_headings, n_tables, len(word_boxes)),
            info.ocr if info else None,
        )
        return Overlay(
            image=picture,
            page=page_number,
            pages=report.source.pages,
            scale=im.scale,
            origin=(float(im.bbox[0]), float(im.bbox[1])),
            figures=n_figures,
            failing=n_failing,
            unboxed=[
                f.id
                for f in report.figures
                if f.page == page_number and not figure_boxes(report, f, page_number)
            ],
            headings=n_headings,
            tables=n_tables,
            words=len(word_boxes),
            ocr=info.ocr if info else None,
            cjk_font=canvas.cjk,
        )


# --- what is drawn ------------------------------------------------------------------------------------


def failing_figures(report: Report) -> set[str]:
    """Ids of the figures some failing check reads (its operands and the result it tests)."""
    return {
        fid
        for c in report.checks
        if c.status == CheckStatus.FAIL
        for fid in [*c.figures, *([c.result] if c.result else [])]
    }


def figure_boxes(report: Report, f: Figure, page: int) -> list[BBox]:
    """Boxes of the figure's printed characters on `page`, one per line it is printed on.

    A figure wrapped across lines ("5" at a line's end, "人" at the next one's start) has one box that
    covers both lines in the model; framing that would cover the lines' text as well."""
    p = _paragraph(report, f.paragraph)
    if f.table is None and p is not None:
        glyphs = [g for g in p.glyphs[f.start : f.end] if g is not None and g.page == page]
        if glyphs:
            return _by_line(glyphs)
    return [f.bbox] if f.bbox is not None and f.page == page else []


def heading_boxes(report: Report, s: Section) -> list[BBox]:
    """The heading's printed lines on its page: its paragraph up to where a run-in heading's body starts,
    else the page's line whose text holds the title."""
    p = _paragraph(report, s.paragraph)
    if p is not None:
        end = p.body_start if 0 < p.body_start < len(p.text) else len(p.text)
        glyphs = [g for g in p.glyphs[:end] if g is not None and g.page == s.page]
        if glyphs:
            return _by_line(glyphs)
    info = next((pg for pg in report.pages if pg.number == s.page), None)
    title = "".join(s.title.split())
    for line in info.lines if info is not None and title else []:
        if title in "".join(line.text.split()):
            return [(line.x0, line.top, line.x1, line.bottom)]
    return []


def table_boxes(report: Report, page: int) -> list[tuple[str, BBox, list[BBox], bool]]:
    """(id, outline, cells, continued from an earlier page) of every table drawn on `page`."""
    out = []
    for t in report.tables:
        cells = [
            b
            for i, row in enumerate(t.cell_boxes)
            for b in row
            if b is not None and (t.row_pages[i] if i < len(t.row_pages) else t.page) == page
        ]
        if cells:
            outline = _union(cells)
        elif t.page == page and t.bbox is not None:
            outline = t.bbox
        else:
            continue
        out.append((t.id, outline, cells, t.page != page))
    return out


def _paragraph(report: Report, index: int) -> Paragraph | None:
    if 0 <= index < len(report.paragraphs) and report.paragraphs[index].index == index:
        return report.paragraphs[index]
    return next((p for p in report.paragraphs if p.index == index), None)


def _by_line(glyphs: list[Glyph]) -> list[BBox]:
    """Union boxes of runs of glyphs printed on one line (a wrap moves back to the left)."""
    runs: list[list[BBox]] = []
    for g in glyphs:
        b = g.bbox
        last = runs[-1][-1] if runs else None
        height = max(b[3] - b[1], 1.0)
        if last is not None and b[0] >= last[0] - 1 and abs(b[1] - last[1]) < height / 2:
            runs[-1].append(b)
        else:
            runs.append([b])
    return [_union(r) for r in runs]


def _union(boxes: list[BBox]) -> BBox:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _grow(b: BBox, d: float) -> BBox:
    return (b[0] - d, b[1] - d, b[2] + d, b[3] + d)


def _draw_tables(c: _Canvas, report: Report, page: int) -> int:
    found = table_boxes(report, page)
    for tid, outline, cells, continued in found:
        if cells:
            c.im.draw_rects(cells, fill=(0, 0, 0, 0), stroke=CELL, stroke_width=1)
        c.frame(outline, TABLE, c.width(1.0), obstacle=False)
        c.label(outline, f"{tid} (cont.)" if continued else tid, None, TABLE)
    return len(found)


def _draw_headings(c: _Canvas, report: Report, page: int) -> int:
    n = 0
    for s in report.sections:
        boxes = heading_boxes(report, s) if s.page == page else []
        for b in boxes:
            c.frame(_grow(b, _PAD), HEADING, c.width(0.8), fill=HEADING + (28,))
        if boxes:
            c.label(_grow(boxes[0], _PAD), f"{s.id} L{s.level}", None, HEADING, left=True)
            n += 1
    return n


def _draw_figures(c: _Canvas, report: Report, page: int) -> tuple[int, int]:
    failing = failing_figures(report)
    placed = []
    for f in report.figures:
        boxes = figure_boxes(report, f, page)
        if boxes:
            placed.append((f.id in failing, f, boxes))
    placed.sort(key=lambda x: x[0])  # failing ones last: on top of any other frame
    for bad, f, boxes in placed:
        colour = FAILING if bad else KIND_COLOURS[f.kind]
        pad = -_PAD if f.table is not None else _PAD  # a cell's frame inside its rules
        for b in boxes:
            c.frame(_grow(b, pad), colour, c.width(1.6 if bad else 0.8))
        text = f.label or ""
        text = text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"
        c.label(
            _grow(boxes[0], pad),
            f.id + ("?" if f.low_confidence else ""),
            text,
            colour,
            cell=f.table is not None,
        )
    return len(placed), sum(1 for bad, _, _ in placed if bad)


# --- drawing ------------------------------------------------------------------------------------------


@cache
def cjk_font_file() -> tuple[str, int] | None:
    """A TrueType font (file, face index) with Chinese glyphs, from fontconfig; None when there is none."""
    if not shutil.which("fc-match"):
        return None
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{file}\t%{index}\t%{lang}", ":lang=zh-cn"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    parts = out.split("\t")
    # fc-match answers with *some* font whatever is installed: trust it only when it covers Chinese
    if (
        len(parts) == 3
        and "zh-cn" in parts[2].split("|")
        and parts[0].lower().endswith((".ttf", ".ttc", ".otf"))
    ):
        return parts[0], int(parts[1] or 0)
    return None


def font_px(scale: float, points: float = _LABEL_PT) -> int:
    return max(_LABEL_MIN_PX, round(points * scale))


def _font(px: int) -> tuple[Any, bool]:
    found = cjk_font_file()
    if found is not None:
        try:
            return ImageFont.truetype(found[0], px, index=found[1]), True
        except OSError:
            pass
    return ImageFont.load_default(px), False


class _Canvas:
    """Frames go straight onto the page image; labels are collected and placed last where they cover no
    other label and no frame: above the frame (left- or right-aligned), else below, else the id alone; a table cell's label that
    fits nowhere goes inside the cell's top-right corner (its row and column headers name it anyway)."""

    def __init__(self, im: Any, px: int, words: list[BBox]):
        self.im = im
        self.draw: ImageDraw.ImageDraw = im.draw
        self.font, self.cjk = _font(px)
        self.frames: list[tuple[int, int, int, int]] = []
        self.words = [self.px(b) for b in words]  # what labels should not cover
        self.labels: list[_Label] = []

    def px(self, b: BBox) -> tuple[int, int, int, int]:
        return to_pixels(b, (float(self.im.bbox[0]), float(self.im.bbox[1])), self.im.scale)

    def width(self, points: float) -> int:
        return max(1, round(points * self.im.scale))

    def frame(
        self,
        b: BBox,
        colour: tuple[int, int, int],
        width: int,
        fill: tuple | None = None,
        obstacle: bool = True,
    ) -> None:
        r = self.px(b)
        self.draw.rectangle(r, outline=colour, width=width, fill=fill)
        if obstacle:
            self.frames.append(r)

    def label(
        self,
        b: BBox,
        head: str,
        text: str | None,
        colour: tuple[int, int, int],
        left: bool = False,
        cell: bool = False,
    ) -> None:
        self.labels.append(_Label(self.px(b), head, text if self.cjk else None, colour, left, cell))

    def text_size(self, s: str) -> tuple[int, int]:
        _, _, x1, y1 = self.draw.textbbox((0, 0), s, font=self.font)
        return x1 + 4, max(y1, 1) + 3

    def _spot(
        self, lb: _Label, taken: list[tuple[int, int, int, int]]
    ) -> tuple[tuple[int, int, int, int], str]:
        w_img, h_img = self.im.annotated.size
        box = lb.box
        # first where no printed word is covered either; then (running text set tight) over words
        for tier in [taken + self.words] + ([] if lb.cell else [taken]):
            for s in [f"{lb.head} {lb.text}", lb.head] if lb.text else [lb.head]:
                w, h = self.text_size(s)
                spots = [(box[0] - w - 2, box[1])] if lb.left else []
                spots += [(box[0], box[1] - h - 1), (box[2] - w, box[1] - h - 1), (box[0], box[3] + 1)]
                for x, y in spots:
                    x, y = min(max(0, x), max(0, w_img - w)), min(max(0, y), max(0, h_img - h))
                    r = (x, y, x + w, y + h)
                    if not any(_overlap(r, t) for t in tier):
                        return r, s
        w, h = self.text_size(lb.head)
        if lb.cell:
            x, y = max(box[0], box[2] - w - 1), box[1] + 1
        else:  # crowded: the id where it would go first, over whatever is there
            x, y = max(0, box[0]), max(0, box[1] - h - 1)
        return (x, y, x + w, y + h), lb.head

    def draw_labels(self) -> None:
        taken = list(self.frames)
        for lb in self.labels:
            r, s = self._spot(lb, [t for t in taken if t != lb.box])
            taken.append(r)
            self.draw.rectangle(r, fill=(255, 255, 255, 215), outline=lb.colour + (255,), width=1)
            self.draw.text((r[0] + 2, r[1] + 1), s, fill=lb.colour, font=self.font)


@dataclass
class _Label:
    box: tuple[int, int, int, int]  # the frame it names, in pixels
    head: str  # the id
    text: str | None  # the label text, when a Chinese font can draw it
    colour: tuple[int, int, int]
    left: bool  # try left of the frame first (headings: the margin)
    cell: bool  # a table cell's figure


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _ascii(s: str) -> str:
    return s.encode("ascii", "replace").decode("ascii")


def _with_legend(
    picture: Image.Image, c: _Canvas, report: Report, page: int, counts: tuple[int, ...], ocr: str | None
) -> Image.Image:
    """The page above a strip: one swatch per colour, then what was drawn on which page of which file."""
    n_fig, n_fail, n_head, n_tab, n_words = counts
    font, cjk = _font(font_px(c.im.scale, _LEGEND_PT))
    keys = [(k.value, colour) for k, colour in KIND_COLOURS.items()]
    keys += [("in a failing check", FAILING), ("heading", HEADING), ("table", TABLE)]
    if n_words:
        keys.append(("word", WORD))
    name = report.source.file if cjk else _ascii(report.source.file)
    caption = (
        f"{name}  page {page} of {report.source.pages}{f' (OCR: {ocr})' if ocr else ''}: "
        f"{n_fig} figures ({n_fail} in failing checks), {n_head} headings, {n_tab} tables"
        + (f", {n_words} words" if n_words else "")
    )
    probe = ImageDraw.Draw(picture)
    line_h = probe.textbbox((0, 0), "Ag", font=font)[3] + 8
    strip = Image.new("RGB", (picture.width, picture.height + 2 * line_h + 12), "white")
    strip.paste(picture, (0, 0))
    d = ImageDraw.Draw(strip)
    d.line((0, picture.height, picture.width, picture.height), fill=TABLE, width=1)
    x, y = 10, picture.height + 6
    for text, colour in keys:
        d.rectangle((x, y + 2, x + line_h - 6, y + line_h - 6), outline=colour, width=3)
        x += line_h
        d.text((x, y), text, fill=colour, font=font)
        x += int(d.textlength(text, font=font)) + 18
    d.text((10, y + line_h), caption, fill=(0, 0, 0), font=font)
    return strip
