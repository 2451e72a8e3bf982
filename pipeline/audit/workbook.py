"""The audit's workbook: the findings (sheet 问题) and every file (sheet 文件), through the shared Excel writer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline import excel, numbers

from .view import FINDING_COLUMNS, Report, finding_row, to_int

FILE_COLUMNS = [
    "单位",
    "年度",
    "文件",
    "SHA-256",
    "页数",
    "数据",
    "未通过",
    "无法核验",
    "通过",
    "审核页",
    "错误",
]
_FINDING_WIDTHS = [22, 7, 24, 9, 9, 60, 14, 14, 12, 6, 80, 10]
_FILE_WIDTHS = [22, 7, 30, 20, 6, 6, 7, 9, 6, 10, 50]
_NUMBERS = ("报告值", "计算值", "差额")


def _cell(v: Any) -> Any:
    # numbers stay numbers; anything else a document holds is shown as text
    return v if v is None or isinstance(v, int | float) else str(v)


def _finding(r: Report, c: dict) -> list[Any]:
    """A 问题 row: the three numbers in the format the page prints them, the card as a link."""
    row = finding_row(r, c)
    kind, unit, d = r.style(c)
    out: list[Any] = []
    for k in FINDING_COLUMNS:
        v = row[k]
        if k in _NUMBERS:
            out.append(excel.Cell(v, numbers.excel_format(kind, d, unit)))
        elif k == "审核卡片":
            out.append(excel.Cell("打开", link=v))
        else:
            out.append(_cell(v))
    return out


def write_workbook(reports: list[Report], path: Path) -> None:
    pairs = [(r, c) for r in reports if r.error is None for c in r.finding_checks()]
    findings = [_finding(r, c) for r, c in pairs]
    failing = [c.get("status") == "fail" for _, c in pairs]
    files = [
        [
            _cell(v)
            for v in (
                r.unit,
                r.year,
                r.file,
                r.source.get("sha256"),
                to_int(r.source.get("pages")),
                None if r.error else len(r.doc.get("figures") or []),
                None if r.error else len(r.checks("fail")),
                None if r.error else len(r.checks("unverifiable")),
                None if r.error else len(r.checks("pass")),
            )
        ]
        + [None if r.error else excel.Cell("打开", link=r.page_name), _cell(r.error)]
        for r in reports
    ]
    book = excel.Writer()
    book.sheet(
        "问题",
        [excel.Column(h, width=w) for h, w in zip(FINDING_COLUMNS, _FINDING_WIDTHS, strict=True)],
        findings,
        marked=failing,
    )
    book.sheet(
        "文件", [excel.Column(h, width=w) for h, w in zip(FILE_COLUMNS, _FILE_WIDTHS, strict=True)], files
    )
    book.save(path)
