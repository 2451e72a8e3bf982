"""Totals and their parts: 其中 / 包括 / 分别为 / （含 …） after a figure, and parts named like their total."""

from __future__ import annotations

import re

from ..claims import Claim, Relation, detector
from ..context import Context, Group, cfg, figure_class, rx

_MAX_TOTALS = 3


def _variants(g: Group) -> list[list]:
    """The part lists a breakdown may mean: up to the first ；that closes it (…其中行政 42 人，事业 1,193 人；
    离退休 560 人), the whole list, and the lists up to each later ；."""
    parts = g.parts
    main = [parts] if not g.cuts else [parts[: g.cuts[0]], parts] + [parts[:n] for n in reversed(g.cuts[1:])]
    # a list that runs on past its breakdown into carried-over money (其中基本支出 a，项目支出 b，年末结转 c):
    # the run before it is what the breakdown was; any other shorter run would hide a part listed too many
    carry = rx("carry_over")
    out = list(main)
    for n in range(len(parts) - 1, 1, -1):
        if all(carry.search(p.label or "") for p in parts[n:]) and parts[:n] not in out:
            out.append(parts[:n])
    return out


@detector("breakdown", reads=("groups",))
def stated(ctx: Context) -> list[Claim]:
    """A figure followed by 其中/包括/（含…） and its parts: the parts add up to it."""
    out: list[Claim] = []
    for g in ctx.groups:
        if not g.totals or len(g.parts) < 2:
            continue
        total = g.totals[0]
        words = ctx.words(ctx.item_of[total.id].pos if total.id in ctx.item_of else g.pos, g.scope_end)
        readings = [
            Relation("sum", t, list(v), evidence=words, reading=f"{t.label or t.text} = {g.marker}所列各项")
            for t in g.totals[:_MAX_TOTALS]
            for v in _variants(g)
        ]
        # a list that names only some parts (主要包括…、…等) is read, never judged a slip
        out.append(Claim(total, readings, "breakdown", words, pinned=g.adjacent and not g.partial))
    return out


@detector("breakdown_one_part", reads=("groups", "items"))
def one_part(ctx: Context) -> list[Claim]:
    """ "实际完成58万元，其中…50万元" with 决算支出 8 万元 in the same sentence: the other part is stated too;
    read only when it holds."""
    out: list[Claim] = []
    for g in ctx.groups:
        if not g.totals or len(g.parts) != 1:
            continue
        total, part = g.totals[0], g.parts[0]
        it = ctx.item_of.get(total.id)
        if it is None:
            continue
        words = ctx.words(it.pos, g.scope_end)
        others = [
            x.fig
            for x in ctx.in_sentence(it.sentence)
            if x.fig.id not in (total.id, part.id)
            and x.fig.kind == total.kind
            and x.fig.unit == total.unit
            and x.role.level
        ]
        if others:
            out.append(
                Claim(
                    total,
                    [Relation("sum", total, [o, part], evidence=words) for o in others],
                    "breakdown_one_part",
                    words,
                    stated=False,
                )
            )
    return out


@detector("listed", reads=("items", "groups"))
def listed(ctx: Context) -> list[Claim]:
    """A total followed by parts named like it, without 其中: 财政拨款总收入 X，一般公共预算…收入 A，
    政府性基金…收入 B。"""
    out: list[Claim] = []
    for it in ctx.items:
        f = it.fig
        m = rx("total_label").search(f.label or "")
        if f.kind != "amount" or not m or f.id in ctx.group_totals:
            continue
        head = m.group("head") or m.group("head2")
        after = [p for p in ctx.in_sentence(it.sentence) if p.pos > it.pos and p.fig.kind == "amount"]
        parts = []
        for p in after:
            if p.role.change:
                continue
            if not (p.fig.label or "").endswith(head) or rx("total_label").search(p.fig.label or ""):
                break
            parts.append(p.fig)
        if len(parts) >= 2 and not any(p.id in ctx.part_ids for p in parts):
            words = ctx.words(it.pos, ctx.item_of[parts[-1].id].end)
            out.append(Claim(f, [Relation("sum", f, parts, evidence=words)], "listed", words))
    return out


def same_class(a, b) -> bool:
    return figure_class(a) is not None and figure_class(a) == figure_class(b)


@detector("listing", reads=("items", "sections"))
def listing(ctx: Context) -> list[Claim]:
    """收入具体情况如下：1. 财政拨款收入 a …；2. 上级补助收入 b …；3. 上年结转和结余 c …: the numbered items after
    a 如下 are the parts of the income (or spending) total stated before it — all of them for 总收入, all
    but the carried-over money for 本年收入."""
    c = cfg()
    listing_re = re.compile(rf"(?:{'|'.join(map(re.escape, c['listing_words']))})[:：。.]?\s*$")
    carry = re.compile(c["carry_over"])
    whole = re.compile(c["listing_whole"])
    this_year = re.compile(c["listing_this_year"])
    head = re.compile(c["listing_part"])
    level = {s.id: s.level for s in ctx.report.sections}
    heading_of = {s.paragraph: s for s in ctx.report.sections}
    out: list[Claim] = []
    paragraphs = ctx.report.paragraphs
    for k, p in enumerate(paragraphs):
        for m in listing_re.finditer(p.norm):
            pos = ctx.paragraph_start.get(p.index, 0) + m.start()
            sentence = ctx.sentence_of(pos)
            totals = [
                it
                for s in (sentence, sentence - 1, sentence - 2)
                for it in ctx.in_sentence(s)
                if it.pos < pos and it.fig.kind == "amount" and it.role.level and not it.role.prior
            ]
            own = level.get(p.section, 0)
            items: list = []
            for q in paragraphs[k + 1 : k + 40]:
                sec = heading_of.get(q.index)
                if sec is None:
                    continue
                if sec.level <= own:
                    break  # the next part of the report, not an item of this list
                if sec.level != own + 1:
                    continue
                first = next(
                    (
                        it
                        for it in ctx.by_paragraph.get(q.index, [])
                        if it.fig.kind == "amount" and it.role.level
                    ),
                    None,
                )
                if first is None or not head.search(first.fig.label or ""):
                    break
                items.append(first)
            if len(items) < 2:
                continue
            ev = ctx.words(totals[-1].pos if totals else pos, items[-1].end)
            for t in totals:
                label = t.fig.label or ""
                if whole.search(label):
                    parts = items
                elif this_year.search(label):
                    parts = [it for it in items if not carry.search(it.fig.label or "")]
                else:
                    continue
                if len(parts) < 2 or not all(same_class(t.fig, x.fig) for x in parts):
                    continue
                rel = Relation(
                    "sum", t.fig, [x.fig for x in parts], evidence=ev, reading=f"{label} = 如下所列各项"
                )
                out.append(Claim(t.fig, [rel], "listing", ev, pinned=True))
    return out
