"""The extraction pipeline: a PDF in, a `Report` out, stage by stage.

Each stage is a function Report → Report (see their modules); `extract` runs them in order.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipeline.model import Report
from pipeline.reconcile import reconcile

from .flattened import find_flattened_rows
from .layout import build_paragraphs, mark_furniture
from .metadata import extract_metadata
from .ocr_review import figure_confidence, flag_doubtful_checks
from .outline import build_outline
from .pdfread import read_pdf
from .prose import find_prose_figures
from .tables import merge_continued, table_figures, title_unit_before

Stage = Callable[[Report], Report]


def add_table_figures(report: Report) -> Report:
    for p in report.paragraphs:
        if p.table is None:
            continue
        table = next(t for t in report.tables if t.id == p.table)
        table.title = _table_title(report, p.index)
        for f in table_figures(table, title_unit_before(report.paragraphs, p.index)):
            f.paragraph, f.section = p.index, p.section
            report.figures.append(f)
    return report


def _table_title(report: Report, index: int) -> str | None:
    for p in reversed(report.paragraphs[max(0, index - 2) : index]):
        if p.table is None and p.text.strip() and len(p.text) <= 60:
            return p.text.strip()
    return None


def number_figures(report: Report) -> Report:
    """Reading order: paragraph by paragraph (a table where it stands), then position."""
    report.figures.sort(key=lambda f: (f.paragraph, f.cell or (0, 0), f.start))
    for n, f in enumerate(report.figures, 1):
        f.id = f"f{n}"
    return report


STAGES: list[Stage] = [
    mark_furniture,
    build_paragraphs,
    merge_continued,
    build_outline,
    extract_metadata,  # before the figures: a label keeps a year other than the report's
    find_prose_figures,
    find_flattened_rows,
    add_table_figures,
    number_figures,
    figure_confidence,
    reconcile,
    flag_doubtful_checks,
]


def extract(path: str | Path, stages: list[Stage] | None = None, ocr: str | None = None) -> Report:
    """Read and analyse one submitted report. Raises ReportError for an unreadable file.

    `ocr`: auto, always or never (see `read_pdf`)."""
    report = read_pdf(path, ocr=ocr)
    for stage in stages or STAGES:
        report = stage(report)
    return report
