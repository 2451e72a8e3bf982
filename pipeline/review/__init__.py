"""A report's review summary in Markdown (Chinese), for a reviewer who reads it beside the PDF.

    report_markdown(report) -> str

What the report is (unit, year, type, date, file, pages, pages read by OCR), its key totals, every
failing check with its page, the report's own words and the message, the checks that could not be
verified in a section of their own, and counts of what was found. Rendered from
templates/report.md.j2; every value printed is escaped, so report text can never add Markdown
(a heading, a link, an image, a table cell) of its own.

Numbers are printed as the audit prints them (`pipeline.audit.view`): the report's decimals, its unit.
Which figures are key totals is decided by data/review.toml, not here.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2

from pipeline import numbers
from pipeline.audit.view import RULE_ZH, difference, figure_value, pages_of
from pipeline.audit.view import Report as View
from pipeline.model import Report
from pipeline.serialize import to_contract
from pipeline.vocabulary import DATA

__all__ = ["report_markdown", "key_totals", "md_escape"]

# Characters that make Markdown of plain text, anywhere in a line: emphasis, code, links and images,
# HTML and entities, table cells, strike-through. Line-start markers (#, -, 1.) cannot occur: every
# value stands after text of the template's, and line breaks in values become spaces.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#!])")
_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")
# rules that set one figure against another (an actual against its budget, a year against the last);
# a ratio of sums is left out: the figures it adds up are items, not the report's totals
_COMPARING = {"difference", "ratio", "growth", "change_rate"}


def md_escape(value: Any) -> str:
    """`value` as Markdown text that shows as it is: specials backslash-escaped, on one line."""
    if value is None:
        return ""
    return _MD_SPECIAL.sub(r"\\\1", _BREAKS.sub(" ", str(value)).strip())


@cache
def _vocab() -> dict[str, Any]:
    with open(DATA / "review.toml", "rb") as fh:
        return tomllib.load(fh)


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader(__package__, "templates"),
        autoescape=False,  # Markdown, not HTML: `finalize` escapes instead
        undefined=jinja2.StrictUndefined,
        finalize=md_escape,  # every {{ value }}: report text must not become Markdown
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def key_totals(figures: Iterable[dict], checks: Iterable[dict]) -> list[dict]:
    """The report's key totals (contract figure dicts), in the report's order.

    Candidates are amounts whose label names a flow of money and no change of one (data/review.toml)
    and that are not a listed part of a checked sum, unless a total themselves or named as a whole. Those the report itself totals (the result of a sum)
    or names as a whole (总额, 全年…) rank first, then those a check compares (a budget against its
    execution); any other candidate is listed only when there is none of these, since an item's own
    budget is not the report's total.
    """
    words = _vocab()["totals"]
    checks = list(checks)
    sums = [c for c in checks if c.get("rule") == "sum"]
    totals = {c.get("result") for c in sums}
    # a part that is itself a total (决算收入 within 全年可执行预算) is still one
    parts = {fid for c in sums for fid in c.get("figures") or [] if fid != c.get("result")} - totals
    compared = {fid for c in checks if c.get("rule") in _COMPARING for fid in c.get("figures") or []}
    ranked: list[tuple[int, int, dict]] = []
    seen: set[tuple] = set()
    for i, f in enumerate(figures):
        label = str(f.get("label") or "")
        whole = any(w in label for w in words["whole"])
        if f.get("kind") != "amount" or not label or (f.get("id") in parts and not whole):
            continue
        if not any(w in label for w in words["subjects"]) or any(w in label for w in words["not_total"]):
            continue
        key = (label, f.get("value"), f.get("unit"))  # a total repeated in the text is listed once
        if key in seen:
            continue
        seen.add(key)
        ranked.append((0 if whole or f.get("id") in totals else 1 if f.get("id") in compared else 2, i, f))
    if any(tier < 2 for tier, _, _ in ranked):
        ranked = [r for r in ranked if r[0] < 2]
    kept = sorted(ranked, key=lambda r: (r[0], r[1]))[: int(words["max_totals"])]
    return [f for _, _, f in sorted(kept, key=lambda r: r[1])]


@dataclass
class _Finding:
    rule: str
    pages: str
    message: str
    evidence: str
    stated: str
    expected: str
    difference: str
    figures: list[str]


def _finding(view: View, c: dict) -> _Finding:
    return _Finding(
        rule=str(RULE_ZH.get(str(c.get("rule")), c.get("rule") or "")),
        pages="、".join(str(p) for p in pages_of(view.involved(c))) or "—",
        message=str(c.get("message") or ""),
        evidence=str(c.get("evidence") or ""),
        stated=view.shown(c, c.get("stated")),
        expected=view.shown(c, c.get("expected")),
        difference=view.shown(c, difference(c)),
        figures=[
            f"{f.get('label') or '（无标签）'} {f.get('text') or figure_value(f)}" for f in view.involved(c)
        ],
    )


def report_markdown(report: Report) -> str:
    """The review summary of one extracted report, as Markdown in Chinese."""
    return contract_markdown(to_contract(report))


def contract_markdown(doc: dict) -> str:
    """The same summary from the report's contract document (what `pipeline extract --json` writes)."""
    view = View(doc=doc, pdf=None, slug="")
    view.figs = {str(f["id"]): f for f in doc.get("figures") or [] if isinstance(f, dict) and "id" in f}
    source, meta = view.source, view.meta
    checks = view.checks()
    return (
        _env()
        .get_template("report.md.j2")
        .render(
            title=meta.get("title") or source.get("file") or "",
            meta=meta,
            source=source,
            ocr_pages="、".join(str(p) for p in source.get("ocr_pages") or []),
            totals=key_totals(view.figs.values(), checks),
            value=lambda f: numbers.with_unit(figure_value(f), f.get("kind"), f.get("unit")),
            failed=[_finding(view, c) for c in view.checks("fail")],
            unverifiable=[_finding(view, c) for c in view.checks("unverifiable")],
            n_checks=len(checks),
            n_passed=len(view.checks("pass")),
            n_figures=len(view.figs),
            n_sections=len(doc.get("sections") or []),
            n_tables=len(doc.get("tables") or []),
            warnings=[str(w) for w in doc.get("warnings") or []],
        )
    )
