"""Differences between two stated figures: 超预算 / 超支 / 结余 / 节约 / 减少 / 增加 x 万元."""

from __future__ import annotations

import re

from ..context import Context, Relation, cfg
from ..verify import holds


def find(ctx: Context) -> list[Relation]:
    c = cfg()
    diff_words = re.compile("|".join(c["difference_words"]))
    budget = re.compile("|".join(c["budget_words"]))
    actual = re.compile("|".join(c["actual_words"]))
    out: list[Relation] = []
    for it in ctx.items:
        f = it.fig
        if f.kind != "amount" or not diff_words.search(f.label or "") or f.id in ctx.claimed:
            continue
        # the two figures stand in the same sentence, or in the one before it
        cands = [p.fig for p in ctx.items if p.sentence in (it.sentence - 1, it.sentence) and p.pos < it.pos
                 and p.fig.kind == "amount" and p.fig.paragraph == f.paragraph
                 and p.fig.id not in ctx.part_ids][-4:]
        if not cands:
            continue
        found = None
        for a in reversed(cands):
            for b in reversed(cands):
                if a is b:
                    continue
                rel = Relation("difference", f, [a, b], evidence=ctx.words(ctx.item_of[cands[0].id].pos, it.end))
                if holds(ctx, rel) and a.value >= b.value:
                    found = rel
                    break
            if found:
                break
        if found is None:
            bud = next((x for x in reversed(cands) if budget.search(x.label or "") and not actual.search(x.label or "")), None)
            act = next((x for x in reversed(cands) if actual.search(x.label or "")), None)
            if bud and act:
                over = re.search("超|增加|多", f.label or "")
                pair = [act, bud] if over else [bud, act]
                found = Relation("difference", f, pair, evidence=ctx.words(ctx.item_of[cands[0].id].pos, it.end))
        if found:
            out.append(found)
    return out
