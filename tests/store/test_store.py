"""The store, its exports, queries and CLI, on SQLite and (when PIPELINE_TEST_PG_URL is set) PostgreSQL."""

from __future__ import annotations

import argparse
import copy
import json
import multiprocessing
import os
import uuid
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from pipeline.cli import store as cli_store
from pipeline.safety import csv_cell
from pipeline.store import ALL_TABLES, Store, exports, resolve_url
from pipeline.store.exports import export
from pipeline.store.queries import failing_checks, label_across_years
from pipeline.vocabulary import yuan_per
from testkit.contracts import corpus_docs, expected_counts, normalized, synthetic_doc, vary, write_docs
from testkit.corpus import SCHEMA

PG_URL = os.environ.get("PIPELINE_TEST_PG_URL")
CONTENT = ("documents", "sections", "figures", "checks", "check_figures", "report_tables", "table_cells")


@pytest.fixture(scope="module")
def docs() -> list[dict]:
    return corpus_docs()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path):
    """A fresh, empty database per test: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'reports.db'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL tests need PIPELINE_TEST_PG_URL (scripts/test.sh starts a throw-away server)")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(resolve_url(PG_URL))
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    # psycopg passes `options` to the server: every connection of the store works in this schema.
    url = make_url(resolve_url(PG_URL)).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def store(db_url: str):
    s = Store(db_url)
    yield s
    s.close()


def content_counts(store: Store) -> dict[str, int]:
    return {k: v for k, v in store.counts().items() if k in CONTENT}


# -- saving ----------------------------------------------------------------------------------------


def test_ingesting_twice_leaves_identical_counts(store: Store, docs: list[dict]) -> None:
    first = [store.save_report(d, extractor_version="1.0") for d in docs]
    assert {r.outcome for r in first} == {"inserted"}
    counts = content_counts(store)
    assert counts == expected_counts(docs)

    again = [store.save_report(d, extractor_version="1.0") for d in docs]
    assert {r.outcome for r in again} == {"duplicate"}
    assert [r.document_id for r in again] == [r.document_id for r in first]
    assert content_counts(store) == counts
    # Each submission is still logged.
    assert store.ingest_files_df()["status"].value_counts().to_dict() == {
        "ok": len(docs),
        "duplicate": len(docs),
    }


def test_stored_report_comes_back_as_submitted(store: Store, docs: list[dict]) -> None:
    ids = [store.save_report(d, extractor_version="1.0").document_id for d in docs]
    for doc_id, doc in zip(ids, docs, strict=True):
        assert normalized(store.load_report(doc_id)) == normalized(doc)


def test_newer_extractor_version_replaces_rows(store: Store, docs: list[dict]) -> None:
    for d in docs:
        store.save_report(d, extractor_version="1.0")
    before = content_counts(store)
    doc = copy.deepcopy(docs[0])
    doc["figures"][0]["value"] = 12345.67
    doc["figures"][0]["label"] = "改过的标签"
    doc["report"]["title"] = "新标题"

    r = store.save_report(doc, extractor_version="2.0")
    assert (r.outcome, r.previous_version) == ("replaced", "1.0")
    assert content_counts(store) == before
    row = store.documents_df().set_index("sha256").loc[doc["source"]["sha256"]]
    assert (row["extractor_version"], row["title"], row["id"]) == ("2.0", "新标题", r.document_id)
    assert row["updated_at"] >= row["ingested_at"]
    changed = store.figures_df(label="改过的标签")
    assert changed["value"].tolist() == [12345.67]
    assert normalized(store.load_report(r.document_id)) == normalized(doc)
    # The same version again is now the duplicate.
    assert store.save_report(doc, extractor_version="2.0").outcome == "duplicate"
    assert store.seen(doc["source"]["sha256"], "2.0") and not store.seen(doc["source"]["sha256"], "1.0")


def test_error_mid_write_leaves_no_partial_document(
    store: Store, docs: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    figures_written: list[int] = []

    def fail_after_figures(conn, doc_id, items, fig_ids):  # noqa: ANN001 - mirrors Store._insert_checks
        figures_written.append(conn.execute(sa.text("SELECT count(*) FROM figures")).scalar_one())
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Store, "_insert_checks", staticmethod(fail_after_figures))
    with pytest.raises(RuntimeError, match="disk on fire"):
        store.save_report(docs[0], extractor_version="1.0")
    assert figures_written[0] == len(docs[0]["figures"])  # it did fail part-way ...
    assert all(n == 0 for n in store.counts().values())  # ... and nothing of it is left

    # A failed replacement leaves the previous version whole.
    monkeypatch.undo()
    store.save_report(docs[0], extractor_version="1.0")
    before = content_counts(store)
    newer = copy.deepcopy(docs[0])
    newer["figures"][0]["value"] = -1.0
    monkeypatch.setattr(Store, "_insert_checks", staticmethod(fail_after_figures))
    with pytest.raises(RuntimeError):
        store.save_report(newer, extractor_version="2.0")
    assert content_counts(store) == before
    assert store.documents_df()["extractor_version"].tolist() == ["1.0"]
    assert normalized(store.load_report(store.document_ids()[0])) == normalized(docs[0])


def test_invalid_document_is_refused_before_writing(store: Store) -> None:
    bad = synthetic_doc(0)
    bad["source"]["sha256"] = "not-a-hash"
    with pytest.raises(ValueError, match="sha256"):
        store.save_report(bad, extractor_version="1")
    with pytest.raises(ValueError, match="missing"):
        store.save_report({"source": {"sha256": "a" * 64}}, extractor_version="1")
    assert all(n == 0 for n in store.counts().values())


def test_concurrent_writer_processes_all_succeed(db_url: str, docs: list[dict]) -> None:
    Store(db_url).close()  # schema in place, as a deployed store would be
    own = [[vary(docs[i % len(docs)], 1000 * w + i) for i in range(12)] for w in range(2)]
    shared = [vary(docs[i % len(docs)], 99_000 + i) for i in range(3)]  # both race to insert these
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=write_docs, args=(db_url, own[w] + shared, "1.0", barrier, results))
        for w in range(2)
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert all(status == "ok" for status, _ in outcomes), outcomes
    shared_outcomes = sorted(o for _, out in outcomes for o in out[-3:])
    assert shared_outcomes == ["duplicate"] * 3 + ["inserted"] * 3

    with Store(db_url) as store:
        assert content_counts(store) == expected_counts(own[0] + own[1] + shared)
        assert store.documents_df()["sha256"].is_unique


def test_sqlite_runs_in_wal_with_busy_timeout(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'r.db'}") as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 30_000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


# -- runs, failures, files -------------------------------------------------------------------------


def test_every_submitted_file_gets_a_status(store: Store, docs: list[dict]) -> None:
    run = store.start_run({"folder": "inbox", "workers": 2})
    ok = store.save_report(docs[0], path="inbox/a.pdf", extractor_version="1", run_id=run)
    store.save_report(docs[0], path="inbox/a-copy.pdf", extractor_version="1", run_id=run)
    failed_id = store.record_failure("inbox/broken.pdf", "b" * 64, "encrypted PDF", run_id=run)
    store.record_failure("inbox/empty.pdf", None, "file is empty", run_id=run)
    store.record_file(run, "inbox/old.pdf", docs[0]["source"]["sha256"], "skipped", "seen", ok.document_id)
    store.finish_run(run, {"ok": 1, "duplicate": 1, "failed": 2, "skipped": 1})

    files = store.ingest_files_df(run)
    assert files.set_index("path")["status"].to_dict() == {
        "inbox/a.pdf": "ok",
        "inbox/a-copy.pdf": "duplicate",
        "inbox/broken.pdf": "failed",
        "inbox/empty.pdf": "failed",
        "inbox/old.pdf": "skipped",
    }
    assert files.set_index("path").loc["inbox/broken.pdf", "reason"] == "encrypted PDF"
    failed = store.documents_df(status="failed")
    assert failed["id"].tolist() == [failed_id] and failed["error"].tolist() == ["encrypted PDF"]
    assert not store.seen("b" * 64, "1")  # a failure is tried again

    with store.engine.connect() as conn:
        finished = conn.execute(sa.text("SELECT finished_at, counts FROM ingest_runs")).one()
    counts = finished.counts if isinstance(finished.counts, dict) else json.loads(finished.counts)
    assert finished.finished_at is not None
    assert counts["files"] == {"ok": 1, "duplicate": 1, "failed": 2, "skipped": 1}

    # The failed file extracts later: it fills its failed row in.
    fixed = synthetic_doc(7)
    fixed["source"]["sha256"] = "b" * 64
    r = store.save_report(fixed, extractor_version="2", run_id=run)
    assert (r.document_id, r.outcome) == (failed_id, "inserted")
    assert store.documents_df(status="failed").empty

    # A failing re-run does not destroy a good document.
    store.record_failure("inbox/a.pdf", docs[0]["source"]["sha256"], "timeout")
    assert store.documents_df().set_index("id").loc[ok.document_id, "status"] == "ok"
    with pytest.raises(ValueError):
        store.record_file(run, "x.pdf", None, "weird")


# -- loaders and queries ---------------------------------------------------------------------------


def test_loaders_filter_and_type(store: Store, docs: list[dict]) -> None:
    for d in docs:
        store.save_report(d, extractor_version="1")
    first = docs[0]["report"]
    unit, year = first["unit"], first["year"]

    d = store.documents_df(unit=unit, year=year)
    assert len(d) == sum(1 for x in docs if (x["report"]["unit"], x["report"]["year"]) == (unit, year))
    assert str(d["year"].dtype) == "Int64" and str(d["ingested_at"].dtype).startswith("datetime64")

    f = store.figures_df(unit=unit, year=year)
    assert len(f) == sum(
        len(x["figures"]) for x in docs if (x["report"]["unit"], x["report"]["year"]) == (unit, year)
    )
    assert f["value"].dtype == "float64" and str(f["page"].dtype) == "Int64"

    label = docs[0]["figures"][0]["label"]
    part = label[1:] or label
    hits = store.figures_df(label=part)
    assert len(hits) == sum(1 for x in docs for g in x["figures"] if g["label"] and part in g["label"])
    assert set(store.figures_df(kind="percent")["kind"]) <= {"percent"}
    assert store.figures_df(label="%_").empty  # LIKE wildcards are matched literally

    fails = store.checks_df(status="fail")
    assert len(fails) == sum(1 for x in docs for c in x["checks"] if c["status"] == "fail")
    assert set(fails["status"]) == {"fail"}
    c0 = docs[0]["checks"][0]
    got = store.checks_df(unit=unit, year=year)
    assert got.iloc[0]["figures"] == ",".join(c0["figures"])

    s = store.sections_df(unit=unit)
    assert s["level"].min() >= 1
    assert store.counts().keys() == set(ALL_TABLES)


def test_failing_checks_query(store: Store, docs: list[dict]) -> None:
    for d in docs:
        store.save_report(d, extractor_version="1")
    out = failing_checks(store)
    n_fail = sum(1 for x in docs for c in x["checks"] if c["status"] == "fail")
    assert len(out) == n_fail
    if n_fail:
        row = out.iloc[0]
        assert row["difference"] == pytest.approx(row["stated"] - row["expected"])
        first_fig = row["figures"].split(",")[0]
        assert row["evidence"].startswith(first_fig + " ")
    assert failing_checks(store, unit="没有这个单位").empty


def test_label_across_years(store: Store, docs: list[dict]) -> None:
    base = docs[0]
    amount = next(f for f in base["figures"] if f["kind"] == "amount" and f["label"])
    for i in range(3):
        store.save_report(vary(base, i, factor=1 + i / 10), extractor_version="1")
    table = label_across_years(store, amount["label"], unit=base["report"]["unit"])
    years = sorted({base["report"]["year"] + i % 5 for i in range(3)})
    assert list(table.columns) == years
    row = table.xs(amount["label"], level="label").iloc[0]
    yuan = yuan_per()[amount["unit"]]
    assert row[years[0]] == pytest.approx(amount["value"] * yuan / 1e4)
    assert row[years[1]] == pytest.approx(round(amount["value"] * 1.1, 2) * yuan / 1e4)
    assert label_across_years(store, "不存在的标签").empty


# -- exports ---------------------------------------------------------------------------------------


def test_xlsx_export(store: Store, docs: list[dict], tmp_path: Path) -> None:
    for d in docs:
        store.save_report(d, extractor_version="1")
    (path,) = export(store, "xlsx", tmp_path / "out")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["报告", "数据", "校验", "章节", "表格"]
    for ws in wb.worksheets[:-1]:  # lists; the 表格 grid has no filter (it is no list)
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(ws.max_column)}{ws.max_row}"
        assert all(
            ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width
            for i in range(1, ws.max_column + 1)
        )

    data = wb["数据"]
    header = [c.value for c in data[1]]
    assert header[:4] == ["文档编号", "报告单位", "年度", "文件名"] and "标签" in header and "数值" in header
    assert data.max_row == 1 + sum(len(d["figures"]) for d in docs)
    value_col = header.index("数值") + 1
    cell = data.cell(row=2, column=value_col)
    # the first figure is a head count (247人): an integer, not 247.00
    assert docs[0]["figures"][0]["kind"] == "count"
    assert cell.data_type == "n" and isinstance(cell.value, int | float) and cell.number_format == "0"
    assert data.cell(row=2, column=header.index("年度") + 1).number_format == "0"
    assert data.cell(row=2, column=header.index("报告单位") + 1).value == docs[0]["report"]["unit"]

    checks = wb["校验"]
    cheader = [c.value for c in checks[1]]
    assert {"规则", "结果", "计算值", "报告值", "说明"} <= set(cheader)
    status_col = openpyxl.utils.get_column_letter(cheader.index("结果") + 1)
    assert {c.value for c in checks[status_col][1:]} <= {"通过", "未通过", "无法核验"}
    assert wb["报告"].max_row == 1 + len(docs)
    assert wb["章节"].max_row == 1 + sum(len(d["sections"]) for d in docs)


def test_xlsx_keeps_formula_like_text_as_text(store: Store, tmp_path: Path) -> None:
    doc = synthetic_doc(1)
    doc["figures"][0]["label"] = "=1+1"
    doc["figures"][1]["label"] = "控制\x07字符"
    store.save_report(doc, extractor_version="1")
    (path,) = export(store, "xlsx", tmp_path)
    ws = openpyxl.load_workbook(path)["数据"]
    col = [c.value for c in ws[1]].index("标签") + 1
    assert (ws.cell(2, col).value, ws.cell(2, col).data_type) == ("=1+1", "s")
    assert ws.cell(3, col).value == "控制字符"


def test_csv_export_round_trips_with_chinese(store: Store, docs: list[dict], tmp_path: Path) -> None:
    for d in docs:
        store.save_report(d, extractor_version="1")
    paths = export(store, "csv", tmp_path)
    assert [p.name for p in paths] == [
        "documents.csv",
        "figures.csv",
        "checks.csv",
        "sections.csv",
        "tables.csv",
    ]
    assert all(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in paths)

    figs = pd.read_csv(tmp_path / "figures.csv", encoding="utf-8-sig")
    assert list(figs.columns[:4]) == ["文档编号", "报告单位", "年度", "文件名"]
    stored = store.figures_df()
    assert figs["标签"].fillna("").tolist() == stored["label"].fillna("").tolist()
    # printed text such as "-101251.44万元" would be a formula to a spreadsheet: it comes with a "'"
    assert figs["原文"].tolist() == [csv_cell(t) for t in stored["text"]]
    assert figs["数值"].tolist() == pytest.approx(stored["value"].tolist())
    assert figs["计量单位"].tolist() == stored["value_unit"].tolist()

    cells = pd.read_csv(tmp_path / "tables.csv", encoding="utf-8-sig")
    assert len(cells) == expected_counts(docs)["table_cells"]
    docs_csv = pd.read_csv(tmp_path / "documents.csv", encoding="utf-8-sig")
    # a report whose unit is null reads back as an empty cell (NaN): compare both sides as "no unit"
    units = docs_csv["报告单位"].astype(object).where(docs_csv["报告单位"].notna(), None)
    assert set(units) == {d["report"]["unit"] for d in docs}


def test_parquet_export_dtypes(store: Store, docs: list[dict], tmp_path: Path) -> None:
    for d in docs:
        store.save_report(d, extractor_version="1")
    export(store, "parquet", tmp_path)
    d = pd.read_parquet(tmp_path / "documents.parquet")
    assert str(d["year"].dtype) == "Int64" and str(d["pages"].dtype) == "Int64"
    assert "date32" in str(d["date"].dtype)
    assert str(d["ingested_at"].dtype) == "datetime64[us, UTC]"
    f = pd.read_parquet(tmp_path / "figures.parquet")
    assert f["value"].dtype == "float64" and f["value_yuan"].dtype == "float64"
    assert str(f["year"].dtype) == "Int64" and str(f["page"].dtype) == "Int64"
    assert pd.api.types.is_string_dtype(f["label"])
    assert len(f) == expected_counts(docs)["figures"]
    c = pd.read_parquet(tmp_path / "checks.parquet")
    assert c["expected"].dtype == "float64" and set(c["status"]) <= {"pass", "fail", "unverifiable"}


def test_json_export_gives_contract_documents(store: Store, docs: list[dict], tmp_path: Path) -> None:
    for d in docs:
        store.save_report(d, extractor_version="1")
    store.record_failure("broken.pdf", "c" * 64, "not a PDF")  # failed files have no contract document
    paths = export(store, "json", tmp_path)
    assert len(paths) == len(docs)
    by_sha = {d["source"]["sha256"]: d for d in docs}
    schema_path = SCHEMA
    validator = None
    if schema_path.exists():
        import jsonschema

        validator = jsonschema.Draft202012Validator(json.loads(schema_path.read_text(encoding="utf-8")))
    for p in paths:
        got = json.loads(p.read_text(encoding="utf-8"))
        assert normalized(got) == normalized(by_sha[got["source"]["sha256"]])
        if validator is not None:
            validator.validate(got)


def test_export_rejects_unknown_format(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="xlsx"):
        export(store, "docx", tmp_path)


# -- CLI and URLs ----------------------------------------------------------------------------------


def test_cli_export_and_queries(
    db_url: str, docs: list[dict], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert cli_store.FORMATS == exports.FORMATS
    with Store(db_url) as store:
        for d in docs:
            store.save_report(d, extractor_version="1")
        n_fail = len(failing_checks(store))

    parser = argparse.ArgumentParser(prog="pipeline")
    cli_store.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["export", "--format", "csv", "--out", str(tmp_path / "csv"), "--db", db_url])
    assert args.func(args) == 0
    assert (tmp_path / "csv" / "figures.csv").exists()
    capsys.readouterr()

    assert cli_store.main(["query", "failing", "--db", db_url, "--csv"]) == 0
    out = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert len(out) == n_fail

    unit = docs[0]["report"]["unit"]
    label = next(f["label"] for f in docs[0]["figures"] if f["label"])
    assert cli_store.main(["query", "label", label, "--unit", unit, "--db", db_url]) == 0
    text = capsys.readouterr().out
    assert label in text and str(docs[0]["report"]["year"]) in text

    assert cli_store.main(["query", "failing", "--unit", "没有这个单位", "--db", db_url]) == 2
    assert capsys.readouterr().err.startswith("error: no such unit: 没有这个单位 (units in the store: ")


def test_cli_refuses_missing_sqlite_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    missing = tmp_path / "nowhere" / "r.db"
    assert cli_store.main(["query", "failing", "--db", f"sqlite:///{missing}"]) == 2
    assert "no database" in capsys.readouterr().err
    assert not missing.exists()


def test_default_url_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PIPELINE_DB_URL", raising=False)
    with Store() as store:
        assert store.url == "sqlite:///outputs/reports.db"
    assert (tmp_path / "outputs" / "reports.db").exists()
    monkeypatch.setenv("PIPELINE_DB_URL", f"sqlite:///{tmp_path / 'env.db'}")
    with Store():
        pass
    assert (tmp_path / "env.db").exists()
    assert resolve_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert resolve_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
