"""`pipeline debug`: the page overlay. Frames are checked pixel by pixel where the report's boxes say
the figures stand, mapped to pixels as pdfplumber's page image maps them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image

from pipeline import debug
from pipeline.cli import main
from pipeline.model import Kind, Report
from testkit.corpus import SAMPLES, SHARED

SEED = SAMPLES / "seed-gov.pdf"
TABLE = SAMPLES / "table-selfeval.pdf"
SCAN = SHARED / "corpus" / "scanned" / "real-A07-scan" / "report.pdf"


def _pt_to_px(points: float, resolution: float) -> float:
    return points * resolution / 72


def _left_edge(im: Image.Image, px: tuple[int, int, int, int], inset: int = 0) -> set[tuple[int, int, int]]:
    """Colours on the frame's left side (its corners left out), `inset` pixels in from its outer edge."""
    x0, y0, _, y1 = px
    return {im.getpixel((x0 + inset, y)) for y in range(y0 + 4, y1 - 3)}


def _ink(im: Image.Image, px: tuple[int, int, int, int], border: int) -> int:
    """Darkest grey level inside the frame: digits printed there are near black."""
    x0, y0, x1, y1 = px
    inside = im.crop((x0 + border, y0 + border, x1 - border, y1 - border)).convert("L")
    return inside.getextrema()[0]


def _one_line(report: Report, page: int, failing: bool) -> list:
    bad = debug.failing_figures(report)
    return [
        f
        for f in report.figures
        if f.page == page
        and f.table is None
        and (f.id in bad) == failing
        and len(debug.figure_boxes(report, f, page)) == 1
    ]


def test_figures_are_framed_in_their_kind_colour_and_failing_ones_in_red(
    extracted: Callable[[Path], Report],
) -> None:
    report = extracted(SEED)
    ov = debug.overlay(SEED, 3, report, resolution=150)
    im = ov.image
    # the page at 150 dpi (pdfium rounds the size up), then the legend strip below it
    assert abs(im.width - _pt_to_px(report.pages[2].width, 150)) <= 1
    page_h = _pt_to_px(report.pages[2].height, 150)
    assert im.height > page_h + 20
    assert ov.scale == pytest.approx(150 / 72, rel=1e-3)

    ok = [f for f in _one_line(report, 3, failing=False) if f.kind == Kind.AMOUNT]
    bad = _one_line(report, 3, failing=True)
    assert ok and bad
    assert "227.33 万元" in {f.text for f in bad}  # the sample's slip: its ten items do not add up
    normal_w = round(0.8 * ov.scale)
    for f in ok + bad:
        (box,) = debug.figure_boxes(report, f, 3)
        assert box == pytest.approx(f.bbox)  # printed on one line: the model's box
        px = ov.to_pixels((box[0] - 1.5, box[1] - 1.5, box[2] + 1.5, box[3] + 1.5))
        colour = debug.FAILING if f in bad else debug.KIND_COLOURS[f.kind]
        assert _left_edge(im, px) == {colour}, f.id
        # thicker when a failing check reads it: still red a normal frame's width in
        assert (_left_edge(im, px, normal_w) == {colour}) == (f in bad), f.id
        assert _ink(im, px, 4) < 90, f.id  # the frame holds the printed digits
    assert ov.figures == len([f for f in report.figures if debug.figure_boxes(report, f, 3)])
    assert ov.failing == len(
        [f for f in report.figures if f.page == 3 and f.id in debug.failing_figures(report)]
    )
    # one swatch per kind in the legend strip
    strip = im.crop((0, int(page_h) + 1, im.width, im.height))
    colours = {c for _, c in strip.getcolors(1 << 24)}
    assert {*debug.KIND_COLOURS.values(), debug.FAILING, debug.HEADING} <= colours


def test_a_figure_wrapped_across_lines_gets_a_frame_on_each(extracted: Callable[[Path], Report]) -> None:
    report = extracted(SEED)
    wrapped = [(f, debug.figure_boxes(report, f, f.page)) for f in report.figures if f.table is None]
    wrapped = [(f, boxes) for f, boxes in wrapped if len(boxes) == 2]
    assert wrapped
    for f, (first, second) in wrapped:
        height = f.bbox[3] - f.bbox[1]
        assert second[1] > first[3] - 1  # the second frame on a line below the first
        assert max(first[3] - first[1], second[3] - second[1]) < height / 1.5  # each one line high


def test_headings_and_tables_are_outlined(extracted: Callable[[Path], Report]) -> None:
    report = extracted(SEED)
    ov = debug.overlay(SEED, 3, report)
    headings = [s for s in report.sections if s.page == 3]
    assert ov.headings == len(headings) > 0
    for s in headings:
        box = debug.heading_boxes(report, s)[0]
        assert s.title[:2] in "".join(
            g.text for p in report.paragraphs if p.index == s.paragraph for g in p.glyphs if g
        )
        px = ov.to_pixels((box[0] - 1.5, box[1] - 1.5, box[2] + 1.5, box[3] + 1.5))
        assert _left_edge(ov.image, px) == {debug.HEADING}, s.id

    table_report = extracted(TABLE)
    ov = debug.overlay(TABLE, 1, table_report)
    assert ov.tables == 1
    ((tid, outline, cells, continued),) = debug.table_boxes(table_report, 1)
    assert not continued and len(cells) > 20
    px = ov.to_pixels(outline)
    assert _left_edge(ov.image, px) == {debug.TABLE}
    cell_figure = next(f for f in table_report.figures if f.table == tid)
    px = ov.to_pixels(
        (
            cell_figure.bbox[0] + 1.5,
            cell_figure.bbox[1] + 1.5,
            cell_figure.bbox[2] - 1.5,
            cell_figure.bbox[3] - 1.5,
        )
    )  # inside the cell's rules
    assert _left_edge(ov.image, px) == {debug.KIND_COLOURS[cell_figure.kind]}


def test_words_are_counted_and_labels_need_no_cjk_font(
    extracted: Callable[[Path], Report], monkeypatch: pytest.MonkeyPatch
) -> None:
    report = extracted(TABLE)
    with pdfplumber.open(TABLE) as pdf:
        n_words = len(pdf.pages[0].extract_words())
    assert debug.overlay(TABLE, 1, report, words=True).words == n_words > 0
    monkeypatch.setattr(debug, "cjk_font_file", lambda: None)  # a machine without Chinese fonts
    ov = debug.overlay(TABLE, 1, report, resolution=72)
    assert not ov.cjk_font and ov.figures == len(report.figures)
    assert abs(ov.image.width - report.pages[0].width) <= 1


def test_cli_writes_the_png_and_says_what_it_drew(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "x" / "t.png"
    assert main(["debug", str(TABLE), "--page", "1", "--out", str(out), "--resolution", "100"]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[-1] == str(out)
    assert said[0].startswith("page 1 of 1: ") and " 1 tables" in said[0]
    with Image.open(out) as im:
        assert abs(im.width - _pt_to_px(595.2756, 100)) <= 1


@pytest.mark.parametrize("page", ["0", "9"])
def test_cli_refuses_a_page_the_pdf_does_not_have(
    page: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["debug", str(SEED), "--page", page, "--out", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err == f"error: seed-gov.pdf: no page {page}: the PDF has 8 pages\n"
    assert not (tmp_path / "x.png").exists()


def test_cli_names_the_file_it_cannot_read(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    text = tmp_path / "notes.pdf"
    text.write_text("not a pdf at all", encoding="utf-8")
    assert main(["debug", str(text), "--out", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err == "error: notes.pdf: not a PDF (no %PDF- header)\n"
    assert main(["debug", str(tmp_path / "gone.pdf"), "--out", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err == "error: gone.pdf: file not found\n"
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n"
    )
    assert main(["debug", str(broken), "--page", "3", "--out", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err == "error: broken.pdf: PDF has no pages\n"
    assert not (tmp_path / "x.png").exists()


@pytest.mark.corpus
@pytest.mark.ocr
def test_a_scanned_page_is_framed_where_ocr_read_its_figures() -> None:
    if not SCAN.exists():
        pytest.skip(f"no scanned case at {SCAN}")
    from pipeline.extract import extract

    report = extract(SCAN)
    ov = debug.overlay(SCAN, 1, report, resolution=150)
    assert ov.ocr == "scan" and report.source.ocr_pages == [1]
    framed = _one_line(report, 1, failing=False)
    assert len(framed) > 3
    for f in framed:
        (box,) = debug.figure_boxes(report, f, 1)
        px = ov.to_pixels((box[0] - 1.5, box[1] - 1.5, box[2] + 1.5, box[3] + 1.5))
        assert _left_edge(ov.image, px) == {debug.KIND_COLOURS[f.kind]}, f.id
        assert _ink(ov.image, px, 4) < 90, f.id  # on the scan's printed digits, where OCR read them


def test_a_table_running_on_is_outlined_on_each_page_it_stands_on(tmp_path: Path) -> None:
    from pipeline.extract import extract
    from testkit.synth import Block, render_pdf

    rows = [["项目", "预算数（万元）", "执行数（万元）"]] + [
        [f"项目{i}", f"{100 + i}.50", f"{90 + i}.25"] for i in range(60)
    ]
    pdf = render_pdf(
        [
            Block("title", "2021年度部门整体支出绩效自评报告"),
            Block("heading", "一、项目支出情况"),
            Block("para", "本年度项目支出情况如下表。"),
            Block("table", rows=rows),
        ],
        tmp_path / "long.pdf",
    )
    report = extract(pdf)
    (table,) = report.tables
    assert len(table.pages) >= 2
    for page in table.pages:
        ov = debug.overlay(pdf, page, report, resolution=100)
        ((tid, outline, cells, continued),) = debug.table_boxes(report, page)
        assert continued == (page != table.page)
        on_page = [f for f in report.figures if f.table == tid and f.page == page]
        assert on_page and ov.figures == len(on_page)
        # the outline holds this page's cells only, whatever the merged table's first-page box is
        assert all(outline[1] - 0.01 <= f.bbox[1] and f.bbox[3] <= outline[3] + 0.01 for f in on_page)
        assert _left_edge(ov.image, ov.to_pixels(outline)) == {debug.TABLE}


def test_a_figure_without_a_box_is_named_not_drawn(extracted: Callable[[Path], Report]) -> None:
    import copy

    report = copy.deepcopy(extracted(TABLE))  # the session's report stays as extracted
    lost = report.figures[0]
    lost.bbox, lost.paragraph = None, -1
    ov = debug.overlay(TABLE, 1, report, resolution=72)
    assert ov.unboxed == [lost.id]
    assert ov.figures == len(report.figures) - 1
