"""The same quantity stated twice: a label that names its measure (…预算 / …实际支出) with two values."""

from __future__ import annotations

import re

from ..context import Context, Relation, cfg


def find(ctx: Context) -> list[Relation]:
    c = cfg()
    measure = re.compile("|".join(c["budget_words"] + c["actual_words"]))
    seen: dict[tuple[str, str], object] = {}
    out: list[Relation] = []
    grouped = ctx.part_ids | ctx.group_totals
    for f in ctx.report.figures:
        label = f.label or ""
        # a total's or a part's label is only meaningful inside its breakdown
        if f.kind not in ("amount", "percent") or len(label) < 4 or not measure.search(label) or f.id in grouped:
            continue
        key = (f.kind, label)
        first = seen.get(key)
        if first is None:
            seen[key] = f
            continue
        if first.section == f.section or f.section is None:
            continue  # restated in another part of the report, not within the same passage
        out.append(Relation("repeat", f, [first], evidence=f"{label}：{first.text} / {f.text}"))
    return out
