"""Growth rates: 增长 / 下降 / 增幅 x%, read against what the sentence states.

"X，比上年增加 Δ，增长 r%" states r = Δ ÷ (X − Δ); "X，上年 P，增长 r%" states r = (X − P) ÷ P; "增加 Δ，
增长 r%" with this year's and last year's figures a sentence or two before states r = Δ ÷ P. A rate whose
sentence prints only one figure in one role is a reading the report does not let anyone check.
"""

from __future__ import annotations

from ..claims import Claim, Relation, detector
from ..context import Context, Item, figure_class, rx
from ..verify import holds
from .affinity import affine, dated_pair


def _is_growth(ctx: Context, it: Item) -> bool:
    f = it.fig
    label = f.label or ""
    if f.kind != "percent" or not (
        rx("growth_words").search(label) or rx("growth_words").search(ctx.before(it, 6))
    ):
        return False
    if rx("rate_label").search(label) and not rx("growth_rate_label").search(label):
        return False  # 执行率 / 完成率 are rates, not growth
    return not rx("share_words").search(ctx.lead(it))


@detector("growth", reads=("items",))
def find(ctx: Context) -> list[Claim]:
    """A growth percentage and the figures of its sentence: change, this year's, last year's."""
    out: list[Claim] = []
    for it in ctx.items:
        if not _is_growth(ctx, it):
            continue
        f = it.fig
        down = bool(rx("down_words").search((f.label or "") + ctx.before(it, 6)))
        direction = -1 if down else 1
        # money, or head counts (在职人员 45 人，较上年 40 人增长 12.5%): the class of the nearest figure
        same = [
            p
            for p in reversed(ctx.in_sentence(it.sentence))
            if p.pos < it.pos and figure_class(p.fig) in ("amount", "head")
        ]
        same = [p for p in same if figure_class(p.fig) == figure_class(same[0].fig)] if same else []
        # a change, or a difference named as such (超预算 131.29 万元，增幅 15.84%)
        changes = [
            p
            for p in same
            if p.role.change or (p.role.level and rx("difference_words").search(p.fig.label or ""))
        ]
        priors = [p for p in same if p.role.prior and not p.role.change]
        currents = [p for p in same if p.role.level and not p.role.prior and p not in changes]
        # the year each figure's clause names tells last year's from this year's (2021年决算 / 2022年预算)
        by_year = sorted((p for p in currents if p.role.year), key=lambda p: p.role.year)
        if not priors and len(by_year) >= 2 and by_year[0].role.year < by_year[-1].role.year:
            priors = [by_year[0]]
            currents = [p for p in currents if p is not by_year[0]]
        ev = ctx.words((same[-1].pos if same else it.pos - 12), it.end)
        base = _difference_base(ctx, changes[0]) if changes else None
        if base is not None:
            # 预算 828.69，实际 959.98，超预算 131.29，增幅 15.84%: the rate is of the budget it is over
            act, bud = base
            d = changes[0].fig
            readings = [
                Relation(
                    "growth",
                    f,
                    [act.fig, bud.fig],
                    evidence=ev,
                    direction=direction,
                    reading="(实际数 − 预算数) ÷ 预算数",
                ),
                Relation("ratio", f, [d, bud.fig], evidence=ev, reading="差额 ÷ 预算数"),
            ]
            out.append(Claim(f, readings, "growth", ev, pinned=True, all_that_hold=True))
            continue
        readings: list[Relation] = []
        pinned = False
        if changes and not any(p.pos < changes[0].pos for p in currents):
            # 财政拨款收入 382.17 万元，为…资金。较上年减少 157.86 万元，下降 29.2%: this year's figure closed
            # the sentence before
            rank = ctx.paragraph_rank.get(it.fig.paragraph, 0)
            prev = [
                p
                for p in reversed(ctx.items[max(0, changes[0].n - 6) : changes[0].n])
                if p.sentence >= it.sentence - 2
                and p.fig.kind == "amount"
                and p.role.level
                and not p.role.prior
                and rank - ctx.paragraph_rank.get(p.fig.paragraph, -9) <= 1
            ]
            # the nearest figure of the change's own subject first (与上年相比，财政拨款收入增加 …)
            prev = sorted(prev, key=lambda p: not affine(ctx, p, changes[0]))[:3]
            for p in prev:
                readings.append(
                    Relation(
                        "change_rate",
                        f,
                        [changes[0].fig, p.fig],
                        evidence=ctx.words(p.pos, it.end),
                        direction=direction,
                        reading="增减额 ÷ 基数（本数减增减额）",
                        fallback=True,
                    )
                )
        if changes:
            d = changes[0]
            cur = next((p for p in currents if p.pos < d.pos), None)
            if cur is not None:
                readings.append(
                    Relation(
                        "change_rate",
                        f,
                        [d.fig, cur.fig],
                        evidence=ev,
                        direction=direction,
                        reading="增减额 ÷ 基数（本数减增减额）",
                        fallback=True,
                    )
                )
                # X，比上年增加 Δ，增长 r%: one of each, in this order, pins the reading
                pinned = len([p for p in currents if p.pos < d.pos]) >= 1 and d is same[0]
            for p in priors:
                readings.append(Relation("ratio", f, [d.fig, p.fig], evidence=ev, reading="增减额 ÷ 上年数"))
        if priors and currents:
            p, c = priors[0], currents[0]
            readings.append(
                Relation(
                    "growth",
                    f,
                    [c.fig, p.fig],
                    evidence=ev,
                    direction=direction,
                    reading="(本年数 − 上年数) ÷ 上年数",
                )
            )
            pinned = pinned or (len(priors) == 1 and len(currents) == 1 and not changes)
        # the change's own operands stated before: 公务接待 2021 年 12.39，2022 年 11.8 … 减少 0.58，减少 4.68%;
        # one figure of its subject for each of two years pins them
        dated = dated_pair(ctx, changes[0]) if changes and not priors else None
        if dated is not None:
            late, early = dated
            readings = [
                Relation("ratio", f, [changes[0].fig, early.fig], evidence=ev, reading="增减额 ÷ 上年数"),
                Relation(
                    "growth",
                    f,
                    [late.fig, early.fig],
                    evidence=ev,
                    direction=direction,
                    reading="(本年数 − 上年数) ÷ 上年数",
                ),
            ] + readings
            pinned = True
        elif changes:
            readings += _from_passage(ctx, it, changes[0], f, direction, ev)
        if not readings:
            cur = currents[0].fig if currents else None
            readings = [Relation("growth", f, [cur] if cur else [], evidence=ctx.words(it.pos - 12, it.end))]
        out.append(Claim(f, readings, "growth", ev, pinned=pinned, all_that_hold=True))
    return out


def _difference_base(ctx: Context, d: Item) -> tuple[Item, Item] | None:
    """The actual and the budget a difference named as such (超预算 / 节约 / 结余) is between, stated in its
    sentence or the one before."""
    if d.role.change:
        return None
    cands = [
        p
        for p in reversed(ctx.items[max(0, d.n - 8) : d.n])
        if p.sentence >= d.sentence - 1
        and p.fig.kind == "amount"
        and p.role.level
        and p.fig.id not in ctx.part_ids
    ]
    bud = next((p for p in cands if p.role.budget and not p.role.actual), None)
    act = next((p for p in cands if p.role.actual and p is not bud), None)
    return (act, bud) if act and bud else None


def _from_passage(ctx: Context, it: Item, change: Item, f, direction: int, ev: str) -> list[Relation]:
    # the figures of the change's own sentence and the one before, then ones about the same subject
    near = [
        p
        for p in ctx.passage(change)
        if p.fig.kind == "amount"
        and p.role.level
        and p is not change
        and (p.sentence >= change.sentence - 1 or affine(ctx, p, change))
    ][:6]
    out = []
    for a in near:
        for b in near:
            if a is b:
                continue
            # a rise is current − prior, a fall prior − current: either way a is this year's, b last year's
            diff = Relation("difference", change.fig, [a.fig, b.fig] if direction > 0 else [b.fig, a.fig])
            if holds(ctx, diff):
                cur, prior = a, b
                if cur.role.year and prior.role.year and cur.role.year < prior.role.year:
                    continue
                out.append(
                    Relation("ratio", f, [change.fig, prior.fig], evidence=ev, reading="增减额 ÷ 上年数")
                )
                out.append(
                    Relation(
                        "growth",
                        f,
                        [cur.fig, prior.fig],
                        evidence=ev,
                        direction=direction,
                        reading="(本年数 − 上年数) ÷ 上年数",
                    )
                )
    return out
