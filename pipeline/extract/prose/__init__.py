"""Stage: figures in running text, through the spaCy pipeline (pipeline.nlp)."""

from __future__ import annotations

import re

from pipeline.model import Figure, Report

from .figures import declared_unit
from .nlp import analyse


def find_prose_figures(report: Report) -> Report:
    """Every figure printed in the body text, labelled, with its page and box."""
    inputs = []
    targets = []
    declared: tuple[str, int, int] | None = None  # unit, page, paragraph where it was declared
    titles = {s.id: s.title for s in report.sections}
    before = None
    for p in report.paragraphs:
        if p.table is not None or not p.norm.strip():
            before = None
            continue
        prev, before = before, p
        # a declared unit (（万元）, 单位：万元) holds until the next heading or page
        if declared and (p.heading or p.page != declared[1]):
            declared = None
        ctx = {
            "body_start": p.body_start,
            "topic": titles.get(p.section or ""),
            "year": report.meta.year,
            "carry_subject": bool(prev and not p.heading and prev.section == p.section),
            "lead_in": _lead_in(prev, titles.get(prev.heading or "")) if prev and not p.heading else "",
        }
        d = declared_unit(p.norm)
        if d:
            declared = (d[0], p.page, p.index)
            ctx.update(declared_unit=d[0], declared_from=d[1])
        elif declared:
            ctx.update(declared_unit=declared[0], declared_from=0)
        inputs.append((p.norm, ctx))
        targets.append(p)
    for p, doc in zip(targets, analyse(inputs)):
        for span in doc.spans["figures"]:
            f = span._.found
            where = p.bbox(f.start, f.end)
            page, box = where if where else (p.page, None)
            report.figures.append(
                Figure(
                    id="",
                    kind=f.kind,
                    value=f.value,
                    unit=f.unit,
                    text=p.text[f.start : f.end],
                    page=page,
                    bbox=box,
                    section=p.section,
                    label=span._.label,
                    qualifier=f.qualifier,
                    value_yuan=f.value_yuan,
                    decimals=f.decimals,
                    paragraph=p.index,
                    start=f.start,
                    end=f.end,
                )
            )
    return report


_SENTENCE_END = "。；;！？!?:："
_CLAUSE_END = re.compile(r"[，,。；;：:、！？!?（(]")


def _lead_in(prev, title: str | None) -> str:
    """The start of a sentence the paragraph before leaves unfinished, cut mid-word by a line break
    (…其中本年收 / 入 390.55 万元): its words after the last clause mark and the last figure."""
    text = prev.norm.rstrip()
    if not text or prev.display or text[-1] in _SENTENCE_END or not "\u4e00" <= text[-1] <= "\u9fff":
        return ""
    # a heading line that is only a title leaves nothing unfinished
    if prev.heading and title and not _CLAUSE_END.search(title) and prev.body_start >= len(text):
        return ""
    tail = _CLAUSE_END.split(text)[-1]
    tail = re.split(r"\d[\d.,]*\s*(?:万元|亿元|千元|元|%|人)?", tail)[-1]
    return tail if len(tail) <= 20 else ""
