"""Stage: reconcile the arithmetic a report states, and find every slip.

Rules (pipeline.reconcile.rules, one kind per module) discover the relations the wording and the
tables state; `verify` judges each within the rounding of the printed figures; every relation
becomes a `Check` with the ids of all figures involved and a message a reviewer can act on.
"""

from __future__ import annotations

from ..model import Check, Report
from .context import Context, Relation
from .rules import RULES
from .verify import evaluate, message

__all__ = ["reconcile", "Relation", "Context"]


def _key(rel: Relation) -> tuple:
    kind = rel.kind or rel.rule
    ids = frozenset(f.id for f in rel.operands + rel.numerator + rel.denominator)
    return (kind if kind != "ratio_sum" else "ratio", rel.result.id, ids)


def reconcile(report: Report) -> Report:
    ctx = Context(report)
    seen: set[tuple] = set()
    checks: list[Check] = []
    for rule in RULES:
        for rel in rule.find(ctx):
            members = rel.operands + rel.numerator + rel.denominator
            if any(m is None for m in members) or rel.result in members:
                continue
            key = _key(rel)
            if key in seen:
                continue
            v = evaluate(ctx, rel)
            if not rel.strict and v.status != "pass":
                continue  # a guessed reading that does not add up says nothing about the report
            seen.add(key)
            ctx.stated.setdefault(rel.result.id, []).append(rel)
            if v.status == "pass":
                ctx.claimed.add(rel.result.id)
                ctx.passed.setdefault(rel.result.id, []).append(rel)
            checks.append(Check(
                id=f"c{len(checks) + 1}", rule=rel.rule, status=v.status,
                figures=[rel.result.id] + [m.id for m in members], expected=v.expected, stated=v.stated,
                message=message(ctx, rel, v), result=rel.result.id, difference=v.difference,
                evidence=rel.evidence or None,
            ))
    report.checks = checks
    return report
