"""Verify a relation within rounding and say what was found, in words a reviewer can act on."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .. import numbers
from ..extract.prose.figures import yuan
from ..model import Figure
from ..vocabulary import vocab
from .arith import Interval, growth, ratio, total
from .claims import Claim, Relation
from .context import Context


@dataclass
class Verdict:
    status: str  # pass, fail, unverifiable
    expected: float | None
    stated: float | None
    difference: float | None


def _computed(ctx: Context, rel: Relation) -> Interval | None:
    iv = ctx.iv
    kind = rel.arithmetic
    if kind == "sum":
        if not rel.operands:
            return None
        return total([iv(f) for f in rel.operands]) - total([iv(f) for f in rel.minus])
    if kind == "difference":
        a, b = rel.operands
        return iv(a) - iv(b)
    if kind == "ratio":
        if len(rel.operands) < 2:
            return None
        return ratio(iv(rel.operands[0]), iv(rel.operands[1]))
    if kind == "ratio_sum":
        return ratio(total([iv(f) for f in rel.numerator]), total([iv(f) for f in rel.denominator]))
    if kind == "growth":
        if len(rel.operands) < 2:
            return None
        g = growth(iv(rel.operands[0]), iv(rel.operands[1]))
        if g is None:
            return None
        return g if rel.direction > 0 else Interval(-g.hi, -g.lo)
    if kind == "change_rate":
        # X 比上年增加 Δ，增长 r%: last year was X − Δ (X + Δ after a fall), and r = Δ ÷ last year
        change, current = rel.operands
        prior = iv(current) - iv(change) if rel.direction > 0 else iv(current) + iv(change)
        return ratio(iv(change), prior)
    if kind == "count":
        return Interval(Fraction(rel.count or 0), Fraction(rel.count or 0))
    if kind == "repeat":
        return iv(rel.operands[0])
    if kind == "score_cap":
        cap = iv(rel.operands[0])
        return Interval(Fraction(-(10**12)), cap.hi)
    return None


def _to_unit(value: Fraction, f: Figure) -> float:
    if f.kind == "amount":
        return float(value / Fraction(str(yuan(1, f.unit) or 1)))
    return float(value)


def evaluate(ctx: Context, rel: Relation) -> Verdict:
    stated_iv = ctx.iv(rel.result)
    computed = _computed(ctx, rel)
    stated = rel.result.value
    if computed is None:
        return Verdict("unverifiable", None, stated, None)
    ok = computed.overlaps(stated_iv)
    expected = _to_unit(computed.mid, rel.result) if rel.rule != "score_cap" else float(rel.operands[0].value)
    diff = None if ok else round(stated - expected, 6)
    return Verdict("pass" if ok else "fail", round(expected, 6), stated, diff)


def holds(ctx: Context, rel: Relation) -> bool:
    return evaluate(ctx, rel).status == "pass"


def _fmt(value: float | None, f: Figure, ctx: Context, extra: int = 0) -> str:
    # The shared formatter: the audit page and workbook print these values the same way.
    d = numbers.shown_decimals(f.kind, f.unit, f.decimals, ctx.finest, value)
    return numbers.format_value(value, f.kind, d + (extra if f.kind == "percent" else 0))


def message(ctx: Context, rel: Relation, v: Verdict) -> str:
    f = rel.result
    label = f.label or "该数"
    unit = "%" if f.kind == "percent" else f.unit
    exp, st = _fmt(v.expected, f, ctx), _fmt(v.stated, f, ctx)
    gap = f"，相差 {_fmt(abs(v.difference), f, ctx)} {unit}" if v.difference is not None else ""
    rule = rel.rule
    if v.status == "unverifiable":
        return f"{label} {f.text}：报告未给出可核对的基数，无法验证"
    if rule == "change_rate":
        change, current = rel.operands
        sign = "−" if rel.direction > 0 else "+"
        head = f"{label}：{change.text} ÷ 基数（{current.text} {sign} {change.text}）= {exp}%"
        if v.status == "pass":
            return f"{head}，与报告所称 {f.text} 一致"
        return f"{head}，报告称 {st} %{gap}"
    if rule == "sum":
        # the parts themselves, so the reviewer can add them up without opening the page
        shown = " + ".join(x.text for x in rel.operands[:8]) + (" + …" if len(rel.operands) > 8 else "")
        shown += "".join(f" − {x.text}" for x in rel.minus)
        n = len(rel.operands) + len(rel.minus)
        head = f"{label}：所列 {n} 项（{shown}）合计 {exp} {unit}"
    elif rule == "difference":
        a, b = rel.operands
        head = f"{label}：{a.label or ''} {a.text} 减 {b.label or ''} {b.text} 得 {exp} {unit}"
    elif rule in ("ratio", "ratio_sum"):
        num = rel.numerator or rel.operands[:1]
        den = rel.denominator or rel.operands[1:]
        head = f"{label}：{'+'.join(x.text for x in num)} ÷ {'+'.join(x.text for x in den)} = {exp}%"
    elif rule == "growth":
        cur, base = rel.operands
        head = f"{label}：由 {base.text} 到 {cur.text}，{'降幅' if rel.direction < 0 else '增幅'}为 {exp}%"
    elif rule == "count":
        head = f"{label}：其后列出 {rel.count} 项"
    elif rule == "repeat":
        head = f"{label}：前文为 {rel.operands[0].text}（第 {rel.operands[0].page} 页）"
    elif rule == "score_cap":
        head = f"{label}：分值为 {rel.operands[0].text}"
        if v.status == "fail":
            return f"{head}，得分 {f.text} 超过分值"
        return f"{head}，得分 {f.text} 未超过分值"
    else:
        head = f"{label}：计算得 {exp}"
    if v.status == "pass":
        return f"{head}，与报告所称 {f.text} 一致"
    return f"{head}，报告称 {st} {unit}{gap}"


def unverifiable_message(ctx: Context, claim: Claim) -> str:
    """What was tried for a stated relation that no reading makes hold, and none is pinned."""
    f = claim.result
    label = f.label or "该数"
    tried = [r for r in claim.readings if r.members and _computed(ctx, r) is not None]
    if not tried:
        return f"{label} {f.text}：报告未给出可核对的基数，无法验证"
    shown = []
    for r in tried[:3]:
        v = evaluate(ctx, r)
        names = "、".join(m.text for m in r.members)
        # a reading without words of its own is named by its rule, in Chinese as the audit names rules
        how = r.reading or vocab()["display"]["rules"].get(r.rule, r.rule)
        shown.append(f"按 {how}（{names}）得 {_fmt(v.expected, f, ctx)}")
    more = f" 等 {len(tried)} 种读法" if len(tried) > 3 else ""
    return f"{label} {f.text}：{'；'.join(shown)}{more}，均与报告不符，且原文未确指所依据的数，无法判定"
