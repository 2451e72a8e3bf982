"""A Report built from a string, so that a stage can be tested on words alone, without drawing a PDF.

Each non-empty line of the text is one paragraph on page 1 (a table, a page break, a font size are
what a PDF adds; the stages that read those need one). Characters have no glyphs, so figures found in
such a report have no box.
"""

from __future__ import annotations

from pipeline.extract.text import normalise
from pipeline.model import Paragraph, Report, Source


def report_from_text(text: str, *, file: str = "text.txt", display_first: bool = False) -> Report:
    """One paragraph per non-empty line; `display_first` prints the first one large (a title)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    report = Report(source=Source(file=file, sha256="0" * 64, pages=1))
    for i, line in enumerate(lines):
        report.paragraphs.append(
            Paragraph(
                index=i,
                text=line,
                norm=normalise(line),
                glyphs=[None] * len(line),
                page=1,
                size=18.0 if display_first and i == 0 else 12.0,
                display=display_first and i == 0,
            )
        )
    return report
