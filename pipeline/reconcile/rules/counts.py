"""Counts against the items listed: 一般专项 3 个。其中 A…、B…、C… / 共计 10 个 579.15 万元，包括 …"""

from __future__ import annotations

from ..claims import Claim, Relation, detector
from ..context import Context, cfg


@detector("counts", reads=("groups", "items"))
def find(ctx: Context) -> list[Claim]:
    """A count right before a breakdown: as many parts are listed."""
    out: list[Claim] = []
    for g in ctx.groups:
        if len(g.parts) < 2 or g.partial:
            continue
        sentence = ctx.sentence_of(g.pos)
        before = [it for it in ctx.in_sentence(sentence - 1) + ctx.in_sentence(sentence) if it.pos < g.pos]
        if not before:
            continue
        # the count must be the last figure before the list, or stand right before its total
        last = before[-1]
        cand = None
        if last.fig.kind == "count" and last.fig.unit in cfg()["countable_units"]:
            cand = last
        elif g.total is not None and len(before) >= 2 and before[-1].fig is g.total:
            prev = before[-2]
            gap = ctx.item_of[g.total.id].pos - prev.end
            if prev.fig.kind == "count" and prev.fig.unit in cfg()["countable_units"] and gap <= 2:
                cand = prev
        if cand is None:
            continue
        ev = ctx.words(cand.pos, g.scope_end)
        rel = Relation("count", cand.fig, list(g.parts), evidence=ev, count=len(g.parts))
        out.append(Claim(cand.fig, [rel], "counts", ev, pinned=True))
    return out
