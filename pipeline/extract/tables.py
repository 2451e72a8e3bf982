"""Stage: ruled tables (自评表) → rows and figures.

A table continued on the next page is joined to its first part.  Every numeric cell becomes a figure:
its unit from the cell, else from the headers (`年度预算执行情况（万元）`, 分值/得分 columns), and its
label from the row header and the column header (基本支出 + 全年执行数).
"""

from __future__ import annotations

import re
from functools import cache

from pipeline.model import BBox, Figure, Paragraph, Report, Table
from pipeline.vocabulary import alternation, vocab

from .prose.figures import Found, declared_unit, find_figures, yuan
from .prose.labels import clean, label_figures
from .text import decimals_of, normalise, parse_number

_BARE_NUMBER = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$|^[-+]?\d+(?:\.\d+)?$")
_EMPTY = {"", "—", "-", "--", "——", "/", "无", "N/A", "\\"}


@cache
def _cols() -> dict[str, re.Pattern[str]]:
    t = vocab()["tables"]
    return {
        k: re.compile(alternation(t[k]))
        for k in (
            "score_columns",
            "max_score_columns",
            "got_score_columns",
            "budget_columns",
            "actual_columns",
            "rate_columns",
        )
    }


def _cell(text: str | None) -> str:
    # wrapped cell text: Chinese lines join without a space
    return re.sub(r"\s*\n\s*", "", text or "").strip()


def merge_continued(report: Report) -> Report:
    """Join a table that runs on at the top of the next page with the same columns to its first part."""
    order = list(report.paragraphs)
    merged: set[str] = set()
    for i, p in enumerate(order):
        if p.table is None or i == 0:
            continue
        prev = order[i - 1]
        if prev.table is None:
            continue
        a = _table(report, prev.table)
        b = _table(report, p.table)
        if b.page == a.pages[-1] + 1 and len(a.rows[0]) == len(b.rows[0]):
            rows = b.rows
            skip = 1 if _cells(rows[0]) == _cells(a.rows[0]) else 0  # a repeated header row
            a.rows.extend(rows[skip:])
            a.cell_boxes.extend(b.cell_boxes[skip:])
            a.row_pages.extend(b.row_pages[skip:])
            a.pages.append(b.page)
            merged.add(b.id)
            p.table = prev.table
    if merged:
        report.tables = [t for t in report.tables if t.id not in merged]
        report.paragraphs = [
            p for i, p in enumerate(order) if not (p.table and i and order[i - 1].table == p.table)
        ]
        for n, p in enumerate(report.paragraphs):
            p.index = n
    return report


def _table(report: Report, tid: str) -> Table:
    return next(t for t in report.tables if t.id == tid)


def _cells(row: list[str | None]) -> list[str]:
    return [_cell(c) for c in row]


def table_figures(table: Table, title_unit: str | None = None) -> list[Figure]:
    """Figures of one table in reading order (row by row), with labels from its headers."""
    rows = [_cells(r) for r in table.rows]
    table.rows = [[_cell(c) if c is not None else None for c in r] for r in table.rows]
    cols = _cols()
    unit = title_unit
    for r in rows:
        for ci, c in enumerate(r):
            d = declared_unit(normalise(c))
            # the table's unit: 单位：万元, a row-block header (年度预算执行情况（万元）) or a cell alone in its
            # row; a value column's header (人均标准（元）) declares that column's unit only
            if d and (ci == 0 or "单位" in c or sum(bool(x) for x in r) == 1):
                unit = d[0]
                break
    table.unit = unit
    header: list[str] = []
    above: list[str] = []
    figures: list[Figure] = []
    for ri, raw_row in enumerate(table.rows):
        row = rows[ri]
        norm_row = [normalise(c) for c in row]
        numeric = [ci for ci, c in enumerate(norm_row) if _is_value(c)]
        if not numeric and not any(find_figures(c) for c in norm_row):
            # a header row: fill merged cells from the left
            header = _fill_right([c for c in row], raw_row)
            above = []
            continue
        first_value = numeric[0] if numeric else len(row)
        header_row = _aligned(header, first_value, len(row))
        # the header says where labels end and values begin (年度指标值 is a value even when it is text)
        # (the first column always holds the row's name)
        header_values = [ci for ci, h in enumerate(header_row) if ci > 0 and _VALUE_HEADER.search(h or "")]
        if header_values and header_values[0] <= first_value:
            first_value = header_values[0]
        filled = []
        for ci in range(first_value):
            if row[ci]:
                text = row[ci]
            elif raw_row[ci] is None and not _merged_from_left(table, ri, ci):
                text = above[ci] if ci < len(above) else ""  # a vertical merge repeats the cell above
            else:
                text = ""
            filled.append(text)
        above = filled + [""] * (len(row) - len(filled))
        row_label = next(
            (
                clean(re.sub(r"^其中[:：]?", "", normalise(t)))
                for t in reversed(filled)
                if t and not _is_value(normalise(t))
            ),
            "",
        )
        for ci in range(len(row)):
            text = norm_row[ci]
            if not text or text in _EMPTY:
                continue
            col = header_row[ci] if ci < len(header_row) else ""
            col_clean = re.sub(r"[(（][^()（）]*[)）]", "", col)
            box = _box(table, ri, ci)
            found = find_figures(text)
            if found and ci < first_value and not _is_value(text):
                # prose inside a label cell (年度总体目标): label the figures as prose
                labels = label_figures(text, found)
                for f, lab in zip(found, labels):
                    figures.append(_figure(table, ri, ci, f, row[ci], lab, box, col_clean, row_label, None))
                continue
            if ci < first_value:
                continue
            role = _role(col_clean, cols)
            if found:
                labels = (
                    label_figures(text, found) if len(found) > 1 or len(text) > 20 else [None] * len(found)
                )
                for f, lab in zip(found, labels):
                    if role in ("score_max", "score") and f.kind == "count" and f.unit == "":
                        f.kind, f.unit = "score", "分"
                    label = lab if lab and len(text) > 20 else (row_label + col_clean)
                    figures.append(_figure(table, ri, ci, f, row[ci], label, box, col_clean, row_label, role))
                continue
            if not _BARE_NUMBER.match(text):
                continue
            value = parse_number(text)
            if role in ("score_max", "score"):
                kind, u = "score", "分"
            elif role == "rate":
                kind, u = "percent", "%"
            elif (col_unit := declared_unit(normalise(col))) and role in ("budget", "actual", None):
                kind, u = "amount", col_unit[0]  # 金额（元） over a column in a 万元 table
            elif unit and role in ("budget", "actual", None):
                kind, u = "amount", unit
            else:
                kind, u = "count", ""
            f = Found(0, len(text), kind, value, u, decimals_of(text), None, yuan(value, u))
            subject = _score_subject(header_row, cols) if role in ("score_max", "score") and unit else None
            label = (subject or row_label) + col_clean
            figures.append(_figure(table, ri, ci, f, row[ci], label, box, col_clean, row_label, role))
    return figures


def _is_value(text: str) -> bool:
    t = text.replace(" ", "")
    if _BARE_NUMBER.match(t):
        return True
    found = find_figures(t)
    return len(found) == 1 and found[0].start <= 1 and found[0].end >= len(t) - 2


_VALUE_HEADER = re.compile(r"指标值|完成值|预算|执行|决算|分值|得分|率|金额|数额|实际|目标值")


def _score_subject(header: list[str], cols: dict[str, re.Pattern[str]]) -> str | None:
    """In a funds row (预算数 | 执行数 | 分值 | 执行率 | 得分) the score is the rate's: 执行率分值."""
    has_money = any(
        _role(re.sub(r"[(（][^()（）]*[)）]", "", h or ""), cols) in ("budget", "actual") for h in header
    )
    rate = next(
        (re.sub(r"[(（][^()（）]*[)）]", "", h) for h in header if h and cols["rate_columns"].search(h)), None
    )
    return rate if has_money and rate else None


def _aligned(header: list[str], first_value: int, width: int) -> list[str]:
    """A header row whose names start at the first column while its value rows start with a row name
    (a merged cell to the left of the header): its names stand over the value columns."""
    names = [h for h in header if h]
    if (
        first_value >= 1
        and header
        and header[0]
        and _VALUE_HEADER.search(header[0])
        and len(names) == width - first_value
        and all(header[: len(names)])
    ):
        return [""] * first_value + names
    return header


def _merged_from_left(table: Table, ri: int, ci: int) -> bool:
    """Is the empty cell (ri, ci) covered by a cell to its left that spans columns?"""
    boxes = table.cell_boxes[ri] if ri < len(table.cell_boxes) else []
    left = next((boxes[k] for k in range(ci - 1, -1, -1) if k < len(boxes) and boxes[k]), None)
    col = next((r[ci] for r in table.cell_boxes if ci < len(r) and r[ci]), None)
    if left is None or col is None:
        return False
    return left[2] > (col[0] + col[2]) / 2


def _fill_right(cells: list[str], raw: list[str | None]) -> list[str]:
    out: list[str] = []
    for ci, c in enumerate(cells):
        out.append(c if c or raw[ci] is not None or not out else out[-1])
    return out


def _role(col: str, cols: dict[str, re.Pattern[str]]) -> str | None:
    if cols["max_score_columns"].search(col):
        return "score_max"
    if cols["got_score_columns"].search(col):
        return "score"
    if cols["rate_columns"].search(col):
        return "rate"
    if cols["actual_columns"].search(col):
        return "actual"
    if cols["budget_columns"].search(col):
        return "budget"
    return None


def _box(table: Table, ri: int, ci: int) -> tuple[int, BBox | None]:
    page = table.row_pages[ri] if ri < len(table.row_pages) else table.page
    box = None
    if ri < len(table.cell_boxes) and ci < len(table.cell_boxes[ri]):
        box = table.cell_boxes[ri][ci]
    return page, tuple(box) if box else None


def _figure(
    table: Table,
    ri: int,
    ci: int,
    f: Found,
    printed: str,
    label: str | None,
    box,
    col: str,
    row_label: str,
    role: str | None,
) -> Figure:
    page, bbox = box
    text = printed[f.start : f.end] if f.end <= len(printed) and f.end > f.start else printed
    return Figure(
        id="",
        kind=f.kind,
        value=f.value,
        unit=f.unit,
        text=text or printed,
        page=page,
        bbox=bbox,
        section=None,
        label=label or None,
        qualifier=f.qualifier,
        value_yuan=f.value_yuan,
        decimals=f.decimals,
        table=table.id,
        cell=(ri, ci),
        column=col or None,
        row_label=row_label or None,
        role=role,
    )


def title_unit_before(paragraphs: list[Paragraph], index: int) -> str | None:
    """A unit declared in the text just above a table (单位：万元), under its title and notes."""
    for p in reversed(paragraphs[max(0, index - 3) : index]):
        if p.table is None:
            d = declared_unit(p.norm)
            if d:
                return d[0]
    return None
