"""`pipeline query` and `pipeline export` as people use them, on a store of real reports ingested through
the library: seed-gov (望城区机关事务中心 2020, one failing sum: 579.15 stated, 578.95 computed) and
two dev-corpus cases (桃源县交通运输局 2021 with two failing sums; 昆明市西山区第七幼儿园 2024 with none)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import unicodedata
from pathlib import Path

import pytest

import pipeline
from pipeline.cli import main
from pipeline.store.exports import export
from testkit.corpus import CORPUS

pytestmark = pytest.mark.corpus
ROOT = Path(__file__).resolve().parents[2]
FILES = [
    ROOT / "samples" / "seed-gov.pdf",
    CORPUS / "real-A01-fault" / "report.pdf",
    CORPUS / "real-A11" / "report.pdf",
]
SEED_MESSAGE_END = "合计 578.95 万元，报告称 579.15 万元，相差 0.20 万元"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "reports.db"
    with pipeline.open_store(path) as store:
        for pdf in FILES:
            if not pdf.exists():
                pytest.skip(f"{pdf} is missing")
            store.save_report(
                pipeline.to_contract(pipeline.extract(pdf)), path=str(pdf), extractor_version="test"
            )
    return path


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def cli(*argv: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *argv], capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PIPELINE_PROGRESS": ""}, **kwargs,
    )  # fmt: skip


def on_terminal(columns: int, *argv: str) -> tuple[int, str]:
    """Run `pipeline ARGV` on a pseudo-terminal `columns` wide; its exit code and what it showed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "PIPELINE_PROGRESS")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", *argv], stdin=slave, stdout=slave, stderr=slave, cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT), "TERM": "xterm"},
    )  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal's other side closed: the command ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode())
    return proc.wait(), text.replace("\r", "")


def cells(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


# -- the store named by a path ----------------------------------------------------------------------


def test_db_takes_a_plain_path_relative_or_absolute(
    db: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, "query", "failing", "--db", str(db), "--format", "json")
    assert code == 0 and len(json.loads(out)) == 3
    monkeypatch.chdir(db.parent)
    code, out, _ = run(capsys, "query", "failing", "--db", db.name, "--format", "json")
    assert code == 0 and [r["stated"] for r in json.loads(out)] == [579.15, 38953.21, 54235.49]


def test_a_missing_store_file_is_said_and_not_created(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    missing = tmp_path / "typo" / "reports.db"
    code, out, err = run(capsys, "query", "failing", "--db", str(missing))
    assert code == 2 and out == ""
    assert err.strip() == f"error: no database at {missing}; pass --db or set PIPELINE_DB_URL"
    assert not missing.parent.exists()


# -- units and years --------------------------------------------------------------------------------


def test_unit_matches_by_a_part_of_its_name(db: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(capsys, "query", "failing", "--db", str(db), "--unit", "机关事务", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and [(r["unit"], r["year"], r["stated"], r["expected"]) for r in rows] == [
        ("望城区机关事务中心", 2020, 579.15, 578.95)
    ]


def test_a_unit_several_match_lists_the_matches(db: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, err = run(capsys, "query", "failing", "--db", str(db), "--unit", "区")
    assert code == 2 and out == ""
    assert (
        err.strip()
        == "error: unit '区' matches 2 units: 昆明市西山区第七幼儿园, 望城区机关事务中心; give more of the name"
    )


def test_no_such_unit_lists_the_units(db: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, err = run(capsys, "query", "label", "基本支出", "--db", str(db), "--unit", "教育局")
    assert code == 2 and out == ""
    assert err.strip() == (
        "error: no such unit: 教育局 (units in the store: 昆明市西山区第七幼儿园, 望城区机关事务中心, 桃源县交通运输局)"
    )


def test_no_such_year_lists_the_years(db: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = run(capsys, "query", "failing", "--db", str(db), "--year", "2031")
    assert code == 2 and err.strip() == "error: no such year: 2031 (years: 2020, 2021, 2024)"
    code, _, err = run(capsys, "query", "failing", "--db", str(db), "--unit", "桃源", "--year", "2020")
    assert code == 2 and err.strip() == "error: no such year: 2020 (years of 桃源县交通运输局: 2021)"


def test_no_failing_checks_is_no_error(db: Path, capsys: pytest.CaptureFixture) -> None:
    argv = ["query", "failing", "--db", str(db), "--unit", "幼儿园", "--year", "2024", "--fail-on-findings"]
    code, out, err = run(capsys, *argv)
    assert (code, out.strip(), err) == (0, "no failing checks (昆明市西山区第七幼儿园, 2024)", "")


# -- output -----------------------------------------------------------------------------------------


def test_fail_on_findings_exits_3_after_printing(db: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(
        capsys, "query", "failing", "--db", str(db), "--unit", "桃源", "--fail-on-findings", "--csv"
    )
    assert code == 3
    lines = out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("unit,year,file_name,document_id,check_id,rule,")
    code, again, _ = run(capsys, "query", "failing", "--db", str(db), "--unit", "桃源", "--format", "csv")
    assert code == 0 and again == out  # --csv is --format csv


def test_piped_table_is_plain_text_with_every_cell_whole(db: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(capsys, "query", "failing", "--db", str(db), "--unit", "机关事务")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "望城区机关事务中心 · 2020 · seed-gov.pdf · 1 failing check"
    assert lines[1].split() == ["check", "rule", "stated", "computed", "difference", "pages", "message"]
    assert lines[2].split()[:6] == ["c5", "sum", "579.15", "578.95", "0.20", "3"]
    assert lines[2].endswith(SEED_MESSAGE_END) and "\x1b" not in out and len(lines) == 3


@pytest.mark.parametrize("columns", [60, 100, 160])
def test_on_a_terminal_the_table_fits_and_wraps(db: Path, columns: int) -> None:
    code, shown = on_terminal(columns, "query", "failing", "--db", str(db))
    assert code == 0 and "3 failing checks" in shown
    assert max(cells(line) for line in shown.splitlines()) <= columns
    flat = re.sub(r"\s+", "", shown)
    for words in (SEED_MESSAGE_END, "相差3,548.14万元", "报告称38,953.21万元"):
        assert re.sub(r"\s+", "", words) in flat  # wrapped, not cut
    header = next(line.split() for line in shown.splitlines() if "message" in line)
    # what is left out on a narrower terminal: the numbers the message says in words first
    assert (
        header
        == {
            60: ["unit", "check", "message"],
            100: ["unit", "year", "file", "check", "difference", "pages", "message"],
            160: [
                "unit",
                "year",
                "file",
                "check",
                "rule",
                "stated",
                "computed",
                "difference",
                "pages",
                "message",
            ],
        }[columns]
    )


def test_label_head_counts_are_integers_and_amounts_keep_their_decimals(
    db: Path, capsys: pytest.CaptureFixture
) -> None:
    code, out, _ = run(capsys, "query", "label", "临聘人员", "--db", str(db))
    rows = [line.split() for line in out.splitlines()]
    assert code == 0 and rows[0] == ["望城区机关事务中心"] and rows[1] == ["label", "measure", "2020"]
    assert rows[2:] == [["临聘人员", "人", "11"], ["办公室临聘人员", "人", "6"]]
    code, out, _ = run(capsys, "query", "label", "基本支出", "--db", str(db), "--unit", "机关事务")
    assert [line.split() for line in out.splitlines()[2:]] == [
        ["基本支出实际支出", "万元", "959.98"],
        ["基本支出预算", "万元", "828.69"],
    ]
    code, out, _ = run(capsys, "query", "label", "临聘人员", "--db", str(db), "--format", "json")
    assert json.loads(out) == [
        {"unit": "望城区机关事务中心", "label": "临聘人员", "measure": "人", "2020": 11.0},
        {"unit": "望城区机关事务中心", "label": "办公室临聘人员", "measure": "人", "2020": 6.0},
    ]


def test_label_on_a_terminal(db: Path) -> None:
    code, shown = on_terminal(80, "query", "label", "临聘人员", "--db", str(db))
    rows = [line.split() for line in shown.splitlines() if "临聘人员" in line]
    assert code == 0 and rows == [["临聘人员", "人", "11"], ["办公室临聘人员", "人", "6"]]


def test_a_closed_pipe_ends_quietly(db: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "query", "failing", "--db", str(db)], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    proc.stdout.close()  # the reader is gone before anything is written: the first write finds no one
    err = proc.stderr.read().decode()
    assert proc.wait() == 141 and err == ""


def test_the_help_lists_the_exit_codes() -> None:
    out = cli("query", "failing", "--help").stdout
    assert "3  failing checks were printed and --fail-on-findings was given" in out
    assert "2  usage: no store at that path, no such unit or year" in out
    assert "--format {table,csv,json}" in out


# -- export progress --------------------------------------------------------------------------------


def test_export_reports_each_step(db: Path, tmp_path: Path) -> None:
    steps: list[tuple[str, int, int]] = []
    with pipeline.open_store(db, read_only=True) as store:
        paths = export(store, "json", tmp_path / "json", progress=lambda *a: steps.append(a))
        assert [s[1:] for s in steps] == [(1, 3), (2, 3), (3, 3)] and len(paths) == 3
        assert steps[0][0] == "seed-gov.pdf"
        steps.clear()
        export(store, "csv", tmp_path / "csv", progress=lambda *a: steps.append(a))
        xlsx: list[tuple[str, int, int]] = []
        export(store, "xlsx", tmp_path / "xlsx", progress=lambda *a: xlsx.append(a))
    assert [name for name, _, _ in xlsx] == [
        "documents (read)", "figures (read)", "checks (read)", "sections (read)",
        "报告", "数据", "校验", "章节", "表格", "reports.xlsx",
    ]  # fmt: skip
    assert [(n, t) for _, n, t in xlsx] == [(i, 10) for i in range(1, 11)]
    names = ["documents", "figures", "checks", "sections", "tables"]
    assert steps == [(f"{n} (read)", i, 10) for i, n in enumerate(names, 1)] + [
        (f"{n}.csv", i, 10) for i, n in enumerate(names, 6)
    ]


def test_export_shows_a_bar_on_a_terminal_and_nothing_in_a_pipe(db: Path, tmp_path: Path) -> None:
    code, shown = on_terminal(120, "export", "--format", "csv", "--out", str(tmp_path / "a"), "--db", str(db))
    assert code == 0 and "导出" in shown and "10/10" in shown and "tables.csv" in shown
    piped = cli("export", "--format", "csv", "--out", str(tmp_path / "b"), "--db", str(db))
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout.splitlines() == [
        str(tmp_path / "b" / f"{n}.csv") for n in ["documents", "figures", "checks", "sections", "tables"]
    ]
