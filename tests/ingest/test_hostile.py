"""A messy inbox without Prefect: special files, odd names, hostile PDFs, broken and read-only stores.

Every entry of a folder gets one status with its own reason; hostile PDFs are refused by their
structure before pdfminer sees them; store faults are classified once (a full disk stops the batch,
a lock is retried) and reported in one line; reading commands change no byte of the store.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.errors import storable_path
from pipeline.extract.pdfguard import Limits, structural_problem
from pipeline.ingest import BatchStopped, discover, ingest_file, ingest_paths
from pipeline.ingest.checks import check_path
from pipeline.store import Store, StoreError, is_fatal, is_transient
from testkit.files import REPO, SAMPLES
from testkit.hostile import HOSTILE, hostile_folder, make_bomb, make_good, non_utf8_name, write_pdf


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'reports.db'}")
    yield s
    s.close()


def _rows(store: Store, run_id: int) -> dict[str, tuple[str, str | None]]:
    df = store.ingest_files_df(run_id)
    assert df["path"].is_unique, "a file has two rows in one run"
    return {
        Path(p).name: (s, r if isinstance(r, str) else None)
        for p, s, r in zip(df["path"], df["status"], df["reason"])
    }


# -- the structural guards, on bytes -------------------------------------------------------------------


def test_real_reports_pass_the_guards() -> None:
    for pdf in SAMPLES:
        assert structural_problem(pdf.read_bytes()) is None, pdf.name


def test_each_guard_refuses_its_kind(tmp_path: Path) -> None:
    for name in (
        "bomb.pdf",
        "length-cycle.pdf",
        "absurd-length.pdf",
        "nested.pdf",
        "huge-page.pdf",
        "many-pages.pdf",
    ):
        maker, words = HOSTILE[name]
        reason = structural_problem(maker(tmp_path / name).read_bytes())
        assert reason is not None and words in reason, (name, reason)


def test_limits_are_limits(tmp_path: Path) -> None:
    bomb = make_bomb(tmp_path / "small-bomb.pdf", inflated=16 << 20).read_bytes()
    assert "inflates to more than 8 MB" in structural_problem(bomb, Limits(stream_bytes=8 << 20))
    assert structural_problem(bomb, Limits(stream_bytes=32 << 20)) is None
    two_pages = SAMPLES[0].read_bytes()
    assert "more than the limit of 1" in (structural_problem(two_pages, Limits(pages=1)) or "")


def test_a_stream_length_pointing_in_a_circle_is_refused(tmp_path: Path) -> None:
    # /Length 6 0 R, object 6 is "7 0 R" ... whose value is an integer: fine; made circular: refused
    text = b"BT /F1 12 Tf 72 720 Td (hello) Tj ET"
    fine = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>",
            b"<< /Length 4 0 R >>\nstream\n" + text + b"\nendstream", b"%d" % len(text)]  # fmt: skip
    assert structural_problem(write_pdf(tmp_path / "ok.pdf", fine).read_bytes()) is None
    circular = fine[:3] + [b"5 0 R", b"<< /Wrap 4 0 R >>"]
    circular[3] = b"5 0 R"
    circular[4] = b"4 0 R"
    reason = structural_problem(write_pdf(tmp_path / "cycle.pdf", circular).read_bytes())
    assert reason is not None and "reference cycle" in reason


def test_flate_layers_are_undone_one_by_one(tmp_path: Path) -> None:
    # Two Flate layers of 40 MB: each layer alone is small, the inner one is the bomb.
    inner = zlib.compress(b"\0" * (40 << 20), 9)
    assert len(inner) < (1 << 20)
    body = b"<< /Length %d /Filter [/FlateDecode /FlateDecode] >>\nstream\n" % len(zlib.compress(inner))
    pdf = write_pdf(
        tmp_path / "two.pdf", [b"<< /Type /Catalog >>", body + zlib.compress(inner) + b"\nendstream"]
    )
    assert "decompression bomb" in structural_problem(pdf.read_bytes())


# -- paths, before anything reads them -----------------------------------------------------------------


def test_discover_yields_every_pdf_entry_of_a_folder_whatever_it_is(tmp_path: Path) -> None:
    made = hostile_folder(tmp_path / "in")
    odd = non_utf8_name(tmp_path / "in")
    (tmp_path / "in" / "notes.txt").write_text("not submitted")
    (tmp_path / "in" / "loop").symlink_to(tmp_path / "in")  # a link to a folder is not entered
    found = list(discover(tmp_path / "in"))
    assert sorted(found) == sorted(str(p) for p in [*made.values(), odd])
    assert len(found) == len(set(found))


def test_check_path_names_the_kind_without_opening(tmp_path: Path) -> None:
    made = hostile_folder(tmp_path / "in")
    for name in ("fifo.pdf", "zero-link.pdf", "dangling.pdf", "folder.pdf", "empty.pdf"):
        with pytest.raises(Exception) as exc:
            check_path(str(made[name]))
        assert HOSTILE[name][1] in exc.value.reason, (name, exc.value.reason)
    with pytest.raises(Exception) as exc:
        check_path(str(SAMPLES[0]), max_bytes=1000)
    assert "too large" in exc.value.reason
    assert check_path(str(SAMPLES[0])).st_size == SAMPLES[0].stat().st_size


def test_a_name_of_any_bytes_is_shown_escaped() -> None:
    name = os.fsdecode(b"report-\xff\xfe.pdf")
    assert storable_path(name) == "report-\\xff\\xfe.pdf"
    assert storable_path("自评报告.pdf") == "自评报告.pdf"


def test_a_hostile_folder_gives_one_status_per_entry_fast(store: Store, tmp_path: Path) -> None:
    made = hostile_folder(tmp_path / "in")
    odd = non_utf8_name(tmp_path / "in")
    good = make_good(tmp_path / "in" / "good.pdf")
    summary = ingest_paths(list(discover(tmp_path / "in")), store, workers=2, timeout=60)
    assert summary["files"] == summary["submitted"] == len(made) + 2
    rows = _rows(store, summary["run_id"])
    for name, (_, words) in HOSTILE.items():
        status, reason = rows[name]
        assert status == "failed" and words in reason, (name, reason)
    assert rows["truncated.pdf"][0] == "failed" and "corrupt" in rows["truncated.pdf"][1]
    assert rows["javascript.pdf"][0] in ("ok", "failed")  # read as any other PDF; its script never runs
    assert rows[good.name][0] == "ok"
    shown = storable_path(odd.name)
    assert rows[shown][0] == "duplicate"  # the same report as good.pdf, under a GBK name
    stored = store.documents_df()
    assert set(stored["path"].dropna()) >= {str(good)}


def test_a_hostile_pdf_costs_its_worker_well_under_a_second(store: Store, tmp_path: Path) -> None:
    made = hostile_folder(tmp_path / "in")
    ingest_file(SAMPLES[0], store, timeout=120)  # workers started and warm before the clock matters
    for name in ("bomb.pdf", "length-cycle.pdf", "nested.pdf", "huge-page.pdf", "fifo.pdf", "zero-link.pdf"):
        out = ingest_file(made[name], store, timeout=60)
        assert out.status == "failed" and "longer than" not in out.reason, out
        # Not a timing test of speed: 5 s is the ceiling, far above what each needs (ms).
        assert out.seconds < 5, (name, out.seconds)


# -- store faults --------------------------------------------------------------------------------------


def test_faults_are_classified_once() -> None:
    def op(msg: str) -> sa.exc.OperationalError:
        return sa.exc.OperationalError("INSERT ...", {}, sqlite3.OperationalError(msg))

    assert is_transient(op("database is locked")) and not is_fatal(op("database is locked"))
    for msg in ("database or disk is full", "attempt to write a readonly database",
                "database disk image is malformed", "no such table: documents"):  # fmt: skip
        assert is_fatal(op(msg)) and not is_transient(op(msg)), msg
    assert not is_fatal(ValueError("a bug")) and not is_transient(ValueError("a bug"))


def test_a_full_disk_stops_the_batch_at_once_and_keeps_what_is_stored(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i, pdf in enumerate(SAMPLES):
        shutil.copy(pdf, folder / f"{i}-{pdf.name}")
    first = ingest_paths([str(folder / f"0-{SAMPLES[0].name}")], store, workers=1)
    assert first["ok"] == 1
    real = Store.save_report
    calls = {"n": 0}

    def full(self: Store, *args: object, **kw: object) -> object:
        calls["n"] += 1
        raise sa.exc.OperationalError(
            "INSERT INTO documents ...", {}, sqlite3.OperationalError("database or disk is full")
        )

    monkeypatch.setattr(Store, "save_report", full)
    with pytest.raises(BatchStopped) as exc:
        ingest_paths(list(discover(folder)), store, workers=1, retries=2)
    message = str(exc.value)
    assert "\n" not in message and "the disk is full" in message and "reports.db" in message
    assert calls["n"] == 1  # not retried, and no further file tried: the batch stopped at once
    monkeypatch.setattr(Store, "save_report", real)
    docs = store.documents_df()
    assert list(docs["status"]) == ["ok"]  # what was stored is intact
    again = ingest_paths(
        list(discover(folder)), store, workers=1
    )  # the disk has room again: the rest goes in
    assert (again["ok"], again["duplicate"]) == (len(SAMPLES) - 1, 1)


# -- opening the store ---------------------------------------------------------------------------------


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def test_a_read_only_store_is_queried_and_exported_unchanged(store: Store, tmp_path: Path) -> None:
    ingest_paths(SAMPLES[:2], store, workers=1)
    store.close()
    src = sqlite3.connect(tmp_path / "reports.db")
    src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    src.close()
    ro = tmp_path / "copy" / "reports.db"
    ro.parent.mkdir()
    shutil.copy(tmp_path / "reports.db", ro)
    ro.chmod(0o444)
    before = _sha(ro)
    url = f"sqlite:///{ro}"
    q = _cli("query", "failing", "--db", url, "--csv")
    assert q.returncode == 0, q.stderr
    e = _cli("export", "--format", "csv", "--out", str(tmp_path / "out"), "--db", url)
    assert e.returncode == 0, e.stderr
    assert any(p.suffix == ".csv" for p in (tmp_path / "out").iterdir())
    assert _sha(ro) == before
    assert sorted(p.name for p in ro.parent.iterdir()) == ["reports.db"]  # no -wal, no -shm


def test_a_foreign_sqlite_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (text)")
    before = _sha(foreign)
    r = _cli("query", "failing", "--db", f"sqlite:///{foreign}")
    assert r.returncode == 4  # a store fault; 3 is a query's findings (--fail-on-findings)
    assert r.stderr.strip().count("\n") == 0 and "not a store of this pipeline" in r.stderr
    assert _sha(foreign) == before
    with sqlite3.connect(foreign) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_corrupt_store_is_one_line_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "reports.db"
    bad.write_bytes(b"this is no database " * 200)
    with pytest.raises(StoreError) as exc:
        Store(f"sqlite:///{bad}")
    assert str(bad) in str(exc.value) and "corrupt" in str(exc.value)
    r = _cli("export", "--format", "json", "--out", str(tmp_path / "out"), "--db", f"sqlite:///{bad}")
    assert (
        r.returncode == 3
        and r.stderr.count("\n") == 1
        and "corrupt" in r.stderr
        and "Traceback" not in r.stderr
    )


def test_an_unreachable_postgres_is_one_line() -> None:
    with pytest.raises(StoreError) as exc:
        Store("postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert "unreachable" in str(exc.value) and "\n" not in str(exc.value)
    assert not exc.value.fatal  # worth trying again later


def test_a_crop_of_a_huge_page_is_drawn_smaller_not_bigger() -> None:
    from pipeline.audit.crops import MAX_CROP_PIXELS, RESOLUTION, crop_resolution

    assert crop_resolution(500, 120) == RESOLUTION  # an ordinary crop: the usual resolution
    dpi = crop_resolution(14_400, 14_400)
    assert dpi < RESOLUTION
    pixels = (14_400 / 72 * dpi) ** 2
    assert MAX_CROP_PIXELS * 0.99 <= pixels <= MAX_CROP_PIXELS * 1.000001  # float rounding
