"""Readings, not single guesses: what a statement may mean, and how it is judged.

A detector turns a statement of the report into a `Claim`: the figure it states (the result) and the
candidate `Relation`s its words allow — which figure is the total and which the parts, which the prior
year's figure and which the change — most likely first. The claim is judged on intervals:
- some reading holds → `pass`, with the reading that holds;
- none holds and the wording pins the reading down (`pinned`) → `fail`, with the pinned reading;
- none holds, the words state a relation but do not pin it → `unverifiable`, with the readings tried;
- none holds and the relation was only found by arithmetic (`stated` False) → nothing: a guess that does
  not add up says nothing about the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..model import Figure


@dataclass
class Relation:
    """One reading: an arithmetic relation between figures, before it is verified."""

    rule: str  # sum, difference, ratio, ratio_sum, growth, change_rate, count, repeat, score_cap
    result: Figure
    operands: list[Figure] = field(default_factory=list)
    numerator: list[Figure] = field(default_factory=list)
    denominator: list[Figure] = field(default_factory=list)
    minus: list[Figure] = field(default_factory=list)  # a sum's terms taken away (年初 + 追加 − 调减)
    evidence: str = ""
    kind: str | None = None  # the arithmetic when it differs from the rule's name
    direction: int = 1  # a rate stated as 下降: the rate is the negative of the arithmetic
    count: int | None = None  # for count relations: how many items are listed
    reading: str = ""  # how the roles were read, for the reviewer (Δ ÷ (本年 − Δ))
    fallback: bool = False  # kept only when no other reading of its claim holds

    @property
    def members(self) -> list[Figure]:
        return self.operands + self.numerator + self.denominator + self.minus

    @property
    def arithmetic(self) -> str:
        return self.kind or self.rule


@dataclass
class Claim:
    """A statement of the report and the readings its words allow, most likely first."""

    result: Figure
    readings: list[Relation]
    detector: str
    evidence: str = ""
    pinned: bool = False  # the wording fixes readings[0]: when nothing holds, that is a slip
    stated: bool = True  # the words state a relation; False: found by arithmetic alone
    all_that_hold: bool = (
        False  # keep up to two readings that hold (a rate stated with its change and its base)
    )


@dataclass(frozen=True)
class Detector:
    name: str
    find: Callable[..., list[Claim]]
    reads: tuple[str, ...]  # what of the context it reads: items, groups, tables, sections
    doc: str


DETECTORS: list[Detector] = []


def detector(
    name: str, reads: tuple[str, ...]
) -> Callable[[Callable[..., list[Claim]]], Callable[..., list[Claim]]]:
    """Register a detector: a function Context → claims that reads only what it declares."""

    def wrap(fn: Callable[..., list[Claim]]) -> Callable[..., list[Claim]]:
        if any(d.name == name for d in DETECTORS):
            raise ValueError(f"detector {name!r} registered twice")
        DETECTORS.append(Detector(name, fn, reads, (fn.__doc__ or "").strip().split("\n")[0]))
        return fn

    return wrap
