"""Arithmetic the report states without a cue word: a total followed by the parts that add up to it.

"本单位总收入 581.45 万元 … 1. 财政拨款收入 382.17 万元 … 2. 上级补助收入 8.38 万元 …": nothing says 其中, yet
the parts that follow add up to the total. Such a sum is found by bounded search among the figures that
follow a total (same kind of figure, same role: amounts with amounts, changes with changes) and kept only
when a chance match is unlikely. Found by arithmetic alone, it can pass but never fail.

Chance: if the last part of a combination were any value up to the total, its sum would land inside the
rounding band of the total (the total's interval plus every part's) with probability band ÷ total. Over
all the combinations tried for one total the expected number of chance matches is their sum; a sum is
kept only when that stays under `chance` in reconcile.toml (1 %): at 581.45 万元 printed to the cent, about
ninety combinations; integers and small totals (25 人 = 7 + 4 + 13 + 1) are never discovered this way.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

from ..claims import Claim, Relation, detector
from ..context import Context, Item, cfg, figure_class, rx
from ..verify import holds


def _width(ctx: Context, f) -> Fraction:
    iv = ctx.iv(f)
    w = iv.hi - iv.lo
    return w if w > 0 else Fraction(1)  # an exact count: the next value is one away


def _down(ctx: Context, it: Item) -> bool:
    """A change said as a fall: falls add up with falls, rises with rises."""
    return bool(rx("down_words").search(ctx.lead(it)))


def _value(f) -> float:
    return f.value_yuan if f.kind == "amount" and f.value_yuan is not None else f.value


@detector("discovery_sum", reads=("items", "groups"))
def sums_after(ctx: Context) -> list[Claim]:
    """A total and the figures that follow it, when some of them add up to it beyond chance."""
    c = cfg()
    window, max_parts, chance = c["discovery_window"], c["discovery_max_parts"], c["chance"]
    levels = {s.id: s.level for s in ctx.report.sections}
    out: list[Claim] = []
    for it in ctx.items:
        f = it.fig
        cls = figure_class(f)
        if cls is None or f.value <= 0 or it.role.adjust:
            continue
        own = levels.get(f.section, 0)
        follow: list[Item] = []
        for p in ctx.items[it.n + 1 : it.n + 1 + 3 * window]:
            # the parts stand in the total's own section or the ones it opens, never past a sibling
            if p.fig.section != f.section and levels.get(p.fig.section, 0) <= own:
                break
            if (
                figure_class(p.fig) == cls
                and p.role.change == it.role.change
                and not p.role.adjust
                and (not it.role.change or _down(ctx, p) == _down(ctx, it))
                and p.role.prior == it.role.prior
                and 0 <= _value(p.fig) < _value(f)
            ):
                follow.append(p)
                if len(follow) == window:
                    break
        if len(follow) < 2:
            continue
        # runs from the first figure after the total, then any two or three of those that follow
        runs = [tuple(range(k)) for k in range(2, min(len(follow), max_parts) + 1)]
        seen = set(runs)
        combos = runs + [
            c for k in (2, 3) for c in itertools.combinations(range(len(follow)), k) if c not in seen
        ]
        total = _value(f)
        widths = [float(_width(ctx, p.fig)) for p in follow]
        values = [_value(p.fig) for p in follow]
        own = float(_width(ctx, f))
        found = None
        for combo in combos:
            # a float look first: the exact check only where the sum is within the rounding band
            slack = own + sum(widths[i] for i in combo)
            if abs(sum(values[i] for i in combo) - total) > slack:
                continue
            parts = [follow[i] for i in combo]
            rel = Relation(
                "sum",
                f,
                [p.fig for p in parts],
                evidence=ctx.words(it.pos, parts[-1].end),
                reading="其后所列各项之和（按数值发现）",
            )
            if holds(ctx, rel):
                found = (rel, parts)
                break
        if found is None:
            continue
        band = _width(ctx, f) + sum(_width(ctx, p.fig) for p in follow[:max_parts])
        expected = len(combos) * band / Fraction(str(total))
        if expected > Fraction(str(chance)):
            continue
        out.append(Claim(f, [found[0]], "discovery_sum", found[0].evidence, stated=False))
    return out
