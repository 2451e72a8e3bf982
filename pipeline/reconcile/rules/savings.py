"""Savings rates: 预算 86.5 万元，实际采购 82.3 万元，节约资金 4.2 万元，节约率 4.86% — the saving ÷ the budget.

The saving is the amount named as one (节约 / 节支 / 结余 / 节余) before the rate in its sentence, the base
the budget named there. One of each pins the reading; otherwise each pair is a reading and a rate that
matches none is unverifiable.
"""

from __future__ import annotations

from ..claims import Claim, Relation, detector
from ..context import Context, rx


@detector("savings", reads=("items",))
def find(ctx: Context) -> list[Claim]:
    """A rate named 节约率 / 结余率 …: the saving stated before it ÷ the budget stated before it."""
    out: list[Claim] = []
    for it in ctx.items:
        f = it.fig
        if f.kind != "percent" or not rx("savings_rate").search(f.label or ""):
            continue
        before = [p for p in ctx.in_sentence(it.sentence) if p.pos < it.pos and p.fig.kind == "amount"]
        saved = [p for p in before if rx("savings_label").search(p.fig.label or "") and not p.role.prior]
        budgets = [
            p for p in before if p.role.budget and not p.role.change and not p.role.prior and p not in saved
        ]
        if not saved or not budgets:
            continue
        ev = ctx.words(before[0].pos, it.end)
        readings = [
            Relation("ratio", f, [s.fig, b.fig], evidence=ev, reading="节约额 ÷ 预算数")
            for s in reversed(saved)
            for b in reversed(budgets)
        ]
        pinned = len({s.fig.value for s in saved}) == 1 and len({b.fig.value for b in budgets}) == 1
        out.append(Claim(f, readings, "savings", ev, pinned=pinned))
    return out
