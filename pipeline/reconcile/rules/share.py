"""Shares: X 万元，占 Y（的）p% — a ratio of X to the total it is a share of.

The base is what the 占 phrase names: a figure printed inside it (占总支出 580 万元的 20%), else the figure
whose label the phrase names, else the total of X's own breakdown, else — the wording not saying — a
total stated before in the passage (a series of 占 in one list shares one base).
"""

from __future__ import annotations

import re
from fractions import Fraction

from ...extract.prose.labels import clean
from ..claims import Claim, Relation, detector
from ..context import Context, Item, rx, rx_end
from ..verify import holds
from .affinity import overlap

_SPAN = 30  # how far before the percentage 占 may stand


def _share_at(ctx: Context, it: Item) -> int:
    start = ctx.sentence_span(it.sentence)[0]
    at = ctx.text.rfind("占", max(start, it.pos - _SPAN), it.pos)
    if at >= 0 and it.n > 0 and ctx.items[it.n - 1].pos > at and ctx.items[it.n - 1].fig.kind == "percent":
        if _respective(ctx, it, at) is None:
            return -1  # 占 belongs to the percentage before this one
    return at


def _respective(ctx: Context, it: Item, at: int) -> Item | None:
    """A x、B y，分别占 Z 的 a% 和 b%: the k-th percentage after 分别占 is the share of the k-th of the figures
    just before it, when there are as many figures as percentages."""
    if not rx_end("respectively").search(ctx.text[max(0, at - 4) : at]):
        return None
    sentence = ctx.in_sentence(it.sentence)
    shares = [p for p in sentence if p.pos > at and p.fig.kind == "percent"]
    before = [p for p in sentence if p.pos < at and p.fig.kind in ("amount", "count")]
    if it not in shares or len(shares) < 2 or len(before) < len(shares):
        return None
    return before[-len(shares) :][shares.index(it)]


def _numerator(ctx: Context, it: Item, at: int) -> Item | None:
    start = ctx.sentence_span(it.sentence)[0]
    named = _named_before(ctx, it, at)
    if named is not None:
        return named
    for p in reversed(ctx.items[max(0, it.n - 8) : it.n]):
        if p.pos >= at:
            continue
        if p.pos < start - 200:
            break
        if p.fig.kind in ("amount", "count") and p.fig.unit != "%":
            return p
    return None


def _named_before(ctx: Context, it: Item, at: int) -> Item | None:
    """A 其中 B 1,080 万元、C 500 万元，B 占 68.35%: the words right before 占 name the figure the share is of,
    which need not be the nearest one."""
    start = ctx.sentence_span(it.sentence)[0]
    before = [p for p in ctx.items[max(0, it.n - 12) : it.n] if p.pos < at]
    left = max([start] + [p.end for p in before])
    name = clean(re.split(r"[，,；;：:、]", ctx.text[left:at])[-1])
    if len(name) < 2:
        return None
    return next(
        (
            p
            for p in reversed(before)
            if p.pos >= start - 200 and p.fig.kind in ("amount", "count") and (p.fig.label or "") == name
        ),
        None,
    )


def _bases(ctx: Context, it: Item, num: Item, at: int) -> tuple[list, bool]:
    """Candidate bases, most likely first, and whether the words pin the first."""
    inner = [p.fig for p in ctx.items[num.n + 1 : it.n] if at < p.pos < it.pos and p.fig.kind == num.fig.kind]
    if inner:
        return [inner[-1]], True
    # the phrase runs from 占 to the first percentage after it (分别占总支出的 a% 和 b%: 总支出)
    end = next(p.pos for p in ctx.items[num.n + 1 : it.n + 1] if p.pos > at)
    phrase = clean(re.sub(r"的$", "", rx("share_measure").sub("", ctx.text[at + 1 : end].strip())))
    own_groups = ctx.groups_of_part.get(num.fig.id, [])
    siblings = {p.id for g in own_groups for p in g.parts}
    cands = [
        p
        for p in ctx.passage(num, 6)
        if p.fig.kind == num.fig.kind
        and p.fig.unit == num.fig.unit
        and p is not num
        and p.fig.value >= num.fig.value
        and p.fig.id not in siblings
    ]
    out: list = []
    pinned = False
    if phrase:
        scored = [
            ((1.0 if (c.fig.label or "") == phrase else overlap(c.fig.label or "", phrase)), -i, c.fig)
            for i, c in enumerate(cands)
        ]
        scored = sorted((s for s in scored if s[0] >= 0.6), key=lambda s: (s[0], s[1]), reverse=True)
        out += [s[2] for s in scored]
        pinned = bool(scored) and scored[0][0] == 1.0
    for g in own_groups:
        if g.total is not None and g.total not in out:
            out.append(g.total)
            pinned = pinned or not phrase
        if g.total is not None and phrase and phrase in (g.total.label or ""):
            # 全年项目支出 X，其中 A a … 占项目支出的 p%: the phrase names the total of A's own breakdown
            out.remove(g.total)
            out.insert(0, g.total)
            pinned = True
    out += [c.fig for c in cands[:8] if c.fig not in out]
    return out, pinned


@detector("share", reads=("items", "groups"))
def find(ctx: Context) -> list[Claim]:
    """占 … p%: the share of the figure before 占 in the total the phrase names."""
    out: list[Claim] = []
    for it in ctx.items:
        if it.fig.kind != "percent":
            continue
        at = _share_at(ctx, it)
        if at < 0:
            continue
        num = _respective(ctx, it, at) or _numerator(ctx, it, at)
        if num is None:
            continue
        bases, pinned = _bases(ctx, it, num, at)
        ev = ctx.words(num.pos, it.end)
        readings = [
            Relation("ratio", it.fig, [num.fig, b], evidence=ev, reading="占比 = 本项 ÷ 总额") for b in bases
        ]
        out.append(
            Claim(it.fig, readings or [Relation("ratio", it.fig, [num.fig])], "share", ev, pinned=pinned)
        )
    return out


@detector("share_series", reads=("items", "groups"))
def series(ctx: Context) -> list[Claim]:
    """Shares of one base that add up to 100 % in one paragraph: their figures add up to the base."""
    by_paragraph: dict[int, list[tuple[Item, Item, list]]] = {}
    for it in ctx.items:
        if it.fig.kind != "percent":
            continue
        at = _share_at(ctx, it)
        num = _numerator(ctx, it, at) if at >= 0 else None
        if num is None:
            continue
        bases, _ = _bases(ctx, it, num, at)
        by_paragraph.setdefault(it.fig.paragraph, []).append((it, num, bases))
    out: list[Claim] = []
    for rows in by_paragraph.values():
        if len(rows) < 3:
            continue
        lo = sum(ctx.iv(r[0].fig).lo for r in rows)
        hi = sum(ctx.iv(r[0].fig).hi for r in rows)
        if not lo <= Fraction(100) <= hi:
            continue
        parts = [r[1].fig for r in rows]
        # the base they share: one that every share's own reading holds against, else the first named
        common = [b for b in rows[0][2] if all(b in r[2] for r in rows)]
        if not common:
            continue
        base = next(
            (b for b in common if all(holds(ctx, Relation("ratio", r[0].fig, [r[1].fig, b])) for r in rows)),
            common[0],
        )
        if base in parts:
            continue
        ev = ctx.words(rows[0][1].pos, rows[-1][0].end)
        out.append(
            Claim(
                base,
                [Relation("sum", base, parts, evidence=ev, reading="各占比合计 100%，各项之和即总额")],
                "share_series",
                ev,
                pinned=True,
            )
        )
    return out
