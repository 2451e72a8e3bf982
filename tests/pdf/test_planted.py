"""testkit.planted: what must fail is decided by arithmetic; one planted slip per rule kind is caught
without a false alarm; clean re-renderings raise no alarm; known reconciliation misses stay visible."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from testkit import planted as P
from testkit.synth import seed_text


@pytest.fixture(scope="module")
def bases() -> dict[str, P.Base]:
    return {b.name: b for b in P.default_bases(finance=1)}


def _ref(base: P.Base, rule: str, words: str) -> P.Ref:
    found = [r for r in base.checks if r.rule == rule and words in r.message]
    assert len(found) == 1, [r.message for r in base.checks if r.rule == rule]
    return found[0]


def _fig(value: str, decimals: int, kind: str = "amount", unit: str = "万元") -> P.Fig:
    return P.Fig(kind, unit, Fraction(value), decimals, value, "", 0, False, value, unit)


# --- arithmetic, independent of the pipeline -------------------------------------------------------


def test_rounding_as_the_readme_states() -> None:
    # 390.55 + 190.89 = 581.44 can make 581.45 (each ±0.005): consistent
    b = P.Base("t", [], [_fig("390.55", 2), _fig("190.89", 2), _fig("581.45", 2)], [])
    assert P.holds(b, P.Ref("sum", (2, 0, 1)))
    # 581.47 is out of reach (581.43–581.45 against 581.465–581.475)
    assert not P.holds(b, P.Ref("sum", (2, 0, 1)), 2, Fraction("581.47"))
    # a whole-number amount in a document that prints cents stands for ±0.005, not ±0.5; bounds are inclusive
    b = P.Base("t", [], [_fig("3698", 0), _fig("3697.98", 2), _fig("3697.99", 2)], [])
    assert not P.holds(b, P.Ref("repeat", (0, 1)))
    assert P.holds(b, P.Ref("repeat", (0, 2)))
    # a percentage is ± half its own last decimal; a score is exact
    pct = P.Base("t", [], [_fig("15.84", 2, "percent", "%"), _fig("959.98", 2), _fig("828.69", 2)], [])
    assert P.holds(pct, P.Ref("growth", (0, 1, 2)))
    assert not P.holds(pct, P.Ref("growth", (0, 1, 2)), 0, Fraction("15.86"))
    score = P.Base("t", [], [_fig("11", 0, "score", "分"), _fig("10", 0, "score", "分")], [])
    assert not P.holds(score, P.Ref("score_cap", (0, 1)))


def test_bases_are_consistent(bases: dict[str, P.Base]) -> None:
    assert set(bases) == {"seed", "selfeval", "finance0"}
    for b in bases.values():
        assert not b.failing, (b.name, b.failing)
        assert not b.unmodelled, (b.name, b.unmodelled)  # every passing check is confirmed by arithmetic here
        assert len(b.checks) >= 10
    # the seed's slip is corrected, and carried into the total it feeds
    assert "579.15" in seed_text() and "579.15" not in P.seed_base_text()
    ten = _ref(bases["seed"], "sum", "所列 10 项")
    assert bases["seed"].figures[ten.figures[0]].value == Fraction("578.95")
    assert not P.holds(
        bases["seed"], ten, ten.figures[0], Fraction("579.15")
    )  # the slip, as the README judges it
    assert P.categories(list(bases.values())) == [
        "count",
        "difference",
        "growth",
        "ratio",
        "ratio/table",
        "ratio_sum",
        "score_cap/table",
        "sum",
        "sum/table",
    ]


def test_occurrence_order_locates_repeated_numbers(bases: dict[str, P.Base]) -> None:
    seed = bases["seed"]
    same = [i for i, f in enumerate(seed.figures) if f.num == "2970"]
    assert len(same) == 4  # 2970 万元 printed four times
    places = [P._locate(seed, i) for i in same]
    assert all(places) and places == sorted(places) and len(set(places)) == 4


def test_the_generator_records_must_fail_checks_from_arithmetic(bases: dict[str, P.Base]) -> None:
    by_name = list(bases.values())
    for p in P.plans(18, seed=3, bases=by_name):
        base, c = bases[p.base], p.change
        assert c is not None and p.target is not None
        f = base.figures[c.figure]
        assert p.target in p.must_fail
        for r in p.must_fail:
            assert P.holds(base, r) and not P.holds(base, r, c.figure, c.value)
        for r in p.still_hold:
            assert P.holds(base, r, c.figure, c.value)
        assert {r.key for r in p.must_fail + p.still_hold} == {
            r.key for r in base.checks if c.figure in r.figures
        }
        # same printed format, a slip of plausible size
        assert len(c.new.partition(".")[2]) == f.decimals and c.new != c.old
        step = Fraction(1, 10**f.decimals)
        delta = abs(c.value - f.value)
        if f.kind == "percent":
            assert 1 <= delta <= 3
        elif f.kind in ("count", "score"):
            assert 1 <= delta <= 3
        else:
            assert step <= delta <= max(3 * step, f.value * Fraction(3, 100))
        # exactly one printed place changed, and only its number
        before = [t for _, t, _ in P._texts(base.blocks)]
        after = [t for _, t, _ in P._texts(p.blocks)]
        diff = [(a, b) for a, b in zip(before, after) if a != b]
        assert len(diff) == 1
        was, now = diff[0]
        starts = [i for i in range(len(was)) if was.startswith(c.old, i)]
        assert now in {was[:i] + c.new + was[i + len(c.old) :] for i in starts}


# --- the pipeline on planted and clean reports -------------------------------------------------------

# one slip per rule kind the seed, the 自评表 and a 决算 report state, in the stated result
CAUGHT = [
    ("seed", "sum", "所列 10 项"),
    ("seed", "difference", "超预算"),
    ("seed", "growth", "增幅"),
    ("seed", "count", "其后列出 10 项"),
    ("selfeval", "ratio", "基本支出执行率"),
    ("selfeval", "score_cap", "垃圾分类投放精准度"),
    ("selfeval", "sum", "总分得分"),
    ("finance0", "ratio", "基本支出占比"),
    ("finance0", "difference", "净资产"),
    ("finance0", "growth", ""),  # the first: 本年收入 on the prior year
]


@pytest.mark.parametrize(("name", "rule", "words"), CAUGHT, ids=[f"{n}-{r}" for n, r, _ in CAUGHT])
def test_a_planted_slip_is_caught_without_false_alarm(
    bases: dict[str, P.Base], name: str, rule: str, words: str
) -> None:
    base = bases[name]
    target = _ref(base, rule, words) if words else [r for r in base.checks if r.rule == rule][0]
    p = P.plant(base, rule, random.Random(7), ref=target, role="result")
    assert p is not None and p.done and p.aligned
    assert p.caught, p.missed
    assert not p.false_alarms and not p.spurious
    assert any(f.startswith(f"{rule} fail") for f in p.failing)


def test_an_operand_slip_is_caught_in_a_breakdown_and_a_table(bases: dict[str, P.Base]) -> None:
    for name, rule, words in [("seed", "sum", "所列 10 项"), ("selfeval", "sum", "资金总额全年执行数")]:
        base = bases[name]
        p = P.plant(base, rule, random.Random(11), ref=_ref(base, rule, words), role="operand")
        assert p is not None and p.caught and not p.false_alarms, (p.missed, p.false_alarms)


def test_clean_variants_raise_no_alarm(bases: dict[str, P.Base]) -> None:
    variants = list(P.clean_variants(6, seed=5, bases=list(bases.values())))
    assert {p.base for p in variants} == set(bases)
    assert len({p.layout for p in variants}) >= 2
    for p in variants:
        assert p.aligned and not p.failing and not p.lost, (p.base, p.layout, p.failing, p.lost)


# --- reconciliation misses found by the generator: strict xfail, so a fix shows up here -----------------


def test_a_wrong_completion_rate_is_caught(bases: dict[str, P.Base]) -> None:
    base = bases["seed"]
    p = P.plant(
        base, "ratio_sum", random.Random(1), ref=_ref(base, "ratio_sum", "实际预算完成率"), role="result"
    )
    assert p is not None and p.caught, p.missed


def test_a_wrong_operand_of_a_growth_is_caught(bases: dict[str, P.Base]) -> None:
    base = bases["seed"]
    p = P.plant(base, "growth", random.Random(1), ref=_ref(base, "growth", "增幅"), role="operand")
    assert p is not None and p.caught, p.missed


def test_a_wrong_total_before_a_prior_year_figure_is_caught(bases: dict[str, P.Base]) -> None:
    base = bases["finance0"]
    p = P.plant(base, "sum", random.Random(1), ref=_ref(base, "sum", "三公"), role="result")
    assert p is not None and p.caught and not p.false_alarms, (p.missed, p.false_alarms)


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="breakdown._stated reads '实际完成58万元，其中…50万元' "
    "with 决算支出 8 万元 beside it as a guess (strict=False): when it does not add up it is dropped",
)
def test_a_wrong_part_of_a_one_part_breakdown_is_caught(bases: dict[str, P.Base]) -> None:
    base = bases["seed"]
    p = P.plant(
        base, "sum", random.Random(1), ref=_ref(base, "sum", "公共机构节能及配套实际完成"), role="operand"
    )
    assert p is not None and p.caught, p.missed
