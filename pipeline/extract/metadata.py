"""Stage: the report's metadata — title, reporting unit, fiscal year, signing date, report type."""

from __future__ import annotations

import re
from functools import cache

from pipeline.model import Metadata, Report
from pipeline.vocabulary import alternation, vocab

from .outline import markers
from .text import parse_cn_number

_YEAR = re.compile(r"(?P<y>(?:19|20)\d{2})\s*年\s*度?")
_DATE = re.compile(r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日")
_CN_DATE = re.compile(
    r"(?P<y>[〇零一二三四五六七八九]{4})\s*年\s*(?P<m>[一二三四五六七八九十]{1,3})\s*月\s*"
    r"(?P<d>[一二三四五六七八九十]{1,3})\s*日"
)
# a year inside a document's name or number (《关于…2023年…的通知》, 〔2023〕10号) is not the one covered
_QUOTED = re.compile(r"《[^《》]*》|[〔【\[(（]\s*(?:19|20)\d{2}\s*[〕】\])）]")


@cache
def _cfg() -> dict:
    m = vocab()["metadata"]
    unit_end = alternation(m["unit_suffixes"])
    return {
        "doc_types": [(t["name"], re.compile(t["pattern"])) for t in m["doc_types"]],
        "unit_end": re.compile(rf"(?:{unit_end})$"),
        "stop": re.compile(alternation(m["title_stop"])),
        "title_words": re.compile(alternation(m["title_words"])),
        "title_prefix": re.compile(m["title_prefix"]),
        "unit_fields": re.compile(
            rf"^(?:{alternation(m['unit_fields'])})(?:及代码|[(（]\s*(?:盖章|代码)\s*[)）])?[:：]?$"
        ),
        "owner_fields": re.compile(
            rf"^(?:{alternation(m['owner_fields'])})(?:及代码|[(（]\s*代码\s*[)）])?[:：]?$"
        ),
        "inline_field": re.compile(
            rf"(?:{alternation(m['unit_fields'])})\s*(?:[(（]\s*盖章\s*[)）])?\s*[:：]?\s*"
            r"(?P<u>[^\s:：，,。；;()（）]{3,40})"
        ),
        "self": re.compile(rf"^(?:{alternation(m['self_reference'])})"),
        "scope_note": re.compile(rf"[(（]\s*(?:{alternation(m['scope_notes'])})\s*[)）]$"),
        "place": re.compile(r"[县市省区旗]$"),
        "not_unit": re.compile(m["not_unit"]),
        "first_sentence": re.compile(
            rf"^(?P<u>[^\s，,。；;:：、“”《》()（）]{{3,40}}?(?:{unit_end}))"
            r"(?:[(（][^()（）]{0,24}[)）])?"  # (以下简称“某局”)
            rf"(?:{alternation(m['unit_sentence_verbs'])})"
        ),
    }


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def as_unit(text: str | None) -> str | None:
    """`text` as an organisation name, or None when it is a fragment, a heading or a sentence."""
    if not text:
        return None
    cfg = _cfg()
    s = cfg["title_prefix"].sub("", _flat(text))
    s = re.sub(r"^关于|关于$", "", s)
    s = cfg["scope_note"].sub("", s)
    s = s.strip("“”\"'《》:：")
    # two characters only for a place itself (南县, 沛县); 全市 is a scope, not a unit
    if not (3 <= len(s) <= 40 or len(s) == 2 and cfg["place"].search(s)) or re.search(
        r"[，,。；;:：、“”《》!！?？]", s
    ):
        return None
    if cfg["self"].match(s) or cfg["not_unit"].search(s) or any(p.match(s) for _, p in markers()):
        return None
    if re.search(r"\d", s) or not cfg["unit_end"].search(s):
        return None
    return s


def _title_like(flat: str) -> bool:
    cfg = _cfg()
    if not 6 <= len(flat) <= 80 or not cfg["title_words"].search(flat):
        return False
    if re.search(r"[。；;，,]", flat[:-1]) or any(p.match(flat) for _, p in markers()):
        return False
    # a title names a report; it states no amounts or rates
    return not re.search(r"\d\s*(?:万元|亿元|元|%)", flat)


def _title(report: Report) -> str | None:
    """The report's title: a short line of the first page naming its genre, joined across two lines."""
    cfg = _cfg()
    first = [p for p in report.paragraphs[:15] if p.table is None and p.text.strip()]
    lines = [cfg["title_prefix"].sub("", _flat(p.norm)) for p in first]
    found: list[tuple[int, int, str]] = []
    for i, p in enumerate(first):
        flat = lines[i]
        # a title set over two or three lines: 某县某局 / 2023年度部门整体支出 / 绩效自评报告
        for k in (1, 2):
            if _title_like(flat) or i + k >= len(lines) or len(flat) > 40:
                break
            if _title_like(flat + "".join(lines[i + 1 : i + k + 1])):
                flat = flat + "".join(lines[i + 1 : i + k + 1])
        if not _title_like(flat):
            continue
        rank = (2 if p.display else 0) + (1 if _years(flat) else 0) + (2 if unit_from_title(flat) else 0)
        found.append((rank, -i, flat))
    if not found:
        # a form whose title is its first row: 2023年度项目支出绩效自评表 spanning the columns
        for table in report.tables[:1]:
            for row in table.rows[:2]:
                cells = [_flat(c or "") for c in row if c and c.strip()]
                if len(cells) == 1 and _title_like(cells[0]):
                    return cells[0]
    return max(found)[2] if found else None


_CN_YEAR = re.compile(r"[二][〇零○][一二三四五六七八九〇零○]{2}(?=\s*年)")
_CN_YEAR_DIGITS = str.maketrans("〇零○一二三四五六七八九", "00012345678" + "9")


def _arabic_years(text: str) -> str:
    """二〇二三年度 → 2023年度 (same length: offsets stay)."""
    return _CN_YEAR.sub(lambda m: m.group(0).translate(_CN_YEAR_DIGITS), text)


def _years(text: str) -> list[tuple[int, int]]:
    """(position, year) of the fiscal years `text` names, leaving out dates and quoted documents."""
    masked = _QUOTED.sub(lambda m: "#" * len(m.group(0)), _arabic_years(text))
    out = []
    for m in _YEAR.finditer(masked):
        after = masked[m.end() : m.end() + 3]
        if re.match(r"\d{1,2}\s*月", after) and "度" not in m.group(0):
            continue  # 2021年3月: a date
        out.append((m.start(), int(m.group("y"))))
    return out


def unit_from_title(title: str) -> str | None:
    cfg = _cfg()
    flat = cfg["title_prefix"].sub("", _flat(title))
    years = _years(flat)
    if not years:
        return None
    at = years[0][0]
    m = _YEAR.match(_arabic_years(flat), at)
    before = re.sub(r"^关于", "", flat[:at])
    unit = as_unit(before)
    if unit:
        return unit
    after = flat[m.end() :] if m else ""
    stop = cfg["stop"].search(after, 2)
    cand = after[: stop.start()] if stop else after
    # the unit ends with an institution word: trim what follows the last one
    while cand and not cfg["unit_end"].search(cand):
        cand = cand[:-1]
    return as_unit(cand)


def doc_type_of(title: str | None) -> str | None:
    """The report's genre from its title's words: one of the vocabulary's list, else 其他."""
    if not title:
        return None
    flat = _flat(title)
    return next((name for name, p in _cfg()["doc_types"] if p.search(flat)), "其他")


def extract_metadata(report: Report) -> Report:
    meta = Metadata()
    meta.title = _title(report)
    flat_all = [_flat(p.norm) for p in report.paragraphs if p.table is None]
    if meta.title:
        years = _years(meta.title)
        meta.year = years[0][1] if years else None
        meta.unit = unit_from_title(meta.title)
    meta.doc_type = doc_type_of(meta.title)
    if meta.year is None:
        meta.year = _body_year(flat_all) or _body_year_in_tables(report)
    if meta.unit is None:
        meta.unit = _unit_from_fields(report, flat_all)
    meta.date = _signing_date(flat_all)
    report.meta = meta
    return report


def _body_year(flat: list[str]) -> int | None:
    """The first fiscal year the opening text names (不是 较2020年度…, the year compared against)."""
    for t in flat[:20]:
        for at, year in _years(t):
            if not re.search(r"(?:较|比|与|同|截至|截止|至)$", t[max(0, at - 2) : at]):
                return year
    return None


def _unit_from_fields(report: Report, flat: list[str]) -> str | None:
    cfg = _cfg()
    # other title-like lines of the first page: 2022年度某妇联部门整体支出绩效自评报告 under a generic title
    for t in flat[:15]:
        if _title_like(t):
            unit = unit_from_title(t)
            if unit:
                return unit
    for t in flat[:15]:
        for m in cfg["inline_field"].finditer(t):
            unit = as_unit(m.group("u"))
            if unit:
                return unit
    # a form's own field: 部门（单位）名称 / 实施单位 / 资金使用单位, then 主管部门 — never 项目名称
    for field in (cfg["unit_fields"], cfg["owner_fields"]):
        for table in report.tables:
            for row in table.rows:
                cells = [_flat(c or "") for c in row]
                for i, c in enumerate(cells[:-1]):
                    if field.search(c):
                        unit = as_unit(_without_code(next((x for x in cells[i + 1 :] if x), None)))
                        if unit:
                            return unit
    # the unit's name set alone on a line above the title
    for t in flat[:5]:
        unit = as_unit(t) if len(t) <= 30 else None
        if unit:
            return unit
    # the signature: an institution's name on the line(s) just before a date line — the report's text
    # may be followed by attached forms, so the signature is not always among the last lines
    for i, t in enumerate(flat):
        if len(t) <= 30 and (_DATE.search(t) or _CN_DATE.search(t)):
            for back in (1, 2):
                unit = as_unit(flat[i - back]) if i - back >= 0 and len(flat[i - back]) <= 30 else None
                if unit:
                    return unit
    for t in reversed(flat[-6:]):
        unit = as_unit(_DATE.sub("", _CN_DATE.sub("", t)))
        if unit:
            return unit
    # the first sentence that opens with an organisation's name: 某县某局是…
    for t in flat[:30]:
        m = cfg["first_sentence"].match(t)
        unit = as_unit(m.group("u")) if m else None
        if unit:
            return unit
    return None


def _without_code(value: str | None) -> str | None:
    """[305001]某县教育局 / 某县教育局（305001）: the name without its budget code."""
    if not value:
        return value
    return re.sub(r"^[\[【(（]?\d{3,}[\]】)）]?|[\[【(（]?\d{3,}[\]】)）]?$", "", value)


def _body_year_in_tables(report: Report) -> int | None:
    for table in report.tables[:2]:
        for row in table.rows[:3]:
            for c in row:
                years = _years(_flat(c or ""))
                if years:
                    return years[0][1]
    return None


def _signing_date(flat: list[str]) -> str | None:
    for t in reversed(flat[-4:]):
        m = _DATE.search(t)
        if m and len(t) <= 30:
            return f"{int(m.group('y')):04d}-{int(m.group('m')):02d}-{int(m.group('d')):02d}"
        m = _CN_DATE.search(t)
        if m and len(t) <= 30:
            year = "".join(str(int(parse_cn_number(c) or 0)) for c in m.group("y"))
            month, day = parse_cn_number(m.group("m")), parse_cn_number(m.group("d"))
            if month and day:
                return f"{year}-{int(month):02d}-{int(day):02d}"
    return None
