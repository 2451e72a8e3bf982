"""Execution and completion rates in prose: 执行率 / 完成率 / 到位率 / 完成预算的 x% = actual ÷ budget.

Actual and budget are found by their roles (执行/支出/拨付/到位/决算 against 预算/下达/计划/资金总额), in the
rate's own sentence first, then in the passage before it: the rate's sentence often names only the
actual (实际执行 9265.35 万元，执行率 88.74%) and the budget stood a paragraph before. The reading is pinned
when the roles leave one actual and one budget amount (by value); else a rate that matches no reading is
unverifiable, not a slip.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter

from ...extract.prose.labels import subject_of
from ..claims import Claim, Relation, detector
from ..context import Context, Item, rx
from ..verify import holds

_MAX_SUBSET = 4
_NEAR = 6


def _is_rate(ctx: Context, it: Item) -> bool:
    lead = ctx.lead(it)
    return it.fig.kind == "percent" and bool(
        rx("rate_words").search(it.fig.label or "")
        or rx("rate_words").search(lead)
        or rx("rate_phrase").search(lead.strip())
    )


def _actual(ctx: Context, p: Item, arrival: bool, cue: bool = True) -> bool:
    if p.fig.kind != "amount" or p.role.change or p.role.prior:
        return False
    if arrival:
        # 10441 万元资金全部拨付到位: the words after the figure, in its own clause, may say it arrived
        return not p.role.budget and bool(rx("arrival_words").search((p.fig.label or "") + ctx.tail(p)))
    return p.role.actual_cue if cue else p.role.actual


def _budget(ctx: Context, p: Item, cue: bool = True) -> bool:
    # 超预算 131.29 names a difference, not a budget
    return (
        p.fig.kind == "amount"
        and (p.role.budget_cue if cue else p.role.budget)
        and not p.role.change
        and not p.role.prior
        and not rx("not_budget_label").search(p.fig.label or "")
    )


def _same_chapter(ctx: Context, a: Item, b: Item) -> bool:
    """Both in one top-level chapter: a budget stated under another project is not this rate's."""
    return ctx.top_section.get(a.fig.section) == ctx.top_section.get(b.fig.section)


def _whole_budgets(ctx: Context, items: list[Item]) -> list[Item]:
    return [b for b in items if b.fig.id not in ctx.part_ids]


def _distinct(items: list[Item]) -> list[Item]:
    seen, out = set(), []
    for p in items:
        if p.fig.value_yuan not in seen:
            seen.add(p.fig.value_yuan)
            out.append(p)
    return out


@detector("rates", reads=("items", "groups", "sections"))
def find(ctx: Context) -> list[Claim]:
    """A rate named 执行率/完成率/到位率…: actual ÷ budget, the roles read from the words."""
    out: list[Claim] = []
    for it in ctx.items:
        if not _is_rate(ctx, it):
            continue
        f = it.fig
        arrival = bool(rx("arrival_rates").search(f.label or ""))
        ev = ctx.words(it.pos - 20, it.end)
        same = [p for p in reversed(ctx.in_sentence(it.sentence)) if p.pos < it.pos]
        if not [p for p in same if p.fig.kind == "amount"]:
            # 执行率 97.35%，全年预算数 1,820 万元，实际支出 1,761.80 万元: the operands follow the rate
            same = [p for p in ctx.in_sentence(it.sentence) if p.pos > it.pos]
        # a budget is often stated once, at the head of the chapter: look further back for it
        passage = [p for p in ctx.passage(it, 8) if p.sentence != it.sentence][:40]
        acts_s = [p for p in same if _actual(ctx, p, arrival)]
        buds_s = [p for p in same if _budget(ctx, p) and p not in acts_s]
        if not buds_s:
            # 已支付 285.3 万元，支付进度 95.1%（年度预算 300 万元）: the base explained right after the rate
            buds_s = [p for p in _in_parenthesis_after(ctx, it) if _budget(ctx, p)]
        if not buds_s and len(_distinct(acts_s)) == 1:
            # 实际支出 285 万元，执行率 95%，全年预算 300 万元: a budget named outright next after the rate, in
            # the same run of clauses
            after = [p for p in ctx.in_sentence(it.sentence) if p.pos > it.pos and p.fig.kind == "amount"]
            if (
                after
                and not re.search("[；;]", ctx.text[it.end : after[0].pos])
                and _budget(ctx, after[0], False)
            ):
                buds_s = [after[0]]
        if arrival and not buds_s:
            # 10441 万元资金全部拨付到位，到位率 100%: the figure arrived is also the money planned
            buds_s = [p for p in same if p.fig.kind == "amount" and not p.role.change and p not in acts_s]
        acts_p = [p for p in passage if _actual(ctx, p, arrival)][:_NEAR]
        buds_p = [p for p in passage if _budget(ctx, p) and not _actual(ctx, p, arrival)][:_NEAR]
        in_sentence = [
            Relation("ratio", f, [a.fig, b.fig], evidence=ev, reading="实际数 ÷ 预算数")
            for a in acts_s
            for b in buds_s
            if a is not b
        ]
        before = [
            Relation(
                "ratio", f, [a.fig, b.fig], evidence=ctx.words(b.pos, it.end), reading="实际数 ÷ 前文预算数"
            )
            for a in acts_s or acts_p
            for b in buds_p
            if a is not b
        ]
        near_budgets = buds_s or buds_p
        if in_sentence and len(_distinct(acts_s)) == 1 and len(_distinct(buds_s)) == 1:
            readings, pinned = in_sentence[:1], True  # one actual, one budget in the rate's own sentence
        elif (
            not buds_s
            and len(_distinct(acts_s)) == 1
            and len(_distinct(_whole_budgets(ctx, buds_p))) == 1
            and _same_chapter(ctx, it, _whole_budgets(ctx, buds_p)[0])
        ):
            # the sentence names one actual, and the passage before it one budget (by value; the parts of
            # that budget's own breakdown aside): that pair is meant
            top = _whole_budgets(ctx, buds_p)
            readings = [r for r in before if r.operands[1].id in {b.fig.id for b in top}][:1]
            pinned = True
        else:
            spent = [] if arrival else _spent_of_arrived(ctx, same, f, ev)
            readings, pinned = in_sentence + before + spent, False
            if not readings:
                readings = _targets(ctx, it, f, ev)
                pinned = bool(readings)
        # stated structures pin their reading before any pair: the whole budget, then items listed after
        for structured in (_itemised(ctx, f, it, ev), _whole(ctx, it, ev)):
            if structured is not None:
                readings.insert(0, structured)
                pinned = True
        if not pinned:
            readings += _search(ctx, it, ev)  # arithmetic among the roles, only where words do not pin
        if not near_budgets and not readings:
            readings = [Relation("ratio", f, [], evidence=ev)]
        out.append(Claim(f, readings, "rates", ev, pinned=pinned))
    return out


def _in_parenthesis_after(ctx: Context, it: Item) -> list[Item]:
    """The figures inside a parenthesis that opens right after `it`."""
    m = re.match(r"\s*[(（]([^()（）]*)[)）]", ctx.text[it.end : it.end + 60])
    if not m:
        return []
    start, end = it.end + m.start(1), it.end + m.end(1)
    return [p for p in ctx.items[it.n + 1 : it.n + 6] if start <= p.pos and p.end <= end]


def _spent_of_arrived(ctx: Context, same: list[Item], f, ev: str) -> list[Relation]:
    """资金到位 680 万元，实际支出 653.2 万元，执行率 96.06%: spending may be measured against the money that
    arrived. Read from each amount's own words (a subject carried into a label does not make it arrive)."""

    def arrived(p: Item) -> bool:
        return (
            p.fig.kind == "amount"
            and not p.role.change
            and not p.role.prior
            and bool(rx("arrival_words").search(ctx.lead(p) + ctx.tail(p)))
        )

    money_in = [p for p in same if arrived(p)]
    spent = [p for p in same if p not in money_in and _actual(ctx, p, False)]
    return [
        Relation("ratio", f, [a.fig, b.fig], evidence=ev, reading="实际支出 ÷ 到位资金")
        for a in spent
        for b in money_in
    ]


def _targets(ctx: Context, it: Item, f, ev: str) -> list[Relation]:
    """A completion rate of a physical target: 完成 52.5 公里，目标值 50 公里，完成率 105%."""
    counts = [p.fig for p in ctx.in_sentence(it.sentence) if p.fig.kind == "count" and p.pos < it.pos]
    tgt = next((x for x in reversed(counts) if rx("target_label").search(x.label or "")), None)
    act = next(
        (
            x
            for x in reversed(counts)
            if x is not tgt
            and tgt is not None
            and x.unit == tgt.unit
            and rx("achieved_label").search(x.label or "")
        ),
        None,
    )
    return [Relation("ratio", f, [act, tgt], evidence=ev, reading="完成数 ÷ 目标数")] if act and tgt else []


def _whole(ctx: Context, it: Item, ev: str) -> Relation | None:
    """A rate said of the whole budget (预算支出完成率) is all top-level actuals over all top-level budgets
    of the chapter that states them (its own, or one of the two before); stated this way, a mismatch is a
    slip."""
    f = it.fig
    if not rx("whole_rate_label").match(f.label or ""):
        return None
    for chapter in ctx.chapters_before(it):
        items = [a for a in chapter if a.fig.id not in ctx.part_ids]
        act = [x.fig for x in items if _actual(ctx, x, False, cue=False)]
        bud = [x.fig for x in items if _budget(ctx, x, cue=False) and not x.role.actual]
        if len(act) >= 2 and len(bud) >= 2 and len(act) == len(bud):
            return Relation(
                "ratio_sum",
                f,
                numerator=act,
                denominator=bud,
                evidence=ev,
                reading="各项实际数之和 ÷ 各项预算数之和",
            )
    return None


def _itemised(ctx: Context, f, it: Item, ev: str) -> Relation | None:
    """A rate followed by its items, each with a budget and an actual (其中：A 预算 x，实际完成 y；B …):
    the rate is Σ actual / Σ budget, over the stated total budget when one equals the items' budgets."""
    after = [
        a
        for a in ctx.items[it.n + 1 : it.n + 40]
        if a.fig.kind == "amount" and a.fig.section == f.section and a.sentence <= it.sentence + 6
    ]
    if not after or after[0].sentence > it.sentence + 2:
        return None
    actuals = [a.fig for a in after if a.role.actual and not a.role.change]  # named outright
    measure = Counter(_measure(x.label) for x in actuals).most_common(1)
    if not measure or not measure[0][0]:
        return None
    items: dict[str, tuple] = {}
    for a in actuals:
        subject = subject_of(a.label)
        if _measure(a.label) != measure[0][0] or not subject or subject == a.label or subject in items:
            continue
        budget = next(
            (
                b.fig
                for b in after
                if b.pos < ctx.item_of[a.id].pos
                and b.fig is not a
                and (
                    b.fig.label in (subject, subject + "预算")
                    or (_budget(ctx, b, cue=False) and subject_of(b.fig.label) == subject)
                )
            ),
            None,
        )
        if budget is None:
            return None  # an item without its budget: the structure is not what this rule reads
        items[subject] = (budget, a)
    if len(items) < 2:
        return None
    budgets = [b for b, _ in items.values()]
    acts = [a for _, a in items.values()]
    denominator = budgets
    # the report's own total of those budgets (项目支出预算 3698 = 2970 + 670 + 58) is what it divides by
    stated_before = [a for chapter in ctx.chapters_before(it) for a in chapter if a.pos < it.pos]
    for total in (a.fig for a in stated_before if _budget(ctx, a, cue=False) and a.fig not in budgets):
        if holds(ctx, Relation("sum", total, budgets)):
            denominator = [total]
            break
    return Relation(
        "ratio_sum",
        f,
        numerator=acts,
        denominator=denominator,
        evidence=ev,
        reading="各项实际数之和 ÷ 预算数",
    )


def _measure(label: str | None) -> str | None:
    subject = subject_of(label)
    return label[len(subject) :] if label and subject and subject != label else None


def _search(ctx: Context, it: Item, ev: str) -> list[Relation]:
    """Readings by arithmetic among the chapter's actuals and the budgets stated before: kept only if they
    hold."""
    f = it.fig
    chapter = ctx.chapters_before(it, 1)[0] if ctx.chapters else []
    actuals = [x.fig for x in chapter if x.fig.section == f.section and _actual(ctx, x, False, cue=False)][:8]
    budgets = [a.fig for a in ctx.passage(it, 8) if a.fig.kind == "amount" and _budget(ctx, a, cue=False)][
        :24
    ]
    out = [
        Relation("ratio", f, [a, b], evidence=ev, reading="实际数 ÷ 预算数")
        for a in actuals
        for b in budgets
        if a is not b
    ]
    if f.decimals == 0:
        return [r for r in out if near(f, r) and holds(ctx, r)][
            :1
        ]  # a whole-number rate is met by too many pairs to name more
    # a rate of the whole: all actuals over all budgets stated at the top level of a chapter
    for items in ctx.chapters_before(it):
        top = [a for a in items if a.fig.id not in ctx.part_ids]
        top_act = [x.fig for x in top if _actual(ctx, x, False, cue=False)]
        top_bud = [x.fig for x in top if _budget(ctx, x, cue=False)]
        if len(top_act) >= 2 and len(top_bud) >= 2:
            out.append(Relation("ratio_sum", f, numerator=top_act, denominator=top_bud, evidence=ev))
    for k in range(2, min(_MAX_SUBSET, len(actuals)) + 1):
        for subset in itertools.combinations(actuals, k):
            for b in budgets[:6]:
                out.append(Relation("ratio_sum", f, numerator=list(subset), denominator=[b], evidence=ev))
    return [r for r in out if near(f, r) and holds(ctx, r)][:1]


def near(f, rel: Relation) -> bool:
    """A cheap float look before the exact check: within 1 % of the stated rate."""
    num = sum((m.value_yuan or 0) for m in (rel.numerator or rel.operands[:1]))
    den = sum((m.value_yuan or 0) for m in (rel.denominator or rel.operands[1:]))
    return den > 0 and abs(num / den * 100 - f.value) <= max(1.0, abs(f.value) * 0.01)
