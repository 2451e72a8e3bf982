"""Totals and their parts: 其中 / 包括 / 分别为 / （含 …） after a figure."""

from __future__ import annotations

from ..context import Context, Relation


def find(ctx: Context) -> list[Relation]:
    out: list[Relation] = []
    for g in ctx.groups:
        if g.total is None:
            continue
        words = ctx.words(ctx.item_of[g.total.id].pos, g.scope_end)
        if len(g.parts) >= 2:
            out.append(Relation("sum", g.total, list(g.parts), evidence=words))
        elif len(g.parts) == 1:
            # "实际完成58万元，其中…50万元" with 决算支出 8 万元 beside it: the other part is stated too
            part = g.parts[0]
            sentence = ctx.item_of[g.total.id].sentence
            for it in ctx.in_sentence(sentence):
                other = it.fig
                if other.id in (g.total.id, part.id) or other.kind != g.total.kind or other.unit != g.total.unit:
                    continue
                rel = Relation("sum", g.total, [other, part], evidence=words, strict=False)
                out.append(rel)
    return out
