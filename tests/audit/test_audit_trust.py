"""The audit a reviewer can share and trust: one number format, links that survive copying, the right
counts, a jump list, neighbours, table crops with their header rows, digits legible under the highlight."""

from __future__ import annotations

import copy
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pdfplumber
import pytest
from openpyxl import load_workbook

from pipeline import numbers
from pipeline.audit import FINDING_COLUMNS, write_audit
from pipeline.audit.crops import RESOLUTION, crop_images
from pipeline.audit.view import Report, slug_for
from pipeline.extract import extract
from pipeline.serialize import to_contract
from testkit.corpus import REPO

ROOT = REPO
SEED = ROOT / "samples" / "seed-gov.pdf"
TABLE = ROOT / "samples" / "table-selfeval.pdf"


@pytest.fixture(scope="module")
def seed_doc() -> dict:
    return to_contract(extract(SEED))


@pytest.fixture(scope="module")
def table_doc() -> dict:
    return to_contract(extract(TABLE))


def _slip(doc: dict) -> dict:
    (check,) = [c for c in doc["checks"] if c["status"] == "fail" and c["stated"] == 579.15]
    return check


def _with_unverifiable(doc: dict) -> dict:
    doc = copy.deepcopy(doc)
    f = next(f for f in doc["figures"] if f["kind"] == "percent")
    doc["checks"].append(
        {
            "id": "c-unv",
            "rule": "ratio",
            "status": "unverifiable",
            "figures": [f["id"]],
            "expected": None,
            "stated": f["value"],
            "message": f"{f['label']} {f['text']}：报告未给出可核对的基数，无法验证",
        }  # fmt: skip
    )
    return doc


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, dict]] = []
        self.ids: set[str] = set()
        self.kv: list[dict[str, str]] = []  # per finding: 报告值 / 计算值 / 差额 as shown
        self._th: str | None = None
        self._td = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "section" and "finding" in (a.get("class") or ""):
            self.kv.append({})
        if tag in ("a", "img", "link", "script") and (a.get("href") or a.get("src")):
            self.links.append((tag, a))
        if tag == "th":
            self._th = ""
        elif tag == "td":
            self._td = self._th is not None

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._td = False
            self._th = None
        if tag == "tr":
            self._th = None

    def handle_data(self, data: str) -> None:
        if self._th is not None and not self._td:
            self._th += data
        elif self._td and self.kv and self._th:
            key = self._th.split("（")[0]
            self.kv[-1][key] = self.kv[-1].get(key, "") + data


def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_one_number_format_across_page_workbook_and_message(seed_doc: dict, tmp_path: Path) -> None:
    doc = copy.deepcopy(seed_doc)
    slip = _slip(doc)
    write_audit([(doc, SEED)], tmp_path)
    (page,) = tmp_path.glob("report-*.html")
    shown = _parse(page).kv[0]
    assert (shown["报告值"], shown["计算值"], shown["差额"]) == ("579.15 万元", "578.95 万元", "0.20 万元")
    # the message was written by reconciliation with the same formatter: the same strings
    for text in ("579.15 万元", "578.95 万元", "0.20 万元"):
        assert text in slip["message"]

    ws = load_workbook(tmp_path / "audit.xlsx")["问题"]
    row = {h: c for h, c in zip(FINDING_COLUMNS, next(ws.iter_rows(min_row=2)))}
    fmt = numbers.excel_format("amount", 2, "万元")
    for key, text in (("报告值", "579.15 万元"), ("计算值", "578.95 万元"), ("差额", "0.20 万元")):
        cell = row[key]
        assert cell.number_format == fmt
        # what Excel shows for this format: the page's text
        assert f"{cell.value:,.2f} 万元" == text
    assert row["页码"].value == 3 and row["页码"].data_type == "n"
    assert row["审核卡片"].hyperlink.target == f"{page.name}#check-{doc['checks'].index(slip) + 1}"
    assert ws.auto_filter.ref and load_workbook(tmp_path / "audit.xlsx")["文件"].auto_filter.ref


def test_links_are_relative_and_survive_copying_the_folder(seed_doc: dict, tmp_path: Path) -> None:
    src = tmp_path / "in" / "seed-gov.pdf"
    src.parent.mkdir()
    shutil.copy(SEED, src)
    write_audit([(copy.deepcopy(seed_doc), src)], tmp_path / "audit")
    src.unlink()  # the original is gone; the copied folder must not need it
    shutil.copytree(tmp_path / "audit", tmp_path / "shared")
    shutil.rmtree(tmp_path / "audit")
    (page,) = (tmp_path / "shared").glob("report-*.html")
    text = page.read_text(encoding="utf-8")
    assert "file://" not in text
    parsed = _parse(page)
    targets = [a.get("href") or a.get("src") for _, a in parsed.links]
    assert any(re.fullmatch(r"pdf/[0-9a-f]{12}\.pdf#page=3", t) for t in targets), targets
    for t in targets:
        parts = urlsplit(t)
        assert not parts.scheme and not t.startswith("/"), t
        if parts.path:
            assert (page.parent / unquote(parts.path)).is_file(), t
        if parts.fragment and not parts.fragment.startswith("page="):
            assert parts.fragment in parsed.ids, t


def test_fail_and_unverifiable_counted_apart_with_a_jump_list(seed_doc: dict, tmp_path: Path) -> None:
    doc = _with_unverifiable(seed_doc)
    write_audit([(doc, SEED)], tmp_path)
    (page,) = tmp_path.glob("report-*.html")
    text = page.read_text(encoding="utf-8")
    assert "问题：未通过 1 项，无法核验 1 项" in text
    assert re.search(r'class="bad">未通过 <b>1</b>', text) and re.search(r"无法核验 <b>1</b>", text)
    jump = re.search(r'<nav class="jump"><ol>(.*?)</ol></nav>', text, re.S)
    assert jump, text[:2000]
    anchors = re.findall(r'href="#(check-\d+)"', jump.group(1))
    fails = [i for i, c in enumerate(doc["checks"], 1) if c["status"] == "fail"]
    unver = [i for i, c in enumerate(doc["checks"], 1) if c["status"] == "unverifiable"]
    assert anchors == [f"check-{i}" for i in fails + unver]
    assert all(f'id="{a}"' in text for a in anchors)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "未通过的核验 <b>1</b>" in index and "无法核验 <b>1</b>" in index


def test_report_pages_link_their_neighbours(seed_doc: dict, tmp_path: Path) -> None:
    a = copy.deepcopy(seed_doc)
    b = copy.deepcopy(seed_doc)
    b["source"]["sha256"] = "e" * 64
    b["report"]["year"] = a["report"]["year"] + 1
    write_audit([(b, None), (a, SEED)], tmp_path)
    first = tmp_path / f"report-{a['source']['sha256'][:12]}.html"  # the earlier year is first in the index
    second = tmp_path / f"report-{'e' * 12}.html"
    t1, t2 = first.read_text(encoding="utf-8"), second.read_text(encoding="utf-8")
    assert f'href="{second.name}" rel="next"' in t1 and 'rel="prev"' not in t1
    assert f'href="{first.name}" rel="prev"' in t2 and 'rel="next"' not in t2


def _table_finding(doc: dict) -> tuple[dict, dict]:
    doc = copy.deepcopy(doc)
    score = next(
        f
        for f in doc["figures"]
        if (f.get("label") or "").startswith("垃圾分类") and f["label"].endswith("得分")
    )
    cap = next(f for f in doc["figures"] if f["label"] == score["label"].replace("得分", "分值"))
    check = {"id": "c-cap", "rule": "score_cap", "status": "fail", "figures": [score["id"], cap["id"]],
             "expected": cap["value"], "stated": cap["value"] + 1, "message": "得分超过分值", "result": score["id"]}  # fmt: skip
    doc["checks"].append(check)
    return doc, check


def test_a_table_finding_keeps_the_header_row(table_doc: dict, tmp_path: Path) -> None:
    doc, check = _table_finding(table_doc)
    r = Report(doc=doc, pdf=TABLE, slug=slug_for(doc, TABLE, set()))
    r.figs = {f["id"]: f for f in doc["figures"]}
    with pdfplumber.open(TABLE) as pdf:
        (crop,) = crop_images(pdf, r, check, "1", tmp_path)
        words = pdf.pages[crop.page - 1].extract_words()
    assert crop.header
    heads = [w for w in words if w["text"] in ("分值", "得分")]
    assert heads, "the sample's table has 分值 / 得分 column heads"

    def inside(w: dict) -> bool:
        return any(x0 <= w["x0"] and w["x1"] <= x1 and top <= w["top"] and w["bottom"] <= bottom
                   for x0, top, x1, bottom in crop.regions)  # fmt: skip

    # the heads of the score columns above the finding's row are in the picture
    score = r.figs[check["result"]]
    above = [w for w in heads if w["bottom"] <= score["bbox"][1]]
    nearest = max(above, key=lambda w: w["top"])
    assert inside(nearest)
    assert all(inside(w) for w in heads if abs(w["top"] - nearest["top"]) < 2)


def test_highlight_keeps_the_digits_dark(seed_doc: dict, tmp_path: Path) -> None:
    doc = copy.deepcopy(seed_doc)
    check = _slip(doc)
    r = Report(doc=doc, pdf=SEED, slug=slug_for(doc, SEED, set()))
    r.figs = {f["id"]: f for f in doc["figures"]}
    from PIL import Image

    with pdfplumber.open(SEED) as pdf:
        (crop,) = crop_images(pdf, r, check, "1", tmp_path)
        (region,) = crop.regions
        plain = pdf.pages[crop.page - 1].crop(region).to_image(resolution=RESOLUTION, antialias=True).original
    lit = Image.open(tmp_path / Path(crop.src).name).convert("RGB")
    plain = plain.convert("RGB")
    scale = RESOLUTION / 72
    for f in crop.figures:
        x0, top, x1, bottom = f["bbox"]
        box = tuple(int(v) for v in ((x0 - region[0] + 1) * scale, (top - region[1] + 1) * scale,
                                     (x1 - region[0] - 1) * scale, (bottom - region[1] - 1) * scale))  # fmt: skip

        before = plain.crop(box).tobytes()
        after = lit.crop(box).tobytes()
        ink = [i for i in range(0, len(before), 3) if max(before[i : i + 3]) < 110]
        assert len(ink) > 20, f["text"]
        # every pixel of the digits' ink is as dark under the tint as on the page (a translucent fill
        # painted over the text would lift black to the fill's colour)
        lifted = [i for i in ink if max(after[i : i + 3]) > max(before[i : i + 3]) + 10]
        assert len(lifted) <= 0.02 * len(ink), (f["text"], len(lifted), len(ink))
