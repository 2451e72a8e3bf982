"""Verifying a relation between rounded figures, as XBRL Calculations 1.1 judges rounded facts.

A printed figure stands for an interval: a head count or a score is exact; a percentage is ± half a
unit of its own last printed decimal; an amount is ± half a unit of the finest decimal its document
prints in that unit (where a report prints 828.69 万元, its 3698 万元 is 3698.00).  A relation holds
when some true values inside those intervals satisfy it exactly.  Exact rationals keep the
boundaries honest (578.95 against 579.15 must not pass by float error).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction

from ..extract.prose.figures import yuan
from ..model import Figure


@dataclass(frozen=True)
class Interval:
    lo: Fraction
    hi: Fraction

    def __add__(self, other: Interval) -> Interval:
        return Interval(self.lo + other.lo, self.hi + other.hi)

    def __sub__(self, other: Interval) -> Interval:
        return Interval(self.lo - other.hi, self.hi - other.lo)

    def overlaps(self, other: Interval) -> bool:
        return self.lo <= other.hi and other.lo <= self.hi

    @property
    def mid(self) -> Fraction:
        return (self.lo + self.hi) / 2


def finest_decimals(figures: list[Figure]) -> dict[str, int]:
    """Per money unit, the most decimals the document prints."""
    out: dict[str, int] = defaultdict(int)
    for f in figures:
        if f.kind == "amount":
            out[f.unit] = max(out[f.unit], f.decimals)
    return out


def interval(f: Figure, finest: dict[str, int]) -> Interval:
    """The figure's interval in its comparable unit (元 for amounts)."""
    v = Fraction(str(f.value))
    if f.kind == "amount":
        factor = Fraction(str(yuan(1, f.unit) or 1))
        half = Fraction(1, 2 * 10 ** finest.get(f.unit, f.decimals))
        return Interval((v - half) * factor, (v + half) * factor)
    if f.kind == "percent":
        half = Fraction(1, 2 * 10**f.decimals)
        return Interval(v - half, v + half)
    return Interval(v, v)


def total(intervals: list[Interval]) -> Interval:
    out = Interval(Fraction(0), Fraction(0))
    for i in intervals:
        out = out + i
    return out


def ratio(num: Interval, den: Interval) -> Interval | None:
    """num / den × 100 as an interval; None when the denominator may be zero or negative."""
    if den.lo <= 0:
        return None
    lo = num.lo / den.hi if num.lo >= 0 else num.lo / den.lo
    hi = num.hi / den.lo if num.hi >= 0 else num.hi / den.hi
    return Interval(lo * 100, hi * 100)


def growth(current: Interval, prior: Interval) -> Interval | None:
    r = ratio(current, prior)
    return Interval(r.lo - 100, r.hi - 100) if r else None
