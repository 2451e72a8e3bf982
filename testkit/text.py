"""A Report built from a string, so that a stage can be tested on words alone, without drawing a PDF.

Each non-empty line of the text is one paragraph on page 1 (a table, a page break, a font size are
what a PDF adds; the stages that read those need one). Characters have no glyphs, so figures found in
such a report have no box.
"""

from __future__ import annotations

from pipeline.fromtext import paragraphs_from_text
from pipeline.model import Report, Source


def report_from_text(text: str, *, file: str = "text.txt", display_first: bool = False) -> Report:
    """Paragraphs only (no stage run): one per non-empty line; `display_first` prints the first one large."""
    report = Report(source=Source(file=file, sha256="0" * 64, pages=1))
    report.paragraphs = paragraphs_from_text(text, display_first)
    return report
