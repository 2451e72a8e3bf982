"""Counts against the items listed: 一般专项 3 个。其中 A…、B…、C… / 共计 10 个 579.15 万元，包括 …"""

from __future__ import annotations

from ..context import Context, Relation

_COUNTABLE = ("个", "项", "家", "笔", "类")


def find(ctx: Context) -> list[Relation]:
    out: list[Relation] = []
    for g in ctx.groups:
        if len(g.parts) < 2:
            continue
        sentence = ctx.sentence_of(g.pos)
        before = [it for it in ctx.items if it.pos < g.pos and it.sentence in (sentence, sentence - 1)]
        if not before:
            continue
        # the count must be the last figure before the list, or stand right before its total
        last = before[-1]
        cand = None
        if last.fig.kind == "count" and last.fig.unit in _COUNTABLE:
            cand = last
        elif g.total is not None and len(before) >= 2 and before[-1].fig is g.total:
            prev = before[-2]
            gap = ctx.item_of[g.total.id].pos - prev.end
            if prev.fig.kind == "count" and prev.fig.unit in _COUNTABLE and gap <= 2:
                cand = prev
        if cand is None:
            continue
        out.append(Relation("count", cand.fig, list(g.parts), evidence=ctx.words(cand.pos, g.scope_end),
                            count=len(g.parts)))
    return out
