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
        subs = [j for j in range(i + 1, len(groups)) if _labels(groups[j]) == _labels(head)]
        best = None
        for k in range(len(subs), 1, -1):
            blocks = [groups[j] for j in subs[:k]]
            rels = [Relation("sum", head.total, [b.total for b in blocks],
                             evidence=f"{head.total.label or ''} = " + " + ".join(b.total.text for b in blocks))]
            for n, part in enumerate(head.parts):
                rels.append(Relation("sum", part, [b.parts[n] for b in blocks],
                                     evidence=f"{part.label}：" + " + ".join(b.parts[n].text for b in blocks)))
            ok = sum(holds(ctx, r) for r in rels)
            if ok * 2 >= len(rels) and (best is None or ok > best[0]):
                best = (ok, rels, subs[:k])
        if best:
            out.extend(Claim(r.result, [r], "parallel", r.evidence, pinned=True) for r in best[1])
            used.update(best[2])
    return out
