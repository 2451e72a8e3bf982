"""The one document model every stage reads and enriches.

pdf → pages/lines → paragraphs → sections → figures → checks → tables.  Each stage in
`pipeline.stages` is a function `Report -> Report`; the model is plain data so that any
stage can be tested alone and the whole thing serialises to the JSON contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

BBox = tuple[float, float, float, float]  # x0, top, x1, bottom in PDF points (pdfplumber's coordinates)


class Kind(StrEnum):
    """What a figure measures (its unit decides: 万元 → amount, % → percent, 人/项 → count, 分 → score)."""

    AMOUNT = "amount"
    PERCENT = "percent"
    COUNT = "count"
    SCORE = "score"


class CheckStatus(StrEnum):
    """What reconciliation found of one relation."""

    PASS = "pass"
    FAIL = "fail"
    UNVERIFIABLE = "unverifiable"  # a figure it needs is missing or cannot be read


@dataclass
class Glyph:
    """One printed character and where it stands."""

    text: str
    page: int
    bbox: BBox


@dataclass
class Line:
    """A printed line of body text on one page, after tables were cut out."""

    page: int
    text: str
    glyphs: list[Glyph]
    x0: float
    top: float
    x1: float
    bottom: float
    size: float  # dominant font size
    furniture: bool = False  # running header, footer or page number
    table: str | None = None  # set on the placeholder that marks where a table stands in reading order

    @classmethod
    def table_marker(cls, page: int, table: Table) -> Line:
        """The placeholder that stands for `table` in the reading order of page `page`."""
        x0, top, x1, bottom = table.bbox
        return cls(
            page=page, text="", glyphs=[], x0=x0, top=top, x1=x1, bottom=bottom, size=0.0, table=table.id
        )


@dataclass
class Page:
    number: int  # 1-based
    width: float
    height: float
    lines: list[Line] = field(default_factory=list)
    has_text: bool = True
    ocr: str | None = None  # why the page was read by OCR (scan, garbage, always); None: its text layer
    ocr_boxes: list[tuple[BBox, float]] = field(default_factory=list)  # OCR characters: box, confidence


@dataclass
class Paragraph:
    """Lines joined back into the paragraph (or table cell) they were printed as.

    `text` is the printed text with line wraps removed; `norm` is the same length, with full-width
    digits and signs folded for parsing, so offsets into one are offsets into the other and into
    `glyphs` (one glyph per character; inserted characters have none).
    """

    index: int
    text: str
    norm: str
    glyphs: list[Glyph | None]
    page: int
    size: float = 0.0
    display: bool = False  # larger than body text: titles
    section: str | None = None  # id of the section it stands in
    heading: str | None = None  # id of the section this paragraph opens, if it is a heading
    body_start: int = 0  # where body text starts after a run-in heading
    table: str | None = None  # id of the table this text is a cell of
    cell: tuple[int, int] | None = None  # (row, column) inside that table

    def bbox(self, start: int, end: int) -> tuple[int, BBox] | None:
        """Page and box covering characters [start, end) on the first page they stand on."""
        boxes = [g for g in self.glyphs[start:end] if g is not None]
        if not boxes:
            return None
        page = boxes[0].page
        same = [g.bbox for g in boxes if g.page == page]
        return page, (
            min(b[0] for b in same),
            min(b[1] for b in same),
            max(b[2] for b in same),
            max(b[3] for b in same),
        )


@dataclass
class Section:
    id: str
    level: int  # depth in this document's outline, 1 = top
    number: str | None
    title: str
    page: int
    parent: str | None
    marker: str  # kind of marker: "cn" 一、, "cn_paren" （一）, "arabic" 1. / 1、, "arabic_paren" (1)
    paragraph: int = -1


@dataclass
class Figure:
    id: str
    kind: Kind
    value: float
    unit: str
    text: str  # as printed, e.g. "828.69 万元"
    page: int
    bbox: BBox | None
    section: str | None
    label: str | None = None
    qualifier: str | None = None
    value_yuan: float | None = None
    decimals: int = 0  # decimals as printed: the rounding the reconciliation allows
    paragraph: int = -1
    start: int = 0  # offsets into the paragraph's text
    end: int = 0
    table: str | None = None
    cell: tuple[int, int] | None = None
    column: str | None = None  # table column header, for table rules
    row_label: str | None = None  # table row header
    role: str | None = None  # budget / actual / rate / score_max / score ... (table figures)
    ocr_confidence: float | None = None  # the OCR engine's confidence, for figures read from a scan
    low_confidence: bool = False  # read by OCR below its confidence threshold: look at the scan

    def __post_init__(self) -> None:
        self.kind = Kind(self.kind)  # stages may pass the plain word; an unknown one is a bug, said here


@dataclass
class Check:
    id: str
    rule: str  # sum, difference, ratio, ratio_sum, growth, repeat, count, score_cap, ...
    status: CheckStatus
    figures: list[str]
    expected: float | None
    stated: float | None
    message: str
    result: str | None = None  # id of the stated result figure
    difference: float | None = None
    evidence: str | None = None  # the words the relation was read from
    detector: str | None = None  # the reconciliation detector that read the relation
    reading: str | None = None  # how the figures' roles were read (Δ ÷ (本年 − Δ), 其中 parts of the total …)

    def __post_init__(self) -> None:
        self.status = CheckStatus(self.status)


@dataclass
class Table:
    id: str
    page: int
    rows: list[list[str | None]]
    title: str | None = None
    bbox: BBox | None = None
    pages: list[int] = field(default_factory=list)
    unit: str | None = None  # money unit its headers declare
    cell_boxes: list[list[BBox | None]] = field(default_factory=list)
    row_pages: list[int] = field(default_factory=list)  # page of each row (a table may run on)


@dataclass
class Metadata:
    title: str | None = None
    unit: str | None = None
    year: int | None = None
    date: str | None = None
    doc_type: str | None = None


@dataclass
class Source:
    file: str
    sha256: str
    pages: int
    path: str | None = None
    ocr_pages: list[int] = field(default_factory=list)  # pages read by OCR


@dataclass
class Report:
    source: Source
    pages: list[Page] = field(default_factory=list)
    paragraphs: list[Paragraph] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    meta: Metadata = field(default_factory=Metadata)
    sections: list[Section] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """The report as pandas DataFrames: "figures", "checks", "sections", "tables" (one row per cell).

        The columns are those of the store's `figures_df`, `checks_df`, `sections_df` and
        `table_cells_df`, so that code written for one report runs on a whole store (docs/api.md).
        """
        from pipeline.serialize import to_contract
        from pipeline.store.frames import contract_frames

        return contract_frames(to_contract(self))

    def figure(self, fid: str) -> Figure:
        return self._figures_by_id()[fid]

    def _figures_by_id(self) -> dict[str, Figure]:
        return {f.id: f for f in self.figures}
