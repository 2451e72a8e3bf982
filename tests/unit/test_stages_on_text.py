"""Stages run on a Report built from a string (testkit.text), no PDF drawn: outline, metadata, figures,
and reconciliation's verdicts on sentences written here."""

from __future__ import annotations

from pipeline.extract.metadata import extract_metadata
from pipeline.extract.outline import build_outline
from pipeline.extract.prose import find_prose_figures
from pipeline.extract.stages import number_figures
from pipeline.model import CheckStatus, Kind
from pipeline.reconcile import reconcile
from testkit.text import report_from_text

REPORT = """\
2021年度某某县交通运输局部门整体支出绩效自评报告
一、部门基本情况
（一）机构设置
本局核定编制25人。
（二）年度预算
二、预算执行情况
全年支出合计1000万元，其中：基本支出600万元，项目支出400万元。
三、绩效目标完成情况
某某县交通运输局
2022年3月15日
"""


def run(text: str):  # noqa: ANN201 - a Report
    report = report_from_text(text, display_first=True)
    for stage in (build_outline, find_prose_figures, number_figures, extract_metadata, reconcile):
        report = stage(report)
    return report


def test_outline_levels_follow_the_markers_used() -> None:
    report = run(REPORT)
    got = [(s.level, s.number, s.title) for s in report.sections]
    assert got == [
        (1, "一", "部门基本情况"),
        (2, "一", "机构设置"),
        (2, "二", "年度预算"),
        (1, "二", "预算执行情况"),
        (1, "三", "绩效目标完成情况"),
    ]
    first, second = report.sections[0], report.sections[1]
    assert second.parent == first.id and first.parent is None


def test_metadata_from_the_title_and_the_signature() -> None:
    meta = run(REPORT).meta
    assert (meta.year, meta.unit, meta.date) == (2021, "某某县交通运输局", "2022-03-15")
    assert meta.doc_type and "自评报告" in meta.doc_type


def test_figures_stand_in_their_section_with_labels() -> None:
    report = run(REPORT)
    amounts = [(f.label, f.value, f.kind) for f in report.figures if f.kind == Kind.AMOUNT]
    # 合计 says the figure is a total; the label is what it totals
    assert amounts == [("全年支出", 1000, "amount"), ("基本支出", 600, "amount"), ("项目支出", 400, "amount")]
    spent = next(f for f in report.figures if f.value == 600)
    assert next(s for s in report.sections if s.id == spent.section).title == "预算执行情况"
    assert [f.id for f in report.figures] == [f"f{n}" for n in range(1, len(report.figures) + 1)]
    assert all(f.bbox is None for f in report.figures)  # no glyphs, so no boxes: nothing made up


def test_a_breakdown_that_adds_up_passes() -> None:
    (check,) = [c for c in run(REPORT).checks if c.rule == "sum"]
    assert (check.status, check.expected, check.stated) == (CheckStatus.PASS, 1000, 1000)


def test_a_breakdown_that_does_not_add_up_fails_and_says_by_how_much() -> None:
    report = run(REPORT.replace("项目支出400万元", "项目支出410万元"))
    (check,) = [c for c in report.checks if c.rule == "sum"]
    assert check.status == CheckStatus.FAIL
    assert (check.expected, check.stated) == (1010, 1000)
    assert "相差" in check.message


def _checks(*lines: str, rule: str) -> list:
    report = run("\n".join(["2022年度测试局部门整体支出绩效自评报告", "一、支出情况", *lines]))
    return [c for c in report.checks if c.rule == rule]


def test_growth_against_the_prior_year() -> None:
    assert [
        c.status for c in _checks("本年支出110万元，上年支出100万元，比上年增长10%。", rule="growth")
    ] == ["pass"]
    assert [c.status for c in _checks("本年支出95万元，上年支出100万元，比上年下降8%。", rule="growth")] == [
        "fail"
    ]
    # the prior year's amount is not printed: nothing to check it against
    assert [c.status for c in _checks("本年支出95万元，比上年下降8%。", rule="growth")] == ["unverifiable"]


def test_a_quantity_restated_with_another_value() -> None:
    (rep,) = _checks(
        "本年度基本支出预算120.50万元。", "二、存在的问题", "本年度基本支出预算125.50万元。", rule="repeat"
    )
    assert rep.status == CheckStatus.FAIL and "120.50" in rep.message
