"""Extraction on real PDFs: the shared corpus, the samples, and PDFs drawn here for the edge cases."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import jsonschema
import pytest

from pipeline.errors import ReportError
from pipeline.extract import extract
from pipeline.serialize import to_contract
from pipeline.vocabulary import yuan_per
from testkit.corpus import CORPUS, REPO, SAMPLES, SCHEMA
from testkit.pdfs import draw

UNIT_YUAN = yuan_per()


def scored(figures: list) -> list[tuple]:
    """What the scorer compares: kind and value (amounts in 元); head counts in 人 only."""
    out = []
    for f in figures:
        kind, unit, value = f["kind"], f["unit"], f["value"]
        if kind == "amount":
            out.append(("amount", round(value * UNIT_YUAN[unit], 2)))
        elif kind == "percent":
            out.append(("percent", round(value, 4)))
        elif kind == "count" and unit == "人":
            out.append(("count", value))
    return out


def char_f1(a: str, b: str) -> float:
    ca, cb = Counter(a.replace(" ", "")), Counter(b.replace(" ", ""))
    common = sum((ca & cb).values())
    return 0.0 if not common else 2 * common / (sum(ca.values()) + sum(cb.values()))


@pytest.mark.corpus
@pytest.mark.parametrize("case", ["seed-gov", "seed-cid", "seed-tight", "seed-word"])
def test_seed_figures_and_labels_in_every_layout(case: str, corpus_case, extracted, gold) -> None:
    doc = to_contract(extracted(corpus_case(case)))
    want = gold(case)["figures"]
    got = [f for f in doc["figures"] if scored([f])]
    assert scored(got) == scored(want), "the seed's 50 figures, in reading order"
    assert len(got) == 50
    right = sum(char_f1(w["label"], g["label"] or "") >= 0.5 for w, g in zip(want, got, strict=True))
    assert right == 50
    by_text = {(g["value"], g["label"]) for g in got}
    # labels carried over from the clause before, and labels stripped of their lead-in words
    assert (959.98, "基本支出实际支出") in by_text
    assert (828.69, "基本支出预算") in by_text
    assert (601.12, "在职人员工资福利支出") in by_text
    assert (2970, "行政中心日常事务专项实际完成") in by_text
    assert (22, "招待所退休人员") in by_text
    quals = {(g["value"], g["qualifier"]) for g in got if g["qualifier"]}
    assert quals == {(90, "以上"), (100, "以上")}


@pytest.mark.corpus
def test_seed_metadata_and_outline(corpus_case, extracted) -> None:
    doc = to_contract(extracted(corpus_case("seed-word")))
    assert doc["report"] == {
        "title": "2020年度望城区机关事务中心部门整体支出预算绩效自评报告",
        "unit": "望城区机关事务中心",
        "year": 2020,
        "date": "2021-01-26",
        "doc_type": "部门整体支出绩效自评报告",  # the vocabulary's name for the title's genre
    }
    titles = [(s["level"], s["number"], s["title"]) for s in doc["sections"]]
    assert len(titles) == 19
    assert titles[:4] == [
        (1, "一", "单位基本情况"),
        (1, "二", "整体预算支出情况"),
        (2, "1", "基本支出情况"),
        (2, "2", "项目支出情况"),
    ]
    # run-in heading: the title stops at 。, the body follows
    assert (2, "1", "疫情防控全力以赴") in titles
    # the eleven duties ending in ； are a list, not headings
    assert not any("负责" in t for _, _, t in titles)
    assert "完成区委、区政府交办的其他事项" not in [t for _, _, t in titles]
    parents = {s["id"]: s["parent"] for s in doc["sections"]}
    second = next(s for s in doc["sections"] if s["title"] == "基本支出情况")
    assert parents[second["id"]] == next(s["id"] for s in doc["sections"] if s["number"] == "二")


@pytest.mark.corpus
def test_running_headers_footers_and_page_numbers_are_removed(corpus_case, extracted) -> None:
    report = extracted(corpus_case("seed-word"))  # unit name on top of each page, 第 n 页 共 7 页 below
    text = "\n".join(p.text for p in report.paragraphs)
    assert "共 7 页" not in text and "共7页" not in text
    assert text.count("望城区机关事务中心") == 3  # title, first sentence, signature: not once per page
    # a sentence cut by a page break reads whole again
    assert any("定期组织司勤人员的业务培训" in p.text for p in report.paragraphs)


@pytest.mark.corpus
def test_table_cells_become_figures_with_units_and_labels_from_headers(corpus_case, extracted, gold) -> None:
    report = extracted(corpus_case("table-seed"))
    doc = to_contract(report)
    assert len(doc["tables"]) == 1
    rows = doc["tables"][0]["rows"]
    assert rows[2][:5] == ["年度资金总额", None, "4526.69", "4526.69", "5017.13"]
    cells = {(f["label"], f["value"], f["unit"], f["kind"]) for f in doc["figures"] if f["table"]}
    assert ("基本支出全年执行数", 959.98, "万元", "amount") in cells  # unit from 年度预算执行情况（万元）
    assert ("项目支出执行率", 109.71, "%", "percent") in cells
    assert ("资金支付及时率得分", 9, "分", "score") in cells
    assert ("总分分值", 100, "分", "score") in cells
    capped = next(f for f in doc["figures"] if f["text"].startswith("≤"))
    assert (capped["value"], capped["unit"], capped["qualifier"]) == (4526.69, "万元", "≤")
    assert scored(doc["figures"]) == scored(gold("table-seed")["figures"])
    box = next(f for f in doc["figures"] if f["label"] == "基本支出全年执行数")["bbox"]
    assert box and box[0] < box[2] and box[1] < box[3]


@pytest.mark.corpus
def test_form_without_ruling_takes_its_unit_from_the_declaration(corpus_case, extracted) -> None:
    doc = to_contract(extracted(corpus_case("real-B04")))
    amounts = [(f["label"], f["value"], f["unit"]) for f in doc["figures"]]
    assert amounts[:4] == [
        ("计划生育转移支付资金合计年度预算资金总额", 1084.25, "万元"),
        ("中央补助", 668, "万元"),
        ("市级资金", 343, "万元"),
        ("本级资金", 73.25, "万元"),
    ]
    assert len(amounts) == 12


def test_number_cut_from_its_unit_across_lines_and_pages(tmp_path: Path) -> None:
    full = "本单位编制内人员共计若干名其中行政人员共计若干名事业人员共计若干名全部在岗"
    pdf = draw(
        tmp_path / "split.pdf",
        [
            [
                "2023年度测试单位整体支出绩效自评报告",
                "一、基本情况",
                full[:30] + "51",
                "人，其中在职人员40人，退休人员11人。",
                full[:30] + "预算",
            ],
            ["828.69万元，实际支出959.98万元。"],
        ],
    )
    report = extract(pdf)
    figs = [(f.value, f.unit, f.page) for f in report.figures]
    assert (51, "人", 1) in figs  # "51" at a line end, "人" on the next line
    assert (828.69, "万元", 2) in figs  # a sentence cut by the page break
    label = next(f.label for f in report.figures if f.value == 828.69)
    assert "预算" in label
    checks = [(c.rule, c.status) for c in report.checks]
    assert ("sum", "pass") in checks  # 51 = 40 + 11


def test_chinese_numerals_full_width_digits_and_ranges(tmp_path: Path) -> None:
    pdf = draw(
        tmp_path / "numerals.pdf",
        [
            [
                "2022年度测试局项目支出绩效自评报告",
                "项目总投资三千万元，其中设备购置两千元。",
                "年度预算１２３.４５万元，执行率９８．５％。",
                "专项资金1.2亿元，满意度90%-95%，受益群众约300人。",
            ]
        ],
    )
    doc = to_contract(extract(pdf))
    got = [(f["value"], f["unit"], f["kind"], f["qualifier"]) for f in doc["figures"]]
    assert (3000, "万元", "amount", None) in got
    assert (2000, "元", "amount", None) in got
    assert (123.45, "万元", "amount", None) in got
    assert (98.5, "%", "percent", None) in got
    assert (1.2, "亿元", "amount", None) in got
    assert (90, "%", "percent", None) in got and (95, "%", "percent", None) in got
    assert (300, "人", "count", "约") in got
    yuan = {f["value"]: f["value_yuan"] for f in doc["figures"] if f["kind"] == "amount"}
    assert yuan[1.2] == 120_000_000 and yuan[3000] == 30_000_000
    assert doc["report"]["year"] == 2022 and doc["report"]["unit"] == "测试局"


def test_years_dates_ordinals_and_codes_are_not_figures(tmp_path: Path) -> None:
    pdf = draw(
        tmp_path / "noise.pdf",
        [
            [
                "2021年度测试中心整体支出绩效自评报告",
                "截至2021年12月31日，第1名，统一社会信用代码11430100MB1234567X，3-6岁幼儿，行政主楼7、8层。",
                "开展为期4个月的排查工作，在30日内下达。",
            ]
        ],
    )
    doc = to_contract(extract(pdf))
    assert [f for f in doc["figures"] if f["kind"] != "count" or f["unit"] == "人"] == []


@pytest.mark.parametrize(
    "make,reason",
    [
        ("text", "not a PDF"),
        ("truncated", "corrupt"),
        ("encrypted", "encrypted"),
        ("blank", "no text layer"),
    ],
)
def test_bad_files_fail_with_one_line_naming_file_and_reason(tmp_path: Path, make: str, reason: str) -> None:
    path = tmp_path / f"{make}.pdf"
    if make == "text":
        path.write_text("这不是PDF", encoding="utf-8")
    elif make == "truncated":
        data = (SAMPLES / "seed-gov.pdf").read_bytes()
        path.write_bytes(data[: len(data) // 3])
    elif make == "encrypted":
        draw(path, [["2020年度测试报告", "预算100万元。"]], encrypt="secret")
    else:
        draw(path, [[]], footer=None)
    with pytest.raises(ReportError) as err:
        extract(path)
    assert err.value.file == path.name and reason in err.value.reason
    res = subprocess.run(
        [sys.executable, "-m", "pipeline", "extract", str(path), "--json", str(tmp_path / "o.json")],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and path.name in lines[0] and reason in lines[0]
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "o.json").exists()


def _all_pdfs() -> list[Path]:
    pdfs = sorted(SAMPLES.glob("*.pdf"))
    if CORPUS.is_dir():
        pdfs += sorted(CORPUS.glob("*/report.pdf"))
    return pdfs


# The schema is the shared contract's: every case needs the corpus folder.
@pytest.mark.corpus
@pytest.mark.parametrize("pdf", _all_pdfs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_cli_output_validates_against_the_contract(pdf: Path, tmp_path: Path, extracted) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    doc = to_contract(extracted(pdf))
    jsonschema.validate(doc, schema)
    ids = [f["id"] for f in doc["figures"]]
    assert len(ids) == len(set(ids))
    assert all(set(c["figures"]) <= set(ids) for c in doc["checks"])
    assert all(1 <= f["page"] <= doc["source"]["pages"] for f in doc["figures"])


def test_cli_writes_json_to_a_file_and_to_stdout(tmp_path: Path) -> None:
    pdf = SAMPLES / "table-selfeval.pdf"
    out = tmp_path / "out" / "r.json"
    res = subprocess.run(
        [sys.executable, "-m", "pipeline", "extract", str(pdf), "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert res.returncode == 0, res.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["source"]["file"] == "table-selfeval.pdf" and len(doc["source"]["sha256"]) == 64
    res = subprocess.run(
        [sys.executable, "-m", "pipeline", "extract", str(pdf), "--json", "-"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert json.loads(res.stdout)["figures"] == doc["figures"]


def test_library_never_imports_prefect() -> None:
    code = (
        "import sys, pipeline.extract.stages, pipeline.store, pipeline.audit, pipeline.ingest, pipeline.cli;"
        "print(sorted(m for m in ('prefect', 'flows') if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert res.stdout.strip() == "[]", res.stderr
    # Nor names flows anywhere: imports run flows → pipeline only.
    for path in (REPO / "pipeline").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            assert not any(n == "flows" or n.startswith("flows.") for n in names), path


def test_a_table_continued_on_the_next_page_is_one_table(tmp_path: Path, gold) -> None:
    from testkit.synth import render_pdf, selfeval_blocks

    pdf = render_pdf(selfeval_blocks(), tmp_path / "selfeval-gov.pdf", layout="gov")  # runs onto page 2
    report = extract(pdf)
    assert report.source.pages == 2
    continued = [t for t in report.tables if len(t.pages) > 1]
    assert continued and continued[0].pages == [1, 2]
    doc = to_contract(report)
    assert scored(doc["figures"]) == scored(gold("table-seed")["figures"]) if CORPUS.is_dir() else True
    total = next(f for f in report.figures if f.label == "总分得分")
    assert total.page == 2 and total.value == 95
    assert next(c for c in report.checks if c.result == total.id and c.rule == "sum").status == "pass"
