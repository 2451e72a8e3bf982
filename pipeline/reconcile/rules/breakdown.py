"""Totals and their parts: 其中 / 包括 / 分别为 / （含 …） after a figure."""

from __future__ import annotations

import re

from ..context import Context, Relation

_TOTAL_LABEL = re.compile(r"总(?P<head>收入|支出|额|数|成本|资产)|(?P<head2>收入|支出)(?:合计|总计|总额)")


def find(ctx: Context) -> list[Relation]:
    return _stated(ctx) + _listed(ctx)


def _listed(ctx: Context) -> list[Relation]:
    """A total followed by parts named like it, without 其中: 财政拨款总收入 X，一般公共预算…收入 A，
    政府性基金…收入 B。"""
    out: list[Relation] = []
    for it in ctx.items:
        f = it.fig
        m = _TOTAL_LABEL.search(f.label or "")
        if f.kind != "amount" or not m or f.id in ctx.group_totals:
            continue
        head = m.group("head") or m.group("head2")
        after = [p.fig for p in ctx.in_sentence(it.sentence) if p.pos > it.pos and p.fig.kind == "amount"]
        parts = []
        for p in after:
            if not (p.label or "").endswith(head) or _TOTAL_LABEL.search(p.label or ""):
                break
            parts.append(p)
        if len(parts) >= 2 and not any(p.id in ctx.part_ids for p in parts):
            out.append(Relation("sum", f, parts, evidence=ctx.words(it.pos, ctx.item_of[parts[-1].id].end)))
    return out


def _stated(ctx: Context) -> list[Relation]:
    out: list[Relation] = []
    for g in ctx.groups:
        if g.total is None:
            continue
        words = ctx.words(ctx.item_of[g.total.id].pos, g.scope_end)
        if len(g.parts) >= 2:
            out.append(Relation("sum", g.total, list(g.parts), evidence=words))
        elif len(g.parts) == 1:
            # "实际完成58万元，其中…50万元" with 决算支出 8 万元 beside it: the other part is stated too
            part = g.parts[0]
            sentence = ctx.item_of[g.total.id].sentence
            for it in ctx.in_sentence(sentence):
                other = it.fig
                if other.id in (g.total.id, part.id) or other.kind != g.total.kind or other.unit != g.total.unit:
                    continue
                rel = Relation("sum", g.total, [other, part], evidence=words, strict=False)
                out.append(rel)
    return out
