"""Finding figures in text: money, percentages, head counts, other counts and scores.

Works on a paragraph's normalised text and returns character spans, so the caller can point back at
the printed words and their boxes.  Units, qualifiers and the words that rule a number out come from
the vocabulary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from pipeline.vocabulary import alternation, vocab

from ..text import decimals_of, parse_cn_number, parse_number


@dataclass
class Found:
    start: int
    end: int
    kind: str
    value: float
    unit: str
    decimals: int
    qualifier: str | None = None
    value_yuan: float | None = None


_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CN = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟萬"
_CN_DIGIT = "零〇一二两三四五六七八九壹贰叁肆伍陆柒捌玖"
# a Chinese numeral with an optional decimal part: 三点五万 (the multiplier may follow the decimals)
_CN_NUMERAL = rf"[{_CN}]+(?:点[{_CN_DIGIT}]+[万亿萬]?)?"
# a number glued to these is part of something else: an ordinal, an identifier, a date
_NOT_BEFORE = re.compile(r"[\d.,*×A-Za-z第]$")  # (×100%: a formula's factor)
_CN_NOT_BEFORE = set("第前每逐单同统唯万之其某任哪这那")
_UNIT_NOT_FOLLOWED = {"个": "月", "分": "钟之", "次": "日", "名": "单称义额", "人": "员民工口大次均"}


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    units = vocab()["units"]
    q = vocab()["qualifiers"]
    money = list(units["money"])
    all_units = money + units["percent"] + units["count"] + units["head"] + units["score"]
    unit_alt = alternation(all_units)
    count_alt = alternation(units["count"] + units["head"])
    after_alt = alternation(q["after"])
    arabic = re.compile(
        rf"(?P<num>{_NUM})(?P<stray>\.(?!\d))?\s*(?:(?P<unit>{unit_alt})|(?P<mult>万|亿)\s*(?P<qmid>余|多)?\s*"
        rf"(?P<unit2>{count_alt})|(?P<qmid2>余|多)\s*(?P<unit3>{count_alt}))(?P<qa>{after_alt})?"
    )
    cn = re.compile(
        rf"(?P<cn>{_CN_NUMERAL})(?P<qmid>余|多)?(?P<unit>{alternation(units['cn_numeral_units'])})(?P<qa>{after_alt})?"
    )
    # 百分之十五 / 百分之15.5: a percentage written out
    per_cent = re.compile(rf"百分之(?P<pc>{_CN_NUMERAL}|{_NUM})(?P<qa>{after_alt})?")
    before = re.compile(rf"(?P<qb>{alternation(q['keep_before'])})\s*$")
    not_before = re.compile(rf"(?:{alternation(q['not_before'])})$")
    # 1234.56万 with no 元: money only where the clause speaks of money
    bare_mult = re.compile(rf"(?P<num>{_NUM})\s*(?P<mult>万|亿)(?![元\d.])")
    money_words = re.compile(alternation(units["money_context"]))
    return {
        "arabic": arabic,
        "cn": cn,
        "before": before,
        "not_before": not_before,
        "per_cent": per_cent,
        "bare_mult": bare_mult,
        "money_words": money_words,
    }


def kind_of(unit: str) -> str:
    units = vocab()["units"]
    if unit in units["money"]:
        return "amount"
    if unit in units["percent"]:
        return "percent"
    if unit in units["score"]:
        return "score"
    return "count"


def yuan(value: float, unit: str) -> float | None:
    factor = vocab()["units"]["money"].get(unit)
    return round(value * factor, 6) if factor else None


def find_figures(norm: str, start: int = 0) -> list[Found]:
    """Every figure printed in `norm` from `start` on, in order."""
    pats = _patterns()
    found: list[Found] = []
    taken: list[tuple[int, int]] = []
    for m in pats["arabic"].finditer(norm, start):
        num_start = m.start("num")
        if _NOT_BEFORE.search(norm[max(0, num_start - 1) : num_start]):
            continue
        if m.group("stray") and "." not in m.group("num") and not norm[:num_start].strip():
            continue  # 1.项目资金…: a list marker, not one 项
        unit = m.group("unit") or m.group("unit2") or m.group("unit3")
        unit_end = (
            m.end("unit") if m.group("unit") else m.end("unit2") if m.group("unit2") else m.end("unit3")
        )
        nxt = norm[unit_end : unit_end + 1]
        if nxt and nxt in _UNIT_NOT_FOLLOWED.get(unit, ""):
            continue
        if unit == "元" and nxt and nxt in "/每":  # 元/人: a rate, not an amount (a cell may end in 元)
            continue
        value = parse_number(m.group("num"))
        if m.group("mult"):
            value *= 10_000 if m.group("mult") == "万" else 100_000_000
        sign_at = num_start - 1
        if (
            sign_at >= 0
            and norm[sign_at] in "-−"
            and not re.search(r"[\d%元人个分]$", norm[max(0, sign_at - 1) : sign_at])
        ):
            value = -value
            num_start = sign_at
        qualifier = m.group("qmid") or m.group("qmid2") or m.group("qa")
        window = max(0, num_start - 4)
        qb = pats["before"].search(norm[window:num_start])
        if qb and pats["not_before"].search(norm[max(0, window + qb.end() - 4) : window + qb.end()]):
            qb = None
        if qb and not qualifier:
            qualifier = qb.group("qb")
            num_start = window + qb.start()  # the printed figure is "≤4526.69万元", qualifier and all
        kind = kind_of(unit)
        found.append(
            Found(
                num_start,
                m.end(),
                kind,
                value,
                unit,
                decimals_of(m.group("num")),
                qualifier,
                yuan(value, unit),
            )
        )
        taken.append((num_start, m.end()))
    for m in pats["cn"].finditer(norm, start):
        if any(a <= m.start() < b for a, b in taken):
            continue
        if m.start() > 0 and norm[m.start() - 1] in _CN_NOT_BEFORE:
            continue
        digits, unit = m.group("cn"), m.group("unit")
        if digits[-1] in "万亿萬" and unit == "元" and not m.group("qmid"):
            digits, unit = digits[:-1], ("万" if digits[-1] == "萬" else digits[-1]) + "元"
        value = parse_cn_number(digits)
        if value is None or value == 0 and digits not in "零〇":
            continue
        nxt = norm[m.end("unit") : m.end("unit") + 1]
        if nxt and nxt in _UNIT_NOT_FOLLOWED.get(unit, ""):
            continue
        qualifier = m.group("qmid") or m.group("qa")
        found.append(
            Found(
                m.start(),
                m.end(),
                kind_of(unit),
                value,
                unit,
                decimals_of(digits.replace("点", ".")),
                qualifier,
                yuan(value, unit),
            )
        )
        taken.append((m.start(), m.end()))
    for m in pats["bare_mult"].finditer(norm, start):
        s = m.start("num")
        if any(a <= s < b for a, b in taken) or _NOT_BEFORE.search(norm[max(0, s - 1) : s]):
            continue
        clause = re.split(r"[，,。；;！？!?]", norm[max(0, s - 24) : s])[-1]
        if not pats["money_words"].search(clause + norm[m.end() : m.end() + 4]):
            continue
        unit = m.group("mult") + "元"
        value = parse_number(m.group("num"))
        found.append(
            Found(s, m.end(), "amount", value, unit, decimals_of(m.group("num")), None, yuan(value, unit))
        )
        taken.append((s, m.end()))
    for m in pats["per_cent"].finditer(norm, start):
        if any(a <= m.start() < b for a, b in taken):
            continue
        digits = m.group("pc")
        value = parse_number(digits) if digits[0].isdigit() else parse_cn_number(digits)
        if value is None:
            continue
        found.append(
            Found(
                m.start(),
                m.end(),
                "percent",
                value,
                "%",
                decimals_of(digits.replace("点", ".")),
                m.group("qa"),
                None,
            )
        )
    found.sort(key=lambda f: f.start)
    return found


# A table or form declares its money unit once: （万元） / 单位：万元
_DECLARED = re.compile(
    r"[(（]\s*(?:单位\s*[:：]\s*)?(?P<u>亿元|万元|千元|元)\s*[)）]|单位\s*[:：]\s*(?P<u2>亿元|万元|千元|元)"
)
_BARE = re.compile(rf"(?<![\d.,%])(?P<num>-?(?:{_NUM}))(?![\d.,%])")


def declared_unit(norm: str) -> tuple[str, int] | None:
    """The last money unit `norm` declares, and where the declaration ends."""
    last = None
    for m in _DECLARED.finditer(norm):
        last = (m.group("u") or m.group("u2"), m.end())
    return last


def _money_field(norm: str, at: int) -> bool:
    """Is the number at `at` the value of a money field (全年预算数：150)?"""
    head = norm[:at].rstrip()
    if not head.endswith((":", "：")):
        return False
    name = re.split(r"[，,。；;！？!?]", head[:-1])[-1]
    return bool(_patterns()["money_words"].search(name))


def find_bare_amounts(norm: str, unit: str, start: int, taken: list[tuple[int, int]]) -> list[Found]:
    """Numbers without a unit, standing alone as the value of a form field, in a declared unit."""
    out = []
    for m in _BARE.finditer(norm, start):
        s, e = m.start(), m.end()
        if any(a <= s < b for a, b in taken):
            continue
        num = m.group("num")
        before = norm[max(0, s - 1) : s]
        if "." not in num and not _money_field(norm, s):
            continue  # whole numbers without a unit are years, codes and ordinals too often
        after = norm[e : e + 1]
        if before and not re.match(r"[\s:：)）]", before) and not ("\u4e00" <= before <= "\u9fff"):
            continue
        if after and not (after.isspace() or "\u4e00" <= after <= "\u9fff" or after in "，,;；。"):
            continue
        if after and after in "年月日号岁":
            continue
        value = parse_number(num)
        out.append(Found(s, e, "amount", value, unit, decimals_of(num), None, yuan(value, unit)))
    return out
