"""Normalisation and numbers, on strings: the offsets stay put, full-width forms fold, numerals read."""

from __future__ import annotations

import pytest

from pipeline.extract.text import decimals_of, normalise, parse_cn_number, parse_number


def test_normalise_keeps_every_offset() -> None:
    printed = "基本支出１，２８０．２１万元，占比１５．８４％（见表１）："
    norm = normalise(printed)
    assert len(norm) == len(printed)
    assert "1,280.21万元" in norm and "15.84%" in norm and "(见表1):" in norm
    # the Chinese comma between clauses stays (it separates clauses, not thousands)
    assert norm[norm.index("万元") + 2] == "，"


def test_a_full_width_comma_between_digit_groups_is_a_thousands_separator() -> None:
    assert normalise("1，280.21") == "1,280.21"
    assert normalise("共3，5个") == "共3，5个"  # not three digits after it: a list, not thousands


@pytest.mark.parametrize(
    ("printed", "value", "decimals"),
    [("1,280.21", 1280.21, 2), ("828.69", 828.69, 2), ("2970", 2970.0, 0), ("0.3", 0.3, 1)],
)
def test_arabic_numbers_and_their_printed_precision(printed: str, value: float, decimals: int) -> None:
    assert parse_number(printed) == value
    assert decimals_of(printed) == decimals


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("十二", 12),
        ("三千", 3000),
        ("二十五", 25),
        ("一百零八", 108),
        ("一亿二千万", 120_000_000),
        ("两万", 20_000),
    ],
)
def test_chinese_numerals(numeral: str, value: int) -> None:
    assert parse_cn_number(numeral) == value


def test_words_that_are_not_numerals() -> None:
    assert parse_cn_number("基本") is None and parse_cn_number("") is None
