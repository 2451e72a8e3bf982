"""The same quantity stated twice: one subject, one measure, one period, two values.

A label repeats only when it names its subject (not only a measure: 同比减少, 完成预算, 占比 say nothing of
what) and a measure (…预算 / …实际支出), for the same year, outside any breakdown or comparison.
"""

from __future__ import annotations

from ..claims import Claim, Relation, detector
from ..context import Context, rx
from .affinity import core


@detector("repeats", reads=("items", "groups"))
def find(ctx: Context) -> list[Claim]:
    """The same specific label with the same unit in two sections: the two values agree."""
    seen: dict[tuple, object] = {}
    out: list[Claim] = []
    grouped = ctx.part_ids | ctx.group_totals
    measure = rx("budget_words"), rx("actual_words")
    for it in ctx.items:
        f = it.fig
        label = f.label or ""
        # a total's or a part's label is only meaningful inside its breakdown; a change or last year's
        # figure is said of a comparison, not of the quantity
        if (
            f.kind not in ("amount", "percent")
            or len(label) < 4
            or f.id in grouped
            or not it.role.level
            or it.role.prior
            or rx("comparison").search(label)
            or rx("growth_words").search(label)
        ):
            continue
        if not (measure[0].search(label) or measure[1].search(label)) or len(core(label)) < 2:
            continue
        key = (f.kind, f.unit, label, it.role.year)
        first = seen.get(key)
        if first is None:
            seen[key] = f
            continue
        if first.section == f.section or f.section is None:
            continue  # restated in another part of the report, not within the same passage
        ev = f"{label}：{first.text} / {f.text}"
        out.append(Claim(f, [Relation("repeat", f, [first], evidence=ev)], "repeats", ev, pinned=True))
    return out
