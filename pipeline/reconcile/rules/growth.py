"""Growth rates: 增长 / 下降 / 增幅 x% against the base the report states."""

from __future__ import annotations

import re

from ..context import Context, Relation, cfg


def find(ctx: Context) -> list[Relation]:
    c = cfg()
    words = re.compile("|".join(c["growth_words"]))
    prior = re.compile("|".join(c["prior_words"]))
    # the difference stated just before (超预算 131.29 = 959.98 − 828.69) names what grew, whether
    # or not its own arithmetic holds
    diffs = {rid: next(r for r in rels if r.rule == "difference")
             for rid, rels in ctx.stated.items() if any(r.rule == "difference" for r in rels)}
    out: list[Relation] = []
    for it in ctx.items:
        f = it.fig
        if f.kind != "percent" or not (words.search(f.label or "") or words.search(ctx.before(it, 6))):
            continue
        if re.search("率", f.label or "") and not re.search("增长率|下降率|增幅|降幅|减幅", f.label or ""):
            continue  # 执行率 / 完成率 are rates, not growth
        down = bool(re.search("下降|减少|降低|降幅|减幅", (f.label or "") + ctx.before(it, 6)))
        same = [p for p in ctx.in_sentence(it.sentence) if p.pos < it.pos]
        rel = None
        # the difference just stated (超预算 131.29 = 959.98 − 828.69) is what grew
        for p in reversed(same):
            d = diffs.get(p.fig.id)
            if d:
                cur, base = d.operands
                rel = Relation("growth", f, [cur, base], evidence=ctx.words(ctx.item_of[base.id].pos, it.end))
                break
        if rel is None:
            amounts = [p.fig for p in same if p.fig.kind == "amount"]
            base = next((x for x in reversed(amounts) if prior.search(x.label or "")), None)
            cur = next((x for x in reversed(amounts) if x is not base and not prior.search(x.label or "")), None)
            if base is not None and cur is not None:
                rel = Relation("growth", f, [cur, base], evidence=ctx.words(ctx.item_of[base.id].pos, it.end))
        if rel is None:
            cur = next((p.fig for p in reversed(same) if p.fig.kind == "amount"), None)
            # the prior year's figure is not printed: the rate cannot be checked from this report
            rel = Relation("growth", f, [cur] if cur else [], evidence=ctx.words(it.pos - 12, it.end))
        rel.direction = -1 if down else 1
        out.append(rel)
    return out
