"""Reconciliation: rounding edge cases, and every rule kind on real text."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.extract import extract
from pipeline.model import Figure, Report, Source
from pipeline.reconcile import Context, Relation
from pipeline.reconcile.verify import evaluate
from pipeline.vocabulary import yuan_per
from testkit.pdfs import draw


def fig(fid: str, value: float, unit: str = "万元", text: str | None = None) -> Figure:
    text = text or f"{value}{unit}"
    number = text.rstrip("万元%人分")
    decimals = len(number.split(".")[1]) if "." in number else 0
    kind = {"%": "percent", "人": "count", "分": "score"}.get(unit, "amount")
    factor = yuan_per().get(unit)
    return Figure(
        id=fid,
        kind=kind,
        value=value,
        unit=unit,
        text=text,
        page=1,
        bbox=None,
        section=None,
        decimals=decimals,
        value_yuan=value * factor if factor else None,
    )


def verdict(figures: list[Figure], rel: Relation) -> str:
    report = Report(source=Source("t.pdf", "0" * 64, 1), figures=figures)
    return evaluate(Context(report), rel).status


def test_rounded_percentage_holds_within_half_its_last_decimal() -> None:
    num, den = fig("a", 121.86, text="121.86"), fig("b", 833.84, text="833.84")
    assert (
        verdict(
            [num, den, fig("r", 14.61, "%", "14.61%")],
            Relation("ratio", fig("r", 14.61, "%", "14.61%"), [num, den]),
        )
        == "pass"
    )
    # 121.865 / 833.835 is 14.6150…: 14.62 (from 14.615) is still reachable, 14.63 is not
    edge = fig("e", 14.62, "%", "14.62%")
    assert verdict([num, den, edge], Relation("ratio", edge, [num, den])) == "pass"
    r = fig("r", 14.63, "%", "14.63%")
    assert verdict([num, den, r], Relation("ratio", r, [num, den])) == "fail"
    whole = fig("w", 15, "%", "15%")  # 14.61 rounds to 15 at whole-number precision
    assert verdict([num, den, whole], Relation("ratio", whole, [num, den])) == "pass"


def test_sum_of_many_rounded_parts() -> None:
    values = [227.33, 182, 53.35, 65.99, 0.3, 1.65, 8, 2, 33.66, 4.67]
    parts = [fig(f"p{i}", v, text=f"{v}万元") for i, v in enumerate(values)]
    stated = fig("t", 579.15, text="579.15万元")
    assert verdict([*parts, stated], Relation("sum", stated, parts)) == "fail"
    # rounded parts may add up to one cent off the rounded total and still be consistent
    a, b, t = (
        fig("a", 390.55, text="390.55万元"),
        fig("b", 190.89, text="190.89万元"),
        fig("t", 581.45, text="581.45万元"),
    )
    assert verdict([a, b, t], Relation("sum", t, [a, b])) == "pass"


def test_whole_amount_beside_finer_ones_is_read_at_the_finest_precision() -> None:
    parts = [
        fig("a", 2970, text="2970万元"),
        fig("b", 670, text="670万元"),
        fig("c", 57.97, text="57.97万元"),
    ]
    total = fig("t", 3698, text="3698万元")
    # the document prints cents (57.97, 828.69), so 3698 万元 means 3698.00
    finer = [*parts, total, fig("x", 828.69, text="828.69万元")]
    assert verdict(finer, Relation("sum", total, parts)) == "fail"
    # had it printed whole 万元 only, 3698 would stand for 3697.5–3698.5
    coarse = [fig("a", 2970, text="2970万元"), fig("b", 670, text="670万元"), fig("c", 58, text="58万元")]
    near = fig("t", 3698, text="3698万元")
    assert verdict([*coarse, near], Relation("sum", near, coarse)) == "pass"


def test_head_counts_are_exact() -> None:
    parts = [fig("a", 7, "人", "7人"), fig("b", 4, "人", "4人"), fig("c", 13, "人", "13人")]
    total = fig("t", 25, "人", "25人")
    assert verdict([*parts, total], Relation("sum", total, parts)) == "fail"


def test_mixed_units_are_converted_before_comparing() -> None:
    a, b = fig("a", 1.2, "亿元", "1.2亿元"), fig("b", 5000, "万元", "5000万元")
    t = fig("t", 17000, "万元", "17000万元")
    assert verdict([a, b, t], Relation("sum", t, [a, b])) == "pass"


@pytest.fixture
def checks(corpus_case, extracted):
    """`checks(case)`: the checks reconciliation found in one dev-corpus case."""
    return lambda case: extracted(corpus_case(case)).checks


def find(checks_: list, rule: str, stated: float) -> object:
    return next(c for c in checks_ if c.rule == rule and c.stated == stated)


@pytest.mark.corpus
def test_seed_breakdowns_and_the_one_slip(checks) -> None:
    cs = checks("seed-gov")
    failing = [c for c in cs if c.status == "fail"]
    assert len(failing) == 1
    slip = failing[0]
    assert slip.rule == "sum" and len(slip.figures) == 11
    assert slip.message.startswith("临时专款专用的一般专项：所列 10 项（227.33万元 + 182万元 + ")
    assert slip.message.endswith(" + …）合计 578.95 万元，报告称 579.15 万元，相差 0.20 万元")
    assert (slip.expected, slip.stated) == (578.95, 579.15)
    assert find(cs, "sum", 959.98).status == "pass"  # 其中 after the sentence: the total its parts make
    assert find(cs, "sum", 4057.15).status == "pass"  # parts stop at the nested 包括
    assert find(cs, "sum", 11).status == "pass"  # （其中：…6 人；…5 人）


@pytest.mark.corpus
def test_seed_difference_growth_rates_and_counts(checks) -> None:
    cs = checks("seed-gov")
    assert find(cs, "difference", 131.29).status == "pass"
    growth = find(cs, "growth", 15.84)
    assert growth.status == "pass" and round(growth.expected, 2) == 15.84
    overall = find(cs, "ratio_sum", 110.83)
    assert overall.status == "pass" and len(overall.figures) == 5
    special = find(cs, "ratio_sum", 95.4)
    assert special.status == "pass"
    counts = sorted(c.stated for c in cs if c.rule == "count" and c.status == "pass")
    assert counts == [3, 10]


@pytest.mark.corpus
def test_identity_adjustment_and_stated_totals_on_a_real_report(checks) -> None:
    cs = checks("real-A01")
    assert find(cs, "difference", 680711.13).status == "pass"  # 净资产 = 资产总额 − 负债总额
    assert find(cs, "sum", 50687.35).status == "pass"  # 全年可执行预算合计 = 决算收入 + 上年结转
    adjusted = [c for c in cs if c.stated == 38953.21 and c.status == "pass"]
    assert adjusted  # 决算收入 = 年初预算收入 + 年内调整预算 (negative)
    fault = checks("real-A01-fault")
    assert find(fault, "sum", 54235.49).status == "fail"


@pytest.mark.corpus
def test_parallel_breakdowns_in_a_form(checks) -> None:
    cs = checks("real-B04")
    fails = sorted((c.stated, c.expected) for c in cs if c.status == "fail")
    assert fails == [(321.25, 322.25), (343, 344)]
    assert find(cs, "sum", 668).status == "pass"


@pytest.mark.corpus
def test_shares_and_a_complete_share_series(checks) -> None:
    cs = checks("real-B09")
    shares = [c for c in cs if c.rule == "ratio"]
    assert len(shares) == 8 and all(c.status == "pass" for c in shares)
    series = [c for c in cs if c.rule == "sum" and len(c.figures) == 6]
    assert len(series) == 1 and series[0].status == "pass"
    assert not [c for c in cs if c.status == "fail"]


@pytest.mark.corpus
def test_table_rules_and_a_planted_score(checks) -> None:
    cs = checks("table-seed")
    rates = [c for c in cs if c.rule == "ratio"]
    assert sorted(c.stated for c in rates) == [109.71, 110.83, 115.84]
    assert all(c.status == "pass" for c in cs)
    assert len([c for c in cs if c.rule == "score_cap"]) == 10  # nine rows and the 总分 row
    fault = [c for c in checks("table-seed-fault") if c.status == "fail"]
    assert [(c.rule, c.stated, c.expected) for c in fault] == [("sum", 96, 95)]


def test_a_quantity_restated_with_another_value(tmp_path: Path) -> None:
    pdf = draw(
        tmp_path / "repeat.pdf",
        [
            [
                "2022年度测试局部门整体支出绩效自评报告",
                "一、预算情况",
                "本年度基本支出预算120.50万元。",
                "二、存在的问题",
                "本年度基本支出预算125.50万元，执行中有所调整。",
            ]
        ],
    )
    report = extract(pdf)
    rep = [c for c in report.checks if c.rule == "repeat"]
    assert len(rep) == 1 and rep[0].status == "fail"
    assert "120.50" in rep[0].message and "第 1 页" in rep[0].message


@pytest.mark.parametrize(
    "line,status",
    [
        ("本年支出110万元，上年支出100万元，比上年增长10%。", "pass"),
        ("本年支出95万元，上年支出100万元，比上年下降5%。", "pass"),
        ("本年支出95万元，上年支出100万元，比上年下降8%。", "fail"),
        ("本年支出95万元，比上年下降8%。", "unverifiable"),
    ],
)
def test_growth_against_the_prior_year(tmp_path: Path, line: str, status: str) -> None:
    pdf = draw(tmp_path / "growth.pdf", [["2022年度测试局整体支出绩效自评报告", "一、支出情况", line]])
    growth = [c for c in extract(pdf).checks if c.rule == "growth"]
    assert [c.status for c in growth] == [status]


def test_a_breakdown_with_one_named_part_is_not_a_slip(tmp_path: Path) -> None:
    pdf = draw(
        tmp_path / "one.pdf",
        [
            [
                "2022年度测试局整体支出绩效自评报告",
                "离退休51人（含招待所退休人员22人）；遗属8人，本年度因其中一位去世减少1人。",
            ]
        ],
    )
    assert not [c for c in extract(pdf).checks if c.status == "fail"]


@pytest.mark.corpus
def test_every_check_names_its_figures_and_says_what_it_found(corpus_case, extracted) -> None:
    report = extracted(corpus_case("seed-gov"))
    ids = {f.id for f in report.figures}
    for c in report.checks:
        assert c.figures[0] == c.result and set(c.figures) <= ids
        assert c.message and c.status in ("pass", "fail", "unverifiable")
        if c.status == "fail":
            assert c.difference is not None and "相差" in c.message


def test_a_breakdown_ends_at_the_semicolon_that_closes_it(tmp_path: Path) -> None:
    pdf = draw(
        tmp_path / "semi.pdf",
        [
            [
                "2021年度测试局部门整体支出绩效自评报告",
                "年末在职人员1,235人，其中行政人员42人，事业人员1,193人；离退休人员560人。",
                "“三公”经费支出36.14万元，较上年38.19万元下降5.37%，其中：公务接待费5.47万元，",
                "公务用车运行维护费30.67万元。",
            ]
        ],
    )
    cs = extract(pdf).checks
    assert not [c for c in cs if c.status == "fail"]
    people = next(c for c in cs if c.rule == "sum" and c.stated == 1235)
    assert len(people.figures) == 3 and people.status == "pass"
    assert next(c for c in cs if c.rule == "sum" and c.stated == 36.14).status == "pass"  # not 38.19
    assert next(c for c in cs if c.rule == "growth").status == "pass"
