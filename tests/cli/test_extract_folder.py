"""`pipeline extract PATH… --out DIR --format json,md`: a folder in one process, JSON and Markdown per report,
a bar on a terminal, only failures and the summary in a pipe; and the Markdown review summary itself."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import jsonschema
import pytest

from pipeline.cli import main
from pipeline.fromtext import report_from_text
from pipeline.review import key_totals, md_escape, report_markdown
from testkit.corpus import CORPUS, REPO, SAMPLES, SCHEMA
from testkit.files import make_not_pdf

CASES = ["real-A03", "real-B12", "table-seed"]  # small cases: a text report, a 三公 note, a form


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PIPELINE_PROGRESS"}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, cwd=REPO, env=env, **kw
    )


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """A folder of dev cases (each unit's report.pdf in its own folder), the seed sample and a file that
    is no PDF, extracted by one piped process."""
    if not CORPUS.is_dir():
        pytest.skip(f"no dev corpus at {CORPUS}")
    root = tmp_path_factory.mktemp("folder")
    src, out = root / "in", root / "out"
    for case in CASES:
        (src / case).mkdir(parents=True)
        shutil.copy(CORPUS / case / "report.pdf", src / case / "report.pdf")
    shutil.copy(SAMPLES / "seed-gov.pdf", src / "seed-gov.pdf")
    make_not_pdf(src / "a-renamed-docx.pdf")
    (out / "a-renamed-docx.json").parent.mkdir(parents=True)
    (out / "a-renamed-docx.json").write_text("{}", encoding="utf-8")  # left by an earlier run
    return src, out, _cli("extract", str(src), "--out", str(out), "--format", "json,md")


@pytest.mark.corpus
def test_folder_writes_json_and_markdown_per_report_mirroring_the_folders(batch) -> None:
    src, out, res = batch
    assert res.returncode == 1, res.stderr  # one file failed; the others are written all the same
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    expected = [f"{c}/report.{ext}" for c in CASES for ext in ("json", "md")] + [
        "seed-gov.json",
        "seed-gov.md",
    ]
    assert written == sorted(expected)  # the bad file's stale output is gone, not left to be read
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    for case in CASES:
        doc = json.loads((out / case / "report.json").read_text(encoding="utf-8"))
        jsonschema.validate(doc, schema)
        assert doc["source"]["file"] == "report.pdf" and doc["figures"]
        assert (out / case / "report.md").read_text(encoding="utf-8").startswith("# ")
    assert res.stdout == ""


@pytest.mark.corpus
def test_folder_json_is_what_the_one_file_command_writes(batch, tmp_path: Path) -> None:
    src, out, _ = batch
    one = _cli("extract", str(src / "seed-gov.pdf"), "--json", str(tmp_path / "one.json"))
    assert one.returncode == 0, one.stderr
    assert (out / "seed-gov.json").read_bytes() == (tmp_path / "one.json").read_bytes()
    # the others in this process, through the same command
    for case in CASES[:2]:
        assert (
            main(["extract", str(src / case / "report.pdf"), "--json", str(tmp_path / f"{case}.json")]) == 0
        )
        assert (out / case / "report.json").read_bytes() == (tmp_path / f"{case}.json").read_bytes()


@pytest.mark.corpus
def test_piped_stderr_has_only_the_failure_and_the_summary(batch) -> None:
    src, out, res = batch
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 2, res.stderr
    assert lines[0].startswith("error: ") and str(src / "a-renamed-docx.pdf") in lines[0]
    assert "not a PDF" in lines[0]
    m = re.match(r"4 extracted, 1 failed, (\d+) failing checks in [\d.ms]+ → ", lines[1])
    assert m, lines[1]
    fails = sum(
        c["status"] == "fail"
        for p in out.rglob("*.json")
        for c in json.loads(p.read_text(encoding="utf-8"))["checks"]
    )
    assert int(m.group(1)) == fails >= 2  # seed-gov's 579.15 and real-A03's head count at least


@pytest.mark.corpus
def test_markdown_of_the_seed_sample_names_its_failing_sum_with_page_and_words(batch) -> None:
    _, out, _ = batch
    md = (out / "seed-gov.md").read_text(encoding="utf-8")
    assert "| 单位 | 望城区机关事务中心 |" in md and "| 年度 | 2020 |" in md
    assert "| 报告类型 | 部门整体支出绩效自评报告 |" in md and "| 报告日期 | 2021-01-26 |" in md
    assert "| 文件 | seed-gov.pdf |" in md and "| 页数 | 8 |" in md and "| OCR 识别页 | 无 |" in md
    # key totals: the budget and execution of basic and project spending, not the items they list
    totals = md.split("## 主要数据", 1)[1].split("## ", 1)[0]
    for row in ("| 基本支出预算 | 828.69 万元 | 2 |", "| 基本支出实际支出 | 959.98 万元 | 2 |",
                "| 项目支出预算 | 3,698 万元 | 3 |", "| 实际项目支出 | 4,057.15 万元 | 3 |"):  # fmt: skip
        assert row in totals
    assert "在职人员工资福利支出" not in totals and "227.33" not in totals  # parts of checked sums
    failing = md.split("## 未通过的核验（1 项）", 1)[1].split("## 无法核验", 1)[0]
    assert "### 1. 求和（第 3 页）" in failing
    assert "报告值 579.15 万元，计算值 578.95 万元，差额 0.20 万元" in failing
    assert "原文：579.15 万元，包括行政中心监控设备升级改造项目227.33 万元" in failing
    assert "合计 578.95 万元，报告称 579.15 万元" in failing  # the message
    assert "## 无法核验（0 项）\n\n无。" in md
    assert "- 数据 66 项，章节 19 个，表格 0 张" in md
    assert "- 核验 14 项：通过 13 项，未通过 1 项，无法核验 0 项" in md


def test_a_terminal_gets_a_bar_with_the_file_name(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in ("seed-gov.pdf", "table-selfeval.pdf"):
        shutil.copy(SAMPLES / name, src / name)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))  # wide enough for a name
    env = {k: v for k, v in os.environ.items() if k not in ("PIPELINE_PROGRESS", "NO_COLOR")}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "extract", str(src), "--out", str(tmp_path / "out")],
        stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, cwd=REPO, env=env,
    )  # fmt: skip
    os.close(slave)
    seen = b""
    while True:  # read until the child closes the terminal: no sleeps, no timing
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every writer is gone
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.wait() == 0
    text = seen.decode("utf-8", "replace")
    assert "\x1b[" in text  # drawn, not printed
    assert "extract" in text and "2/2" in text and "table-selfeval.pdf" in text
    assert "2 extracted, 0 failed" in text
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["seed-gov.json", "table-selfeval.json"]


def test_one_crashing_file_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pipeline.extract as extraction

    real = extraction.extract

    def failing_on_seed(path, **kw):  # a bug of ours on one file, not a bad PDF
        if Path(path).name == "seed-gov.pdf":
            raise KeyError("f99")
        return real(path, **kw)

    monkeypatch.setattr(extraction, "extract", failing_on_seed)
    monkeypatch.setenv("PIPELINE_PROGRESS", "0")
    out = tmp_path / "out"
    rc = main(["extract", str(SAMPLES / "seed-gov.pdf"), str(SAMPLES / "table-selfeval.pdf"), "--out", str(out),
               "--format", "md"])  # fmt: skip
    assert rc == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"error: {SAMPLES / 'seed-gov.pdf'}: KeyError: 'f99'"
    assert err[1].startswith("1 extracted, 1 failed, ")
    assert [p.name for p in out.iterdir()] == ["table-selfeval.md"]


def test_names_from_several_folders_stay_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli.extract import output_names

    a, b = tmp_path / "2020" / "a", tmp_path / "2021" / "b"
    pdfs = [a / "x" / "report.pdf", b / "report.pdf", tmp_path / "2021" / "c.pdf"]
    for p in pdfs:
        p.parent.mkdir(parents=True, exist_ok=True)
    names = output_names(pdfs, [a, b, tmp_path / "2021" / "c.pdf"])
    assert [str(names[p]) for p in pdfs] == ["2020/a/x/report", "2021/b/report", "2021/c"]
    assert output_names([a / "report.pdf"], [a]) == {a / "report.pdf": Path("report")}
    gone = tmp_path.parent / "no-such-folder" / "x.pdf"  # a missing path moves no other name, points nowhere
    assert output_names([gone, b / "report.pdf"], [gone, b]) == {
        gone: Path("x"),
        b / "report.pdf": Path("report"),
    }
    # only a case difference can still meet: refused before anything is extracted
    for p in (tmp_path / "A.pdf", tmp_path / "a.PDF"):
        p.write_bytes(b"")
    assert (
        main(["extract", str(tmp_path / "A.pdf"), str(tmp_path / "a.PDF"), "--out", str(tmp_path / "o")]) == 2
    )
    assert "would both be written as A.*" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_usage_errors_say_what_to_give(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed = str(SAMPLES / "seed-gov.pdf")
    assert main(["extract", seed, seed]) == 2
    assert "need --out DIR" in capsys.readouterr().err
    assert main(["extract", str(tmp_path)]) == 2  # a folder
    assert "need --out DIR" in capsys.readouterr().err
    assert main(["extract", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == "error: no PDF files found\n"
    assert main(["extract", seed, "--format", "json,md"]) == 2
    assert main(["extract", seed, "--json", "x.json", "--format", "md"]) == 2
    with pytest.raises(SystemExit):
        main(["extract", seed, "--format", "docx"])


def test_one_file_summary_goes_to_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", str(SAMPLES / "table-selfeval.pdf"), "--format", "md"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("# ") and "## 主要数据" in out.out and out.err == ""


# --- the summary on sentences ------------------------------------------------------------------------------

TEXT = """2021年度某某县文化旅游局部门整体支出绩效自评报告
一、部门收支情况
本年度收入合计 1,280.50 万元，其中财政拨款收入 1,000.20 万元、其他收入 280.30 万元。
本年度支出合计 1,190.00 万元，比上年增加 90.00 万元。
项目支出预算 500 万元，实际执行 450 万元，执行率 95%。
"""


def test_key_totals_are_the_totals_not_their_parts_nor_changes() -> None:
    r = report_from_text(TEXT, display_first=True)
    md = report_markdown(r)
    totals = md.split("## 主要数据", 1)[1].split("## ", 1)[0]
    assert "| 收入合计 | 1,280.50 万元 | 1 |" in totals and "| 支出合计 | 1,190.00 万元 | 1 |" in totals
    assert "| 项目支出预算 | 500 万元 | 1 |" in totals and "| 项目支出实际执行 | 450 万元 | 1 |" in totals
    assert "| 其他收入 |" not in totals and "增加额" not in totals  # a listed part; a change
    assert "### 1. 比率（第 1 页）" in md and "报告值 95.00%，计算值 90.00%，差额 5.00%" in md


def test_an_item_budget_is_a_total_only_when_nothing_better_is_there() -> None:
    figs = [
        {"id": "f1", "kind": "amount", "label": "培训项目经费", "value": 20, "unit": "万元", "text": "20万元", "page": 1},
        {"id": "f2", "kind": "amount", "label": "年度资金总额", "value": 90, "unit": "万元", "text": "90万元", "page": 1},
        {"id": "f3", "kind": "count", "label": "培训人次", "value": 300, "unit": "人次", "text": "300人次", "page": 1},
    ]  # fmt: skip
    assert [f["id"] for f in key_totals(figs, [])] == ["f2"]
    assert [f["id"] for f in key_totals([figs[0], figs[2]], [])] == ["f1"]


def test_report_text_cannot_make_markdown() -> None:
    r = report_from_text(TEXT, display_first=True)
    r.meta.unit = "[点我](http://example.com) *急* <img src=x>|`x`"
    r.checks[-1].evidence = "第一行\n# 不是标题\n| 不是表格 |"
    md = report_markdown(r)
    assert r"| 单位 | \[点我\](http://example.com) \*急\* \<img src=x\>\|\`x\` |" in md
    assert r"原文：第一行 \# 不是标题 \| 不是表格 \|" in md
    assert "\n# 不是标题" not in md
    assert md_escape("1,280.50 万元（第 3 页）") == "1,280.50 万元（第 3 页）"  # numbers stay readable


def test_a_part_that_is_a_total_itself_stays_a_key_total() -> None:
    def amount(fid: str, label: str, value: float) -> dict:
        return {"id": fid, "kind": "amount", "label": label, "value": value, "unit": "万元", "page": 1}

    figs = [
        amount("g1", "年初预算收入", 90), amount("g2", "年内调整预算", -10), amount("g3", "决算收入", 80),
        amount("g4", "一般公共预算", 70), amount("g5", "事业收入", 10), amount("g6", "上年结转", 20),
        amount("g7", "全年可执行预算", 100),
    ]  # fmt: skip
    checks = [
        {"rule": "sum", "result": "g3", "figures": ["g3", "g1", "g2"]},  # 决算 = 年初 + 调整
        {"rule": "sum", "result": "g3", "figures": ["g3", "g4", "g5"]},  # 决算 = its sources
        {"rule": "sum", "result": "g7", "figures": ["g7", "g3", "g6"]},  # 可执行 = 决算 + 结转
    ]
    # 年初 marks a whole; 决算收入 is a part of 可执行预算 but a total of its own sources
    assert [f["label"] for f in key_totals(figs, checks)] == ["年初预算收入", "决算收入", "全年可执行预算"]
