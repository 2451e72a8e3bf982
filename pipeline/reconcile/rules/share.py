"""Shares: X 万元，占 Y（的）p% — a ratio of X to the figure it is a share of."""

from __future__ import annotations

import re

from ...extract.prose.labels import clean
from ..context import Context, Relation


def _f1(a: str, b: str) -> float:
    from collections import Counter

    ca, cb = Counter(a), Counter(b)
    common = sum((ca & cb).values())
    return 0.0 if not common else 2 * common / (len(a) + len(b))


def denominator(ctx: Context, it, numerator) -> object | None:
    start = ctx.sentence_span(it.sentence)[0]
    at = ctx.text.rfind("占", start, it.pos)
    if at < 0:
        return None
    # a figure printed inside the 占 … 的 phrase is the base itself
    inner = [p.fig for p in ctx.items if at < p.pos < it.pos and p.fig.kind == "amount"]
    if inner:
        return inner[-1]
    phrase = clean(re.sub(r"的$", "", ctx.text[at + 1:it.pos].strip()))
    # the other parts of the numerator's own breakdown are never its base
    siblings = {p.id for g in ctx.groups if numerator in g.parts for p in g.parts}
    cands = [p.fig for p in ctx.items if p.pos < at and p.fig.kind == numerator.kind and p.fig is not numerator
             and p.fig.unit == numerator.unit and p.fig.value >= numerator.value and p.fig.id not in siblings]
    if phrase:
        scored = [(1.0 if (c.label or "") == phrase else _f1(c.label or "", phrase), -i, c)
                  for i, c in enumerate(reversed(cands))]
        scored = [s for s in scored if s[0] >= 0.6]
        if scored:
            return max(scored, key=lambda s: (s[0], s[1]))[2]
    for g in ctx.groups:
        if numerator in g.parts and g.total is not None:
            return g.total
    return None


def find(ctx: Context) -> list[Relation]:
    out: list[Relation] = []
    for it in ctx.items:
        f = it.fig
        if f.kind != "percent":
            continue
        start = ctx.sentence_span(it.sentence)[0]
        at = ctx.text.rfind("占", start, it.pos)
        if at < 0 or it.pos - at > 30:
            continue
        num = next((p.fig for p in reversed(ctx.items) if p.pos < at and p.pos >= start - 200
                    and p.fig.kind in ("amount", "count") and p.fig.unit not in ("%",)), None)
        if num is None:
            continue
        den = denominator(ctx, it, num)
        if den is None or den is num:
            continue
        out.append(Relation("ratio", f, [num, den], evidence=ctx.words(ctx.item_of[num.id].pos, it.end)))
    out += _series(ctx, out)
    return out


def _series(ctx: Context, shares: list[Relation]) -> list[Relation]:
    """Shares of one base that add up to 100 %: their figures add up to the base."""
    from fractions import Fraction

    # a series is stated in one passage; one base may be named twice there
    # (本年财政拨款支出 488.80 … 占本年支出的), so shares are grouped by what the base is
    by_base: dict[tuple, list[Relation]] = {}
    for r in shares:
        base = r.operands[1]
        by_base.setdefault((r.result.paragraph, base.kind, base.unit, base.value), []).append(r)
    out = []
    for rels in by_base.values():
        if len(rels) < 3:
            continue
        # the base printed inside the series itself is the one the series adds up to
        first = ctx.item_of[rels[0].operands[0].id].pos
        inside = [r.operands[1] for r in rels if r.operands[1].id in ctx.item_of
                  and ctx.item_of[r.operands[1].id].pos > first]
        lo = sum(ctx.iv(r.result).lo for r in rels)
        hi = sum(ctx.iv(r.result).hi for r in rels)
        if not lo <= Fraction(100) <= hi:
            continue
        parts = [r.operands[0] for r in rels]
        base = inside[0] if inside else rels[0].operands[1]
        if base in parts:
            continue
        out.append(Relation("sum", base, parts, evidence=rels[0].evidence + " … " + rels[-1].evidence))
    return out
