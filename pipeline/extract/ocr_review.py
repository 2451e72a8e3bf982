"""Figures read by OCR carry the engine's confidence; a failing check that rests on a doubtful read
says so. Two stages (Report -> Report) that change nothing in a report without OCR pages."""

from __future__ import annotations

import tomllib
from functools import cache

from pipeline.model import BBox, Report
from pipeline.vocabulary import DATA

from .ocr import LOW_CONFIDENCE


@cache
def _messages() -> dict[str, str]:
    with open(DATA / "ocr.toml", "rb") as fh:
        return tomllib.load(fh)["messages"]


def _overlap(a: BBox, b: BBox) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)


def figure_confidence(report: Report) -> Report:
    """Each figure on an OCR page gets the lowest confidence of its own characters (a table figure,
    whose cell has no glyphs of its own, that of the characters in its cell)."""
    pages = {p.number: p for p in report.pages if p.ocr}
    if not pages:
        return report
    score_at = {n: dict(p.ocr_boxes) for n, p in pages.items()}
    for f in report.figures:
        page = pages.get(f.page)
        if page is None:
            continue
        scores = []
        if f.table is None and 0 <= f.paragraph < len(report.paragraphs):
            glyphs = report.paragraphs[f.paragraph].glyphs[f.start : f.end]
            scores = [
                s
                for g in glyphs
                if g is not None and g.page in score_at and (s := score_at[g.page].get(g.bbox)) is not None
            ]
        if not scores and f.bbox is not None:
            area = max((f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1]), 1e-6)
            scores = [
                s
                for box, s in page.ocr_boxes
                if _overlap(box, f.bbox) >= 0.5 * min(area, (box[2] - box[0]) * (box[3] - box[1]))
            ]
        if scores:
            f.ocr_confidence = round(min(scores), 4)
            f.low_confidence = f.ocr_confidence < LOW_CONFIDENCE
    return report


def flag_doubtful_checks(report: Report) -> Report:
    """A failing check with a low-confidence figure among its own says the failure may be a misread."""
    if not report.source.ocr_pages:
        return report
    template = _messages()["low_confidence"]
    by_id = {f.id: f for f in report.figures}
    for c in report.checks:
        if c.status != "fail":
            continue
        doubtful = [by_id[i] for i in c.figures if i in by_id and by_id[i].low_confidence]
        if doubtful:
            listed = "、".join(f"{f.text}（{f.ocr_confidence:.2f}）" for f in doubtful)
            c.message += template.format(figures=listed)
    return report
