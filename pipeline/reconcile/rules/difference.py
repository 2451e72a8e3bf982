"""Differences between two stated figures: 超预算 / 超支 / 结余 / 节约 / 比上年减少 / 增加 x 万元."""

from __future__ import annotations

from ..claims import Claim, Relation, detector
from ..context import Context, Item, figure_class, rx
from .affinity import affine, dated_pair

_NEAR = 4  # figures in the sentence (or the one before) a difference is taken between


@detector("difference", reads=("items",))
def find(ctx: Context) -> list[Claim]:
    """An amount named as a difference: the two figures it is the difference of, in its sentence or the
    one before (pinned when their roles, budget and actual, say which is which), else in the passage."""
    out: list[Claim] = []
    for it in ctx.items:
        f = it.fig
        # money, or head counts (在职人员 32 人，较上年的 30 人增加 2 人): the two figures are of its class
        cls = figure_class(f)
        if cls not in ("amount", "head") or not (
            rx("difference_words").search(f.label or "") or it.role.change
        ):
            continue
        cands = [
            p
            for p in reversed(ctx.items[max(0, it.n - 12) : it.n])
            if p.sentence in (it.sentence - 1, it.sentence)
            and figure_class(p.fig) == cls
            and p.fig.paragraph == f.paragraph
            and p.fig.id not in ctx.part_ids
            and p.role.level
        ][:_NEAR]
        evidence = ctx.words(cands[-1].pos if cands else it.pos - 20, it.end)
        readings: list[Relation] = []
        pinned = False
        bud = next((x for x in cands if x.role.budget and not x.role.actual), None)
        act = next((x for x in cands if x.role.actual), None)
        # a change said against the budget (比预算减少 / 较年初预算节约) is the budget's difference from the actual
        against_budget = it.role.change and bool(rx("budget_comparison").search(ctx.lead(it)))
        if bud and act and bud is not act and (not it.role.change or against_budget):
            over = rx("over_label").search(f.label or "")
            pair = [act.fig, bud.fig] if over else [bud.fig, act.fig]
            readings.append(
                Relation(
                    "difference", f, pair, evidence=evidence, reading="实际 − 预算" if over else "预算 − 实际"
                )
            )
            pinned = True
        if it.role.change and not pinned:
            # 支出 1,153 万元，较上年 1,000 万元增加 135 万元: this year's and last year's in the sentence
            same = [
                p
                for p in reversed(ctx.in_sentence(it.sentence))
                if p.pos < it.pos
                and figure_class(p.fig) == cls
                and p.role.level
                and p.fig.id not in ctx.part_ids
            ]
            prior = [p for p in same if p.role.prior]
            current = [p for p in same if not p.role.prior]
            if len(prior) == 1 and current:
                down = bool(rx("down_words").search(ctx.lead(it)))
                pair = [prior[0].fig, current[0].fig] if down else [current[0].fig, prior[0].fig]
                readings.append(
                    Relation(
                        "difference",
                        f,
                        pair,
                        evidence=ctx.words(same[-1].pos, it.end),
                        reading="上年数 − 本年数" if down else "本年数 − 上年数",
                    )
                )
                pinned = True
        if (
            not pinned
            and not it.role.change
            and len(cands) == 2
            and rx("difference_label").search(f.label or "")
        ):
            # 收入 1,860.40，支出 1,795.60，结余 64.80: two figures and the difference named
            a, b = sorted(cands, key=lambda p: -p.fig.value)
            readings.append(
                Relation("difference", f, [a.fig, b.fig], evidence=evidence, reading="较大数 − 较小数")
            )
            pinned = True
        dated = dated_pair(ctx, it) if it.role.change and not pinned else None
        if dated is not None:
            late, early = dated
            down = bool(rx("down_words").search(ctx.lead(it)))
            pair = [early.fig, late.fig] if down else [late.fig, early.fig]
            readings.insert(
                0,
                Relation(
                    "difference",
                    f,
                    pair,
                    evidence=ctx.words(min(late.pos, early.pos), it.end),
                    reading="上年数 − 本年数" if down else "本年数 − 上年数",
                ),
            )
            pinned = True
        if cls == "head" and not pinned:
            continue  # small whole numbers: any two nearby counts differ by 1 or 2 by chance
        readings += _pairs(f, cands, evidence)
        # 比上年增加 Δ with this year's and last year's figures stated a sentence or two before
        far = [
            p
            for p in ctx.passage(it)
            if figure_class(p.fig) == cls and p.role.level and p not in cands and affine(ctx, p, it)
        ][:8]
        readings += _pairs(f, far, ctx.words(far[-1].pos, it.end) if far else evidence)
        if readings:
            out.append(Claim(f, readings, "difference", evidence, pinned=pinned, stated=pinned))
    return out


def _pairs(f, cands: list[Item], evidence: str) -> list[Relation]:
    """Pairs nearest first: what is subtracted stands right before the difference (可用 100，支出 90，结余
    10), what it is subtracted from before that."""
    out = []
    for n, b in enumerate(cands):
        for a in cands[n + 1 :] + cands[:n]:
            if a is not b and a.fig.value >= b.fig.value:
                out.append(Relation("difference", f, [a.fig, b.fig], evidence=evidence))
    return out


@detector("adjustment", reads=("items", "groups"))
def adjusted(ctx: Context) -> list[Claim]:
    """年初预算 a，(上年结转 b，) 追加 c，调减 d，调整后预算 e: what stands after the adjustments is the signed
    sum of the chain before it; 下达 A，其中…，调减 d，实际下达 e reads e = A − d."""
    out: list[Claim] = []
    done: set[str] = set()
    for it in ctx.items:
        if it.fig.kind != "amount" or not it.role.adjust or it.fig.id in done:
            continue
        sentence = ctx.in_sentence(it.sentence)
        after = [
            p
            for p in sentence
            if p.pos > it.pos
            and p.fig.kind == "amount"
            and not p.role.adjust
            and not p.role.prior
            and not p.role.change
        ]
        if not after:
            continue
        left = after[0]
        chain = [
            p
            for p in sentence
            if p.pos < left.pos
            and p.fig.kind == "amount"
            and not p.role.change
            and not p.role.prior
            and p.fig.id not in ctx.part_ids
        ]
        adjustments = [p for p in chain if p.role.adjust]
        done.update(p.fig.id for p in adjustments)
        plain = [p for p in chain if not p.role.adjust]
        if not plain:
            continue
        ups = [p.fig for p in adjustments if p.role.adjust > 0]
        downs = [p.fig for p in adjustments if p.role.adjust < 0]
        ev = ctx.words(chain[0].pos, left.end)
        readings = [
            Relation(
                "sum",
                left.fig,
                [p.fig for p in plain] + ups,
                minus=downs,
                evidence=ev,
                reading="调整前各项 + 追加 − 调减",
            )
        ]
        if len(plain) > 1:
            readings.append(
                Relation(
                    "sum",
                    left.fig,
                    [plain[-1].fig] + ups,
                    minus=downs,
                    evidence=ev,
                    reading="调整前 + 追加 − 调减",
                )
            )
        # the words name what is left (调整后 / 全年可用 / 实际下达 …): then a mismatch is a slip
        named = bool(rx("after_adjustment").search((left.fig.label or "") + ctx.lead(left)))
        out.append(Claim(left.fig, readings, "adjustment", ev, pinned=named))
    return out
