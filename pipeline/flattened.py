"""Stage: figures of a form whose cells were printed as separate lines (no ruling to find a table by).

A performance-target form flattened to text reads name / unit / relation / value, one cell a line:

    辅警人员 / 人 / = / 512        项目成本概算 / 万元 / ≤ / 3584

A bare number on its own line takes its unit from a unit-only line just before it (with at most a
relation sign or 定量 between them), and its label from the line before the unit.  A row printed on
one line with spaces between its cells (受益对象满意度  %  ≥  95) reads the same way.
"""

from __future__ import annotations

import re
from functools import cache

from .figures import kind_of, yuan
from .model import Figure, Paragraph, Report
from .text import decimals_of, parse_number
from .vocabulary import alternation, vocab

_BARE = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$|^[-+]?\d+(?:\.\d+)?$")


@cache
def _cfg() -> dict:
    units = vocab()["units"]
    flat = vocab()["flattened"]
    all_units = list(units["money"]) + units["percent"] + units["head"] + units["score"]
    unit_alt = alternation(all_units)
    return {
        "unit": re.compile(rf"^(?:{unit_alt})$"),
        "row": re.compile(rf"^\s*(?P<name>[^\s\d]{{2,30}})\s+(?P<unit>{unit_alt})\s+(?:(?P<rel>{flat['relation'][1:-1]})\s*)?"
                          r"(?P<num>\d+(?:\.\d+)?)\s*$"),
        "relation": re.compile(flat["relation"]),
        "keep": set(vocab()["qualifiers"]["keep_before"]),
    }


def _flat(p: Paragraph) -> str:
    return re.sub(r"\s+", "", p.norm)


def find_flattened_rows(report: Report) -> Report:
    cfg = _cfg()
    paras = report.paragraphs
    for i, p in enumerate(paras):
        text = _flat(p)
        m = cfg["row"].match(p.norm) if p.table is None else None
        if m:
            _add(report, p, m.start("num"), m.end("num"), m.group("unit"), m.group("name"), m.group("rel"))
            continue
        if p.table is not None or not _BARE.match(text) or i < 2:
            continue
        j = i - 1
        relation = None
        if cfg["relation"].match(_flat(paras[j])):
            relation = _flat(paras[j])
            j -= 1
        if j < 1 or paras[j].table is not None or not cfg["unit"].match(_flat(paras[j])):
            continue
        unit = _flat(paras[j])
        name_p = paras[j - 1]
        name = _flat(name_p)
        if name_p.table is not None or not name or _BARE.match(name) or cfg["unit"].match(name) or len(name) > 30:
            continue
        start = len(p.norm) - len(p.norm.lstrip())
        _add(report, p, start, start + len(text), unit, name, relation)
    return report


def _add(report: Report, p: Paragraph, start: int, end: int, unit: str, name: str, relation: str | None) -> None:
    if any(f.paragraph == p.index and f.start < end and start < f.end for f in report.figures):
        return  # the prose stage read it already
    printed = p.norm[start:end]
    value = parse_number(printed)
    where = p.bbox(start, end)
    page, box = where if where else (p.page, None)
    report.figures.append(Figure(
        id="", kind=kind_of(unit), value=value, unit=unit, text=p.text[start:end], page=page, bbox=box,
        section=p.section, label=name, qualifier=relation if relation in _cfg()["keep"] else None,
        value_yuan=yuan(value, unit), decimals=decimals_of(printed), paragraph=p.index, start=start, end=end))
