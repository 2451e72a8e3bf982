"""Planted errors (issue 3): break one stated relation of a consistent report and see whether
reconciliation catches it, and whether it cries wolf elsewhere.

A *base* is a consistent report given as blocks (pipeline.synth).  It is rendered and extracted once; its
passing checks are the relations the pipeline is known to read.  A planted error changes the printed
number of one figure of one of those checks, in the blocks (so the PDF is drawn anew, wrapped
differently, in a random layout), and the report is extracted again.

What must fail is decided here, by arithmetic on the printed values within rounding (the corpus README's
rule), not by asking the pipeline: every base check that involves the changed figure is re-judged with the
new value.  The pipeline then *catches* the error when it reports every one of those as `fail`; a failing
check that does not involve the changed figure is a false alarm.

Library only (no Prefect): `plan` → `evaluate` (= `plant`), `generate`, `clean_variants`; bench/bench_planted.py
runs them in a pool.
"""

from __future__ import annotations

import copy
import difflib
import math
import random
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from pipeline.extract import extract
from pipeline.model import Report
from pipeline.vocabulary import yuan_per

from .synth import LAYOUTS, UNIT, Block, blocks_from_text, render_pdf, seed_text, selfeval_blocks

__all__ = [
    "Base",
    "Fig",
    "Ref",
    "Change",
    "Planted",
    "build_base",
    "base_specs",
    "default_bases",
    "finance_text",
    "seed_base_text",
    "holds",
    "plan",
    "evaluate",
    "plant",
    "plans",
    "generate",
    "clean_plans",
    "clean_variants",
    "categories",
]

# 元 per unit, for comparing amounts printed in different money units
_FACTOR = yuan_per()
_NUM = re.compile(r"\s*(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)")
# checks whose arithmetic is the same (reconcile de-duplicates ratio_sum as ratio)
# one relation, however it is oriented: 资产 = 负债 + 净资产 is 净资产 = 资产 − 负债; a rate Δ ÷ (X − Δ) is the
# growth from X − Δ to X
_FAMILY = {"ratio_sum": "ratio", "difference": "sum", "growth": "ratio", "change_rate": "ratio"}


# --- the base report as arithmetic ---------------------------------------------------------------


@dataclass(frozen=True)
class Fig:
    """A printed figure of a base, with what the arithmetic and the locator need."""

    kind: str  # amount, percent, count, score
    unit: str
    value: Fraction  # in its own unit, as printed
    decimals: int
    text: str  # as printed
    label: str
    paragraph: int
    table: bool
    num: str | None  # the printed number ("828.69"), None when it is not plain digits (一个, 3万余份)
    suffix: str | None  # the unit printed right after it ("万元"; "" for a bare table cell)


@dataclass(frozen=True)
class Ref:
    """A check as arithmetic: rule and base figure indexes (result first), and the ways it held."""

    rule: str
    figures: tuple[int, ...]
    message: str = ""
    variants: tuple[int, ...] = ()  # ratio_sum: numerator sizes; growth: directions — those that held

    @property
    def key(self) -> tuple[str, frozenset[int]]:
        return (_FAMILY.get(self.rule, self.rule), frozenset(self.figures))


@dataclass
class Base:
    """A consistent report: its blocks, its printed figures and the checks the pipeline passes on it."""

    name: str
    blocks: list[Block]
    figures: list[Fig]
    checks: list[Ref]  # passing checks that the arithmetic here confirms
    failing: list[str] = field(default_factory=list)  # messages of checks failing on the base (want none)
    unmodelled: list[str] = field(default_factory=list)  # passing checks the arithmetic here cannot confirm

    def finest(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.figures:
            if f.kind == "amount":
                out[f.unit] = max(out.get(f.unit, 0), f.decimals)
        return out


def _fig(f, report: Report) -> Fig:
    value = Fraction(str(f.value))
    m = _NUM.match(f.text)
    num = suffix = None
    if m and Fraction(m.group(1).replace(",", "")) == value:
        rest = f.text[m.end() :].lstrip()
        unit = "%" if f.kind == "percent" else f.unit
        if rest.startswith(unit):
            num, suffix = m.group(1), unit
        elif rest == "" and f.table is not None:
            num, suffix = m.group(1), ""  # a table cell whose unit is in the header
    return Fig(
        f.kind,
        f.unit,
        value,
        f.decimals,
        f.text,
        f.label or "",
        f.paragraph,
        f.table is not None,
        num,
        suffix,
    )


def _interval(f: Fig, finest: dict[str, int], value: Fraction | None = None) -> tuple[Fraction, Fraction]:
    """What a printed figure stands for (README: an amount to the finest decimal its document prints in
    that unit, a percentage to its own last decimal, a count or score exactly), amounts in 元."""
    v = f.value if value is None else value
    if f.kind == "amount":
        k = _FACTOR.get(f.unit, 1)
        half = Fraction(1, 2 * 10 ** max(finest.get(f.unit, 0), f.decimals))
        return (v - half) * k, (v + half) * k
    if f.kind == "percent":
        half = Fraction(1, 2 * 10**f.decimals)
        return v - half, v + half
    return v, v


def _ratio(
    num: tuple[Fraction, Fraction], den: tuple[Fraction, Fraction]
) -> tuple[Fraction, Fraction] | None:
    if den[0] <= 0:
        return None
    lo = num[0] / den[1] if num[0] >= 0 else num[0] / den[0]
    hi = num[1] / den[0] if num[1] >= 0 else num[1] / den[1]
    return lo * 100, hi * 100


def _sum(ivs: list[tuple[Fraction, Fraction]]) -> tuple[Fraction, Fraction]:
    return sum((i[0] for i in ivs), Fraction(0)), sum((i[1] for i in ivs), Fraction(0))


def _overlap(a: tuple[Fraction, Fraction] | None, b: tuple[Fraction, Fraction]) -> bool:
    return a is not None and a[0] <= b[1] and b[0] <= a[1]


def _variants(rule: str, n: int) -> list[int]:
    # a Check keeps only its figures: a ratio_sum's split and a growth's direction are found by trying
    if rule == "ratio_sum":
        return list(range(1, n))
    if rule == "growth":
        return [1, -1]
    return [0]


def _holds_variant(rule: str, ivs: list[tuple[Fraction, Fraction]], variant: int) -> bool:
    res, ops = ivs[0], ivs[1:]
    if rule == "sum":
        return bool(ops) and _overlap(_sum(ops), res)
    if rule == "difference":
        return len(ops) == 2 and _overlap((ops[0][0] - ops[1][1], ops[0][1] - ops[1][0]), res)
    if rule == "ratio":
        return len(ops) == 2 and _overlap(_ratio(ops[0], ops[1]), res)
    if rule == "ratio_sum":
        return _overlap(_ratio(_sum(ops[:variant]), _sum(ops[variant:])), res)
    if rule == "growth":
        r = _ratio(ops[0], ops[1]) if len(ops) == 2 else None
        if r is None:
            return False
        g = (r[0] - 100, r[1] - 100) if variant > 0 else (100 - r[1], 100 - r[0])
        return _overlap(g, res)
    if rule == "count":
        return res[0] == len(ops)
    if rule == "score_cap":
        return len(ops) == 1 and res[0] <= ops[0][1]
    if rule == "repeat":
        return len(ops) == 1 and _overlap(ops[0], res)
    raise ValueError(f"no arithmetic for rule {rule!r}")


def holds(base: Base, ref: Ref, changed: int | None = None, value: Fraction | None = None) -> bool:
    """Does the relation hold on the printed values, with figure `changed` printed as `value`?"""
    finest = base.finest()
    ivs = [_interval(base.figures[i], finest, value if i == changed else None) for i in ref.figures]
    variants = ref.variants or tuple(_variants(ref.rule, len(ref.figures) - 1))
    return any(_holds_variant(ref.rule, ivs, v) for v in variants)


def build_base(name: str, blocks: list[Block], layout: str = "gov") -> Base:
    """Render and extract a consistent report once; keep the passing checks the arithmetic confirms."""
    with tempfile.TemporaryDirectory() as tmp:
        report = extract(render_pdf(blocks, Path(tmp) / f"{name}.pdf", layout))
    index = {f.id: i for i, f in enumerate(report.figures)}
    base = Base(name, blocks, [_fig(f, report) for f in report.figures], [])
    for c in report.checks:
        if c.status == "fail":
            base.failing.append(f"{c.rule}: {c.message}")
        if c.status != "pass" or c.rule not in _RULES:
            continue
        figs = tuple(index[i] for i in c.figures)
        probe = Ref(c.rule, figs, c.message)
        held = tuple(
            v for v in _variants(c.rule, len(figs) - 1) if holds(base, Ref(c.rule, figs, variants=(v,)))
        )
        if held:
            base.checks.append(Ref(c.rule, figs, c.message, held))
        else:
            base.unmodelled.append(f"{probe.rule}: {c.message}")
    return base


_RULES = ("sum", "difference", "ratio", "ratio_sum", "growth", "count", "score_cap", "repeat")


# --- the bases -----------------------------------------------------------------------------------

# The seed's one slip: its ten temporary projects add to 578.95 万元 while it states 579.15.  Stating
# 578.95 alone would break the next total (实际项目支出 4057.15 = 2970 + 500 + 8 + 579.15), so the
# correction is carried into it: 4056.95.  The 110.83% completion rate still holds within rounding.
_SEED_FIX = (("579.15 万元", "578.95 万元"), ("4057.15 万元", "4056.95 万元"))


def seed_base_text() -> str:
    """The seed report with its slip corrected, so that every relation it states holds."""
    text = seed_text()
    for old, new in _SEED_FIX:
        if text.count(old) != 1:
            raise ValueError(f"seed text changed: expected {old!r} once")
        text = text.replace(old, new)
    return text


def _money(cents: int, unit: str) -> str:
    # 元 with thousands separators, as 决算 tables print them; 万元 plain, trailing zeros dropped
    s = f"{cents / 100:,.2f}" if unit == "元" else f"{cents / 100:.2f}"
    return s.rstrip("0").rstrip(".")


def _pct(x: Fraction, decimals: int) -> str:
    return f"{float(round(x, decimals)):.{decimals}f}"


def finance_text(rng: random.Random, unit: str = "万元") -> str:
    """A 部门决算情况说明 built from random figures that agree within rounding: breakdowns, shares, growth
    on the prior year, an execution rate, a surplus, an identity (净资产) and head counts.

    The seed states no shares and no growth on a printed prior-year figure; this base does, with figures
    varied from one seed to the next, in 万元 or in 元 (with thousands separators).  Amounts are drawn in
    cents of the unit, so sums and differences are exact and the percentages are the true ratios rounded.
    """
    k = 10000 if unit == "元" else 1

    def draw(lo: int, hi: int) -> int:
        return rng.randint(lo * k, hi * k)

    def m(cents: int) -> str:
        return f"{_money(cents, unit)} {unit}"

    r1, r2, r3 = draw(100000, 500000), draw(5000, 50000), draw(500, 8000)
    r = r1 + r2 + r3
    rp = round(r / (1 + rng.choice([-1, 1]) * rng.uniform(0.02, 0.15)))
    g = Fraction(r - rp, rp) * 100
    e1, e2 = draw(60000, 300000), draw(20000, 200000)
    e = e1 + e2
    b = (e * (100 + rng.randint(2, 8)) // 100 // 100 + 1) * 100  # budget in whole units, above spending
    a = draw(100000, 400000)
    li = rng.randint(10000 * k, a // 2)
    m1, m2 = rng.randint(15, 60), rng.randint(3, 25)
    t1, t2 = draw(100, 1500), draw(1000, 5000)
    t = t1 + t2
    tp = round(t / (1 - rng.uniform(0.03, 0.2)))
    return f"""2021 年度望城区城市管理局部门决算情况说明

一、收入支出决算总体情况

本年收入总计 {m(r)}，较上年 {m(rp)}{"增长" if g > 0 else "下降"} {_pct(abs(g), 2)}%。其中：财政拨款收入 {m(r1)}，事业收入 {m(r2)}，其他收入 {m(r3)}。

本年支出合计 {m(e)}，其中：基本支出 {m(e1)}，占本年支出合计的 {_pct(Fraction(e1, e) * 100, 2)}%；项目支出 {m(e2)}，占本年支出合计的 {_pct(Fraction(e2, e) * 100, 2)}%。

二、预算执行情况

本年度支出预算 {m(b)}，实际支出 {m(e)}，结余 {m(b - e)}，预算执行率 {_pct(Fraction(e, b) * 100, 2)}%。

三、资产负债情况

年末资产总额 {m(a)}，负债总额 {m(li)}，净资产 {m(a - li)}。

四、人员情况

编制 {m1 + m2 + rng.randint(0, 5)} 人，实有人数 {m1 + m2} 人，其中：在职人员 {m1} 人，退休人员 {m2} 人。

五、“三公”经费支出情况

“三公”经费支出 {m(t)}，较上年 {m(tp)}下降 {_pct(Fraction(tp - t, tp) * 100, rng.choice([0, 1, 2]))}%，其中：公务接待费 {m(t1)}，公务用车运行维护费 {m(t2)}。

望城区城市管理局

2022年3月1日
"""


def base_specs(finance: int = 3) -> list[tuple[str, list[Block]]]:
    """(name, blocks) of the default bases: the corrected seed, the 自评表, `finance` 决算 reports
    (every other one in 元)."""
    specs = [("seed", blocks_from_text(seed_base_text())), ("selfeval", selfeval_blocks())]
    for i in range(finance):
        unit = "元" if i % 2 else "万元"
        specs.append(
            (
                f"finance{i}" + ("-yuan" if unit == "元" else ""),
                blocks_from_text(finance_text(random.Random(i), unit)),
            )
        )
    return specs


def default_bases(finance: int = 3) -> list[Base]:
    """The bases of `base_specs`, rendered and extracted (about a second each)."""
    return [build_base(name, blocks) for name, blocks in base_specs(finance)]


def categories(bases: list[Base]) -> list[str]:
    """Rule kinds the bases offer, with table relations apart: "sum", "sum/table", …"""
    return sorted({_category(b, c) for b in bases for c in b.checks})


def _category(base: Base, ref: Ref) -> str:
    return ref.rule + ("/table" if base.figures[ref.figures[0]].table else "")


# --- locating a figure in the blocks -------------------------------------------------------------


def _texts(blocks: list[Block]) -> Iterator[tuple[tuple[int, int, int], str, bool]]:
    """Every printed text in reading order: (block, row, col), text, is-a-table-cell."""
    for bi, b in enumerate(blocks):
        if b.kind != "table":
            yield (bi, -1, -1), b.text, False
            continue
        hidden = {
            (r, c)
            for r0, c0, r1, c1 in b.spans or []
            for r in range(r0, r1 + 1)
            for c in range(c0, c1 + 1)
            if (r, c) != (r0, c0)
        }
        for r, row in enumerate(b.rows or []):
            for c, cell in enumerate(row):
                if (r, c) not in hidden:
                    yield (bi, r, c), cell, True


def _occurrences(blocks: list[Block], num: str, suffix: str) -> list[tuple[tuple[int, int, int], int, int]]:
    """Where `num` followed by `suffix` is printed, in reading order: (place, start, end of the number)."""
    out = []
    at = re.compile(rf"(?<![\d.,]){re.escape(num)}(?![\d,])(?!\.\d)")
    for place, text, cell in _texts(blocks):
        if suffix == "":  # a bare table cell: the whole cell is the number
            if cell and text.strip() == num:
                s = text.index(num)
                out.append((place, s, s + len(num)))
            continue
        for m in at.finditer(text):
            if re.match(rf"\s*{re.escape(suffix)}", text[m.end() :]):
                out.append((place, m.start(), m.end()))
    return out


def _locate(base: Base, i: int) -> tuple[tuple[int, int, int], int, int] | None:
    """The printed place of figure i: the n-th occurrence of its number+unit, when the blocks print that
    number+unit exactly as often as the extraction found it (otherwise the count is ambiguous)."""
    f = base.figures[i]
    if f.num is None or f.suffix is None:
        return None
    same = [j for j, g in enumerate(base.figures) if (g.num, g.suffix) == (f.num, f.suffix)]
    occ = _occurrences(base.blocks, f.num, f.suffix)
    if len(occ) != len(same):
        return None
    return occ[same.index(i)]


def _replace(blocks: list[Block], where: tuple[tuple[int, int, int], int, int], new: str) -> list[Block]:
    out = copy.deepcopy(blocks)
    (bi, r, c), s, e = where
    b = out[bi]
    if r < 0:
        b.text = b.text[:s] + new + b.text[e:]
    else:
        assert b.rows is not None
        cell = b.rows[r][c]
        b.rows[r][c] = cell[:s] + new + cell[e:]
    return out


def _context(blocks: list[Block], where: tuple[tuple[int, int, int], int, int], width: int = 24) -> str:
    (bi, r, c), s, e = where
    b = blocks[bi]
    text = b.text if r < 0 else (b.rows or [])[r][c]
    return text[max(0, s - width) : e + 8].replace("\n", " ")


# --- planting ------------------------------------------------------------------------------------


@dataclass
class Change:
    figure: int  # base figure index
    old: str  # printed number before and after
    new: str
    value: Fraction  # new value in the figure's own unit
    label: str
    context: str  # the printed words around the figure, before the change


@dataclass
class Planted:
    """One report to extract: a base re-rendered, with one planted change (None: a clean variant)."""

    base: str
    category: str  # rule kind of the check that was broken ("sum/table" …); "clean" for clean variants
    layout: str
    header: str | None
    blocks: list[Block]
    figures: list[Fig]  # the base's figures, to align the new extraction with
    base_checks: list[Ref]
    change: Change | None = None
    target: Ref | None = None  # the check chosen to break
    must_fail: list[Ref] = field(default_factory=list)  # base checks the change breaks, by arithmetic
    still_hold: list[Ref] = field(default_factory=list)  # base checks involving the figure that still hold
    # filled by evaluate():
    done: bool = False
    failing: list[str] = field(default_factory=list)  # every failing check: "rule: message"
    missed: list[tuple[str, str]] = field(default_factory=list)  # must-fail check, what the pipeline said
    false_alarms: list[str] = field(default_factory=list)  # failing checks not involving the change
    spurious: list[str] = field(default_factory=list)  # fail where the arithmetic says it still holds
    lost: list[str] = field(default_factory=list)  # base checks that still hold but are no longer passed
    flagged: bool = False  # some failing check involves the changed figure (the reviewer is led to it)
    aligned: bool = True  # the extraction found the same figures as the base (but the changed one)
    seconds: float = 0.0

    @property
    def caught(self) -> bool:
        """Every check the change breaks is reported as failing."""
        return self.done and self.change is not None and not self.missed

    @property
    def target_caught(self) -> bool:
        """The check chosen to break is reported as failing (its neighbours may not be)."""
        t = self.target
        return self.caught or (
            self.done and t is not None and all(m[0] != f"{t.rule}: {t.message}" for m in self.missed)
        )


def _new_values(f: Fig, rng: random.Random) -> Iterator[Fraction]:
    """Candidate printed values: big enough to break rounding, small enough to look like a slip."""
    step = Fraction(1, 10**f.decimals)
    if f.kind == "amount":
        top = max(3, math.floor(f.value * Fraction(3, 100) / step))  # up to about 3 %
        lo = 1
        for _ in range(16):
            k = round(math.exp(rng.uniform(math.log(lo), math.log(max(top, lo + 1)))))
            yield f.value + rng.choice([-1, 1]) * k * step
            lo = min(lo * 2, top)  # too small to break the relation: go bigger
    elif f.kind == "percent":
        for _ in range(16):  # at least one point, at most three
            k = rng.randint(math.ceil(1 / step), math.floor(3 / step))
            yield f.value + rng.choice([-1, 1]) * k * step
    else:  # counts and scores are exact: 1–3
        for _ in range(16):
            yield f.value + rng.choice([-1, 1]) * rng.randint(1, 3)


def _fmt(f: Fig, value: Fraction) -> str:
    s = f"{float(value):.{f.decimals}f}"
    if f.num and "," in f.num:
        whole, _, frac = s.partition(".")
        s = f"{int(whole):,}" + (f".{frac}" if frac else "")
    return s


def _accidental(base: Base, i: int, value: Fraction) -> bool:
    """Would the new value fit some other relation by chance, or look like another printed figure?

    A planted slip that another rule can read as correct (a rate equal to some other ratio of the
    paragraph, an amount equal to some other sum or difference) measures the rule search, not the error.
    """
    f = base.figures[i]
    finest = base.finest()
    text = _fmt(f, value)
    if any(g.num == text and g.kind == f.kind for g in base.figures):
        return True
    mine = _interval(f, finest, value)
    near = [
        g for j, g in enumerate(base.figures) if j != i and g.kind == "amount" and g.paragraph == f.paragraph
    ]
    ivs = [_interval(g, finest) for g in near]
    for ia, a in enumerate(ivs):
        for ib, b in enumerate(ivs):
            if ia == ib:
                continue
            if f.kind == "percent":
                r = _ratio(a, b)
                if r and (
                    _overlap(r, mine)
                    or _overlap((r[0] - 100, r[1] - 100), mine)
                    or _overlap((100 - r[1], 100 - r[0]), mine)
                ):
                    return True
            elif f.kind == "amount" and (
                _overlap((a[0] + b[0], a[1] + b[1]), mine) or _overlap((a[0] - b[1], a[1] - b[0]), mine)
            ):
                return True
    return False


def _candidates(base: Base, ref: Ref, rng: random.Random, role: str | None = None) -> list[int]:
    """Figures of the check worth changing, those printed in exactly one place first."""
    members = list(ref.figures[:1]) if ref.rule == "count" else list(ref.figures)  # listed items do not count
    if role == "result":
        members = members[:1]
    elif role == "operand":
        members = members[1:]
    rng.shuffle(members)

    def printed_once(i: int) -> bool:
        f = base.figures[i]
        return sum(1 for g in base.figures if (g.kind, g.unit, g.value) == (f.kind, f.unit, f.value)) == 1

    return sorted(members, key=lambda i: not printed_once(i))


def plan(
    base: Base,
    rule: str,
    rng: random.Random,
    layout: str | None = None,
    exact: bool = False,
    role: str | None = None,
    ref: Ref | None = None,
) -> Planted | None:
    """Choose a passing check of kind `rule`, a figure of it and a new value that breaks it; return the
    report to extract, or None when the base offers no such check.

    `rule` is a check rule ("sum": in prose or tables) or a category ("sum/table"); `exact` restricts a
    plain rule to prose, as `categories` names them.  `role` "result" or "operand" says which figure of
    the check to change (default: either); `ref` names the very check to break.
    """
    refs = (
        [ref]
        if ref is not None
        else [r for r in base.checks if _category(base, r) == rule or (not exact and r.rule == rule)]
    )
    rng.shuffle(refs)
    for target in refs:
        for i in _candidates(base, target, rng, role):
            where = _locate(base, i)
            if where is None:
                continue
            f = base.figures[i]
            for value in _new_values(f, rng):
                if value < 0 or (f.kind in ("count", "score") and value < 1) or value == f.value:
                    continue
                if holds(base, target, i, value) or _accidental(base, i, value):
                    continue
                involved = [r for r in base.checks if i in r.figures]
                new = _fmt(f, value)
                return Planted(
                    base=base.name,
                    category=_category(base, target),
                    layout=layout or rng.choice(sorted(LAYOUTS)),
                    header=rng.choice([None, UNIT]),
                    blocks=_replace(base.blocks, where, new),
                    figures=base.figures,
                    base_checks=base.checks,
                    change=Change(i, f.num or "", new, value, f.label, _context(base.blocks, where)),
                    target=target,
                    must_fail=[r for r in involved if not holds(base, r, i, value)],
                    still_hold=[r for r in involved if holds(base, r, i, value)],
                )
    return None


def _align(base: list[Fig], report: Report, change: Change | None) -> tuple[dict[str, int], bool]:
    """Map the new extraction's figure ids to base figure indexes (reading order, values compared)."""

    def key(kind: str, unit: str, value: Fraction) -> tuple[str, str, Fraction]:
        return kind, unit, value

    want = [
        key(f.kind, f.unit, change.value if change and i == change.figure else f.value)
        for i, f in enumerate(base)
    ]
    got = [key(f.kind, f.unit, Fraction(str(f.value))) for f in report.figures]
    if want == got:
        return {f.id: i for i, f in enumerate(report.figures)}, True
    m = difflib.SequenceMatcher(None, want, got, autojunk=False)
    out: dict[str, int] = {}
    for a, b, n in m.get_matching_blocks():
        for k in range(n):
            out[report.figures[b + k].id] = a + k
    return out, False


def evaluate(p: Planted) -> Planted:
    """Render, extract and score one report: caught / missed / false alarms."""
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        report = extract(render_pdf(p.blocks, Path(tmp) / "planted.pdf", p.layout, header=p.header))
    ids, p.aligned = _align(p.figures, report, p.change)
    changed = p.change.figure if p.change else None
    got: dict[tuple, list[str]] = {}  # check key → statuses reported
    by_result: dict[int, list[str]] = {}  # base index of a result → what was said about it
    fails: list[tuple[set[int | None], str]] = []  # failing checks by the base figures they involve
    # (family, result) of each failing check: another reading of the same statement failing catches it
    failed_statements: set[tuple[str, int]] = set()
    for c in report.checks:
        idx = [ids.get(fid) for fid in c.figures]
        text = f"{c.rule} {c.status}: {c.message}"
        if c.status == "fail":
            p.failing.append(text)
        if idx and idx[0] is not None:
            by_result.setdefault(idx[0], []).append(text)
        if c.status == "fail":
            fails.append((set(idx), text))
            if idx and idx[0] is not None:
                failed_statements.add((_FAMILY.get(c.rule, c.rule), idx[0]))
        if None in idx:
            if c.status == "fail" and not _involves_new(report, c, p.change):
                p.false_alarms.append(text + "  [figures not in the base]")
            elif c.status == "fail":
                p.flagged = True
            continue
        ref = Ref(c.rule, tuple(i for i in idx if i is not None))
        got.setdefault(ref.key, []).append(c.status)
        if c.status != "fail":
            continue
        if changed is None or changed not in ref.figures:
            p.false_alarms.append(text)
            continue
        p.flagged = True
        if any(r.key == ref.key for r in p.still_hold):
            p.spurious.append(text)
    for r in p.must_fail:
        said = got.get(r.key)
        if (not said or "fail" not in said) and (
            _FAMILY.get(r.rule, r.rule),
            r.figures[0],
        ) in failed_statements:
            continue  # the statement is reported failing under the reading its wording pins
        if not said or "fail" not in said:
            # what the pipeline said instead about the same stated result, if anything
            near = by_result.get(r.figures[0]) or [t for figs, t in fails if figs & set(r.figures)]
            instead = " | ".join(near) or "nothing"
            p.missed.append(
                (f"{r.rule}: {r.message}", ",".join(said) if said else f"not reported; instead: {instead}")
            )
    # relations that still hold but are no longer verified (a broken neighbour took their evidence away)
    broken = {r.key for r in p.must_fail}
    p.lost = [
        f"{r.rule}: {r.message}"
        for r in p.base_checks
        if r.key not in broken and "pass" not in got.get(r.key, [])
    ]
    p.done, p.seconds = True, time.perf_counter() - t0
    return p


def _involves_new(report: Report, c, change: Change | None) -> bool:
    """A check on figures the alignment could not map: does it involve a figure printed with the new value?"""
    if change is None:
        return False
    return any(Fraction(str(report.figure(fid).value)) == change.value for fid in c.figures)


def plant(
    base: Base,
    rule: str,
    rng: random.Random,
    layout: str | None = None,
    role: str | None = None,
    ref: Ref | None = None,
) -> Planted | None:
    """Plan one planted error and evaluate it (arguments as `plan`)."""
    p = plan(base, rule, rng, layout, role=role, ref=ref)
    return evaluate(p) if p else None


def plans(n: int, seed: int = 0, bases: list[Base] | None = None) -> Iterator[Planted]:
    """`n` planted errors, round-robin over the rule kinds the bases offer (not yet evaluated)."""
    bases = bases if bases is not None else default_bases()
    rng = random.Random(seed)
    kinds = categories(bases)
    made = tries = 0
    while made < n and tries < n * 4:
        kind = kinds[tries % len(kinds)]
        tries += 1
        offering = [b for b in bases if any(_category(b, r) == kind for r in b.checks)]
        p = plan(rng.choice(offering), kind, rng, exact=True)
        if p is not None:
            made += 1
            yield p


def generate(n: int, seed: int = 0, bases: list[Base] | None = None) -> Iterator[Planted]:
    """`n` planted errors across rule kinds, each extracted and scored."""
    for p in plans(n, seed, bases):
        yield evaluate(p)


def clean_plans(n: int, seed: int = 0, bases: list[Base] | None = None) -> Iterator[Planted]:
    """`n` consistent reports: the bases in turn, each in a random layout and header (not yet evaluated)."""
    bases = bases if bases is not None else default_bases()
    rng = random.Random(seed)
    for k in range(n):
        b = bases[k % len(bases)]
        yield Planted(
            b.name,
            "clean",
            rng.choice(sorted(LAYOUTS)),
            rng.choice([None, UNIT]),
            copy.deepcopy(b.blocks),
            b.figures,
            b.checks,
        )


def clean_variants(n: int, seed: int = 0, bases: list[Base] | None = None) -> Iterator[Planted]:
    """Clean reports extracted: every failing check on them is a false alarm."""
    for p in clean_plans(n, seed, bases):
        yield evaluate(p)
