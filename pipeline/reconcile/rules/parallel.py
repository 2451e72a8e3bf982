"""Breakdowns in parallel: a total block followed by sub-blocks with the same items (中央补助 / 市级资金 /
本级资金): each item of the total block is the sum of that item over the sub-blocks."""

from __future__ import annotations

from ..claims import Claim, Relation, detector
from ..context import Context
from ..verify import holds


def _labels(g) -> list[str]:
    return [p.label or "" for p in g.parts]


@detector("parallel", reads=("groups",))
def find(ctx: Context) -> list[Claim]:
    """Blocks with the same item labels: the head block's items are the sums over the others; read when
    most of those sums hold, and then a sum that does not is a slip."""
    groups = [g for g in ctx.groups if g.total is not None and len(g.parts) >= 2]
    out: list[Claim] = []
    used: set[int] = set()
    for i, head in enumerate(groups):
        if i in used or not all(_labels(head)):
            continue
        # the sub-blocks follow the head block closely, in its chapter
        top = ctx.top_section.get(head.total.section)
        subs = [
            j
            for j in range(i + 1, min(len(groups), i + 9))
            if _labels(groups[j]) == _labels(head) and ctx.top_section.get(groups[j].total.section) == top
        ]
        best = None
        for k in range(len(subs), 1, -1):
            blocks = [groups[j] for j in subs[:k]]
            rels = [
                Relation(
                    "sum",
                    head.total,
                    [b.total for b in blocks],
                    evidence=f"{head.total.label or ''} = " + " + ".join(b.total.text for b in blocks),
                )
            ]
            for n, part in enumerate(head.parts):
                rels.append(
                    Relation(
                        "sum",
                        part,
                        [b.parts[n] for b in blocks],
                        evidence=f"{part.label}：" + " + ".join(b.parts[n].text for b in blocks),
                    )
                )
            ok = sum(holds(ctx, r) for r in rels)
            if ok * 2 >= len(rels) and (best is None or ok > best[0]):
                best = (ok, rels, subs[:k])
        if best:
            out.extend(Claim(r.result, [r], "parallel", r.evidence, pinned=True) for r in best[1])
            used.update(best[2])
    return out


@detector("parallel_parts", reads=("groups", "items"))
def one_part_columns(ctx: Context) -> list[Claim]:
    """Items each with one part of the same name, and their total with that part too:
    一批 3374.3（其中建筑工程 3292），二批 2069.51（其中建筑工程 1975.775），… 合计 6222.4（其中建筑工程 6025.215）:
    the total's part is the sum of the items' parts."""
    from ..context import rx

    singles = [
        g for g in ctx.groups if g.total is not None and len(g.parts) == 1 and g.total.id in ctx.item_of
    ]
    out: list[Claim] = []
    for n, last in enumerate(singles):
        it = ctx.item_of[last.total.id]
        if not (
            rx("total_words").search(last.total.label or "") or rx("total_words").search(ctx.before(it, 8))
        ):
            continue
        name = _part_name(last.parts[0])
        run = []
        for g in reversed(singles[max(0, n - 8) : n]):
            if _part_name(g.parts[0]) != name or g.total.unit != last.total.unit:
                break
            run.append(g)
        run.reverse()
        if len(run) < 2:
            continue
        totals = Relation("sum", last.total, [g.total for g in run])
        ev = ctx.words(ctx.item_of[run[0].total.id].pos, last.scope_end)
        rel = Relation(
            "sum",
            last.parts[0],
            [g.parts[0] for g in run],
            evidence=ev,
            reading=f"{name}：合计所含 = 各项所含之和",
        )
        # the totals themselves adding up is what makes the columns parallel
        out.append(Claim(last.parts[0], [rel], "parallel_parts", ev, pinned=holds(ctx, totals)))
    return out


def _part_name(f) -> str:
    from ...extract.prose.labels import subject_of

    return subject_of(f.label) or f.label or ""
