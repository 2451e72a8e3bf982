"""A report from plain text: the stages after PDF reading, run on lines of text.

Each line is one paragraph on page 1 (a blank line is skipped). This is how a rule is tested on a
sentence, and how text that did not come from a PDF (a pasted report, a .txt export) goes through the
same outline, figures, metadata and reconciliation as a PDF does. Figures have no boxes.
"""

from __future__ import annotations

from collections.abc import Callable

from .extract.text import normalise
from .model import Paragraph, Report, Source


def paragraphs_from_text(text: str, display_first: bool = False) -> list[Paragraph]:
    """One paragraph per non-empty line; `display_first` sets the first one large, as a title is."""
    out: list[Paragraph] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        big = display_first and not out
        out.append(
            Paragraph(
                index=len(out),
                text=line,
                norm=normalise(line),
                glyphs=[None] * len(line),
                page=1,
                size=18.0 if big else 12.0,
                display=big,
            )
        )
    return out


def report_from_text(
    text: str, name: str = "text.txt", reconcile: bool = True, display_first: bool = False
) -> Report:
    """Outline, figures, metadata and (unless told not to) reconciliation of `text`."""
    from .extract import STAGES  # the PDF stages: reuse them, so text and PDF never drift apart

    report = Report(source=Source(file=name, sha256="0" * 64, pages=1))
    report.paragraphs = paragraphs_from_text(text, display_first)
    skip = {"mark_furniture", "build_paragraphs", "merge_continued"}
    stages: list[Callable[[Report], Report]] = [s for s in STAGES if s.__name__ not in skip]
    if not reconcile:
        stages = [s for s in stages if s.__name__ != "reconcile"]
    for stage in stages:
        report = stage(report)
    return report
