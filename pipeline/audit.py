"""A static audit of extracted reports that a reviewer can check without trusting the pipeline.

Every finding (a check that failed or could not be verified) is shown with the words it rests on: the
figures' labels and printed text, the page, and a cropped image of that page with each involved figure
highlighted. The output is plain files (HTML, PNG, one workbook) that open offline from a folder:

    out_dir/index.html                  the batch: one row per file, sortable, errors included
    out_dir/report-<sha256[:12]>.html   one page per report: findings first, then the rest
    out_dir/img/*.png                   the crops the report pages show
    out_dir/audit.xlsx                  the same findings as a workbook (sheet 问题)

Everything a report contains is untrusted (a PDF can say anything): all of it goes through `_e`
(html.escape), scripts are one constant block allowed by its hash in a Content-Security-Policy, and no
event handler or URL is ever built from extracted text.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.vocabulary import vocab

__all__ = ["write_audit", "error_doc", "findings", "HIGHLIGHT_FILL", "HIGHLIGHT_STROKE"]

# Highlight of an involved figure: translucent yellow over the text, an orange frame around it.
HIGHLIGHT_FILL = (255, 230, 0, 90)
HIGHLIGHT_STROKE = (230, 90, 0)
STATED_STROKE = (200, 0, 40)  # the figure that states the result, framed apart from its operands
RESOLUTION = 110

# names shown to people live with the other vocabularies (data/vocabulary.toml)
STATUS_ZH = vocab()["display"]["check_status"]
RULE_ZH = vocab()["display"]["rules"]
KIND_ZH = vocab()["display"]["kinds"]
FINDING_COLUMNS = ["单位", "年度", "文件", "规则", "状态", "说明", "报告值", "计算值", "差额", "页码", "涉及数据"]

_SHA = re.compile(r"^[0-9a-f]{64}$")

# --- static parts of every page ------------------------------------------------------------------------

_CSS = """
body{font-family:"Noto Sans CJK SC","WenQuanYi Zen Hei","Microsoft YaHei",sans-serif;margin:1.2em auto;
max-width:1100px;padding:0 1em;color:#222;line-height:1.5}
h1{font-size:1.45em;margin:.2em 0}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:1.6em}
h3{font-size:1.05em;margin:.2em 0}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em}
th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#f2f2f2}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th[aria-sort=ascending]::after{content:" ▲"}
table.sortable th[aria-sort=descending]::after{content:" ▼"}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.finding{border:2px solid #d9480f;border-radius:6px;padding:.6em .9em;margin:1em 0;background:#fff8f3}
.finding.unverifiable{border-color:#adb5bd;background:#f8f9fa}
.finding .msg{font-size:1.1em;font-weight:bold;margin:.1em 0 .4em}
.crop{margin:.5em 0}.crop img{max-width:100%;height:auto;border:1px solid #999;display:block}
.crop figcaption{font-size:.85em;color:#555}
.bad{color:#c92a2a;font-weight:bold}.ok{color:#2b8a3e}.muted{color:#777}
dl.meta{display:flex;flex-wrap:wrap;gap:.1em 1.4em;margin:.3em 0;font-size:.9em}
dl.meta div{display:flex;gap:.4em}dl.meta dt{color:#777}dl.meta dd{margin:0}
.summary span{display:inline-block;margin-right:1.2em}
.err{color:#c92a2a}
.l1{padding-left:0}.l2{padding-left:1.5em}.l3{padding-left:3em}.l4{padding-left:4.5em}
.l5{padding-left:6em}.l6{padding-left:7.5em}
ul.outline{list-style:none;padding-left:0}
input.filter{font:inherit;padding:.2em .4em;width:18em}
details{margin:.6em 0}summary{cursor:pointer}
"""

# Column sorting (click or Enter on a header) and the label filter; listeners only, no inline handlers.
_JS = """
(function(){
function key(c){return c.hasAttribute('data-v')?c.getAttribute('data-v'):c.textContent.trim();}
document.querySelectorAll('table.sortable').forEach(function(t){
 var hs=t.tHead.rows[0].cells;
 Array.prototype.forEach.call(hs,function(th,i){
  th.tabIndex=0;
  function go(){
   var asc=th.getAttribute('aria-sort')!=='ascending', num=th.getAttribute('data-type')==='num';
   Array.prototype.forEach.call(hs,function(h){h.removeAttribute('aria-sort');});
   th.setAttribute('aria-sort',asc?'ascending':'descending');
   var b=t.tBodies[0], rows=Array.prototype.slice.call(b.rows);
   rows.sort(function(a,c){
    var x=key(a.cells[i]||a), y=key(c.cells[i]||c), r;
    if(num){x=parseFloat(x);y=parseFloat(y);
     if(isNaN(x)&&isNaN(y))r=0;else if(isNaN(x))return 1;else if(isNaN(y))return -1;else r=x-y;}
    else r=x.localeCompare(y,'zh');
    return asc?r:-r;});
   rows.forEach(function(r){b.appendChild(r);});
  }
  th.addEventListener('click',go);
  th.addEventListener('keydown',function(ev){if(ev.key==='Enter')go();});
 });
});
document.querySelectorAll('input.filter').forEach(function(inp){
 var t=document.getElementById(inp.getAttribute('data-table')), col=+inp.getAttribute('data-col');
 inp.addEventListener('input',function(){
  var q=inp.value.trim().toLowerCase();
  Array.prototype.forEach.call(t.tBodies[0].rows,function(r){
   var c=r.cells[col];r.hidden=!!q&&!(c&&c.textContent.toLowerCase().indexOf(q)>=0);});
 });
});
})();
"""


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


# Only our own script and style run, even if some text slipped past escaping; images from the folder.
_CSP = (
    f"default-src 'none'; script-src {_csp_hash(_JS)}; style-src {_csp_hash(_CSS)}; "
    "img-src 'self' file: data:; base-uri 'none'; form-action 'none'"
)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_e(_CSP)}\">"
        "<meta name=\"referrer\" content=\"no-referrer\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>\n{body}\n"
        f"<script>{_JS}</script>\n</body></html>\n"
    )


# --- small helpers ---------------------------------------------------------------------------------------


def _e(x: Any) -> str:
    """Escape anything for HTML text or a quoted attribute; None is empty."""
    return "" if x is None else html.escape(str(x), quote=True)


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _fmt(v: Any) -> str:
    """A number as a reviewer reads it: thousands separators, no float noise (0.2, not 0.19999)."""
    f = _num(v)
    if f is None:
        return "—"
    s = f"{f:,.6f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _int(v: Any) -> int | None:
    try:
        return int(v) if v is not None and not isinstance(v, bool) else None
    except (TypeError, ValueError):
        return None


def _cell_v(v: Any) -> str:
    """data-v attribute for numeric sorting: empty when not a number."""
    f = _num(v)
    return "" if f is None else repr(f)


# --- what the pages show ---------------------------------------------------------------------------------


@dataclass
class _Report:
    doc: dict
    pdf: Path | None
    slug: str  # sha256[:12], names the page and its images
    error: str | None = None
    figs: dict[str, dict] = field(default_factory=dict)
    shown_as: str | None = None  # the file's name as listed, when the bare name is ambiguous in the batch

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
        return _int(self.meta.get("year"))

    @property
    def file(self) -> str:
        return self.shown_as or str(self.source.get("file") or (self.pdf.name if self.pdf else "") or self.slug)

    @property
    def page_name(self) -> str:
        return f"report-{self.slug}.html"

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
        stated = _num(check.get("stated"))
        hits = [f for f in self.involved(check) if stated is not None and _num(f.get("value")) == stated]
        return str(hits[-1].get("id")) if hits else None


def error_doc(file: str, error: str, sha256: str | None = None) -> dict:
    """The stand-in document for a file that could not be extracted: it shows in the index with its error."""
    return {"source": {"file": file, "sha256": sha256, "pages": None}, "report": {}, "error": error}


def _slug(doc: dict, pdf: Path | None, taken: set[str]) -> str:
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


def _unit_of(figs: list[dict]) -> str:
    units = {f.get("unit") for f in figs if f.get("unit")}
    return str(units.pop()) if len(units) == 1 else ""


def _difference(check: dict) -> float | None:
    d = _num(check.get("difference"))
    if d is None and _num(check.get("stated")) is not None and _num(check.get("expected")) is not None:
        d = _num(check["stated"]) - _num(check["expected"])  # type: ignore[operator]
    return d


def _pages(figs: list[dict]) -> list[int]:
    return sorted({p for p in (_int(f.get("page")) for f in figs) if p is not None})


def _figure_words(f: dict) -> str:
    label = f.get("label") or "（无标签）"
    return f"{label} {f.get('text') or _fmt(f.get('value'))}（第 {f.get('page')} 页，{f.get('id')}）"


def findings(doc: dict) -> list[dict[str, Any]]:
    """The findings of one document as rows of the workbook's 问题 sheet (keys: FINDING_COLUMNS)."""
    r = _Report(doc=doc, pdf=None, slug="")
    r.figs = {f["id"]: f for f in doc.get("figures") or [] if isinstance(f, dict) and "id" in f}
    return [_finding_row(r, c) for c in r.finding_checks()]


def _finding_row(r: _Report, c: dict) -> dict[str, Any]:
    figs = r.involved(c)
    return {
        "单位": r.unit,
        "年度": r.year,
        "文件": r.file,
        "规则": RULE_ZH.get(str(c.get("rule")), c.get("rule")),
        "状态": STATUS_ZH.get(str(c.get("status")), c.get("status")),
        "说明": c.get("message"),
        "报告值": _num(c.get("stated")),
        "计算值": _num(c.get("expected")),
        "差额": _difference(c),
        "页码": ", ".join(str(p) for p in _pages(figs)),
        "涉及数据": "；".join(_figure_words(f) for f in figs),
    }


# --- crops -----------------------------------------------------------------------------------------------


def _line_pitch(page: Any, default: float) -> float:
    """Baseline-to-baseline distance of the page's body text, so "two lines" means two of its lines."""
    tops = sorted({round(float(c["top"]), 1) for c in page.chars if str(c.get("text", "")).strip()})
    gaps = [b - a for a, b in zip(tops, tops[1:]) if b - a > 2]
    return statistics.median(gaps) if gaps else default


def _crop_region(page: Any, boxes: list[list[float]]) -> tuple[float, float, float, float]:
    """Union of the boxes, widened to the text column and about two lines above and below."""
    px0, ptop, px1, pbottom = (float(v) for v in page.bbox)
    top = min(b[1] for b in boxes)
    bottom = max(b[3] for b in boxes)
    height = max(b[3] - b[1] for b in boxes) or 12.0
    pad = 2.2 * _line_pitch(page, 2 * height)
    chars = [c for c in page.chars if str(c.get("text", "")).strip()]
    x0 = min([float(c["x0"]) for c in chars] + [b[0] for b in boxes]) - 8
    x1 = max([float(c["x1"]) for c in chars] + [b[2] for b in boxes]) + 8
    return (max(px0, x0), max(ptop, top - pad), min(px1, x1), min(pbottom, bottom + pad))


def _bbox(f: dict) -> list[float] | None:
    b = f.get("bbox")
    if not isinstance(b, list | tuple) or len(b) != 4:
        return None
    vals = [_num(v) for v in b]
    if any(v is None for v in vals):
        return None
    x0, top, x1, bottom = vals  # type: ignore[misc]
    return [min(x0, x1), min(top, bottom), max(x0, x1), max(top, bottom)]  # type: ignore[type-var]


@dataclass
class _Crop:
    page: int
    src: str  # relative to the HTML page
    width: int
    height: int
    figures: list[dict]


def _crops(pdf: Any, r: _Report, check: dict, n: int, img_dir: Path) -> list[_Crop]:
    """One highlighted PNG per page the check's figures stand on."""
    by_page: dict[int, list[dict]] = defaultdict(list)
    for f in r.involved(check):
        p = _int(f.get("page"))
        if p is not None and _bbox(f) is not None and 1 <= p <= len(pdf.pages):
            by_page[p].append(f)
    out = []
    for p in sorted(by_page):
        page = pdf.pages[p - 1]
        boxes = [_bbox(f) for f in by_page[p]]
        region = _crop_region(page, boxes)  # type: ignore[arg-type]
        im = page.crop(region).to_image(resolution=RESOLUTION, antialias=True)
        stated = r.stated_id(check)
        for f, b in zip(by_page[p], boxes):
            is_stated = f.get("id") == stated
            # A point and a half of padding so the frame does not cut through the digits.
            im.draw_rects(
                [(b[0] - 1.5, b[1] - 1.5, b[2] + 1.5, b[3] + 1.5)],  # type: ignore[index]
                stroke=STATED_STROKE if is_stated else HIGHLIGHT_STROKE,
                fill=HIGHLIGHT_FILL,
                stroke_width=3 if is_stated else 2,
            )
        name = f"{r.slug}-{n}-p{p}.png"
        im.save(img_dir / name)
        w, h = im.annotated.size
        out.append(_Crop(page=p, src=f"img/{name}", width=w, height=h, figures=by_page[p]))
    return out


# --- report page -----------------------------------------------------------------------------------------


def _kv_table(rows: Sequence[tuple[str, str]]) -> str:
    """Rows of (header, already-escaped HTML)."""
    return "<table class=\"kv\">" + "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _figures_list(figs: list[dict], stated: str | None) -> str:
    if not figs:
        return "<p class=\"muted\">（没有可对应的数据）</p>"
    rows = "".join(
        f"<tr><td>{_e(f.get('id'))}</td><td>{_e(f.get('label'))}</td><td>{_e(f.get('text'))}</td>"
        f"<td class=\"n\">{_e(f.get('page'))}</td><td>{'报告值' if f.get('id') == stated else ''}</td></tr>"
        for f in figs
    )
    return (
        "<table><thead><tr><th>编号</th><th>标签</th><th>原文</th><th>页码</th><th></th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _evidence(ev: Any) -> str:
    if ev in (None, "", [], {}):
        return ""
    text = ev if isinstance(ev, str) else json.dumps(ev, ensure_ascii=False, indent=1, default=str)
    return f"<details><summary>依据</summary><pre>{_e(text)}</pre></details>"


def _crop_html(k: _Crop) -> str:
    words = "、".join(f"{f.get('label') or ''} {f.get('text')}".strip() for f in k.figures)
    return (
        f"<figure class=\"crop\"><img src=\"{_e(k.src)}\" width=\"{k.width}\" height=\"{k.height}\" "
        f"alt=\"{_e(f'第 {k.page} 页：{words}')}\"><figcaption>第 {k.page} 页，黄底标出涉及的数据（红框为报告值）："
        f"{_e(words)}</figcaption></figure>"
    )


def _finding_html(r: _Report, c: dict, n: int, crops: list[_Crop], pdf_note: str) -> str:
    figs = r.involved(c)
    unit = _unit_of(figs)
    diff = _difference(c)
    status = str(c.get("status"))

    def amount(v: Any) -> str:  # a number with the figures' unit; a dash alone where there is none
        return _e(_fmt(v)) + (f" {_e(unit)}" if unit and _num(v) is not None else "")

    rows = [
        ("报告值", amount(c.get("stated"))),
        ("计算值", amount(c.get("expected"))),
        ("差额", f"<span class=\"bad\">{amount(diff)}</span>" if diff else amount(diff)),
        ("规则", f"{_e(RULE_ZH.get(str(c.get('rule')), c.get('rule')))} <span class=\"muted\">({_e(c.get('rule'))})</span>"),
        ("状态", _e(STATUS_ZH.get(status, status))),
        ("页码", _e(", ".join(str(p) for p in _pages(figs)) or "—")),
    ]
    pics = "".join(_crop_html(k) for k in crops) or (f"<p class=\"muted\">{_e(pdf_note)}</p>" if figs else "")
    cls = "fail" if status == "fail" else "unverifiable"
    return (
        f"<section class=\"finding {cls}\" id=\"finding-{n}\" data-check=\"{_e(c.get('id'))}\">"
        f"<h3>问题 {n}</h3><p class=\"msg\">{_e(c.get('message'))}</p>"
        f"{_kv_table(rows)}{pics}<h4>涉及数据</h4>{_figures_list(figs, r.stated_id(c))}{_evidence(c.get('evidence'))}</section>"
    )


def _outline_html(sections: list[dict]) -> str:
    if not sections:
        return "<p class=\"muted\">（未识别到标题）</p>"
    items = []
    for s in sections:
        level = min(max(_int(s.get("level")) or 1, 1), 6)
        num = f"{s.get('number')} " if s.get("number") else ""
        items.append(
            f"<li class=\"l{level}\">{_e(num)}{_e(s.get('title'))} <span class=\"muted\">第 {_e(s.get('page'))} 页</span></li>"
        )
    return "<ul class=\"outline\">" + "".join(items) + "</ul>"


def _figures_table(figs: list[dict]) -> str:
    rows = "".join(
        "<tr>"
        f"<td data-v=\"{n}\">{_e(f.get('id'))}</td><td>{_e(f.get('label'))}</td>"
        f"<td class=\"n\" data-v=\"{_cell_v(f.get('value'))}\">{_e(_fmt(f.get('value')))}</td>"
        f"<td>{_e(f.get('unit'))}</td><td>{_e(f.get('text'))}</td>"
        f"<td>{_e(KIND_ZH.get(str(f.get('kind')), f.get('kind')))}</td>"
        f"<td class=\"n\" data-v=\"{_cell_v(f.get('page'))}\">{_e(f.get('page'))}</td>"
        f"<td>{_e(f.get('section'))}</td></tr>"
        for n, f in enumerate(figs)
    )
    head = (
        "<tr><th data-type=\"num\">编号</th><th>标签</th><th data-type=\"num\">数值</th><th>单位</th>"
        "<th>原文</th><th>类型</th><th data-type=\"num\">页码</th><th>章节</th></tr>"
    )
    return (
        "<p><label>按标签筛选：<input class=\"filter\" type=\"search\" data-table=\"figures\" data-col=\"1\" "
        "placeholder=\"例如 预算\"></label></p>"
        f"<table class=\"sortable\" id=\"figures\"><thead>{head}</thead><tbody>{rows}</tbody></table>"
    )


def _report_page(r: _Report, out_dir: Path) -> str:
    meta, src = r.meta, r.source
    title = meta.get("title") or r.file
    checks = r.checks()
    failed, unver, passed = r.checks("fail"), r.checks("unverifiable"), r.checks("pass")
    figs = [f for f in r.doc.get("figures") or [] if isinstance(f, dict)]

    crops: dict[int, list[_Crop]] = {}
    finding_list = r.finding_checks()
    has_pdf = r.pdf is not None and r.pdf.is_file()
    note = "涉及的数据没有页面位置，无法截取页面。" if has_pdf else "原文 PDF 不可用，无法截取页面。"
    notes: dict[int, str] = {}
    if has_pdf and finding_list:
        import pdfplumber  # only when there is something to draw

        img_dir = out_dir / "img"
        img_dir.mkdir(parents=True, exist_ok=True)
        try:
            with pdfplumber.open(r.pdf) as pdf:  # type: ignore[arg-type]
                for n, c in enumerate(finding_list, 1):
                    try:
                        crops[n] = _crops(pdf, r, c, n, img_dir)
                    except Exception as exc:  # a failed crop must not cost the reviewer the finding itself
                        notes[n] = f"无法截取页面：{type(exc).__name__}: {exc}"
        except Exception as exc:
            note = f"无法打开原文 PDF：{type(exc).__name__}: {exc}"

    meta_rows = [
        ("标题", _e(meta.get("title"))),
        ("单位", _e(meta.get("unit"))),
        ("年度", _e(meta.get("year"))),
        ("日期", _e(meta.get("date"))),
        ("类型", _e(meta.get("doc_type"))),
        ("文件", _e(r.file) + (f" <a href=\"{_e(r.pdf.resolve().as_uri())}\">打开原文</a>" if r.pdf else "")),
        ("SHA-256", f"<code>{_e(src.get('sha256'))}</code>"),
        ("页数", _e(src.get("pages"))),
        ("提取程序版本", _e(r.doc.get("extractor_version"))),
    ]
    warnings = r.doc.get("warnings") or []
    if warnings:
        meta_rows.append(("提取警告", "；".join(_e(w) for w in warnings)))
    # One compact block, so that the first finding is on the first screen.
    meta_html = "<dl class=\"meta\">" + "".join(f"<div><dt>{_e(k)}</dt><dd>{v}</dd></div>" for k, v in meta_rows) + "</dl>"
    summary = (
        "<p class=\"summary\">"
        f"<span>识别数据 <b>{len(figs)}</b> 项</span><span>核验 <b>{len(checks)}</b> 项：</span>"
        f"<span class=\"ok\">通过 <b>{len(passed)}</b></span>"
        f"<span class=\"{'bad' if failed else 'ok'}\">未通过 <b>{len(failed)}</b></span>"
        f"<span class=\"muted\">无法核验 <b>{len(unver)}</b></span></p>"
    )
    if finding_list:
        body_findings = "".join(
            _finding_html(r, c, n, crops.get(n, []), notes.get(n, note)) for n, c in enumerate(finding_list, 1)
        )
    else:
        body_findings = "<p class=\"ok\">没有未通过或无法核验的核验。</p>"
    passing = "".join(
        f"<li>{_e(c.get('message'))} <span class=\"muted\">（{_e(RULE_ZH.get(str(c.get('rule')), c.get('rule')))}，"
        f"{_e('、'.join(_figure_words(f) for f in r.involved(c)))}）</span></li>"
        for c in passed
    )
    return _page(
        f"审核：{title}",
        f"<p><a href=\"index.html\">← 全部报告</a></p><h1>{_e(title)}</h1>{meta_html}"
        f"<h2>概况</h2>{summary}"
        f"<h2 id=\"findings\">问题（{len(finding_list)}）</h2>{body_findings}"
        f"<details><summary>通过的核验（{len(passed)}）</summary><ul>{passing}</ul></details>"
        f"<h2>提纲</h2>{_outline_html([s for s in r.doc.get('sections') or [] if isinstance(s, dict)])}"
        f"<h2>数据（{len(figs)}）</h2>{_figures_table(figs)}",
    )


# --- index -------------------------------------------------------------------------------------------------


def _index_rows(reports: list[_Report]) -> str:
    rows = []
    key = sorted(reports, key=lambda r: (r.unit or "\uffff", r.year or 0, r.file))
    for r in key:
        if r.error is not None:
            rows.append(
                f"<tr class=\"error\"><td>{_e(r.unit)}</td><td class=\"n\" data-v=\"\"></td>"
                f"<td>{_e(r.file)}</td><td class=\"n\" data-v=\"\"></td><td class=\"n\" data-v=\"\"></td>"
                f"<td class=\"n\" data-v=\"\"></td><td class=\"n\" data-v=\"\"></td><td class=\"n\" data-v=\"\"></td>"
                f"<td class=\"err\">提取失败：{_e(r.error)}</td></tr>"
            )
            continue
        nf, nu, np_ = len(r.checks("fail")), len(r.checks("unverifiable")), len(r.checks("pass"))
        nfig = len(r.doc.get("figures") or [])
        rows.append(
            f"<tr><td>{_e(r.unit)}</td><td class=\"n\" data-v=\"{_cell_v(r.year)}\">{_e(r.year)}</td>"
            f"<td><a href=\"{_e(r.page_name)}\">{_e(r.file)}</a></td>"
            f"<td class=\"n\" data-v=\"{_cell_v(r.source.get('pages'))}\">{_e(r.source.get('pages'))}</td>"
            f"<td class=\"n\" data-v=\"{nfig}\">{nfig}</td>"
            f"<td class=\"n{' bad' if nf else ''}\" data-v=\"{nf}\">{nf}</td>"
            f"<td class=\"n\" data-v=\"{nu}\">{nu}</td><td class=\"n\" data-v=\"{np_}\">{np_}</td>"
            f"<td>{_e(r.meta.get('doc_type'))}</td></tr>"
        )
    return "".join(rows)


def _cross_year(reports: list[_Report]) -> str:
    """Per unit reported in several years: each label found in two years or more, its values by year."""
    by_unit: dict[str, list[_Report]] = defaultdict(list)
    for r in reports:
        if r.error is None and r.unit and r.year is not None:
            by_unit[r.unit].append(r)
    parts = []
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
                key = (label, r.year, _num(f.get("value")), f.get("unit"))
                if key not in seen:
                    seen.add(key)
                    texts.append(str(f.get("text") or _fmt(f.get("value"))))
        shared = [lab for lab, by_year in values.items() if len(by_year) >= 2]
        tid = f"years-{len(parts)}"
        if not shared:
            parts.append(f"<h3>{_e(unit)}</h3><p class=\"muted\">各年度报告没有相同标签的数据。</p>")
            continue
        head = "<tr><th>标签</th>" + "".join(f"<th data-type=\"num\">{y}</th>" for y in years) + "</tr>"
        body = "".join(
            f"<tr><td>{_e(lab)}</td>"
            + "".join(
                f"<td class=\"n\" data-v=\"{_e(_first_num(values[lab].get(y)))}\">{_e('；'.join(values[lab].get(y, [])))}</td>"
                for y in years
            )
            + "</tr>"
            for lab in shared
        )
        parts.append(
            f"<h3>{_e(unit)}（{len(docs)} 份报告，{years[0]}–{years[-1]}）</h3>"
            f"<table class=\"sortable\" id=\"{tid}\"><thead>{head}</thead><tbody>{body}</tbody></table>"
        )
    if not parts:
        return ""
    return "<h2 id=\"years\">跨年度对照</h2><p class=\"muted\">同一单位多个年度的报告中标签相同的数据（按原文）。</p>" + "".join(parts)


def _first_num(texts: list[str] | None) -> str:
    m = re.search(r"-?\d[\d,]*(?:\.\d+)?", texts[0]) if texts else None
    return m.group(0).replace(",", "") if m else ""


def _index_page(reports: list[_Report]) -> str:
    ok = [r for r in reports if r.error is None]
    n_fail = sum(len(r.checks("fail")) for r in ok)
    head = (
        "<tr><th>单位</th><th data-type=\"num\">年度</th><th>文件</th><th data-type=\"num\">页数</th>"
        "<th data-type=\"num\">数据</th><th data-type=\"num\">未通过</th><th data-type=\"num\">无法核验</th>"
        "<th data-type=\"num\">通过</th><th>类型 / 错误</th></tr>"
    )
    return _page(
        "预算绩效自评报告审核",
        "<h1>预算绩效自评报告审核</h1>"
        f"<p class=\"summary\"><span>文件 <b>{len(reports)}</b></span><span>已提取 <b>{len(ok)}</b></span>"
        f"<span class=\"{'err' if len(ok) < len(reports) else 'ok'}\">提取失败 <b>{len(reports) - len(ok)}</b></span>"
        f"<span class=\"{'bad' if n_fail else 'ok'}\">未通过的核验 <b>{n_fail}</b></span>"
        "<span><a href=\"audit.xlsx\">下载 audit.xlsx</a></span></p>"
        "<p class=\"muted\">点击列标题排序。</p>"
        f"<table class=\"sortable\" id=\"reports\"><thead>{head}</thead><tbody>{_index_rows(reports)}</tbody></table>"
        f"{_cross_year(reports)}",
    )


# --- workbook ----------------------------------------------------------------------------------------------


def _xl(v: Any) -> Any:
    """A value safe for a cell: numbers stay numbers, text loses control characters."""
    if v is None or isinstance(v, int | float):
        return v
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", str(v))


def _write_xlsx(reports: list[_Report], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "问题"
    files = wb.create_sheet("文件")
    sheets = [
        (ws, FINDING_COLUMNS),
        (files, ["单位", "年度", "文件", "SHA-256", "页数", "数据", "未通过", "无法核验", "通过", "错误"]),
    ]
    for sheet, cols in sheets:
        sheet.append(cols)
        for c in sheet[1]:
            c.font = Font(bold=True)
        sheet.freeze_panes = "A2"

    def put(sheet: Any, values: list[Any]) -> None:
        sheet.append([_xl(v) for v in values])
        for cell in sheet[sheet.max_row]:
            # Text from a PDF that starts with "=" must stay text, never become a formula.
            if isinstance(cell.value, str):
                cell.data_type = "s"

    for r in reports:
        if r.error is None:
            for c in r.finding_checks():
                row = _finding_row(r, c)
                put(ws, [row[k] for k in FINDING_COLUMNS])
        put(
            files,
            [
                r.unit, r.year, r.file, r.source.get("sha256"), _int(r.source.get("pages")),
                None if r.error else len(r.doc.get("figures") or []),
                None if r.error else len(r.checks("fail")),
                None if r.error else len(r.checks("unverifiable")),
                None if r.error else len(r.checks("pass")),
                r.error,
            ],
        )
    for sheet, widths in ((ws, [22, 7, 24, 9, 9, 60, 12, 12, 10, 8, 80]), (files, [22, 7, 30, 20, 6, 6, 7, 9, 6, 50])):
        for i, w in enumerate(widths):
            sheet.column_dimensions[chr(ord("A") + i)].width = w
    wb.save(path)


# --- entry point -------------------------------------------------------------------------------------------


def write_audit(items: Iterable[tuple[dict, str | Path | None]], out_dir: str | Path) -> Path:
    """Write the audit of (contract document, PDF path or None) pairs into out_dir; returns index.html.

    A document with an `error` key (see `error_doc`) stands for a file that could not be extracted: it
    is listed in the index and the workbook's 文件 sheet with its error. Without a PDF a report's page
    has everything but the crops.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    reports = []
    for doc, pdf in items:
        pdf_path = Path(pdf) if pdf else None
        r = _Report(doc=doc, pdf=pdf_path, slug=_slug(doc, pdf_path, taken))
        if doc.get("error") is not None:
            r.error = str(doc["error"])
        r.figs = {str(f["id"]): f for f in doc.get("figures") or [] if isinstance(f, dict) and "id" in f}
        reports.append(r)
    # Folders of report.pdf (one per unit) would all list as "report.pdf": name those by folder too.
    names = [r.file for r in reports]
    for r in reports:
        if names.count(r.file) > 1 and r.pdf is not None:
            r.shown_as = f"{r.pdf.parent.name}/{r.file}"
    for r in reports:
        if r.error is None:
            (out / r.page_name).write_text(_report_page(r, out), encoding="utf-8")
    _write_xlsx(reports, out / "audit.xlsx")
    index = out / "index.html"
    index.write_text(_index_page(reports), encoding="utf-8")
    return index
