"""The OCR path: which pages need it, OCR boxes as lines and glyphs, and scanned reports (made here:
drawn as text, rasterised, wrapped as image-only pages) read like their text-layer twins.

The tests marked `ocr` run the engine (a few seconds a page): four pages in all.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import jsonschema
import pytest

from pipeline.cli import main as cli_main
from pipeline.errors import ReportError
from pipeline.extract import extract, ocr
from pipeline.extract.ocr_review import figure_confidence, flag_doubtful_checks
from pipeline.extract.ocr_text import fix_confusions
from pipeline.extract.text import normalise
from pipeline.ingest import ExtractorPool
from pipeline.model import Check, Figure, Page, Report, Source
from pipeline.serialize import to_contract
from pipeline.store import Store
from testkit.corpus import SCHEMA
from testkit.pdfs import draw
from testkit.scans import blank_scan, image_pdf, raster, scanned

REPORT = [
    "2023年度测试区文化馆部门整体支出绩效自评报告",
    "",
    "一、基本情况",
    "（一）部门职能",
    "本馆编制人数25人，实有在职人员23人。",
    "（二）预算执行",
    "年度预算资金828.69万元，实际支出780.50万元，预算执行率94.18%。",
    "其中基本支出605.20万元，项目支出175.30万元。",
    "二、绩效目标完成情况",
    "群众满意度达到98.5%以上。",
    "",
    "表1 预算执行情况",
]
TABLE = [
    ["项目", "预算数（万元）", "执行数（万元）", "执行率"],
    ["基本支出", "605.20", "590.00", "97.49%"],
    ["项目支出", "223.49", "190.50", "85.24%"],
]


def _figures(doc: dict) -> list[tuple]:
    return [(f["kind"], f["value"], f["unit"]) for f in doc["figures"]]


# -- without the engine ------------------------------------------------------------------------------------


def test_garbage_share_tells_text_from_text_layers_that_are_not() -> None:
    assert ocr.garbage_share("年度预算资金828.69万元，执行率94.18%（一）≥95%") == 0.0
    assert ocr.garbage_share("(cid:123)(cid:7) (cid:88)") == 1.0
    assert ocr.garbage_share("\ue000\ue013\ue02a\ufffd") == 1.0
    assert ocr.garbage_share("Äê¶ÈÔ¤ËãÖ´ÐÐÂÊ") > 0.5  # GBK bytes read as Latin-1
    # a Word bullet in private use now and then is still a text layer
    assert ocr.garbage_share("\uf06c" + "年度预算资金执行情况良好。" * 4) < ocr.GARBAGE_SHARE
    # digits alone from a font without a Unicode map break every figure: the page goes to OCR
    broken = "年度预算资金(cid:18)(cid:19)(cid:20)万元，执行率(cid:21)(cid:22)%。" * 3
    assert ocr.garbage_share(broken) > ocr.GARBAGE_SHARE


def test_the_mode_comes_from_the_environment_the_workers_inherit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ocr.MODE_ENV, raising=False)
    assert ocr.default_mode() == "auto"
    monkeypatch.setenv(ocr.MODE_ENV, "Never")
    assert ocr.default_mode() == "never"
    monkeypatch.setenv(ocr.MODE_ENV, "sometimes")
    with pytest.raises(ValueError, match="PIPELINE_OCR"):
        ocr.default_mode()


def test_page_reason() -> None:
    good = "年度预算资金828.69万元，实际支出780.50万元。"
    assert ocr.page_reason("", 1.0, "auto") == "scan"
    assert ocr.page_reason("- 3 -", 0.98, "auto") == "scan"  # a page number stamped on a scan
    assert ocr.page_reason("", 0.0, "auto") is None  # a blank page of a text PDF: nothing to read
    assert ocr.page_reason(good, 1.0, "auto") is None  # text over a picture keeps its text
    assert ocr.page_reason("(cid:3)" * 40, 0.0, "auto") == "garbage"
    assert ocr.page_reason("", 1.0, "never") is None
    assert ocr.page_reason(good, 0.0, "always") == "always"


def test_confusions_are_fixed_inside_numbers_only() -> None:
    assert fix_confusions("2O22年度预算1OO万元，执行率9O%") == "2022年度预算100万元，执行率90%"
    assert fix_confusions("l00人，得分1.O5分") == "100人，得分1.05分"
    assert fix_confusions("828·69万元，828，69万元") == "828.69万元，828.69万元"
    assert fix_confusions("预算１２３.４５万元，执行率９８．５％") == "预算123.45万元，执行率98.5%"
    # a thousands group keeps its comma; letters and codes away from digits stay
    assert fix_confusions("1，280.21万元，OCR识别，PDF文件，IO口") == "1，280.21万元，OCR识别，PDF文件，IO口"
    for s in ["A1级", "S1型", "B2类", "编号X9"]:
        assert fix_confusions(s) == s


def _box(x0: float, y0: float, x1: float, y1: float, text: str, score: float = 0.99) -> ocr.Box:
    return ([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], text, score)


def _turn(box: ocr.Box, angle: float, centre: tuple[float, float]) -> ocr.Box:
    cx, cy = centre
    c, s = math.cos(angle), math.sin(angle)
    pts = [(cx + (x - cx) * c - (y - cy) * s, cy + (x - cx) * s + (y - cy) * c) for x, y in box[0]]
    return (pts, box[1], box[2])


def test_boxes_become_lines_of_glyphs_in_page_points() -> None:
    boxes = [
        _box(100, 100, 400, 130, "年度预算828.69万元"),  # 6 CJK + 6 narrow = 9 ems over 300 px
        _box(460, 101, 560, 129, "合计一项"),
        _box(100, 160, 360, 190, "实际支出780.50万元"),
    ]
    lines, rects = ocr.boxes_to_lines(boxes, 3, 2.0, (600, 800), 0.0)
    assert [ln.text for ln in lines] == ["年度预算828.69万元 合计一项", "实际支出780.50万元"]
    first = lines[0]
    assert (first.page, first.x0, first.top, first.x1, first.bottom) == (3, 50, 50, 280, 65)
    assert len(first.glyphs) == len(first.text) and all(g.page == 3 for g in first.glyphs)
    em = 150 / 9
    assert first.glyphs[0].bbox == pytest.approx((50, 50, 50 + em, 65))
    assert first.glyphs[4].bbox[2] - first.glyphs[4].bbox[0] == pytest.approx(em / 2)  # a digit: half
    assert first.glyphs[11].bbox[2] == pytest.approx(200)  # the box's last character ends with it
    assert first.size == lines[1].size  # body lines share one size, as in a text layer
    assert rects[12] == ((230, 50.5, 242.5, 64.5), 0.99)  # the second box's first character
    assert len(rects) == sum(len(b[1]) for b in boxes)

    # the same page scanned 0.8° off: the lines come out straight, where they were
    angle, centre = math.radians(0.8), (600, 800)
    turned = [_turn(b, angle, centre) for b in boxes]
    assert ocr.skew(turned) == pytest.approx(angle, abs=1e-6)
    again, _ = ocr.boxes_to_lines(turned, 3, 2.0, centre, ocr.skew(turned))
    assert [ln.text for ln in again] == [ln.text for ln in lines]
    for a, b in zip(again, lines):
        assert (a.x0, a.top, a.x1, a.bottom) == pytest.approx((b.x0, b.top, b.x1, b.bottom), abs=0.5)


def test_characters_stand_where_the_engine_places_them() -> None:
    # "预算 12万元" as rapidocr 3 gives it: a box per character but the space, and the confidences of
    # the line's characters, the space's included (so one short): 预 .99 算 .98 space .50 l .61 2 .97 万 .99
    chars = [
        ("预", 0.99, [(100, 100), (120, 100), (120, 130), (100, 130)]),
        ("算", 0.98, [(124, 100), (144, 100), (144, 130), (124, 130)]),
        ("l", 0.50, [(170, 100), (180, 100), (180, 130), (170, 130)]),
        ("2", 0.61, [(181, 100), (191, 100), (191, 130), (181, 130)]),
        ("万", 0.97, [(194, 100), (214, 100), (214, 130), (194, 130)]),
        ("元", 0.99, [(216, 100), (236, 100), (236, 130), (216, 130)]),
    ]
    box = ([(96, 100), (240, 100), (240, 130), (96, 130)], "预算 l2万元", 0.93, chars)
    lines, places = ocr.boxes_to_lines([box], 1, 2.0, (600, 800), 0.0)
    assert lines[0].text == "预算 12万元"  # the look-alike fixed, the glyphs still one per character
    assert [g.bbox[0] for g in lines[0].glyphs] == [50, 62, 72, 85, 90.5, 97, 108]
    assert lines[0].glyphs[2].bbox[:3:2] == (72, 85)  # the space spans the gap
    # each character its own confidence; the last one, not given, the box's; the space none
    assert [round(sc, 2) for _, sc in places] == [0.99, 0.98, 1.0, 0.61, 0.97, 0.99, 0.93]
    # characters that do not line up with the text: the box's width is split instead
    lines, _ = ocr.boxes_to_lines([(box[0], "预算12万元", 0.93, chars[:3])], 1, 2.0, (600, 800), 0.0)
    assert lines[0].glyphs[0].bbox[0] == 48 and len(lines[0].glyphs) == 6


def test_figures_get_the_confidence_of_their_box_and_doubtful_failures_say_so() -> None:
    page = Page(1, 595, 842, ocr="scan", ocr_boxes=[((70, 100, 300, 115), 0.62), ((70, 130, 300, 145), 0.99)])
    figs = [
        Figure("f1", "amount", 82.69, "万元", "82.69万元", 1, (120, 101, 160, 114), None),
        Figure("f2", "amount", 10, "万元", "10万元", 1, (120, 131, 150, 144), None),
        Figure("f3", "percent", 90, "%", "90%", 1, (200, 131, 220, 144), None),
    ]
    report = Report(source=Source("scan.pdf", "0" * 64, 1, ocr_pages=[1]), pages=[page], figures=figs)
    report.checks = [
        Check("c1", "ratio", "fail", ["f2", "f1", "f3"], 12.09, 90.0, "预算执行率：……"),
        Check("c2", "sum", "fail", ["f2", "f3"], 1.0, 2.0, "合计：……"),
        Check("c3", "sum", "pass", ["f1", "f2"], 1.0, 1.0, "一致"),
    ]
    figure_confidence(report)
    assert [(f.ocr_confidence, f.low_confidence) for f in figs] == [
        (0.62, True),
        (0.99, False),
        (0.99, False),
    ]
    flag_doubtful_checks(report)
    c1, c2, c3 = report.checks
    assert (
        c1.message.startswith("预算执行率：……") and "82.69万元（0.62）" in c1.message and "OCR" in c1.message
    )
    assert c2.message == "合计：……" and c3.message == "一致"
    doc = to_contract(report)
    assert doc["source"]["ocr_pages"] == [1]
    assert doc["figures"][0]["ocr_confidence"] == 0.62 and doc["figures"][0]["low_confidence"] is True


def _announce(path: str) -> dict:
    """A stand-in extractor that says it reads two pages by OCR, then takes longer than the base limit."""
    ocr._listener(2)
    time.sleep(2)
    return {"path": path, "pid": os.getpid()}


def test_pages_read_by_ocr_extend_the_time_limit() -> None:
    with ExtractorPool(1, func=_announce, warm=False) as pool:
        assert pool.extract("scan.pdf", timeout=1)["path"] == "scan.pdf"  # 1 s + 2 × 30 s allowed


# -- with the engine ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict, Path]:
    tmp = tmp_path_factory.mktemp("scan")
    text, scan = scanned(tmp, "report", REPORT, TABLE, [90, 110, 110, 80])
    return to_contract(extract(text)), to_contract(extract(scan)), scan


@pytest.mark.ocr
def test_a_scanned_report_reads_like_its_text_twin(twin: tuple[dict, dict, Path]) -> None:
    text, scan, _ = twin
    jsonschema.validate(scan, json.loads(SCHEMA.read_text(encoding="utf-8"))) if SCHEMA.exists() else None
    assert text["source"]["ocr_pages"] == [] and scan["source"]["ocr_pages"] == [1]
    assert _figures(scan) == _figures(text)
    assert _figures(text)[:8] == [
        ("count", 25, "人"),
        ("count", 23, "人"),
        ("amount", 828.69, "万元"),
        ("amount", 780.5, "万元"),
        ("percent", 94.18, "%"),
        ("amount", 605.2, "万元"),
        ("amount", 175.3, "万元"),
        ("percent", 98.5, "%"),
    ]
    # the ruled table: found from the rules in the image, its cells filled by OCR, as the text path has it
    # (OCR cannot tell a full-width bracket from a half-width one; parsing folds both)
    cells = [[[normalise(c or "") for c in row] for row in t["rows"]] for t in scan["tables"]]
    assert cells == [[[normalise(c or "") for c in row] for row in t["rows"]] for t in text["tables"]]
    assert [t["rows"] for t in text["tables"]] == [TABLE]
    assert [f["cell"] for f in scan["figures"]] == [f["cell"] for f in text["figures"]]
    assert ("amount", 590, "万元") in _figures(scan) and ("percent", 85.24, "%") in _figures(scan)
    assert [f["label"] for f in scan["figures"]] == [f["label"] for f in text["figures"]]
    assert [(s["number"], s["title"], s["level"]) for s in scan["sections"]] == [
        (s["number"], s["title"], s["level"]) for s in text["sections"]
    ]
    assert [(c["rule"], c["status"]) for c in scan["checks"]] == [
        (c["rule"], c["status"]) for c in text["checks"]
    ]
    assert ("ratio", "pass") in [(c["rule"], c["status"]) for c in scan["checks"]]
    assert scan["report"]["year"] == 2023 and scan["report"]["unit"] == text["report"]["unit"]
    for s, t in zip(scan["figures"], text["figures"]):
        assert ocr.LOW_CONFIDENCE <= s["ocr_confidence"] <= 1 and s["low_confidence"] is False
        assert "ocr_confidence" not in t
        # the evidence box stands where the text layer has it
        assert s["page"] == t["page"] and s["bbox"] == pytest.approx(t["bbox"], abs=4)


@pytest.mark.ocr
def test_ocr_never_leaves_a_scan_unread(
    twin: tuple[dict, dict, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    _, _, scan = twin
    with pytest.raises(ReportError, match="OCR is off"):
        extract(scan, ocr="never")
    assert cli_main(["extract", str(scan), "--ocr", "never", "--json", str(tmp_path / "o.json")]) == 2
    assert "OCR is off" in capsys.readouterr().err and not (tmp_path / "o.json").exists()


@pytest.mark.ocr
def test_a_text_layer_that_is_not_text_is_read_by_ocr(tmp_path: Path) -> None:
    lines = [
        "2022年度测试局项目支出绩效自评报告",
        "",
        "一、项目资金",
        "全年预算数256.50万元，执行数230.85万元，执行率90%。",
    ]
    text = draw(tmp_path / "text.pdf", [lines])
    # a CID font without a Unicode map: what copy-paste gives is private-use characters
    broken = image_pdf(
        tmp_path / "broken.pdf", [raster(text, 1)], garbage="".join(chr(0xE000 + n) for n in range(120))
    )
    kept = to_contract(extract(broken, ocr="never"))
    assert kept["figures"] == [] and kept["source"]["ocr_pages"] == []
    doc = to_contract(extract(broken))
    assert doc["source"]["ocr_pages"] == [1]
    assert _figures(doc) == [("amount", 256.5, "万元"), ("amount", 230.85, "万元"), ("percent", 90, "%")]
    assert [(c["rule"], c["status"]) for c in doc["checks"]] == [("ratio", "pass")]


@pytest.mark.ocr
def test_a_mixed_report_reads_text_pages_as_text_and_a_blank_scan_as_an_empty_page(tmp_path: Path) -> None:
    second = draw(
        tmp_path / "second.pdf",
        [["二、预算执行", "项目支出预算120.00万元，已支出96.00万元，支出率80%。"]],
        footer=None,
    )
    pdf = image_pdf(
        tmp_path / "mixed.pdf",
        [
            ["2021年度测试中心整体支出绩效自评报告", "", "一、基本情况", "本中心实有人员12人。"],
            raster(second, 1, angle=-0.3),
            blank_scan(),
        ],
    )
    report = extract(pdf)
    assert report.source.ocr_pages == [2, 3]
    assert [p.ocr for p in report.pages] == [None, "scan", "scan"]
    assert report.pages[2].lines == [] and not report.pages[2].has_text
    doc = to_contract(report)
    assert _figures(doc) == [
        ("count", 12, "人"),
        ("amount", 120, "万元"),
        ("amount", 96, "万元"),
        ("percent", 80, "%"),
    ]
    assert [f["page"] for f in doc["figures"]] == [1, 2, 2, 2]
    assert (
        "ocr_confidence" not in doc["figures"][0] and doc["figures"][1]["ocr_confidence"] > ocr.LOW_CONFIDENCE
    )
    assert [s["title"] for s in doc["sections"]] == ["基本情况", "预算执行"]

    store = Store(f"sqlite:///{tmp_path / 'reports.db'}")
    try:
        run = store.start_run({"runner": "test"})
        store.save_report(doc, path=str(pdf), extractor_version="test", run_id=run)
        assert store.run_ocr_pages(run) == 2
    finally:
        store.close()
