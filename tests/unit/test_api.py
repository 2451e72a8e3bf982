"""The top-level API: docs/api.md's examples run as written, and `import pipeline` stays cheap."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "api.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.M | re.S)


def test_the_examples_of_docs_api_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_blocks(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 5
    # From a fresh folder that has the repository's samples, as a reader in the repository's root would.
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PIPELINE_DB_URL", raising=False)
    namespace: dict = {"__name__": "docs_api"}
    for n, block in enumerate(blocks, 1):
        try:
            exec(compile(block, f"{DOC.name} block {n}", "exec"), namespace)
        except Exception as exc:
            pytest.fail(f"{DOC.name}, example {n} failed: {type(exc).__name__}: {exc}\n{block}")
    assert (tmp_path / "my-store.db").exists()


def test_import_pipeline_loads_no_spacy_pandas_or_sqlalchemy() -> None:
    code = (
        "import sys, pipeline\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('spacy', 'pandas', 'sqlalchemy', 'jieba', 'pdfplumber'))\n"
        "print(heavy, 'extract' in dir(pipeline), callable(pipeline.__getattr__('open_store')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    # open_store is looked up last: it loads SQLAlchemy, but only when asked for
    assert out.stdout.split() == ["[]", "True", "True"]
    # nor does the store without DataFrames (a batch worker saving reports), nor the command line
    code = (
        "import sys, pipeline.store, pipeline.cli\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('spacy', 'pandas', 'jieba', 'rich')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_extract_is_callable_in_every_spelling() -> None:
    import pipeline
    import pipeline.extract.text  # a submodule import sets pipeline.extract to the package
    from pipeline import extract as top
    from pipeline.extract import extract as function

    assert callable(pipeline.extract) and top is pipeline.extract
    report = top(ROOT / "samples" / "seed-gov.pdf")
    assert isinstance(report, pipeline.Report) and report.meta.unit == "望城区机关事务中心"
    assert function.__module__ == "pipeline.extract.stages"
    with pytest.raises(AttributeError, match="no_such_name"):
        pipeline.no_such_name  # noqa: B018


def test_report_frames_are_the_stores_frames(tmp_path: Path) -> None:
    import pandas as pd

    import pipeline

    report = pipeline.extract(ROOT / "samples" / "table-selfeval.pdf")
    frames = report.to_frames()
    with pipeline.open_store(tmp_path / "s.db") as store:
        store.save_report(pipeline.to_contract(report), extractor_version="test")
        stored = {
            "figures": store.figures_df(),
            "checks": store.checks_df(),
            "sections": store.sections_df(),
            "tables": store.table_cells_df(),
        }
    assert len(frames["tables"]) == sum(len(r) for t in report.tables for r in t.rows) > 0
    assert len(frames["figures"]) == len(report.figures) > 0
    for name, got in frames.items():
        assert got["document_id"].isna().all()
        pd.testing.assert_frame_equal(
            got.drop(columns="document_id"), stored[name].drop(columns="document_id")
        )


@pytest.mark.parametrize("spelling", ["relative", "absolute", "home"])
def test_open_store_takes_a_file_path(spelling: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    given = {"relative": "sub/r.db", "absolute": str(tmp_path / "sub" / "r.db"), "home": "~/sub/r.db"}[
        spelling
    ]
    with pytest.raises(FileNotFoundError, match="no database"):
        pipeline.open_store(given, read_only=True)
    assert not (tmp_path / "sub").exists()
    with pipeline.open_store(given) as store:
        assert store.backend == "sqlite"
    assert (tmp_path / "sub" / "r.db").is_file()
    with pipeline.open_store(given, read_only=True) as store:
        assert store.documents_df().empty


def test_version_is_printed() -> None:
    import pipeline

    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "--version"], capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert out.returncode == 0
    assert out.stdout.strip() == f"pipeline {pipeline.__version__} (extractor {pipeline.EXTRACTOR_VERSION})"
