"""testkit.synth draws reports that read back exactly and look like real submissions."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pdfplumber
import pytest

from testkit.corpus import REPO
from testkit.synth import LAYOUTS, Block, blocks_from_text, heading_level, render_pdf, seed_text

ROOT = REPO
UNIT = "望城区机关事务中心"


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _regions(path: Path, layout: str) -> list[tuple[str, str, str]]:
    """(header, body, footer) text of each page, split at the layout's margins."""
    left, right, top, bottom = LAYOUTS[layout].margins
    out = []
    with pdfplumber.open(path) as pdf:
        for p in pdf.pages:
            head = p.within_bbox((0, 0, p.width, top * 0.8)).extract_text()
            body = p.within_bbox((0, top * 0.8, p.width, p.height - bottom * 0.8)).extract_text()
            foot = p.within_bbox((0, p.height - bottom * 0.8, p.width, p.height)).extract_text()
            out.append((head, body, foot))
    return out


def _selfeval_blocks() -> list[Block]:
    spec = importlib.util.spec_from_file_location("make_samples", ROOT / "samples" / "make_samples.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.selfeval_blocks()


@pytest.fixture(scope="module")
def seed_blocks() -> list[Block]:
    return blocks_from_text(seed_text())


@pytest.fixture(scope="module")
def seed_pdfs(seed_blocks: list[Block], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("synth")
    return {
        name: render_pdf(seed_blocks, out / f"{name}.pdf", name, header=UNIT if name == "cid" else None)
        for name in LAYOUTS
    }


def test_blocks_from_text_reads_the_seed(seed_blocks: list[Block]) -> None:
    kinds = [b.kind for b in seed_blocks]
    assert kinds[0] == "title" and kinds.count("title") == 1
    assert seed_blocks[0].text.startswith("2020 年度望城区机关事务中心部门")
    headings = [b.text for b in seed_blocks if b.kind == "heading"]
    assert [h for h in headings if heading_level(h) == 1] == [
        "一、单位基本情况",
        "二、整体预算支出情况",
        "三、整体支出绩效情况",
        "四、存在的问题及原因分析",
        "五、下一步改进措施",
        "六、其他需要说明的情况",
    ]
    assert "(1) 基本支出情况" in headings and "(2) 项目支出情况" in headings
    paras = [b.text for b in seed_blocks if b.kind == "para"]
    # run-in headings and list items stay whole paragraphs
    assert any(p.startswith("(1) 疫情防控全力以赴。精心调度") for p in paras)
    assert any(p.startswith("（1）负责行政中心区域机关事务管理") for p in paras)
    # paragraphs the seed's page breaks cut are joined back, and only those
    assert any("定期组织司勤人员的业务培训；" in p for p in paras)
    assert any("退役士兵待安置期间社保资金 1.65 万元" in p for p in paras)
    assert any("主要原因为年初疫情导致" in p for p in paras)
    assert "单位主要职责职能如下：" in paras and "无" in paras
    assert seed_blocks[-1] == Block("signature", "长沙市望城区机关事务中心\n2021年1月26日")
    # nothing lost or added
    src = _squash("".join(line for line in seed_text().splitlines()))
    assert _squash("".join(b.text for b in seed_blocks)) == src


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_text_reads_back_exactly(layout: str, seed_blocks: list[Block], seed_pdfs: dict[str, Path]) -> None:
    body = "".join(b for _h, b, _f in _regions(seed_pdfs[layout], layout))
    assert _squash(body) == _squash("".join(b.text for b in seed_blocks))


@pytest.mark.parametrize(
    ("layout", "pattern"),
    [("gov", r"- {n} -"), ("cid", r"第 {n} 页"), ("word", r"第 {n} 页 共 {total} 页"), ("tight", r"{n}")],
)
def test_page_number_footers(layout: str, pattern: str, seed_pdfs: dict[str, Path]) -> None:
    pages = _regions(seed_pdfs[layout], layout)
    assert len(pages) >= 3  # the seed is long enough that numbering means something
    for n, (head, _body, foot) in enumerate(pages, start=1):
        assert foot.strip() == pattern.format(n=n, total=len(pages))
        # the running header is on every page where one was asked for, and only there
        assert head.strip() == (UNIT if layout == "cid" else "")


def test_layouts_differ(seed_pdfs: dict[str, Path]) -> None:
    seen = {}
    for name, path in seed_pdfs.items():
        with pdfplumber.open(path) as pdf:
            p = pdf.pages[0]
            fonts = {c["fontname"].split("+")[-1] for c in p.chars}
            sizes = sorted({round(c["size"], 1) for c in p.chars})
            seen[name] = (round(p.width), round(p.height), len(pdf.pages))
            assert sizes[-1] > LAYOUTS[name].size  # the title is larger than the body
        body = {"gov": "UMing", "cid": "STSong", "tight": "UKai", "word": "ZenHei"}[name]
        assert any(body in f for f in fonts), (name, fonts)
    assert seen["word"][:2] == (612, 792) and seen["gov"][:2] == (595, 842)
    assert (
        len({pages for _w, _h, pages in seen.values()}) > 1
    )  # different sizes and margins paginate differently


def test_numbers_are_cut_across_lines(seed_pdfs: dict[str, Path]) -> None:
    """Wrapping is per character, so some number is split between two lines (as in real reports)."""
    cuts = []
    for name, path in seed_pdfs.items():
        lines = [s for _h, b, _f in _regions(path, name) for s in b.splitlines()]
        cuts += [
            (name, a, b)
            for a, b in zip(lines, lines[1:], strict=False)
            if re.search(r"\d$", a.rstrip()) and re.match(r"[\d.%]", b.lstrip())
        ]
    assert cuts, "no number was cut by a line break in any layout"


@pytest.mark.parametrize("layout", ["gov", "word"])
def test_no_line_starts_with_closing_punctuation(layout: str, seed_pdfs: dict[str, Path]) -> None:
    """The Word- and WPS-like layouts keep 。，；） off the start of a line (kinsoku)."""
    lines = [s.strip() for _h, b, _f in _regions(seed_pdfs[layout], layout) for s in b.splitlines()]
    assert not [s for s in lines if s and s[0] in "，。、；：）》”%"]


def test_gov_lines_keep_a_fixed_pitch(seed_pdfs: dict[str, Path]) -> None:
    """GB/T 9704 sets text on a fixed grid: no blank lines (e.g. after a mark hung in the margin)."""
    lay = LAYOUTS["gov"]
    with pdfplumber.open(seed_pdfs["gov"]) as pdf:
        for p in pdf.pages:
            lines = [ln for ln in p.extract_text_lines() if abs(ln["chars"][0]["size"] - lay.size) < 0.1]
            for a, b in zip(lines, lines[1:], strict=False):
                if "机关事务中心" in b["text"] and "长沙市" in b["text"]:
                    continue  # the signature stands apart
                # tops move a little between fonts (headings are 黑体), never by a whole line
                assert abs(b["top"] - a["top"] - lay.size * lay.leading) < 1.5, (a["text"], b["text"])


def _expected_cells(block: Block) -> list[list[str | None]]:
    """What extract_tables should return: text with wraps removed, None where a merge hides a cell."""
    assert block.rows is not None
    hidden = {
        (r, c)
        for r0, c0, r1, c1 in block.spans or []
        for r in range(r0, r1 + 1)
        for c in range(c0, c1 + 1)
        if (r, c) != (r0, c0)
    }
    return [
        [None if (r, c) in hidden else cell for c, cell in enumerate(row)] for r, row in enumerate(block.rows)
    ]


def _table_rows(path: Path) -> tuple[list[list[str | None]], int]:
    rows: list[list[str | None]] = []
    pages = 0
    with pdfplumber.open(path) as pdf:
        for p in pdf.pages:
            tables = p.extract_tables()
            pages += bool(tables)
            for t in tables:
                rows += [[None if c is None else c.replace("\n", "") for c in row] for row in t]
    return rows, pages


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_selfeval_table_cells_are_found(layout: str, tmp_path: Path) -> None:
    blocks = _selfeval_blocks()
    path = render_pdf(blocks, tmp_path / "t.pdf", layout)
    rows, _pages = _table_rows(path)
    assert rows == _expected_cells(blocks[-1])


def test_long_table_continues_without_repeating_its_header(tmp_path: Path) -> None:
    rows = [["项目名称", "预算数（万元）", "执行数（万元）", "执行率"]]
    rows += [
        [f"专项{i}：行政中心日常运转保障", f"{100 + i}.50", f"{90 + i}.25", f"{90 + i % 10}.00%"]
        for i in range(60)
    ]
    block = Block("table", rows=rows, col_widths=[3, 1.2, 1.2, 1])
    path = render_pdf([Block("title", "表格"), block, Block("para", "表后正文。")], tmp_path / "t.pdf", "gov")
    got, pages = _table_rows(path)
    assert pages >= 2
    assert got == rows  # every row once, the header only at the top


def test_committed_samples_are_small_and_read_back() -> None:
    for name in ["seed-gov", "seed-cid", "seed-word", "table-selfeval"]:
        path = ROOT / "samples" / f"{name}.pdf"
        assert path.stat().st_size < 300_000, name
    body = "".join(b for _h, b, _f in _regions(ROOT / "samples" / "seed-cid.pdf", "cid"))
    assert _squash(body) == _squash("".join(b.text for b in blocks_from_text(seed_text())))
    rows, pages = _table_rows(ROOT / "samples" / "table-selfeval.pdf")
    assert pages == 1 and rows == _expected_cells(_selfeval_blocks()[-1])


def test_seed_text_prefers_the_shared_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "seed").mkdir()
    (tmp_path / "seed" / "x.txt").write_text("测试报告\n", encoding="utf-8")
    monkeypatch.setenv("PIPELINE_SHARED", str(tmp_path))
    assert seed_text() == "测试报告\n"
