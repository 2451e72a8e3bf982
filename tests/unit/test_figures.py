"""Figures found in one sentence, on strings: value, unit, kind, the amount in 元, qualifiers."""

from __future__ import annotations

from pipeline.extract.prose.figures import declared_unit, find_figures, kind_of, yuan
from pipeline.extract.prose.labels import label_figures
from pipeline.extract.text import normalise
from pipeline.model import Kind


def found(sentence: str) -> list[tuple[str, float, str, str]]:
    norm = normalise(sentence)
    return [(norm[f.start : f.end], f.value, f.unit, f.kind) for f in find_figures(norm)]


def test_amounts_percentages_heads_and_scores() -> None:
    got = found("全年支出１，２８０．２１万元，执行率95.4%，在职人员25人，自评得分92分。")
    assert [(v, u, k) for _, v, u, k in got] == [
        (1280.21, "万元", "amount"),
        (95.4, "%", "percent"),
        (25, "人", "count"),
        (92, "分", "score"),
    ]
    assert got[0][0] == "1,280.21万元"  # the span covers what was printed, number and unit


def test_an_amount_knows_its_value_in_yuan() -> None:
    (f,) = find_figures(normalise("项目支出预算3698万元。"))
    assert f.value_yuan == 36_980_000 and yuan(1.2, "亿元") == 120_000_000
    assert yuan(5, "人") is None


def test_a_date_and_an_ordinal_are_not_figures() -> None:
    assert found("于2021年1月26日召开第3次会议。") == []


def test_a_qualifier_before_the_number_is_kept() -> None:
    (f,) = find_figures(normalise("满意度不低于90%。"))
    assert (f.value, f.qualifier) == (90, "不低于")


def test_a_word_that_ends_in_a_qualifier_is_no_qualifier() -> None:
    # 节约 1.5 万元 saved 1.5 万元; 约 1.5 万元 is about 1.5 万元
    got = [
        (f.value, f.qualifier)
        for f in find_figures(normalise("节约1.5万元，约2万元，最近3万元，将近4万元。"))
    ]
    assert got == [(1.5, None), (2, "约"), (3, None), (4, "近")]
    norm = normalise("公用经费节约1.5万元。")
    assert [label for label in label_figures(norm, find_figures(norm))] == ["公用经费节约"]


def test_the_kind_follows_the_unit() -> None:
    assert [kind_of(u) for u in ("元", "亿元", "%", "个", "分")] == [
        Kind.AMOUNT,
        Kind.AMOUNT,
        Kind.PERCENT,
        Kind.COUNT,
        Kind.SCORE,
    ]


def test_a_declared_unit_is_read_from_its_words() -> None:
    unit, _at = declared_unit(normalise("单位：万元")) or (None, None)
    assert unit == "万元"


def test_each_figure_gets_the_words_before_it_as_label() -> None:
    norm = normalise("基本支出预算828.69万元，人员经费390.55万元。")
    labels = label_figures(norm, find_figures(norm))
    assert labels == ["基本支出预算", "人员经费"]
