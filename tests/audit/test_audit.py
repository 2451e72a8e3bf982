"""The audit shows each finding with its page and words, highlighted, and renders untrusted text inert."""

from __future__ import annotations

import copy
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from pipeline.audit import FINDING_COLUMNS, error_doc, write_audit
from pipeline.cli import main
from pipeline.extract import extract
from pipeline.messages import Message
from pipeline.serialize import to_contract
from testkit.corpus import REPO
from testkit.synth import Block, render_pdf
from testkit.terminal import plain, run_on_terminal

ROOT = REPO
SEED = ROOT / "samples" / "seed-gov.pdf"
# The seed's ten temporary projects, in 万元: they add to 578.95 while the report states 579.15.
PARTS = [227.33, 182, 53.35, 65.99, 0.3, 1.65, 8, 2, 33.66, 4.67]
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


# --- helpers -------------------------------------------------------------------------------------------


def _slip(doc: dict) -> dict:
    """The seed's failing sum check, as reconciliation reports it."""
    (check,) = [c for c in doc["checks"] if c["status"] == "fail" and c["stated"] == 579.15]
    assert check["rule"] == "sum" and check["expected"] == pytest.approx(578.95)
    values = sorted(f["value"] for f in doc["figures"] if f["id"] in check["figures"])
    assert values == sorted([*PARTS, 579.15])
    return check


@pytest.fixture(scope="module")
def seed_doc() -> dict:
    return to_contract(extract(SEED))


class _Page(HTMLParser):
    """What the tests look at in a generated page: findings, their messages and images, tags used."""

    def __init__(self) -> None:
        super().__init__()
        self.findings: list[dict] = []
        self.tags: list[tuple[str, dict]] = []
        self._depth = 0  # inside a finding <section>
        self._msg = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "section" and "finding" in (a.get("class") or "").split():
            self.findings.append({"message": "", "imgs": [], "class": a["class"]})
            self._depth = 1
        elif self._depth and tag == "section":
            self._depth += 1
        if self._depth and tag == "p" and a.get("class") == "msg":
            self._msg = True
        if self._depth and tag == "img":
            self.findings[-1]["imgs"].append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._msg = False
        if self._depth and tag == "section":
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._msg:
            self.findings[-1]["message"] += data


def _parse(path: Path) -> _Page:
    p = _Page()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _highlighted(img: Image.Image) -> int:
    """Pixels of the translucent yellow highlight over white paper (about RGB 255, 246, 165)."""
    data = img.convert("RGB").tobytes()
    n = 0
    for i in range(0, len(data), 3):
        r, g, b = data[i], data[i + 1], data[i + 2]
        if r >= 235 and 215 <= g <= 252 and 110 <= b <= 205 and r - b >= 50:
            n += 1
    return n


def _report_pages(out: Path) -> list[Path]:
    return sorted(out.glob("report-*.html"))


# --- the seed's slip ------------------------------------------------------------------------------------


def test_seed_slip_comes_first_with_a_highlighted_crop(seed_doc: dict, tmp_path: Path) -> None:
    doc = copy.deepcopy(seed_doc)
    slip = _slip(doc)
    index = write_audit([(doc, SEED)], tmp_path)
    assert index == tmp_path / "index.html"
    (page,) = _report_pages(tmp_path)
    assert page.name == f"report-{doc['source']['sha256'][:12]}.html"
    assert page.name in index.read_text(encoding="utf-8")

    parsed = _parse(page)
    first = parsed.findings[0]
    assert "fail" in first["class"]
    assert first["message"] == slip["message"]
    text = page.read_text(encoding="utf-8")
    assert "579.15" in text and "578.95" in text

    # One crop (all eleven figures stand on one page), beside the HTML, with the highlights drawn.
    pages = {f["page"] for f in doc["figures"] if f["id"] in slip["figures"]}
    assert len(first["imgs"]) == len(pages) == 1
    png = tmp_path / first["imgs"][0]["src"]
    assert png.parent == tmp_path / "img" and png.is_file()
    with Image.open(png) as im:
        lit = _highlighted(im)
        w, h = im.size
    # Eleven boxes of roughly 40-80 x 14 pt at 110 dpi: thousands of pixels, but far from the whole crop.
    assert 3000 < lit < w * h * 0.3, lit


def test_crop_without_highlight_has_no_highlight_colour(seed_doc: dict, tmp_path: Path) -> None:
    """The colour test above means something: the page itself has no such pixels."""
    import pdfplumber

    slip = _slip(copy.deepcopy(seed_doc))
    page_no = next(f["page"] for f in seed_doc["figures"] if f["id"] == slip["figures"][0])
    with pdfplumber.open(SEED) as pdf:
        im = pdf.pages[page_no - 1].to_image(resolution=110, antialias=True)
        assert _highlighted(im.original) == 0


# --- untrusted text -------------------------------------------------------------------------------------


def _hostile_pdf(path: Path) -> Path:
    blocks = [
        Block("title", f"2021年度{SCRIPT}中心部门整体支出绩效自评报告"),
        Block("heading", f"一、{IMG}基本情况"),
        Block("para", f"全年{SCRIPT}项目经费 100 万元，{IMG}专项资金 60 万元，合计 160 万元。"),
        Block("heading", "二、绩效情况"),
        Block("para", f"{IMG}完成率 95%，服务对象 12 人。"),
    ]
    return render_pdf(blocks, path, layout="word")


def test_hostile_text_renders_inert(tmp_path: Path) -> None:
    pdf = _hostile_pdf(tmp_path / "hostile.pdf")
    doc = to_contract(extract(pdf))
    # The payloads really are in the extracted text (else this test would prove nothing)...
    extracted = str(doc["report"]) + str(doc["sections"]) + str([f["label"] for f in doc["figures"]])
    assert "<script>" in extracted or "<img" in extracted
    # ...and in a finding, its evidence and a formula-looking message, whatever extraction made of them.
    amounts = [f for f in doc["figures"] if f["kind"] == "amount"]
    doc["checks"].append(
        {
            "id": f"c{IMG}",
            "rule": f"sum{SCRIPT}",
            "status": "fail",
            "figures": [f["id"] for f in amounts],
            "expected": 160,
            "stated": 161,
            "message": f'=HYPERLINK("http://x") {SCRIPT} {IMG}',
            "evidence": {"text": f"{SCRIPT}{IMG}"},
        }
    )
    write_audit([(doc, pdf)], tmp_path / "audit")
    pages = [tmp_path / "audit" / "index.html", *_report_pages(tmp_path / "audit")]
    assert len(pages) == 2
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert SCRIPT not in text and IMG not in text and "<img src=x" not in text
        assert "onerror=alert" not in text.replace("onerror=alert(1)&gt;", "")
        parsed = _parse(page)
        assert [t for t, _ in parsed.tags].count("script") == 1  # our own, once
        for _, attrs in parsed.tags:
            assert not any(k.startswith("on") for k in attrs), attrs
    report = pages[1].read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report  # shown as text
    # html.escape writes &quot;, Jinja2's autoescape &#34;: either is the quote shown as text
    assert re.search(r"(&quot;|&#34;)&gt;&lt;img src=x onerror=alert\(1\)&gt;", report)
    assert "Content-Security-Policy" in report

    # The workbook keeps the message as text, not as a formula.
    ws = load_workbook(tmp_path / "audit" / "audit.xlsx")["问题"]
    col = FINDING_COLUMNS.index("说明")
    (cell,) = [r[col] for r in ws.iter_rows(min_row=2) if str(r[col].value).startswith("=HYPERLINK")]
    assert cell.data_type == "s"


# --- the workbook agrees with the pages -------------------------------------------------------------------


def test_xlsx_lists_the_same_findings_as_the_html(seed_doc: dict, tmp_path: Path) -> None:
    doc = copy.deepcopy(seed_doc)
    slip = _slip(doc)
    doc["checks"].append(
        {
            "id": "c-unv",
            "rule": "ratio",
            "status": "unverifiable",
            "figures": slip["figures"][:1],
            "expected": None,
            "stated": 15.84,
            "message": "比率的分母没有在报告中找到。",
        }
    )
    doc["checks"].append(
        {
            "id": "c-ok",
            "rule": "sum",
            "status": "pass",
            "figures": slip["figures"][:2],
            "expected": 1,
            "stated": 1,
            "message": "这一项相符。",
        }
    )
    other = copy.deepcopy(doc)  # a second report: the same unit a year later
    other["source"]["sha256"] = "0" * 64
    other["source"]["file"] = "seed-2021.pdf"
    other["report"]["year"] = 2021
    write_audit([(doc, SEED), (other, None), (error_doc("broken.pdf", "not a PDF"), None)], tmp_path)

    html_msgs = [f["message"] for p in _report_pages(tmp_path) for f in _parse(p).findings]
    wb = load_workbook(tmp_path / "audit.xlsx")
    ws = wb["问题"]
    assert [c.value for c in ws[1]] == FINDING_COLUMNS
    rows = [dict(zip(FINDING_COLUMNS, (c.value for c in r))) for r in ws.iter_rows(min_row=2)]
    per_doc = sum(
        c["status"] in ("fail", "unverifiable") for c in doc["checks"]
    )  # passing ones are no findings
    assert len(rows) == len(html_msgs) == 2 * per_doc
    assert sorted(r["说明"] for r in rows) == sorted(html_msgs)
    slip_row = next(r for r in rows if r["说明"] == slip["message"] and r["年度"] == doc["report"]["year"])
    assert slip_row["报告值"] == 579.15 and slip_row["计算值"] == 578.95
    assert slip_row["差额"] == pytest.approx(0.2)
    assert slip_row["状态"] == "未通过" and slip_row["规则"] == "求和"
    assert "579.15 万元" in slip_row["涉及数据"] and slip_row["页码"]
    # The failed file is listed with its error, in the index and the workbook.
    assert "not a PDF" in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert any(r[-1].value == "not a PDF" for r in wb["文件"].iter_rows(min_row=2))


def test_index_compares_a_unit_across_years(seed_doc: dict, tmp_path: Path) -> None:
    a = copy.deepcopy(seed_doc)
    b = copy.deepcopy(seed_doc)
    b["source"]["sha256"] = "f" * 64
    b["report"]["year"] = a["report"]["year"] + 1
    # Two files of one name from two folders (no PDF there: pages without crops) are told apart.
    write_audit([(a, tmp_path / "y2020" / "report.pdf"), (b, tmp_path / "y2021" / "report.pdf")], tmp_path)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "y2020/seed-gov.pdf" in index and "y2021/seed-gov.pdf" in index
    assert "原文 PDF 不可用" in next(iter(_report_pages(tmp_path))).read_text(encoding="utf-8")
    assert "跨年度对照" in index
    m = re.search(r'<table class="sortable" id="years-0">(.*?)</table>', index, re.S)
    assert m, index
    table = m.group(1)
    assert f">{a['report']['year']}</th>" in table and f">{b['report']['year']}</th>" in table
    assert "临时专款专用的一般专项" in table and "579.15 万元" in table


# --- the command -------------------------------------------------------------------------------------------


def test_cli_audits_pdfs_and_lists_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "in" / "broken.pdf"
    bad.parent.mkdir()
    bad.write_bytes(b"not a pdf at all")
    shutil.copy(SEED, tmp_path / "in" / "seed-gov.pdf")
    out = tmp_path / "out"
    assert main(["audit", str(tmp_path / "in"), "--out", str(out)]) == 0
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "broken.pdf" in index and "提取失败：不是 PDF 文件（缺少 %PDF- 文件头）" in index
    assert "not a PDF" not in index and "header" not in index  # the reason in Chinese only
    assert len(_report_pages(out)) == 1 and (out / "audit.xlsx").is_file()
    files = load_workbook(out / "audit.xlsx")["文件"]
    errors = {row[2]: row[-1] for row in files.iter_rows(min_row=2, values_only=True)}
    assert errors == {"broken.pdf": "不是 PDF 文件（缺少 %PDF- 文件头）", "seed-gov.pdf": None}
    assert main(["audit", "--out", str(out)]) == 2  # nothing to audit


def test_cli_audit_shows_a_bar_on_a_terminal_and_plain_lines_in_a_pipe(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SEED, folder / "seed-gov.pdf")
    (folder / "broken.pdf").write_bytes(b"not a pdf at all")
    cmd = [sys.executable, "-m", "pipeline", "audit", str(folder), "--out"]
    env = {k: v for k, v in os.environ.items() if k != "PIPELINE_PROGRESS"}

    code, out, term = run_on_terminal([*cmd, str(tmp_path / "tty")], env=env, cwd=REPO)
    shown = plain(term)
    assert code == 0 and out.strip().endswith("index.html"), shown
    assert re.search(r"extracting .*2/2 .*ETA", shown) and re.search(r"writing the audit .*1/1", shown), shown
    assert "seed-gov.pdf" in shown  # the file being worked on
    # above the bar: the failure and the summary, in English as the command line speaks
    assert "error: broken.pdf: not a PDF (no %PDF- header)" in shown.splitlines()
    assert re.search(r"^audited 2 file\(s\): 1 report\(s\), 1 failed, \d+ failing check\(s\)$", shown, re.M)

    piped = subprocess.run([*cmd, str(tmp_path / "pipe")], env=env, cwd=REPO, capture_output=True, text=True)
    assert piped.returncode == 0, piped.stderr
    lines = piped.stderr.splitlines()
    assert lines[0] == "error: broken.pdf: not a PDF (no %PDF- header)" and len(lines) == 2, lines
    assert lines[1].startswith("audited 2 file(s): 1 report(s), 1 failed")  # no bar, no escape codes
    assert (tmp_path / "pipe" / "index.html").read_text(encoding="utf-8").count(
        "提取失败：不是 PDF 文件"
    ) == 1


def test_cli_audits_a_store(seed_doc: dict, tmp_path: Path) -> None:
    storage = pytest.importorskip("pipeline.store")
    url = f"sqlite:///{tmp_path / 'reports.db'}"
    with storage.Store(url) as store:
        store.save_report(copy.deepcopy(seed_doc), path=str(SEED), extractor_version="test")
        store.record_failure(str(tmp_path / "broken.pdf"), "1" * 64, "not a PDF")  # as an older pipeline did
        store.record_failure(
            str(tmp_path / "big.pdf"), "2" * 64, Message("too_large", size_mb=600.0, limit_mb=500.0)
        )
    out = tmp_path / "out"
    assert main(["audit", "--db", url, "--out", str(out)]) == 0
    (page,) = _report_pages(out)
    assert _parse(page).findings[0]["message"] == _slip(copy.deepcopy(seed_doc))["message"]
    assert list((out / "img").glob("*.png"))  # the stored path still leads to the PDF: crops drawn
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "提取失败：文件过大（600 MB，上限为 500 MB）" in index and "too large" not in index
    assert "提取失败：not a PDF" in index  # a reason stored in English only is shown as it is


def test_cli_audits_a_store_from_before_the_chinese_reasons(tmp_path: Path) -> None:
    storage = pytest.importorskip("pipeline.store")
    db = tmp_path / "reports.db"
    with storage.Store(f"sqlite:///{db}") as store:
        store.record_failure(str(tmp_path / "broken.pdf"), "1" * 64, Message("not_pdf"))
    conn = sqlite3.connect(db)  # the store as an older pipeline left it
    conn.execute("ALTER TABLE documents DROP COLUMN error_zh")
    conn.execute("ALTER TABLE ingest_files DROP COLUMN reason_zh")
    conn.commit()
    conn.close()  # the last connection: the write-ahead log goes into the file
    db.chmod(0o444)  # opened read-only, as audit does: nothing adds the columns
    out = tmp_path / "out"
    assert main(["audit", "--db", f"sqlite:///{db}", "--out", str(out)]) == 0
    assert "提取失败：not a PDF (no %PDF- header)" in (out / "index.html").read_text(encoding="utf-8")
    with storage.Store(f"sqlite:///{db}", read_only=True) as store:
        assert store.ingest_files_df()["reason"].tolist() == ["not a PDF (no %PDF- header)"]
        from pipeline.store.exports import export

        (csv,) = [p for p in export(store, "csv", tmp_path / "csv") if p.name == "documents.csv"]
        assert "not a PDF (no %PDF- header)" in csv.read_text(encoding="utf-8-sig")
        (copy_,) = export(store, "sqlite", tmp_path / "copy")  # every table copied, the new columns NULL
    with sqlite3.connect(copy_) as conn:
        assert conn.execute("SELECT error, error_zh FROM documents").fetchall() == [
            ("not a PDF (no %PDF- header)", None)
        ]


# --- in a real browser -------------------------------------------------------------------------------------


# Clicks the figures table's value header twice (descending), then filters by a label.
_PROBE = """(function(){
var t=document.getElementById('figures'), th=t.tHead.rows[0].cells[2];
th.click(); th.click();
var first=t.tBodies[0].rows[0].cells[2].getAttribute('data-v');
var inp=document.querySelector('input.filter'); inp.value='临时专款';
inp.dispatchEvent(new Event('input'));
var shown=Array.prototype.filter.call(t.tBodies[0].rows, function(r){return !r.hidden;}).length;
document.body.setAttribute('data-probe', first+'|'+shown);
})();"""


def _chromium() -> str | None:
    return next(
        (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None
    )


def test_report_page_in_headless_chromium(seed_doc: dict, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium binary on PATH (scripts/system-deps.sh installs Debian's chromium)")
    doc = copy.deepcopy(seed_doc)
    slip = _slip(doc)
    write_audit([(doc, SEED)], tmp_path / "audit")
    (page,) = _report_pages(tmp_path / "audit")
    shot = tmp_path / "shot.png"
    flags = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1200,1600",
    ]
    url = page.resolve().as_uri()
    subprocess.run([*flags, f"--screenshot={shot}", url], capture_output=True, timeout=120, check=True)
    dom = subprocess.run(
        [*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True
    ).stdout

    # The DOM as the browser built it: the finding's text, its crop, and our script ran (it makes the
    # sortable headers focusable), which it would not have done had the CSP blocked it.
    assert slip["message"] in dom
    assert re.search(r'<img src="img/[0-9a-f]{12}-\d+-p\d+\.png"', dom)
    assert 'tabindex="0"' in dom

    # Sorting and the label filter, driven in the browser: a copy of the page with a probe script after
    # ours (the copy drops the CSP, which would rightly block the probe) reports what it sees.
    probe = page.with_name("probe.html")
    source = page.read_text(encoding="utf-8")
    source = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", source)
    probe.write_text(source.replace("</body>", f"<script>{_PROBE}</script></body>"), encoding="utf-8")
    dom2 = subprocess.run(
        [*flags, "--dump-dom", probe.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    seen = re.search(r'data-probe="([^"]*)"', dom2)
    assert seen, dom2[-2000:]
    top, shown = seen.group(1).split("|")
    assert float(top) == max(f["value"] for f in doc["figures"])  # value column sorted descending
    assert int(shown) == sum("临时专款" in (f["label"] or "") for f in doc["figures"]) > 0

    out = ROOT / "outputs" / "audit-screenshot.png"
    out.parent.mkdir(exist_ok=True)
    shutil.copy(shot, out)
    # The highlighted crop is on the first screen: the highlight colour is in the screenshot.
    with Image.open(shot) as im:
        assert im.size == (1200, 1600)
        assert _highlighted(im) > 3000
