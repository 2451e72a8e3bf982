"""Stage: figures of a form whose cells were printed as separate lines (no ruling to find a table by).

A performance-target form flattened to text reads name / unit / relation / value, one cell a line:

    辅警人员 / 人 / = / 512        项目成本概算 / 万元 / ≤ / 3584

A bare number on its own line takes its unit from a unit-only line just before it (with at most a
relation sign or 定量 between them), and its label from the line before the unit.  A row printed on
one line with spaces between its cells (受益对象满意度  %  ≥  95) reads the same way.

A table whose rows were printed as text lines keeps its header line (项目 预算数 执行数 执行率):
each row line (基本支出 828.69 959.98 115.84%) labels its values by row name and column header, as a
ruled table's cells are labelled.
"""

from __future__ import annotations

import re
from functools import cache

from pipeline.model import Figure, Paragraph, Report
from pipeline.vocabulary import alternation, vocab

from .prose.figures import declared_unit, find_figures, kind_of, yuan
from .text import decimals_of, parse_number

_BARE = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$|^[-+]?\d+(?:\.\d+)?$")


@cache
def _cfg() -> dict:
    units = vocab()["units"]
    flat = vocab()["flattened"]
    all_units = list(units["money"]) + units["percent"] + units["head"] + units["score"]
    unit_alt = alternation(all_units)
    return {
        "unit": re.compile(rf"^(?:{unit_alt})$"),
        "row": re.compile(
            rf"^\s*(?P<name>[^\s\d]{{2,30}})\s+(?P<unit>{unit_alt})\s+(?:(?P<rel>{flat['relation'][1:-1]})\s*)?"
            r"(?P<num>\d+(?:\.\d+)?)\s*$"
        ),
        "relation": re.compile(flat["relation"]),
        "keep": set(vocab()["qualifiers"]["keep_before"]),
        "value_header": re.compile(flat["value_header"]),
        "rate_header": re.compile(flat["rate_header"]),
        "score_header": re.compile(flat["score_header"]),
    }


def _flat(p: Paragraph) -> str:
    return re.sub(r"\s+", "", p.norm)


def find_flattened_rows(report: Report) -> Report:
    _label_text_rows(report)
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
        if (
            name_p.table is not None
            or not name
            or _BARE.match(name)
            or cfg["unit"].match(name)
            or len(name) > 30
        ):
            continue
        start = len(p.norm) - len(p.norm.lstrip())
        _add(report, p, start, start + len(text), unit, name, relation)
    return report


def _add(
    report: Report, p: Paragraph, start: int, end: int, unit: str, name: str, relation: str | None
) -> None:
    if any(f.paragraph == p.index and f.start < end and start < f.end for f in report.figures):
        return  # the prose stage read it already
    printed = p.norm[start:end]
    value = parse_number(printed)
    where = p.bbox(start, end)
    page, box = where if where else (p.page, None)
    report.figures.append(
        Figure(
            id="",
            kind=kind_of(unit),
            value=value,
            unit=unit,
            text=p.text[start:end],
            page=page,
            bbox=box,
            section=p.section,
            label=name,
            qualifier=relation if relation in _cfg()["keep"] else None,
            value_yuan=yuan(value, unit),
            decimals=decimals_of(printed),
            paragraph=p.index,
            start=start,
            end=end,
        )
    )


_TOKEN = re.compile(r"\S+")
_VALUE = re.compile(r"^[-+≥≤<>]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:%|万元|亿元|元|分|人)?$")


def _header(p: Paragraph) -> list[str] | None:
    """A header line of a table printed as text: three or more names, two of them value columns."""
    cfg = _cfg()
    if p.table is not None:
        return None
    tokens = p.norm.split()
    if len(tokens) < 3 or any(re.search(r"\d", t) for t in tokens):
        return None
    if sum(bool(cfg["value_header"].search(t)) for t in tokens) < 2:
        return None
    return tokens


def _label_text_rows(report: Report) -> None:
    cfg = _cfg()
    header: list[str] | None = None
    unit = None
    by_paragraph: dict[int, list[Figure]] = {}
    for f in report.figures:
        by_paragraph.setdefault(f.paragraph, []).append(f)
    for p in report.paragraphs:
        if p.table is not None:
            header = None
            continue
        d = declared_unit(p.norm)
        if d:
            unit = d[0]
        h = _header(p)
        if h is not None:
            header = h
            continue
        tokens = list(_TOKEN.finditer(p.norm))
        values = [t for t in tokens if _VALUE.match(t.group(0))]
        names = [t for t in tokens if not _VALUE.match(t.group(0))]
        if (
            header is None
            or not names
            or not values
            or tokens[0] is not names[0]
            or len(names) > 2
            or tokens[-len(values)].start() < names[-1].end()
            or not 2 <= len(values) <= len(header)
        ):
            header = None
            continue
        # a row short of values leaves the last columns empty (合计 with no rate)
        columns = header[-len(values) :] if len(values) >= len(header) - 1 else header[1 : 1 + len(values)]
        name = "".join(t.group(0) for t in names)
        found = {f.start: f for f in by_paragraph.get(p.index, [])}
        for tok, col in zip(values, columns):
            f = next((x for s0, x in found.items() if tok.start() <= s0 < tok.end()), None)
            col_name = re.sub(r"[(（][^()（）]*[)）]", "", col)
            label = name + col_name
            if f is not None:
                f.label = label
                continue
            text = tok.group(0)
            if find_figures(text):
                continue
            if cfg["rate_header"].search(col):
                u = "%"
            elif cfg["score_header"].search(col):
                u = "分"
            else:
                u = (declared_unit(col) or (unit, 0))[0]
            if not u or not re.fullmatch(r"[-+]?[\d,.]+", text):
                continue
            _add(report, p, tok.start(), tok.end(), u, label, None)
