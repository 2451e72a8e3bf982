"""Accounting identities stated by label: 净资产 = 资产总额 − 负债总额; 决算收入 = 年初预算 + 年内调整."""

from __future__ import annotations

import re

from ..context import Context, Relation, cfg


def _first(pattern: str, items, exclude=()) -> object | None:
    rx = re.compile(pattern)
    return next((it.fig for it in items if it.fig.id not in exclude and rx.search(it.fig.label or "")), None)


def find(ctx: Context) -> list[Relation]:
    out: list[Relation] = []
    for rule in cfg()["identities"]:
        result_rx = re.compile(rule["result"])
        for it in ctx.items:
            f = it.fig
            if f.kind != "amount" or not result_rx.search(f.label or ""):
                continue
            # the terms stand in the same paragraph, before the result
            near = [p for p in ctx.items if p.fig.paragraph == f.paragraph and p.pos < it.pos
                    and p.fig.kind == "amount" and p.fig.id not in ctx.part_ids]
            plus = [_first(rx, near, (f.id,)) for rx in rule.get("plus", [])]
            minus = [_first(rx, near, (f.id,)) for rx in rule.get("minus", [])]
            adjust = [_first(rx, near, (f.id,)) for rx in rule.get("adjust", [])]
            if any(x is None for x in plus + minus + adjust):
                continue
            start = min(ctx.item_of[x.id].pos for x in plus + minus + adjust)
            evidence = ctx.words(start, it.end)
            if minus:
                out.append(Relation("difference", f, [*plus, *minus], evidence=evidence))
            else:
                out.append(Relation("sum", f, [*plus, *adjust], evidence=evidence))
    return out
