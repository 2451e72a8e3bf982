"""`pipeline ingest` as a process: it starts on a busy machine, stops cleanly, and a killed run is finished.

All slow (each starts Prefect). No test waits for a time to pass: each waits for an event (a file's
status in the store, the process' exit) with a generous deadline that only a hang reaches. Every
process a test starts carries a marker in its environment; none may be alive at the test's end.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from flows.server import free_port, kill_group
from testkit.files import REPO, SAMPLES, make_hostile, varied_reports
from testkit.processes import marked_env

pytestmark = pytest.mark.slow


def _count(db: Path, sql: str) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(sql).fetchone()[0]
    except sqlite3.Error:
        return 0


def _wait_for(what: str, cond, proc: subprocess.Popen, deadline_s: float = 600) -> None:
    """Until `cond()`; fails if `proc` ends first (it must not: something in the batch is still going)."""
    deadline = time.monotonic() + deadline_s
    while not cond():
        assert proc.poll() is None, f"the command ended before {what}"
        assert time.monotonic() < deadline, f"no {what} in {deadline_s:g} s"
        time.sleep(0.1)


def _ingest(folder: Path, db: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pipeline",
        "ingest",
        str(folder),
        "--db",
        f"sqlite:///{db}",
        "--workers",
        "2",
        *extra,
    ]


def test_sigterm_stops_the_batch_and_leaves_no_process(tmp_path: Path, marker: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for p in SAMPLES:
        (folder / p.name).write_bytes(p.read_bytes())
    make_hostile(folder / "zz-slow.pdf")  # minutes of pdfminer: the batch cannot end by itself meanwhile
    db = tmp_path / "reports.db"
    with open(tmp_path / "log", "wb") as log:
        proc = subprocess.Popen(_ingest(folder, db), env=marked_env(marker), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    try:
        _wait_for(
            "every sample stored",
            lambda: _count(db, "SELECT count(*) FROM ingest_files") >= len(SAMPLES),
            proc,
        )
        proc.send_signal(signal.SIGTERM)  # the command only, as a service manager would
        rc = proc.wait(120)
    finally:
        kill_group(proc)
    out = (tmp_path / "log").read_text(errors="replace")
    assert rc == 128 + signal.SIGTERM, out
    assert "stopped by SIGTERM" in out
    # the slow file was in flight: it has no status (the next run ingests it), the run is unfinished
    assert _count(db, "SELECT count(*) FROM ingest_files WHERE path LIKE '%zz-slow.pdf'") == 0
    assert _count(db, "SELECT count(*) FROM ingest_runs WHERE finished_at IS NULL") == 1
    # the marker fixture then checks that the temporary API and every worker are gone


def test_a_killed_batch_run_again_finishes_the_rest(tmp_path: Path, marker: str) -> None:
    pdfs = varied_reports(tmp_path / "in", 12)
    make_hostile(tmp_path / "in" / "zz-slow.pdf")  # sorted last, and minutes long: the first run is alive
    db = tmp_path / "reports.db"
    with open(tmp_path / "first.log", "wb") as log:
        proc = subprocess.Popen(_ingest(tmp_path / "in", db), env=marked_env(marker), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        _wait_for(
            "two reports stored",
            lambda: _count(db, "SELECT count(*) FROM documents WHERE status = 'ok'") >= 2,
            proc,
        )
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI, its Prefect API, its extraction workers: all at once
        proc.wait(10)
    finally:
        kill_group(proc)
    before = _count(db, "SELECT count(*) FROM documents WHERE status = 'ok'")
    assert 2 <= before <= 12

    rerun = subprocess.run(_ingest(tmp_path / "in", db, "--timeout", "5"), env=marked_env(marker), capture_output=True,
                           text=True, timeout=900)  # fmt: skip
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "ingest run 2: 13 file(s)" in rerun.stdout
    with sqlite3.connect(db) as conn:
        docs = conn.execute("SELECT path, status FROM documents").fetchall()
        second = dict(conn.execute("SELECT path, status FROM ingest_files WHERE run_id = 2").fetchall())
        unfinished = conn.execute("SELECT id FROM ingest_runs WHERE finished_at IS NULL").fetchall()
    assert sorted(p for p, s in docs if s == "ok") == sorted(str(p) for p in pdfs)  # none lost, none twice
    assert len(second) == 13 and second[str(tmp_path / "in" / "zz-slow.pdf")] == "failed"
    assert sum(s == "duplicate" for s in second.values()) == before  # stored before the kill: not redone
    assert unfinished == [(1,)]  # the killed run never finished


def test_a_local_server_is_started_reused_and_stopped(tmp_path: Path, marker: str) -> None:
    port = free_port()
    env = marked_env(marker, PIPELINE_SERVER_HOME=str(tmp_path / "server"))
    run = lambda *a: subprocess.run([sys.executable, "-m", "pipeline", *a], env=env, cwd=REPO,  # noqa: E731
                                    capture_output=True, text=True, timeout=600)  # fmt: skip
    started = run("server", "start", "--port", str(port))
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        ui = f"http://127.0.0.1:{port}"
        # The UI's pages ask /ui-settings where the API is: it must be this server, not port 4200.
        with urllib.request.urlopen(f"{ui}/ui-settings", timeout=10) as r:
            assert json.loads(r.read())["api_url"] == f"{ui}/api"
        assert run("server", "status").returncode == 0
        again = run("server", "start", "--port", str(port))
        assert "already running" in again.stdout

        ingest = run("ingest", str(SAMPLES[0]), "--db", f"sqlite:///{tmp_path / 'r.db'}")
        assert ingest.returncode == 0, ingest.stdout + ingest.stderr
        assert "Prefect through the local server" in ingest.stdout
    finally:
        stopped = run("server", "stop")
    assert "stopped the Prefect server" in stopped.stdout
    assert run("server", "status").returncode == 1


def _burn() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def test_ingest_holds_with_two_cpu_burners_beside_it(tmp_path: Path, marker: str) -> None:
    burners = [_burn(), _burn()]
    try:
        for i in range(3):
            db = tmp_path / f"r{i}.db"
            r = subprocess.run(_ingest(REPO / "samples", db), env=marked_env(marker), capture_output=True, text=True,
                               timeout=900)  # fmt: skip
            assert r.returncode == 0, f"run {i}: {r.stdout}{r.stderr}"
            assert f"{len(SAMPLES)} file(s)" in r.stdout
    finally:
        for b in burners:
            b.kill()
            b.wait()
