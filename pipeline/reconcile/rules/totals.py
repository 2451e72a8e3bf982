"""A total stated after the figures it adds up (…上年结转 X，全年可执行预算合计 Y)."""

from __future__ import annotations

import re

from ..context import Context, Relation, cfg
from ..verify import holds

_MAX_PARTS = 6
_NEAR = 0.15  # a stated total this close to a run of figures is taken as their (mis-added) sum


def find(ctx: Context) -> list[Relation]:
    words = re.compile("|".join(cfg()["total_words"]))
    group_totals = {g.total.id for g in ctx.groups if g.total is not None and len(g.parts) >= 2}
    out: list[Relation] = []
    for n, it in enumerate(ctx.items):
        f = it.fig
        if f.kind != "amount" or f.id in group_totals or f.id in ctx.part_ids or f.id in ctx.claimed:
            continue
        if not (words.search(f.label or "") or words.search(ctx.before(it, 6))):
            continue
        run = [p for p in ctx.items[:n] if p.fig.kind == "amount" and p.fig.id not in ctx.part_ids
               and p.fig.section == f.section and p.fig.unit == f.unit][-_MAX_PARTS:]
        best = None
        for k in range(2, len(run) + 1):
            parts = [p.fig for p in run[-k:]]
            rel = Relation("sum", f, parts, evidence=ctx.words(run[-k].pos, it.end))
            if holds(ctx, rel):
                best = rel
                break
            gap = abs(sum(p.value for p in parts) - f.value) / max(abs(f.value), 1e-9)
            if gap <= _NEAR and (best is None or gap < best[1]):
                best = (rel, gap)
        if isinstance(best, tuple):
            best = best[0]
        if best is not None:
            out.append(best)
    return out
