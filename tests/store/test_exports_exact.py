"""Exports carry the values the report printed: no binary noise, formats by kind, tables as grids."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from pipeline import excel, numbers
from pipeline.store import Store, resolve_url
from pipeline.store.exports import export

# A sum that fails by 0.20 万元, with the noise float arithmetic leaves on every value involved.
NOISY_PART = 75.93000000000006
NOISY_TOTAL = 76.13000000000001
NOISY_GAP = -0.1999999999999318  # stated − expected, as a subtraction gives it


def _doc() -> dict:
    sha = hashlib.sha256(b"exact exports").hexdigest()
    fig = {"qualifier": None, "section": None, "value_yuan": None, "table": None, "cell": None, "page": 2,
           "bbox": [72.0, 100.0, 140.0, 112.0]}  # fmt: skip
    return {
        "schema_version": 1,
        "extractor_version": "test",
        "source": {"file": "report.pdf", "sha256": sha, "pages": 3},
        "report": {
            "title": "2021年度某局部门整体支出绩效自评报告",
            "unit": "某局",
            "year": 2021,
            "date": "2022-03-01",
            "doc_type": "部门整体支出绩效自评报告",
        },  # fmt: skip
        "sections": [],
        "figures": [
            {
                **fig,
                "id": "f1",
                "kind": "amount",
                "value": NOISY_PART,
                "unit": "万元",
                "text": "75.93万元",
                "label": "公用经费",
                "value_yuan": 759300.0000000006,
            },  # fmt: skip
            {
                **fig,
                "id": "f2",
                "kind": "amount",
                "value": 0.2,
                "unit": "万元",
                "text": "0.2万元",
                "label": "其他",
            },
            {
                **fig,
                "id": "f3",
                "kind": "amount",
                "value": 75.93,
                "unit": "万元",
                "text": "75.93万元",
                "label": "合计",
                "page": 3,
            },  # fmt: skip
            {
                **fig,
                "id": "f4",
                "kind": "count",
                "value": 51.0,
                "unit": "人",
                "text": "51人",
                "label": "在职人员",
            },
            {
                **fig,
                "id": "f5",
                "kind": "percent",
                "value": 15.840000000000002,
                "unit": "%",
                "text": "15.84%",
                "label": "增幅",
            },  # fmt: skip
            {
                **fig,
                "id": "f6",
                "kind": "amount",
                "value": 343.0,
                "unit": "万元",
                "text": "343万元",
                "label": "项目支出",
            },
        ],
        "checks": [
            {
                "id": "c1",
                "rule": "sum",
                "status": "fail",
                "figures": ["f1", "f2", "f3"],
                "expected": NOISY_TOTAL,
                "stated": 75.93,
                "message": "合计：所列 2 项合计 76.13 万元，报告称 75.93 万元，相差 0.20 万元",
                "result": "f3",
                "difference": NOISY_GAP,
                "evidence": None,
            },  # fmt: skip
            {
                "id": "c2",
                "rule": "count",
                "status": "pass",
                "figures": ["f4"],
                "expected": 51.0,
                "stated": 51.0,
                "message": "在职人员：一致",
                "result": "f4",
                "difference": None,
                "evidence": None,
            },  # fmt: skip
        ],
        "tables": [
            {
                "id": "t1",
                "page": 2,
                "pages": [2],
                "title": "表1 支出明细（万元）",
                "unit": "万元",
                "rows": [["项目", "预算数", "执行数"], ["公用经费", "80.00", "75.93"], ["其他", None, "0.2"]],
            },  # fmt: skip
        ],
        "warnings": [],
    }


PG_URL = os.environ.get("PIPELINE_TEST_PG_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLite file, or a PostgreSQL schema of its own (dropped after the test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'reports.db'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL tests need PIPELINE_TEST_PG_URL (scripts/test.sh starts a throw-away server)")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(resolve_url(PG_URL))
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = make_url(resolve_url(PG_URL)).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Iterator[Store]:
    s = Store(db_url)
    archived = tmp_path / "archive" / f"{_doc()['source']['sha256']}.pdf"
    s.save_report(
        _doc(), path=str(tmp_path / "某局" / "report.pdf"), extractor_version="test", archived=str(archived)
    )
    yield s
    s.close()


def _rows(ws: openpyxl.worksheet.worksheet.Worksheet) -> list[dict]:
    header = [c.value for c in ws[1]]
    return [dict(zip(header, r)) for r in ws.iter_rows(min_row=2)]


def test_xlsx_values_as_printed_with_formats_by_kind(store: Store, tmp_path: Path) -> None:
    (path,) = export(store, "xlsx", tmp_path / "out")
    wb = openpyxl.load_workbook(path)
    figs = {r["数据编号"].value: r for r in _rows(wb["数据"])}
    assert figs["f1"]["数值"].value == 75.93 and figs["f1"]["数值"].number_format == "#,##0.00"
    assert figs["f1"]["折合金额(元)"].value == 759300.0
    assert figs["f2"]["数值"].value == 0.2 and figs["f2"]["数值"].number_format == "#,##0.0"
    assert figs["f6"]["数值"].value == 343 and figs["f6"]["数值"].number_format == "#,##0"
    # a head count is an integer, not 51.00; a percent keeps its two decimals and shows its sign
    assert figs["f4"]["数值"].value == 51 and figs["f4"]["数值"].number_format == "0"
    assert figs["f5"]["数值"].value == 15.84 and figs["f5"]["数值"].number_format == '0.00"%"'
    # the file with its folder, so that twenty report.pdf are told apart
    assert {r["文件名"].value for r in figs.values()} == {"某局/report.pdf"}

    (doc_row,) = _rows(wb["报告"])
    # the archived original, linked relative to the workbook (they move together)
    sha = _doc()["source"]["sha256"]
    assert doc_row["原文存档"].hyperlink.target == f"../archive/{sha}.pdf"
    assert doc_row["文件名"].value == "某局/report.pdf"

    checks = {r["校验编号"].value: r for r in _rows(wb["校验"])}
    c1 = checks["c1"]
    assert (c1["计算值"].value, c1["报告值"].value, c1["差额(报告值-计算值)"].value) == (76.13, 75.93, -0.2)
    assert c1["计算值"].number_format == "#,##0.00"
    assert c1["页码"].value == 2 and c1["涉及页码"].value == "2, 3"
    # the failing row is marked across, the passing one is not
    assert all(cell.fill.fgColor.rgb == excel.MARK_FILL.fgColor.rgb for cell in c1.values())
    assert checks["c2"]["结果"].fill.fgColor.rgb != excel.MARK_FILL.fgColor.rgb
    assert checks["c2"]["计算值"].value == 51 and checks["c2"]["计算值"].number_format == "0"


def test_xlsx_has_each_table_as_a_grid_under_its_title(store: Store, tmp_path: Path) -> None:
    (path,) = export(store, "xlsx", tmp_path / "out")
    ws = openpyxl.load_workbook(path)["表格"]
    grid = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    title = grid[0][0]
    assert "表1 支出明细（万元）" in title and "某局" in title and "2021" in title and "第 2 页" in title
    assert ws.cell(2, 1).font.bold
    assert [r[:3] for r in grid[1:4]] == [
        ["项目", "预算数", "执行数"],
        ["公用经费", "80.00", "75.93"],
        ["其他", None, "0.2"],
    ]


def test_csv_and_parquet_carry_no_float_noise(store: Store, tmp_path: Path) -> None:
    export(store, "csv", tmp_path / "csv")
    figs = pd.read_csv(tmp_path / "csv" / "figures.csv", encoding="utf-8-sig", dtype=str)
    assert figs.set_index("数据编号")["数值"].to_dict() == {
        "f1": "75.93", "f2": "0.2", "f3": "75.93", "f4": "51", "f5": "15.84", "f6": "343",
    }  # fmt: skip
    checks = pd.read_csv(tmp_path / "csv" / "checks.csv", encoding="utf-8-sig", dtype=str).set_index(
        "校验编号"
    )
    assert (checks.loc["c1", "计算值"], checks.loc["c1", "差额(报告值-计算值)"]) == ("76.13", "-0.20")
    assert checks.loc["c1", "页码"] == "2"

    export(store, "parquet", tmp_path / "pq")
    f = pd.read_parquet(tmp_path / "pq" / "figures.parquet").set_index("fig_id")
    assert f.loc["f1", "value"] == 75.93 and f.loc["f5", "value"] == 15.84
    c = pd.read_parquet(tmp_path / "pq" / "checks.parquet").set_index("check_id")
    assert c.loc["c1", "difference"] == -0.2 and c.loc["c1", "expected"] == 76.13


def test_sqlite_export_copies_the_whole_store(store: Store, tmp_path: Path) -> None:
    (path,) = export(store, "sqlite", tmp_path / "copy")
    assert path.name == "reports.sqlite" and not Path(str(path) + "-wal").exists()
    with Store(f"sqlite:///{path}", create=False) as copy:
        assert copy.counts() == store.counts()
        (doc_id,) = copy.document_ids()
        assert copy.load_report(doc_id) == store.load_report(store.document_ids()[0])


def test_one_formatter_rule() -> None:
    """The rule the messages, the audit and the exports share, on its own."""
    assert numbers.printed_decimals("1,160.18 万元") == 2 and numbers.printed_decimals("343万元") == 0
    assert numbers.format_value(NOISY_GAP, "amount", 2) == "-0.20"
    assert numbers.format_value(1160.18, "amount", 2) == "1,160.18"
    assert numbers.format_value(33, "percent", numbers.shown_decimals("percent", "%", 0, {})) == "33.00"
    # an amount printed without decimals in a report that prints 2 elsewhere in 万元 shows 2
    assert numbers.shown_decimals("amount", "万元", 0, {"万元": 2}) == 2
    assert numbers.excel_format("amount", 2, "万元") == '#,##0.00" 万元"'
    assert numbers.rounded(0.1 + 0.2, 2) == 0.3 and numbers.rounded(-0.0001, 2) == 0.0


def test_exports_people_read_give_a_failed_files_reason_in_chinese(tmp_path: Path) -> None:
    from pipeline.messages import Message

    with Store(f"sqlite:///{tmp_path / 'r.db'}") as store:
        store.record_failure("inbox/locked.pdf", "c" * 64, Message("encrypted"))
        store.record_failure("inbox/old.pdf", "d" * 64, "encrypted PDF")  # as an older pipeline stored it
        export(store, "csv", tmp_path / "csv")
        (book,) = export(store, "xlsx", tmp_path / "xlsx")
        export(store, "parquet", tmp_path / "pq")
    docs = pd.read_csv(tmp_path / "csv" / "documents.csv", encoding="utf-8-sig", dtype=str)
    assert docs["错误原因"].tolist() == ["PDF 已加密（需要密码才能打开）", "encrypted PDF"]
    sheet = openpyxl.load_workbook(book)["报告"]
    header = [c.value for c in sheet[1]]
    assert [r[header.index("错误原因")] for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        "PDF 已加密（需要密码才能打开）",
        "encrypted PDF",
    ]
    pq = pd.read_parquet(tmp_path / "pq" / "documents.parquet")  # for programs: the English, as before
    assert pq["error"].tolist() == ["encrypted PDF (a password is needed)", "encrypted PDF"]
    assert "error_zh" not in pq.columns
