"""What the audit shows of one report: its findings, the figures they rest on, numbers as reviewers read them.

Everything a report contains is untrusted (a PDF can say anything): this module only reads it; the
templates escape all of it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import numbers
from pipeline.vocabulary import vocab

# names shown to people live with the other vocabularies (data/vocabulary.toml)
STATUS_ZH = vocab()["display"]["check_status"]
RULE_ZH = vocab()["display"]["rules"]
KIND_ZH = vocab()["display"]["kinds"]
FINDING_COLUMNS = [
    "单位", "年度", "文件", "规则", "状态", "说明", "报告值", "计算值", "差额", "页码", "涉及数据", "审核卡片",
]  # fmt: skip

_SHA = re.compile(r"^[0-9a-f]{64}$")


num = numbers.as_number


def fmt(v: Any) -> str:
    """A number without a figure to take its decimals from: thousands separators, no float noise."""
    f = num(v)
    if f is None:
        return "—"
    s = f"{f:,.6f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def figure_value(f: dict) -> str:
    """A figure's value as the report printed it (its decimals; thousands separators for amounts)."""
    return numbers.format_value(f.get("value"), f.get("kind"), numbers.printed_decimals(f.get("text")))


def to_int(v: Any) -> int | None:
    try:
        return int(v) if v is not None and not isinstance(v, bool) else None
    except (TypeError, ValueError):
        return None


def sort_value(v: Any) -> str:
    """data-v attribute for numeric sorting: empty when not a number."""
    f = num(v)
    return "" if f is None else repr(f)


@dataclass
class Report:
    doc: dict
    pdf: Path | None
    slug: str  # sha256[:12], names the page and its images
    error: str | None = None
    figs: dict[str, dict] = field(default_factory=dict)
    shown_as: str | None = None  # the file's name as listed, when the bare name is ambiguous in the batch
    _finest: dict[str, int] | None = None

    @property
    def meta(self) -> dict:
        return self.doc.get("report") or {}

    @property
    def source(self) -> dict:
        return self.doc.get("source") or {}

    @property
    def unit(self) -> str | None:
        return self.meta.get("unit")

    @property
    def year(self) -> int | None:
        return to_int(self.meta.get("year"))

    @property
    def file(self) -> str:
        return self.shown_as or str(
            self.source.get("file") or (self.pdf.name if self.pdf else "") or self.slug
        )

    @property
    def page_name(self) -> str:
        return f"report-{self.slug}.html"

    @property
    def finest(self) -> dict[str, int]:
        if self._finest is None:
            self._finest = numbers.finest_by_unit(f for f in self.figs.values())
        return self._finest

    def position(self, check: dict) -> int:
        """The check's place in the report's checks, from 1: its card's anchor and its crops' names."""
        for i, c in enumerate(self.doc.get("checks") or [], 1):
            if c is check:
                return i
        raise ValueError("not a check of this report")

    def anchor(self, check: dict) -> str:
        return f"check-{self.position(check)}"

    def style(self, check: dict) -> tuple[str | None, str | None, int]:
        """Kind, unit and decimals the check's values are printed with (`pipeline.numbers.check_style`)."""
        return numbers.check_style(
            self.involved(check), check.get("stated"), self.stated_id(check), self.finest
        )

    def shown(self, check: dict, value: Any) -> str:
        """One of the check's values (stated, expected, difference) with its decimals and unit."""
        kind, unit, d = self.style(check)
        return numbers.with_unit(numbers.format_value(value, kind, d), kind, unit)

    def checks(self, status: str | None = None) -> list[dict]:
        cs = [c for c in self.doc.get("checks") or [] if isinstance(c, dict)]
        return cs if status is None else [c for c in cs if c.get("status") == status]

    def finding_checks(self) -> list[dict]:
        """Failures first, then what could not be verified: the order of the page and the workbook."""
        return self.checks("fail") + self.checks("unverifiable")

    def involved(self, check: dict) -> list[dict]:
        return [self.figs[i] for i in check.get("figures") or [] if isinstance(i, str) and i in self.figs]

    def stated_id(self, check: dict) -> str | None:
        """Which involved figure states the result: the check's `result` id, else the one printing `stated`."""
        res = check.get("result")
        if isinstance(res, str) and res in self.figs:
            return res
        stated = num(check.get("stated"))
        hits = [f for f in self.involved(check) if stated is not None and num(f.get("value")) == stated]
        return str(hits[-1].get("id")) if hits else None


def error_doc(file: str, error: str, sha256: str | None = None) -> dict:
    """The stand-in document for a file that could not be extracted: it shows in the index with its error."""
    return {"source": {"file": file, "sha256": sha256, "pages": None}, "report": {}, "error": error}


def slug_for(doc: dict, pdf: Path | None, taken: set[str]) -> str:
    sha = str((doc.get("source") or {}).get("sha256") or "")
    if not _SHA.match(sha):
        # No trustworthy hash (a failed file, a hand-made doc): hash what identifies it instead, so the
        # file name never comes from the document's text.
        ident = json.dumps([doc.get("source"), str(pdf) if pdf else None], sort_keys=True, default=str)
        sha = hashlib.sha256(ident.encode("utf-8")).hexdigest()
    slug, n = sha[:12], 1
    while slug in taken:  # the same file twice in one batch
        n += 1
        slug = f"{sha[:12]}-{n}"
    taken.add(slug)
    return slug


def unit_of(figs: list[dict]) -> str:
    units = {f.get("unit") for f in figs if f.get("unit")}
    return str(units.pop()) if len(units) == 1 else ""


def difference(check: dict) -> float | None:
    d = num(check.get("difference"))
    if d is None and num(check.get("stated")) is not None and num(check.get("expected")) is not None:
        d = num(check["stated"]) - num(check["expected"])  # type: ignore[operator]
    return d


def pages_of(figs: list[dict]) -> list[int]:
    return sorted({p for p in (to_int(f.get("page")) for f in figs) if p is not None})


def figure_words(f: dict) -> str:
    label = f.get("label") or "（无标签）"
    return f"{label} {f.get('text') or figure_value(f)}（第 {f.get('page')} 页，{f.get('id')}）"


def findings(doc: dict) -> list[dict[str, Any]]:
    """The findings of one document as rows of the workbook's 问题 sheet (keys: FINDING_COLUMNS)."""
    r = Report(doc=doc, pdf=None, slug=slug_for(doc, None, set()))
    r.figs = {f["id"]: f for f in doc.get("figures") or [] if isinstance(f, dict) and "id" in f}
    return [finding_row(r, c) for c in r.finding_checks()]


def finding_row(r: Report, c: dict) -> dict[str, Any]:
    """One finding as a workbook row: numbers rounded to the decimals the page prints them with."""
    figs = r.involved(c)
    _, _, d = r.style(c)
    pages = pages_of(figs)
    return {
        "单位": r.unit,
        "年度": r.year,
        "文件": r.file,
        "规则": RULE_ZH.get(str(c.get("rule")), c.get("rule")),
        "状态": STATUS_ZH.get(str(c.get("status")), c.get("status")),
        "说明": c.get("message"),
        "报告值": numbers.rounded(c.get("stated"), d),
        "计算值": numbers.rounded(c.get("expected"), d),
        "差额": numbers.rounded(difference(c), d),
        "页码": pages[0] if pages else None,
        "涉及数据": "；".join(figure_words(f) for f in figs),
        "审核卡片": f"{r.page_name}#{r.anchor(c)}",
    }
