"""pipeline.ingest without Prefect: every file gets a status, a hung extraction is killed, nothing is lost."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.ingest import (
    ExtractionTimeout,
    ExtractorCrashed,
    ExtractorPool,
    FileOutcome,
    InlineExtractor,
    discover,
    file_away,
    inbox_files,
    ingest_file,
    ingest_paths,
    is_transient,
    run_summary,
)
from pipeline.messages import Message
from pipeline.store import Store
from testkit.files import SAMPLES, bad_and_good, make_hostile


def _toy(path: str) -> dict:
    """A stand-in extractor for the pool's own tests: hangs, dies or answers, by file name."""
    if "hang" in path:
        time.sleep(3600)
    if "crash" in path:
        os._exit(3)
    return {"path": path, "pid": os.getpid()}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'reports.db'}")
    yield s
    s.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_every_kind_of_file_gets_its_status(store: Store, tmp_path: Path) -> None:
    files = bad_and_good(tmp_path / "in")
    run = store.start_run({"test": True})
    out = {k: ingest_file(p, store, run_id=run) for k, p in files.items()}
    out["missing"] = ingest_file(tmp_path / "in" / "nowhere.pdf", store, run_id=run)

    for name in ("seed-cid", "seed-gov", "seed-word", "table-selfeval"):
        assert out[name].status == "ok" and out[name].outcome == "inserted", out[name]
    assert out["duplicate"].status == "duplicate"
    assert out["duplicate"].document_id == out["seed-gov"].document_id
    assert out["corrupt"].status == "failed" and "corrupt" in out["corrupt"].reason
    assert out["encrypted"].status == "failed" and "encrypted" in out["encrypted"].reason
    assert out["not_pdf"].status == "failed" and "not a PDF" in out["not_pdf"].reason
    assert out["missing"] == FileOutcome(
        str(tmp_path / "in" / "nowhere.pdf"),
        "failed",
        reason="file not found",
        reason_zh="文件不存在",
        seconds=out["missing"].seconds,
    )

    rows = store.ingest_files_df(run)
    assert len(rows) == len(out)  # one row per file, no more
    by_path = dict(zip(rows["path"], rows["status"]))
    assert by_path == {o.path: o.status for o in out.values()}
    assert run_summary(store, run) == {
        "run_id": run,
        "files": 9,
        "ok": 4,
        "duplicate": 1,
        "failed": 4,
        "ocr_pages": 0,
    }
    docs = store.documents_df()
    # four reports, and the three bad files that have bytes (the missing one has no sha256)
    assert sorted(docs["status"]) == ["failed"] * 3 + ["ok"] * 4


def test_a_stored_file_is_not_extracted_again(store: Store) -> None:
    first = ingest_file(SAMPLES[0], store)
    assert first.status == "ok"

    class NoExtraction(InlineExtractor):  # hashes, as every extractor does, but never extracts
        def extract(self, path: str, timeout: float | None = None) -> dict:
            raise AssertionError("extracted again")

    again = ingest_file(SAMPLES[0], store, extractor=NoExtraction())
    assert (again.status, again.document_id) == ("duplicate", first.document_id)


def test_a_hostile_pdf_is_stopped_and_the_next_file_goes_on(store: Store, tmp_path: Path) -> None:
    hostile = make_hostile(tmp_path / "hostile.pdf")
    t0 = time.perf_counter()
    out = ingest_file(hostile, store, timeout=2)
    assert out.status == "failed" and "longer than 2 s" in out.reason
    assert time.perf_counter() - t0 < 30  # worker start-up (first use) + 2 s, not minutes
    assert ingest_file(SAMPLES[1], store, timeout=60).status == "ok"


def test_the_pool_kills_a_hung_worker_and_replaces_it(tmp_path: Path) -> None:
    with ExtractorPool(1, func=_toy, warm=False) as pool:
        first = pool.extract("a.pdf")
        with pytest.raises(ExtractionTimeout):
            pool.extract("hang.pdf", timeout=1)
        assert not _alive(first["pid"])  # the very process that hung is gone
        assert pool.stats.killed == 1
        second = pool.extract("b.pdf")
        assert second["pid"] != first["pid"]
        with pytest.raises(ExtractorCrashed, match="exit code 3"):
            pool.extract("crash.pdf")
        assert pool.extract("c.pdf")["path"] == "c.pdf"
        assert pool.stats.started == 3


def test_workers_are_recycled_after_max_tasks() -> None:
    with ExtractorPool(1, func=_toy, warm=False, max_tasks=2) as pool:
        pids = [pool.extract(f"{i}.pdf")["pid"] for i in range(5)]
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]


def test_database_errors_escape_for_a_retry_and_bad_files_never_do(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = Store.save_report

    def flaky(self: Store, *a: object, **kw: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))
        return real(self, *a, **kw)

    monkeypatch.setattr(Store, "save_report", flaky)
    with pytest.raises(sa.exc.OperationalError) as err:
        ingest_file(SAMPLES[0], store)
    assert is_transient(err.value)
    assert store.ingest_files_df().empty  # nothing half-recorded

    calls["n"] = 0
    files = bad_and_good(tmp_path / "in")
    summary = ingest_paths(sorted(map(str, files.values())), store, workers=2)
    # the first save raised and was retried: still every report stored (the copy may be saved too, as a
    # duplicate, when it is extracted while the original is)
    assert calls["n"] in (5, 6)
    assert {k: summary[k] for k in ("files", "ok", "duplicate", "failed")} == {
        "files": 8, "ok": 4, "duplicate": 1, "failed": 3,
    }  # fmt: skip
    assert not is_transient(ValueError("bad"))


def test_discover_folders_globs_files_and_missing(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/1.pdf", "a/b/2.PDF", "a/notes.txt", "c.pdf"):
        (tmp_path / name).write_bytes(b"%PDF-")
    found = list(
        discover([tmp_path / "a", str(tmp_path / "*.pdf"), tmp_path / "c.pdf", tmp_path / "gone.pdf"])
    )
    assert found == [
        str(tmp_path / "a" / "1.pdf"),
        str(tmp_path / "a" / "b" / "2.PDF"),
        str(tmp_path / "c.pdf"),  # once, though named twice
        str(tmp_path / "gone.pdf"),  # kept: it will be recorded as not found
    ]


def test_inbox_files_and_filing_away(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "processed").mkdir(parents=True)
    (inbox / "processed" / "r.pdf").write_bytes(b"old")
    (inbox / "r.pdf").write_bytes(b"new")
    (inbox / "bad.pdf").write_bytes(b"bad")
    (inbox / ".partial.pdf").write_bytes(b"")
    old = time.time() - 60
    os.utime(inbox / "r.pdf", (old, old))
    assert inbox_files(inbox, min_age=30) == [str(inbox / "r.pdf")]  # bad.pdf is too young yet
    assert inbox_files(inbox) == [str(inbox / "r.pdf"), str(inbox / "bad.pdf")]

    moved = file_away(inbox / "r.pdf", FileOutcome(str(inbox / "r.pdf"), "duplicate"), inbox)
    assert moved == inbox / "processed" / "r.2.pdf"  # the older r.pdf is not overwritten
    assert (inbox / "processed" / "r.pdf").read_bytes() == b"old" and moved.read_bytes() == b"new"

    failed = FileOutcome(str(inbox / "bad.pdf"), "failed", sha256="ab" * 32, reason=Message("not_pdf"))
    moved = file_away(inbox / "bad.pdf", failed, inbox)
    assert moved == inbox / "failed" / "bad.pdf"
    lines = (inbox / "failed" / "bad.pdf.reason.txt").read_text(encoding="utf-8").splitlines()
    assert lines[:4] == ["不是 PDF 文件（缺少 %PDF- 文件头）", "", "文件：bad.pdf", "SHA-256：" + "ab" * 32]
    assert lines[4].startswith("时间：") and len(lines) == 5  # in Chinese, nothing in English
    assert inbox_files(inbox) == []
    # moved meanwhile by an overlapping run: nothing to do, nothing raised
    assert file_away(inbox / "bad.pdf", failed, inbox) is None
