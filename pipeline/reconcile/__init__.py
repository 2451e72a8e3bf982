"""Stage: reconcile the arithmetic a report states, and find every slip.

Detectors (pipeline.reconcile.rules, registered with `claims.detector`) read the statements of the
report into claims, each with the readings its words allow; every reading is verified within the
rounding of the printed figures (`arith`, exact rationals); `resolve` turns the judged claims into
`Check`s: a pass where a reading holds, a fail only where the wording pins a reading and none holds,
unverifiable where the words state a relation the report gives no firm base for.
"""

from __future__ import annotations

from ..model import Check, Report
from .claims import DETECTORS, Claim, Relation
from .context import Context
from .rules import load as _load_rules
from .verify import Verdict, evaluate, message, unverifiable_message

__all__ = ["reconcile", "Relation", "Claim", "Context", "judge"]

# readings of one statement about a figure: a sum and a difference both say what a total is made of; a
# ratio, a growth and a change rate all say what a percentage is of
_FAMILY = {"ratio_sum": "ratio", "change_rate": "ratio", "growth": "ratio", "difference": "sum"}


def _family(rel: Relation) -> str:
    return _FAMILY.get(rel.arithmetic, rel.arithmetic)


def _usable(rel: Relation) -> bool:
    members = rel.members
    if any(m is None for m in members) or rel.result in members:
        return False
    return bool(members) or rel.arithmetic == "count"


def judge(ctx: Context, claim: Claim) -> list[tuple[Relation, Verdict]]:
    """The outcome of one claim: the readings that hold, else the pinned reading's failure, else the
    statement as unverifiable; nothing for an arithmetic guess that does not hold."""
    readings = [r for r in claim.readings if _usable(r)]
    holding = []
    for r in readings:
        v = evaluate(ctx, r)
        if v.status == "pass":
            holding.append((r, v))
            if not claim.all_that_hold:
                break
    if holding:
        firm = [h for h in holding if not h[0].fallback]
        return (firm or holding)[:2]
    if claim.pinned and readings:
        v = evaluate(ctx, readings[0])
        if v.status == "fail":
            return [(readings[0], v)]
    if claim.stated:
        rel = (
            readings[0]
            if readings
            else (claim.readings[0] if claim.readings else Relation("ratio", claim.result))
        )
        return [(rel, Verdict("unverifiable", None, claim.result.value, None))]
    return []


def reconcile(report: Report) -> Report:
    _load_rules()
    ctx = Context(report)
    outcomes: list[tuple[Claim, Relation, Verdict]] = []
    for d in DETECTORS:
        for claim in d.find(ctx):
            for rel, v in judge(ctx, claim):
                outcomes.append((claim, rel, v))
    report.checks = _checks(ctx, resolve(outcomes))
    return report


def resolve(outcomes: list[tuple[Claim, Relation, Verdict]]) -> list[tuple[Claim, Relation, Verdict]]:
    """One statement, one finding. Outcomes about one figure and of one family (what a total is made
    of; what a percentage is of) are readings of the same statement when the figures of one include the
    other's: where one holds, the failing ones are dropped; of several failures one is kept. Arithmetic found without words
    never hides a stated slip, and repeats what a stated relation says only once. An unverifiable note
    is kept only when nothing else was found about the figure."""
    by_result: dict[tuple[str, str], list[tuple[Claim, Relation, Verdict]]] = {}
    for o in outcomes:
        by_result.setdefault((o[1].result.id, _family(o[1])), []).append(o)
    # what stated relations already say: the same parts found again by arithmetic add nothing
    stated_parts = {(o[1].result.id, _ids(o)) for o in outcomes if o[0].stated and o[2].status == "pass"}
    keep: set[int] = set()
    for group in by_result.values():
        passes = [
            o
            for o in group
            if o[2].status == "pass" and (o[0].stated or (o[1].result.id, _ids(o)) not in stated_parts)
        ]
        fails = [o for o in group if o[2].status == "fail"]
        keep.update(id(o) for o in passes)
        # a failing reading sharing figures with a stated one that holds, or with a failure already kept,
        # is another reading of the same statement; one with figures of its own is another statement
        taken = [_ids(o) for o in passes if o[0].stated]
        for o in fails:
            # the same statement read again names the same figures, or some of them
            if not any(_ids(o) <= t or t <= _ids(o) for t in taken):
                keep.add(id(o))
                taken.append(_ids(o))
                # a stated slip is not contradicted by a sum found by arithmetic among the same parts
                for q in passes:
                    if not q[0].stated and _ids(q) & _ids(o):
                        keep.discard(id(q))
        if not passes and not fails:
            keep.update(id(o) for o in group if o[2].status == "unverifiable")
    seen: set[tuple] = set()
    out = []
    for o in outcomes:
        if id(o) not in keep:
            continue
        rel = o[1]
        key = (_family(rel), rel.result.id, frozenset(m.id for m in rel.members), o[2].status)
        if key in seen:
            continue
        seen.add(key)
        out.append(o)
    return out


def _ids(o: tuple[Claim, Relation, Verdict]) -> frozenset[str]:
    return frozenset(m.id for m in o[1].members)


def _checks(ctx: Context, outcomes: list[tuple[Claim, Relation, Verdict]]) -> list[Check]:
    checks: list[Check] = []
    for claim, rel, v in outcomes:
        if v.status == "unverifiable":
            text = unverifiable_message(ctx, claim)
            members = [] if not any(_usable(r) for r in claim.readings) else rel.members
        else:
            text = message(ctx, rel, v)
            members = rel.members
        checks.append(
            Check(
                id=f"c{len(checks) + 1}",
                rule=rel.rule,
                status=v.status,
                figures=[rel.result.id] + [m.id for m in members if m is not None],
                expected=v.expected,
                stated=v.stated,
                message=text,
                result=rel.result.id,
                difference=v.difference,
                evidence=rel.evidence or claim.evidence or None,
                detector=claim.detector,
                reading=rel.reading or None,
            )
        )
    return checks
