"""Stage: figures in running text, through the spaCy pipeline (pipeline.nlp)."""

from __future__ import annotations

from pipeline.model import Figure, Report

from .figures import declared_unit
from .nlp import analyse


def find_prose_figures(report: Report) -> Report:
    """Every figure printed in the body text, labelled, with its page and box."""
    inputs = []
    targets = []
    declared: tuple[str, int, int] | None = None  # unit, page, paragraph where it was declared
    for p in report.paragraphs:
        if p.table is not None or not p.norm.strip():
            continue
        # a declared unit (（万元）, 单位：万元) holds until the next heading or page
        if declared and (p.heading or p.page != declared[1]):
            declared = None
        ctx = {"body_start": p.body_start}
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
            report.figures.append(Figure(
                id="", kind=f.kind, value=f.value, unit=f.unit, text=p.text[f.start:f.end], page=page, bbox=box,
                section=p.section, label=span._.label, qualifier=f.qualifier, value_yuan=f.value_yuan,
                decimals=f.decimals, paragraph=p.index, start=f.start, end=f.end))
    return report
