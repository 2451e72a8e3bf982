"""Execution and completion rates in prose: 执行率 / 完成率 = actual / budget.

The budget and actual a rate is of are found by what the report states: the pair in the same
sentence, else the stated figures whose ratio gives the printed rate (one actual, a few actuals of the
same section over one budget, or all top-level actuals over all top-level budgets).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter

from ...extract.prose.labels import subject_of
from ..context import Context, Relation, cfg
from ..verify import holds

_MAX_SUBSET = 4


def find(ctx: Context) -> list[Relation]:
    c = cfg()
    rate = re.compile("|".join(c["rate_words"]))
    budget_rx = re.compile("|".join(c["budget_words"]))
    diff_rx = re.compile("|".join(c["difference_words"]))
    actual_rx = re.compile("|".join(c["actual_words"]))

    def is_actual(f) -> bool:
        return f.kind == "amount" and bool(actual_rx.search(f.label or ""))

    def is_budget(f) -> bool:
        # 超预算 131.29 names a difference, not a budget
        return (f.kind == "amount" and bool(budget_rx.search(f.label or "")) and not is_actual(f)
                and not diff_rx.search(f.label or ""))

    out: list[Relation] = []
    amounts = [it for it in ctx.items if it.fig.kind == "amount"]
    for it in ctx.items:
        f = it.fig
        if f.kind != "percent" or not rate.search(f.label or ""):
            continue
        ev = ctx.words(it.pos - 20, it.end)
        same = [p.fig for p in ctx.in_sentence(it.sentence) if p.fig.kind == "amount"]
        act = next((x for x in reversed(same) if is_actual(x)), None)
        bud = next((x for x in reversed(same) if is_budget(x)), None)
        if not (act and bud):
            # a completion rate of a physical target: 完成 52.5 公里，目标值 50 公里，完成率 105%
            counts = [p.fig for p in ctx.in_sentence(it.sentence) if p.fig.kind == "count" and p.pos < it.pos]
            tgt = next((x for x in reversed(counts) if re.search("目标|计划", x.label or "")), None)
            act = next((x for x in reversed(counts) if x is not tgt and tgt is not None and x.unit == tgt.unit
                        and re.search("完成|实际|实现", x.label or "")), None)
            bud = tgt if act else None
        pair = Relation("ratio", f, [act, bud], evidence=ev) if act and bud else None
        if pair and holds(ctx, pair):
            out.append(pair)
            continue
        found = (_search(ctx, f, amounts, is_actual, is_budget, ev)
                 or _whole(ctx, f, amounts, is_actual, is_budget, ev)
                 or _itemised(ctx, f, it, amounts, is_actual, is_budget, ev))
        if found:
            out.append(found)
        elif pair:
            out.append(pair)
        else:
            out.append(Relation("ratio", f, [], evidence=ev))  # unverifiable: the report gives no base
    return out


_WHOLE = re.compile(r"^(?:本年度|本年|年度|全年|部门|单位|整体|总体|预算|支出|资金|项目)*(?:执行率|完成率|支出率)$")


def _whole(ctx, f, amounts, is_actual, is_budget, ev) -> Relation | None:
    """A rate said of the whole budget (预算支出完成率) is all top-level actuals over all top-level budgets
    of the chapter that states them; stated this way, a mismatch is a slip."""
    if not _WHOLE.match(f.label or ""):
        return None
    chapters: dict = {}
    for a in amounts:
        if a.fig.id not in ctx.part_ids:
            chapters.setdefault(ctx.top_section.get(a.fig.section), []).append(a.fig)
    for figs in chapters.values():
        act = [x for x in figs if is_actual(x)]
        bud = [x for x in figs if is_budget(x)]
        if len(act) >= 2 and len(bud) >= 2 and len(act) == len(bud):
            return Relation("ratio_sum", f, numerator=act, denominator=bud, evidence=ev)
    return None


def _itemised(ctx, f, it, amounts, is_actual, is_budget, ev) -> Relation | None:
    """A rate followed by its items, each with a budget and an actual (其中：A 预算 x，实际完成 y；B …):
    the rate is Σ actual / Σ budget, over the stated total budget when one equals the items' budgets."""
    after = [a for a in amounts if a.pos > it.end and a.fig.section == f.section
             and a.sentence <= it.sentence + 6]
    if not after or after[0].sentence > it.sentence + 2:
        return None
    actuals = [a.fig for a in after if is_actual(a.fig)]
    measure = Counter(_measure(x.label) for x in actuals).most_common(1)
    if not measure or not measure[0][0]:
        return None
    items: dict[str, tuple] = {}
    for a in actuals:
        subject = subject_of(a.label)
        if _measure(a.label) != measure[0][0] or not subject or subject == a.label or subject in items:
            continue
        budget = next((b.fig for b in after if b.pos < ctx.item_of[a.id].pos and b.fig is not a
                       and (b.fig.label in (subject, subject + "预算") or (is_budget(b.fig) and subject_of(b.fig.label) == subject))),
                      None)
        if budget is None:
            return None  # an item without its budget: the structure is not what this rule reads
        items[subject] = (budget, a)
    if len(items) < 2:
        return None
    budgets = [b for b, _ in items.values()]
    acts = [a for _, a in items.values()]
    denominator = budgets
    # the report's own total of those budgets (项目支出预算 3698 = 2970 + 670 + 58) is what it divides by
    for total in (a.fig for a in amounts if is_budget(a.fig) and a.fig not in budgets and a.pos < it.pos):
        if holds(ctx, Relation("sum", total, budgets)):
            denominator = [total]
            break
    return Relation("ratio_sum", f, numerator=acts, denominator=denominator, evidence=ev)


def _measure(label: str | None) -> str | None:
    subject = subject_of(label)
    return label[len(subject):] if label and subject and subject != label else None


def _search(ctx, f, amounts, is_actual, is_budget, ev) -> Relation | None:
    section = [a.fig for a in amounts if a.fig.section == f.section]
    actuals = [x for x in section if is_actual(x)][:8]
    budgets = [a.fig for a in amounts if is_budget(a.fig)]
    for a in actuals:
        for b in budgets:
            rel = Relation("ratio", f, [a, b], evidence=ev, strict=False)
            if holds(ctx, rel):
                return rel
    if f.decimals == 0:
        return None  # a whole-number rate is met by too many combinations to name one
    # a rate of the whole: all actuals over all budgets stated at the top level of one chapter
    chapters = {ctx.top_section.get(a.fig.section) for a in amounts}
    for chapter in chapters:
        top = [a.fig for a in amounts if ctx.top_section.get(a.fig.section) == chapter and a.fig.id not in ctx.part_ids]
        top_act = [x for x in top if is_actual(x)]
        top_bud = [x for x in top if is_budget(x)]
        if len(top_act) >= 2 and len(top_bud) >= 2:
            rel = Relation("ratio_sum", f, numerator=top_act, denominator=top_bud, evidence=ev, strict=False)
            if holds(ctx, rel):
                return rel
    for k in range(2, min(_MAX_SUBSET, len(actuals)) + 1):
        for subset in itertools.combinations(actuals, k):
            for b in budgets:
                rel = Relation("ratio_sum", f, numerator=list(subset), denominator=[b], evidence=ev, strict=False)
                if holds(ctx, rel):
                    return rel
    return None
