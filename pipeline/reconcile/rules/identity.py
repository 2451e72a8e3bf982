"""Accounting identities stated by label: 净资产 = 资产总额 − 负债总额; 决算收入 = 年初预算 + 年内调整;
收入总计 = 本年收入 + 上年结转 (the identities are data: reconcile.toml)."""

from __future__ import annotations

import re

from ..claims import Claim, Relation, detector
from ..context import Context, cfg


def _first(pattern: str, items, exclude=()) -> object | None:
    r = re.compile(pattern)
    return next((it.fig for it in items if it.fig.id not in exclude and r.search(it.fig.label or "")), None)


def _within(ctx: Context, section: str | None, root: str | None) -> bool:
    """`section` is `root` or one of the sections it opens."""
    while section is not None:
        if section == root:
            return True
        section = ctx.parent_of.get(section)
    return root is None


@detector("identity", reads=("items", "groups"))
def find(ctx: Context) -> list[Claim]:
    """A figure whose label is an identity's result, with the identity's terms stated before it nearby."""
    out: list[Claim] = []
    for rule in cfg()["identities"]:
        result_rx = re.compile(rule["result"])
        for it in ctx.items:
            f = it.fig
            if f.kind != "amount" or not result_rx.search(f.label or "") or not it.role.level:
                continue
            if rule.get("scope") == "section":
                # the standard statement's lines, each stated once in the section (总收入 … 其中本年收入 …
                # 上年结转和结余 …): its terms may follow the result
                near = [
                    p
                    for p in ctx.items[max(0, it.n - 20) : it.n + 20]
                    if p is not it
                    and p.fig.kind == "amount"
                    and p.role.level
                    and _within(ctx, p.fig.section, f.section)
                ]
            elif rule.get("pinned"):
                # a slip is claimed only where the terms stand in the result's own paragraph, before it
                near = [
                    p
                    for p in ctx.by_paragraph.get(f.paragraph, [])
                    if p.pos < it.pos and p.fig.kind == "amount" and p.fig.id not in ctx.part_ids
                ]
            else:
                # read where it holds: the terms anywhere in the passage around the result
                near = [
                    p
                    for p in ctx.items[max(0, it.n - 20) : it.n + 20]
                    if p is not it
                    and p.fig.kind == "amount"
                    and p.role.level
                    and not p.role.prior
                    and p.fig.section == f.section
                ]
            plus = [_first(r, near, (f.id,)) for r in rule.get("plus", [])]
            minus = [_first(r, near, (f.id,)) for r in rule.get("minus", [])]
            adjust = [_first(r, near, (f.id,)) for r in rule.get("adjust", [])]
            terms = plus + minus + adjust
            if any(x is None for x in terms) or len({x.id for x in terms}) < len(terms):
                continue
            start = min(ctx.item_of[x.id].pos for x in terms + [f])
            end = max(ctx.item_of[x.id].end for x in terms + [f])
            evidence = ctx.words(start, end)
            if minus:
                rel = Relation("difference", f, [*plus, *minus], evidence=evidence, reading="恒等式")
            else:
                rel = Relation("sum", f, [*plus, *adjust], evidence=evidence, reading="恒等式")
            out.append(
                Claim(
                    f,
                    [rel],
                    "identity",
                    evidence,
                    pinned=bool(rule.get("pinned")),
                    stated=bool(rule.get("pinned")),
                )
            )
    return out
