"""The audit's HTML pages: Jinja2 templates (autoescaped) fed from the report views.

Everything a report contains is untrusted: the templates escape all of it (autoescape on, no `|safe`
on anything but our own stylesheet and script), the script is one constant file allowed by its hash
in a Content-Security-Policy, and no event handler or URL is ever built from extracted text.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2

from pipeline import messages

from .crops import Crop, crop_images
from .view import (
    KIND_ZH,
    RULE_ZH,
    STATUS_ZH,
    Report,
    difference,
    figure_value,
    figure_words,
    fmt,
    num,
    pages_of,
    sort_value,
    to_int,
)

_PACKAGE = files(__package__)


def _static(name: str) -> str:
    return (_PACKAGE / "static" / name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def _evidence_text(ev: Any) -> str:
    if ev in (None, "", [], {}):
        return ""
    return ev if isinstance(ev, str) else json.dumps(ev, ensure_ascii=False, indent=1, default=str)


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(__package__, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=lambda v: "" if v is None else v,  # a missing value shows as nothing, not "None"
        trim_blocks=True,
        lstrip_blocks=True,
    )
    css, js = _static("audit.css"), _static("audit.js")
    env.globals.update(
        css=css,
        js=js,
        # Only our own script and style run, even if some text slipped past escaping; images from the folder.
        csp=(
            f"default-src 'none'; script-src {_csp_hash(js)}; style-src {_csp_hash(css)}; "
            "img-src 'self' file: data:; base-uri 'none'; form-action 'none'"
        ),
        rule_zh=lambda rule: RULE_ZH.get(str(rule), rule),
        kind_zh=lambda kind: KIND_ZH.get(str(kind), kind),
        status_zh=lambda status: STATUS_ZH.get(str(status), status),
        fmt=fmt,
        figure_value=figure_value,
        sort_value=sort_value,
        figure_words=figure_words,
        evidence_text=_evidence_text,
    )
    return env


def _render(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)


# --- report page -----------------------------------------------------------------------------------------


@dataclass
class _Finding:
    n: int
    anchor: str  # check-<position>: stable for links from outside (the store browser)
    check: dict
    figures: list[dict]
    stated_id: str | None
    amounts: dict[str, str]  # 报告值, 计算值, 差额: numbers with the figures' unit
    has_difference: bool
    pages: str
    first_page: int | None
    crops: list[Crop]
    note: str

    @property
    def css_class(self) -> str:
        return "fail" if self.check.get("status") == "fail" else "unverifiable"


def _finding(r: Report, c: dict, n: int, crops: list[Crop], note: str) -> _Finding:
    figs = r.involved(c)
    diff = difference(c)
    pages = pages_of(figs)
    return _Finding(
        n=n,
        anchor=r.anchor(c),
        check=c,
        figures=figs,
        stated_id=r.stated_id(c),
        # the one formatter the check's message used: same decimals, same unit
        amounts={
            k: r.shown(c, v)
            for k, v in (("stated", c.get("stated")), ("expected", c.get("expected")), ("difference", diff))
        },
        has_difference=bool(num(diff)),
        pages=", ".join(str(p) for p in pages) or "—",
        first_page=pages[0] if pages else None,
        crops=crops,
        note=note,
    )


def _copy_pdf(r: Report, out_dir: Path) -> str | None:
    """The original beside the pages (pdf/<slug>.pdf), so the folder can be copied and still opens it."""
    if r.pdf is None or not r.pdf.is_file():
        return None
    target = out_dir / "pdf" / f"{r.slug}.pdf"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.is_file() or target.stat().st_size != r.pdf.stat().st_size:
        tmp = target.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        try:
            os.link(r.pdf, tmp)  # same disk: no second copy of the bytes
        except OSError:
            shutil.copyfile(r.pdf, tmp)
        os.replace(tmp, target)
    return f"pdf/{target.name}"


def _crop_words(k: Crop) -> str:
    return "、".join(f"{f.get('label') or ''} {f.get('text')}".strip() for f in k.figures)


def report_page(r: Report, out_dir: Path, prev: Report | None = None, next_: Report | None = None) -> str:
    """The page of one report: findings first (each with its crops), then passes, outline, figures.

    `prev` and `next_` are its neighbours in the index, linked from the top of the page.
    """
    finding_list = r.finding_checks()
    crops: dict[int, list[Crop]] = {}
    has_pdf = r.pdf is not None and r.pdf.is_file()
    note = messages.text("crop_no_position" if has_pdf else "crop_no_pdf", "zh")
    notes: dict[int, str] = {}
    if has_pdf and finding_list:
        import pdfplumber  # only when there is something to draw

        img_dir = out_dir / "img"
        img_dir.mkdir(parents=True, exist_ok=True)
        try:
            with pdfplumber.open(r.pdf) as pdf:  # type: ignore[arg-type]
                for n, c in enumerate(finding_list, 1):
                    try:
                        crops[n] = crop_images(pdf, r, c, str(r.position(c)), img_dir)
                    except Exception as exc:  # a failed crop must not cost the reviewer the finding itself
                        notes[n] = messages.text("crop_failed", "zh", error=f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            note = messages.text("pdf_unopenable", "zh", error=f"{type(exc).__name__}: {exc}")
    findings = [
        _finding(r, c, n, crops.get(n, []), notes.get(n, note)) for n, c in enumerate(finding_list, 1)
    ]
    sections = [s for s in r.doc.get("sections") or [] if isinstance(s, dict)]
    return _render(
        "report.html",
        r=r,
        title=r.meta.get("title") or r.file,
        pdf_href=_copy_pdf(r, out_dir),
        prev=prev,
        next=next_,
        figures=[f for f in r.doc.get("figures") or [] if isinstance(f, dict)],
        checks=r.checks(),
        failed=r.checks("fail"),
        unverifiable=r.checks("unverifiable"),
        passed=r.checks("pass"),
        findings=findings,
        crop_words=_crop_words,
        outline=[(min(max(to_int(s.get("level")) or 1, 1), 6), s) for s in sections],
    )


# --- index -------------------------------------------------------------------------------------------------


@dataclass
class _UnitYears:
    unit: str
    n_docs: int
    years: list[int]
    rows: list[tuple[str, list[tuple[str, str]]]]  # label, then (sort value, printed values) per year


def _first_num(texts: list[str] | None) -> str:
    m = re.search(r"-?\d[\d,]*(?:\.\d+)?", texts[0]) if texts else None
    return m.group(0).replace(",", "") if m else ""


def _cross_year(reports: list[Report]) -> list[_UnitYears]:
    """Per unit reported in several years: each label found in two years or more, its values by year."""
    by_unit: dict[str, list[Report]] = defaultdict(list)
    for r in reports:
        if r.error is None and r.unit and r.year is not None:
            by_unit[r.unit].append(r)
    out = []
    for unit in sorted(by_unit):
        docs = sorted(by_unit[unit], key=lambda r: (r.year, r.file))
        years = sorted({r.year for r in docs if r.year is not None})
        if len(years) < 2:
            continue
        values: dict[str, dict[int, list[str]]] = {}
        seen: set[tuple] = set()
        for r in docs:
            for f in r.doc.get("figures") or []:
                label = f.get("label") if isinstance(f, dict) else None
                if not label:
                    continue
                texts = values.setdefault(label, {}).setdefault(r.year, [])  # type: ignore[arg-type]
                # A repeat of the same amount ("58 万元" and "58万元") is one value, shown as first printed.
                key = (label, r.year, num(f.get("value")), f.get("unit"))
                if key not in seen:
                    seen.add(key)
                    texts.append(str(f.get("text") or figure_value(f)))
        rows = [
            (lab, [(_first_num(by_year.get(y)), "；".join(by_year.get(y, []))) for y in years])
            for lab, by_year in values.items()
            if len(by_year) >= 2
        ]
        out.append(_UnitYears(unit, len(docs), years, rows))
    return out


def index_order(reports: list[Report]) -> list[Report]:
    """The index's order (unit, year, file): also the order of a report page's previous/next links."""
    return sorted(reports, key=lambda r: (r.unit or "\uffff", r.year or 0, r.file))


def index_page(reports: list[Report]) -> str:
    """The batch: one row per file (errors included), then each unit's labels across years."""
    ok = [r for r in reports if r.error is None]
    return _render(
        "index.html",
        reports=index_order(reports),
        n_ok=len(ok),
        n_fail=sum(len(r.checks("fail")) for r in ok),
        n_unverifiable=sum(len(r.checks("unverifiable")) for r in ok),
        cross_year=_cross_year(reports),
    )
