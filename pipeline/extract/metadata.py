"""Stage: the report's metadata — title, reporting unit, fiscal year, signing date, report type."""

from __future__ import annotations

import re
from functools import cache

from pipeline.model import Metadata, Paragraph, Report
from pipeline.vocabulary import alternation, vocab

from .text import parse_cn_number

_YEAR = re.compile(r"(?P<y>(?:19|20)\d{2})\s*年\s*度?")
_DATE = re.compile(r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日")
_CN_DATE = re.compile(r"(?P<y>[〇零一二三四五六七八九]{4})\s*年\s*(?P<m>[一二三四五六七八九十]{1,3})\s*月\s*"
                      r"(?P<d>[一二三四五六七八九十]{1,3})\s*日")
_TITLE_WORDS = re.compile(r"报告|自评表|自评|决算|说明|公开|绩效")
_UNIT_FIELD = re.compile(r"^(?:部门[(（]单位[)）]名称|单位名称|部门名称|预算单位|填报单位|实施单位)$")
_OWNER_FIELD = re.compile(r"^(?:主管部门|项目单位|主管单位)$")
_NAME_FIELD = re.compile(r"(?:单位名称|部门名称|部门[(（]单位[)）]名称|填报单位|项目单位|实施单位)\s*[:：]?\s*(?P<u>[^\s:：()（）]{3,30})")


@cache
def _cfg() -> dict:
    m = vocab()["metadata"]
    return {
        "doc_types": re.compile(alternation(m["doc_types"])),
        "unit_end": re.compile(rf"(?:{alternation(m['unit_suffixes'])})$"),
        "stop": re.compile(alternation(m["title_stop"])),
    }


def _title(report: Report) -> Paragraph | None:
    first_page = [p for p in report.paragraphs[:12] if p.table is None and p.text.strip()]
    for p in first_page:
        flat = re.sub(r"\s+", "", p.norm)
        if _YEAR.search(flat) and _TITLE_WORDS.search(flat) and len(flat) <= 80:
            return p
    displays = [p for p in first_page if p.display]
    return displays[0] if displays else (first_page[0] if first_page else None)


def unit_from_title(title: str) -> str | None:
    cfg = _cfg()
    flat = re.sub(r"\s+", "", title)
    m = _YEAR.search(flat)
    if not m:
        return None
    before = re.sub(r"^关于", "", flat[: m.start()])
    if len(before) >= 2 and cfg["unit_end"].search(before):
        return before
    after = flat[m.end():]
    stop = cfg["stop"].search(after, 2)
    cand = after[: stop.start()] if stop else ""
    # the unit ends with an institution word: trim what follows the last one
    while cand and not cfg["unit_end"].search(cand):
        cand = cand[:-1]
    return cand if len(cand) >= 2 else (before or None)


def extract_metadata(report: Report) -> Report:
    meta = Metadata()
    title_p = _title(report)
    if title_p is not None:
        meta.title = re.sub(r"\s+", "", title_p.text)
    if meta.title:
        m = _YEAR.search(meta.title)
        meta.year = int(m.group("y")) if m else None
        meta.unit = unit_from_title(meta.title)
        d = _cfg()["doc_types"].search(meta.title)
        meta.doc_type = d.group(0) if d else None
    flat_all = [re.sub(r"\s+", "", p.norm) for p in report.paragraphs if p.table is None]
    if meta.year is None:
        for t in flat_all:
            m = _YEAR.search(t)
            if m:
                meta.year = int(m.group("y"))
                break
    if meta.unit is None:
        meta.unit = _unit_from_fields(report, flat_all)
    meta.date = _signing_date(flat_all)
    report.meta = meta
    return report


def _unit_from_fields(report: Report, flat: list[str]) -> str | None:
    for t in flat[:15]:
        m = _NAME_FIELD.search(t)
        if m:
            return m.group("u")
    # a form's own field: 部门（单位）名称 / 实施单位 / 主管部门 — never 项目名称
    for field in (_UNIT_FIELD, _OWNER_FIELD):
        for table in report.tables:
            for row in table.rows:
                cells = [c or "" for c in row]
                for i, c in enumerate(cells[:-1]):
                    if field.search(re.sub(r"\s+", "", c)) and cells[i + 1].strip():
                        return re.sub(r"\s+", "", cells[i + 1])
    # the signature: a short line ending in an institution word just before the date
    cfg = _cfg()
    for t in reversed(flat[-4:]):
        if 3 <= len(t) <= 30 and cfg["unit_end"].search(t):
            return t
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
