"""Every ingested file is kept by content, and the audit finds it there after the inbox moved it away."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from pipeline.archive import Archive, archive_dir, locate
from pipeline.cli import main
from pipeline.ingest import InlineExtractor, file_away, inbox_files, ingest_file
from pipeline.store import Store
from testkit.corpus import REPO

ROOT = REPO
SEED = ROOT / "samples" / "seed-gov.pdf"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_archive_is_content_addressed(tmp_path: Path) -> None:
    a = Archive(tmp_path / "archive")
    first = tmp_path / "a.pdf"
    first.write_bytes(SEED.read_bytes())
    again = tmp_path / "copy-under-another-name.pdf"
    again.write_bytes(SEED.read_bytes())
    other = tmp_path / "b.pdf"
    other.write_bytes(SEED.read_bytes() + b"\n%changed")
    sha1, p1 = a.put(first)
    sha2, p2 = a.put(again)
    sha3, p3 = a.put(other)
    assert sha1 == sha2 == _sha(SEED) and p1 == p2 == tmp_path / "archive" / f"{sha1}.pdf"
    assert sha3 != sha1 and p3.read_bytes() == other.read_bytes()
    assert sorted(p.name for p in (tmp_path / "archive").iterdir()) == sorted([f"{sha1}.pdf", f"{sha3}.pdf"])
    assert a.find(sha1) == p1 and a.find("0" * 64) is None and a.find("../etc") is None
    with pytest.raises(ValueError):
        a.path_for("../../x")


def test_archive_sits_beside_a_sqlite_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIPELINE_ARCHIVE_DIR", raising=False)
    assert archive_dir(f"sqlite:///{tmp_path / 'db' / 'reports.db'}") == tmp_path / "db" / "archive"
    monkeypatch.setenv("PIPELINE_ARCHIVE_DIR", str(tmp_path / "elsewhere"))
    assert archive_dir(f"sqlite:///{tmp_path / 'db' / 'reports.db'}") == tmp_path / "elsewhere"


def test_served_inbox_file_moved_to_processed_keeps_its_crop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `serve`'s flow does to each inbox file (ingest, then file it away), then `audit --db`."""
    monkeypatch.delenv("PIPELINE_ARCHIVE_DIR", raising=False)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SEED, inbox / "seed-gov.pdf")
    url = f"sqlite:///{tmp_path / 'store' / 'reports.db'}"
    store = Store(url)
    for path in inbox_files(inbox):
        outcome = ingest_file(path, store, extractor=InlineExtractor())
        assert outcome.status == "ok"
        file_away(path, outcome, inbox)
    assert not (inbox / "seed-gov.pdf").exists() and (inbox / "processed" / "seed-gov.pdf").is_file()

    sha = _sha(SEED)
    archived = tmp_path / "store" / "archive" / f"{sha}.pdf"
    assert archived.read_bytes() == SEED.read_bytes()
    docs = store.documents_df()
    assert docs["archived"].tolist() == [str(archived)]
    assert docs["path"].tolist() == [str(inbox / "seed-gov.pdf")]  # where it was submitted: gone now
    store.close()

    # Even the processed copy removed by hand: the archive still has the bytes.
    (inbox / "processed" / "seed-gov.pdf").unlink()
    out = tmp_path / "audit"
    assert main(["audit", "--db", url, "--out", str(out)]) == 0
    (page,) = out.glob("report-*.html")
    html = page.read_text(encoding="utf-8")
    assert "原文 PDF 不可用" not in html
    crops = sorted((out / "img").glob("*.png"))
    assert crops and f'src="img/{crops[0].name}"' in html
    assert (out / "pdf" / f"{sha[:12]}.pdf").read_bytes() == SEED.read_bytes()


def test_a_store_moved_with_its_archive_still_finds_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIPELINE_ARCHIVE_DIR", raising=False)
    src = tmp_path / "in" / "report.pdf"
    src.parent.mkdir()
    shutil.copy(SEED, src)
    with Store(f"sqlite:///{tmp_path / 'old' / 'reports.db'}") as store:
        assert ingest_file(src, store, extractor=InlineExtractor()).status == "ok"
    src.unlink()
    shutil.move(tmp_path / "old", tmp_path / "new")  # the stored absolute path of the copy is stale now
    url = f"sqlite:///{tmp_path / 'new' / 'reports.db'}"
    with Store(url, create=False) as store:
        row = store.documents_df().iloc[0]
        assert not Path(row["archived"]).exists()
        found = locate(row["archived"], row["sha256"], row["path"], url)
    assert found == tmp_path / "new" / "archive" / f"{_sha(SEED)}.pdf"


def test_failed_and_duplicate_files_are_archived_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIPELINE_ARCHIVE_DIR", raising=False)
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4 this is no PDF at all")
    good = tmp_path / "seed.pdf"
    shutil.copy(SEED, good)
    store = Store(f"sqlite:///{tmp_path / 'reports.db'}")
    assert ingest_file(bad, store, extractor=InlineExtractor()).status == "failed"
    assert ingest_file(good, store, extractor=InlineExtractor()).status == "ok"
    # a store written before the archive existed: the duplicate's visit fills the column in
    with store._writer.begin() as conn:
        conn.exec_driver_sql("UPDATE documents SET archived = NULL WHERE status = 'ok'")
    assert ingest_file(good, store, extractor=InlineExtractor()).status == "duplicate"
    docs = store.documents_df().set_index("status")
    assert Path(docs.loc["failed", "archived"]).read_bytes() == bad.read_bytes()
    assert Path(docs.loc["ok", "archived"]).read_bytes() == SEED.read_bytes()
    store.close()


def test_a_store_made_before_the_archive_column_opens(tmp_path: Path) -> None:
    db = tmp_path / "reports.db"
    Store(f"sqlite:///{db}").close()
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE documents DROP COLUMN archived")
        assert "archived" not in {r[1] for r in conn.execute("PRAGMA table_info(documents)")}
    with Store(f"sqlite:///{db}") as store:
        assert "archived" in store.documents_df().columns
    with sqlite3.connect(db) as conn:
        assert "archived" in {r[1] for r in conn.execute("PRAGMA table_info(documents)")}


@pytest.mark.slow
def test_the_inbox_flow_itself_archives_what_it_files_away(tmp_path: Path) -> None:
    """The ingest_inbox flow that `pipeline serve` schedules, run once in its own process."""
    import os
    import subprocess
    import sys

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SEED, inbox / "seed-gov.pdf")
    url = f"sqlite:///{tmp_path / 'store' / 'reports.db'}"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API") and k != "PIPELINE_ARCHIVE_DIR"
    }
    env.update(
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_HOME=str(tmp_path / "prefect"),
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
        PREFECT_LOGGING_LEVEL="WARNING",
    )
    code = (
        "import sys; from flows.ingest import ingest_inbox; "
        "s = ingest_inbox(sys.argv[1], db_url=sys.argv[2], workers=1, min_age_seconds=0); "
        "sys.exit(0 if s['ok'] == 1 else 1)"
    )
    run = subprocess.run([sys.executable, "-c", code, str(inbox), url], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=420)  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert (inbox / "processed" / "seed-gov.pdf").is_file() and not (inbox / "seed-gov.pdf").exists()
    (inbox / "processed" / "seed-gov.pdf").unlink()
    out = tmp_path / "audit"
    assert main(["audit", "--db", url, "--out", str(out)]) == 0
    (page,) = out.glob("report-*.html")
    assert "原文 PDF 不可用" not in page.read_text(encoding="utf-8")
    assert list((out / "img").glob("*.png"))
