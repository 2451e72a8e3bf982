"""A total stated after the figures it adds up (…上年结转 X，全年可执行预算合计 Y)."""

from __future__ import annotations

from ..claims import Claim, Relation, detector
from ..context import Context, rx

_MAX_PARTS = 6
_NEAR = 0.15  # a stated total this close to the whole run before it is taken as their (mis-added) sum


@detector("totals", reads=("items", "groups"))
def find(ctx: Context) -> list[Claim]:
    """合计/共计/总计 after a run of amounts: the run adds up to it."""
    out: list[Claim] = []
    for it in ctx.items:
        f = it.fig
        if f.kind != "amount" or f.id in ctx.group_totals or f.id in ctx.part_ids or not it.role.level:
            continue
        if not (rx("total_words").search(f.label or "") or rx("total_words").search(ctx.before(it, 6))):
            continue
        # the run: amounts of the same section, unit and role before the total, back to the paragraph
        # that opens the passage (a heading, or where a previous total closed a run)
        run = []
        for p in reversed(ctx.items[max(0, it.n - 3 * _MAX_PARTS) : it.n]):
            q = p.fig
            if q.section != f.section or q.unit != f.unit or q.kind != "amount":
                break
            if q.id in ctx.part_ids or p.role.change != it.role.change or p.role.adjust:
                continue
            if rx("total_words").search(q.label or ""):
                break  # a previous total closes the run before it
            run.append(p)
            if len(run) == _MAX_PARTS:
                break
        run.reverse()
        if len(run) < 2:
            continue
        readings = [
            Relation("sum", f, [p.fig for p in run[-k:]], evidence=ctx.words(run[-k].pos, it.end))
            for k in range(2, len(run) + 1)
        ]
        # none holds: the run whose sum comes closest names what was meant to be added, if close enough
        # to be a slip rather than another total (positive parts only: a run with a negative adjustment
        # in it is not a plain list)
        gaps = [
            (abs(sum(p.value for p in r.operands) - f.value) / max(abs(f.value), 1e-9), n)
            for n, r in enumerate(readings)
            if all(p.value >= 0 for p in r.operands)
        ]
        best = min(gaps, default=None)
        pinned = best is not None and best[0] <= _NEAR
        if pinned:
            readings.insert(0, readings.pop(best[1]))
        out.append(Claim(f, readings, "totals", readings[0].evidence, pinned=pinned))
    return out
