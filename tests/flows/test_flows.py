"""The Prefect flows on real PDFs: statuses, retries, artifacts, the inbox, a killed batch, and scale-out.

In-process flows share one `prefect_test_harness` (about 17 s) for the session. The slow tests start
real processes, each in a session of its own that is killed as a whole: the `pipeline` CLI (killed
mid-batch, then run again), a Prefect server with a process work pool and a worker, a Dask cluster,
and `pipeline serve`. Every process they start carries a marker in its environment; a test fails if
any marked process is still alive at its end.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # before Prefect is imported

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from flows.server import kill_group, local_server, prefect_command, wait_healthy  # noqa: E402
from pipeline.store import Store  # noqa: E402
from testkit.files import REPO, SAMPLES, bad_and_good, make_hostile, make_not_pdf  # noqa: E402
from testkit.processes import marked_env  # noqa: E402

SEED_GOV = REPO / "samples" / "seed-gov.pdf"


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def harness() -> Iterator[None]:
    """Prefect's temporary API for the in-process flow tests, started once."""
    from prefect.testing.utilities import prefect_test_harness

    from pipeline.ingest import default_pool

    default_pool(2).prestart(2)  # extraction workers warm up while the API starts
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `prefect server start` on a free 127.0.0.1 port, PREFECT_HOME in a temp folder.

    Runs on PostgreSQL when PREFECT_API_DATABASE_CONNECTION_URL is set (it is passed through).
    """
    home = tmp_path_factory.mktemp("prefect-home")
    with local_server(home=home, ui=False, log_file=home / "server.log") as api:
        yield api


@pytest.fixture
def shared_store_url(tmp_path: Path) -> Iterator[str]:
    """The store processes on "other machines" share: a fresh PostgreSQL database when the tests have
    a server (PIPELINE_TEST_PG_URL), else a SQLite file."""
    pg = os.environ.get("PIPELINE_TEST_PG_URL")
    if not pg:
        yield f"sqlite:///{tmp_path / 'shared.db'}"
        return
    name = f"flows_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(pg).set(database=name).render_as_string(hide_password=False)
    finally:
        from pipeline import ingest

        for key in [k for k in ingest._stores if name in k[1]]:
            ingest._stores.pop(key).close()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def _api(url: str, auth: str | None = None) -> Iterator[None]:
    """Prefect calls in this process go to `url` (the harness' API otherwise), with basic `auth`."""
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: url, PREFECT_API_AUTH_STRING: auth}):
        yield


def _statuses(store: Store, run_id: int) -> dict[str, tuple[str, str | None]]:
    rows = store.ingest_files_df(run_id)
    assert rows["path"].is_unique, "a file has two rows in one run"
    return {
        Path(p).name: (s, r if isinstance(r, str) else None)
        for p, s, r in zip(rows["path"], rows["status"], rows["reason"])
    }


# -- in-process flows --------------------------------------------------------------------------------


def test_the_cli_module_stays_light() -> None:
    # `pipeline --help` and `pipeline extract` import flows.cli: no Prefect, no pandas for them.
    code = "import sys, flows.cli; print(sorted(m for m in ('prefect', 'pandas', 'sqlalchemy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    import flows.cli
    import pipeline.ingest

    assert flows.cli.DEFAULT_TIMEOUT == pipeline.ingest.DEFAULT_TIMEOUT


def test_batch_records_every_file_and_makes_artifacts(harness: None, tmp_path: Path) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from flows.ingest import ingest_batch

    folder = tmp_path / "in"
    bad_and_good(folder)
    make_hostile(folder / "hostile.pdf")
    db = f"sqlite:///{tmp_path / 'reports.db'}"
    state = ingest_batch(
        [str(folder), str(tmp_path / "missing.pdf")], db_url=db, workers=2, timeout=3, return_state=True
    )
    summary = state.result()
    assert {k: summary[k] for k in ("submitted", "files", "ok", "duplicate", "failed", "unrecorded")} == {
        "submitted": 10, "files": 10, "ok": 4, "duplicate": 1, "failed": 5, "unrecorded": 0,
    }  # fmt: skip

    store = Store(db)
    got = _statuses(store, summary["run_id"])
    assert {k: s for k, (s, _) in got.items() if s == "failed"} == dict.fromkeys(
        ["truncated.pdf", "encrypted.pdf", "renamed-docx.pdf", "hostile.pdf", "missing.pdf"], "failed"
    )
    assert "corrupt" in got["truncated.pdf"][1]
    assert "encrypted" in got["encrypted.pdf"][1]
    assert "not a PDF" in got["renamed-docx.pdf"][1]
    assert "longer than 3 s" in got["hostile.pdf"][1]
    assert got["missing.pdf"][1] == "file not found"
    # the same bytes under two names: one stored, the other a duplicate of it
    assert sorted([got["seed-gov.pdf"][0], got["copy-of-seed-gov.pdf"][0]]) == ["duplicate", "ok"]
    docs = store.documents_df()
    assert sorted(docs["status"]) == ["failed"] * 4 + ["ok"] * 4  # the missing file has no bytes to key on
    assert docs["sha256"].is_unique
    run = store.engine.connect().execute(sa.text("SELECT params, counts, finished_at FROM ingest_runs")).one()
    assert run.finished_at is not None
    assert json.loads(run.params)["prefect_flow_run_id"] == str(state.state_details.flow_run_id)

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])
            )
        )
    by_key = {a.key: a for a in artifacts}
    assert by_key["ingest-summary"].type == "table"
    table = by_key["ingest-summary"].data
    table = json.loads(table) if isinstance(table, str) else table
    assert {r["metric"]: r["value"] for r in table}["failed"] == 5
    md = by_key["failing-checks"].data
    fails = store.checks_df(status="fail")
    assert len(fails) >= 1
    for unit, year, file_name in zip(fails["unit"], fails["year"], fails["file_name"]):
        assert f"| {unit} | {year} | {file_name} |" in md


def _read_terminal(master: int, into: list[bytes]) -> None:
    while True:
        try:
            data = os.read(master, 1 << 16)
        except OSError:  # EIO: the other end is closed
            return
        if not data:
            return
        into.append(data)


def test_ingest_draws_a_bar_on_a_terminal_with_prefects_lines_above_it(
    harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging
    import pty

    from flows import cli
    from flows.ingest import ingest_batch
    from testkit.terminal import plain

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "seed-gov.pdf").write_bytes(SEED_GOV.read_bytes())
    make_not_pdf(folder / "broken.pdf")
    master, slave = pty.openpty()
    chunks: list[bytes] = []
    reader = threading.Thread(target=_read_terminal, args=(master, chunks))
    reader.start()
    terminal = os.fdopen(slave, "w", encoding="utf-8", buffering=1)
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.delenv("PIPELINE_PROGRESS", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    runs = logging.getLogger("prefect.flow_runs")
    level = runs.level
    runs.setLevel(logging.INFO)  # Prefect's per-file lines, as `PREFECT_LOGGING_LEVEL=INFO` gives them
    try:
        with cli._ingest_progress(quiet=False):
            summary = ingest_batch([str(folder)], db_url=f"sqlite:///{tmp_path / 'r.db'}", workers=1)
    finally:
        runs.setLevel(level)
        terminal.close()
        reader.join(30)
        os.close(master)
    assert (summary["ok"], summary["failed"]) == (1, 1)
    shown = plain(b"".join(chunks).decode("utf-8", "replace"))
    assert re.search(r"ingesting .*2/2 .*ETA", shown), shown
    lines = shown.splitlines()
    # Prefect's lines came through the bar's console: whole lines, not cut into by a redrawn bar
    done = [line for line in lines if "[1/2]" in line or "[2/2]" in line]
    assert len(done) == 2 and all(line.split(" - ", 1)[1].startswith("[") for line in done), done
    assert any(re.search(r"\[\d/2\] failed +broken\.pdf \(not a PDF", line) for line in done), done
    assert [h.console.file for h in cli._prefect_console_handlers()] != [terminal]  # given back after


def test_ingest_draws_no_bar_in_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from flows import cli, ingest

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.delenv("PIPELINE_PROGRESS", raising=False)
    with cli._ingest_progress(quiet=True):
        assert ingest._listeners == []  # nothing listens: the per-file log lines are the progress
    assert sys.stderr.getvalue() == ""


def test_only_transient_errors_are_retried_and_a_crash_stops_nothing(
    harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.ingest as fi

    calls: dict[str, int] = {}
    real_ingest, real_save = fi.ingest_file, Store.save_report

    def counting(path: str, *a: object, **kw: object) -> object:
        name = Path(path).name
        calls[name] = calls.get(name, 0) + 1
        if name == "seed-cid.pdf":
            raise RuntimeError("boom")  # a bug, not the database: no retry, yet the batch goes on
        return real_ingest(path, *a, **kw)

    def locked_once(self: Store, doc: dict, **kw: object) -> object:
        if Path(kw["path"]).name == "seed-word.pdf" and calls["seed-word.pdf"] == 1:
            raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))
        return real_save(self, doc, **kw)

    monkeypatch.setattr(fi, "ingest_file", counting)
    monkeypatch.setattr(Store, "save_report", locked_once)
    folder = tmp_path / "in"
    files = bad_and_good(folder)
    paths = [str(files[k]) for k in ("seed-cid", "seed-word", "encrypted", "table-selfeval")]
    db = f"sqlite:///{tmp_path / 'reports.db'}"
    summary = fi.ingest_batch(paths, db_url=db, workers=2, timeout=60)

    assert calls == {"seed-cid.pdf": 1, "seed-word.pdf": 2, "encrypted.pdf": 1, "table-selfeval.pdf": 1}
    got = _statuses(Store(db), summary["run_id"])
    assert got["seed-word.pdf"] == ("ok", None)  # stored on the retry
    assert got["seed-cid.pdf"] == ("failed", "ingestion failed: RuntimeError: boom")
    assert got["encrypted.pdf"][0] == "failed" and got["table-selfeval.pdf"][0] == "ok"


def test_ingest_report_is_one_file_one_run(harness: None, tmp_path: Path) -> None:
    from flows.ingest import ingest_report

    db = f"sqlite:///{tmp_path / 'reports.db'}"
    first = ingest_report(str(SEED_GOV), db_url=db)
    again = ingest_report(str(SEED_GOV), db_url=db)
    assert (first["ok"], again["duplicate"]) == (1, 1)
    assert Store(db).counts()["documents"] == 1


def test_inbox_files_are_moved_with_reasons(harness: None, tmp_path: Path) -> None:
    from flows.ingest import ingest_inbox

    inbox = tmp_path / "inbox"
    files = bad_and_good(inbox)
    db = f"sqlite:///{tmp_path / 'reports.db'}"
    summary = ingest_inbox(str(inbox), db_url=db, min_age_seconds=0)
    assert {k: summary[k] for k in ("ok", "duplicate", "failed")} == {"ok": 4, "duplicate": 1, "failed": 3}
    assert [p for p in inbox.iterdir() if p.is_file()] == []
    processed = sorted(p.name for p in (inbox / "processed").iterdir())
    assert processed == sorted(
        files[k].name for k in ("seed-cid", "seed-gov", "seed-word", "table-selfeval", "duplicate")
    )
    failed = sorted(p.name for p in (inbox / "failed").iterdir())
    assert failed == sorted(
        [
            n
            for k in ("corrupt", "encrypted", "not_pdf")
            for n in (files[k].name, files[k].name + ".reason.txt")
        ]
    )
    rows = Store(db).ingest_files_df(summary["run_id"])
    zh = {Path(p).name: r for p, r in zip(rows["path"], rows["reason_zh"])}
    for k in ("corrupt", "encrypted", "not_pdf"):
        reason = (inbox / "failed" / (files[k].name + ".reason.txt")).read_text(encoding="utf-8")
        assert reason.splitlines()[0] == zh[files[k].name]  # the reason in Chinese, as the store keeps it
    assert zh[files["not_pdf"].name] == "不是 PDF 文件（缺少 %PDF- 文件头）"

    # the same report again under a new name: a duplicate, filed beside the first; a fresh file waits
    (inbox / "again.pdf").write_bytes(SEED_GOV.read_bytes())
    (inbox / "seed-gov.pdf").write_bytes(SEED_GOV.read_bytes())
    summary = ingest_inbox(str(inbox), db_url=db, min_age_seconds=0)
    assert (summary["files"], summary["duplicate"]) == (2, 2)
    assert (inbox / "processed" / "again.pdf").exists() and (inbox / "processed" / "seed-gov.2.pdf").exists()
    make_not_pdf(inbox / "fresh.pdf")
    summary = ingest_inbox(str(inbox), db_url=db, min_age_seconds=60)
    assert summary["files"] == 0 and (inbox / "fresh.pdf").exists()
    assert Store(db).counts()["documents"] == 7  # 4 reports + 3 failed files, nothing twice


# -- processes -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_process_worker_runs_the_ingest_report_deployment(
    prefect_server: str, shared_store_url: str, tmp_path: Path, marker: str
) -> None:
    from prefect.deployments import run_deployment

    from flows.deploy import deploy_flows

    pool = f"pool-{marker[:8]}"
    with _api(prefect_server):
        deploy_flows(pool)
    env = marked_env(marker, PREFECT_API_URL=prefect_server, PREFECT_WORKER_QUERY_SECONDS="1")
    with open(tmp_path / "worker.log", "wb") as log:
        worker = subprocess.Popen(
            [*prefect_command(), "worker", "start", "--pool", pool], env=env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        with _api(prefect_server):
            run = run_deployment(
                "ingest_report/ingest-report",
                parameters={"path": str(SEED_GOV), "db_url": shared_store_url},
                timeout=240,
                poll_interval=1,
            )
        assert run.state is not None and run.state.is_completed(), (
            run.state,
            (tmp_path / "worker.log").read_text(),
        )
    finally:
        kill_group(worker)

    store = Store(shared_store_url)
    try:
        docs = store.documents_df()
        assert list(docs["status"]) == ["ok"] and docs["file_name"][0] == "seed-gov.pdf"
        with store.engine.connect() as conn:
            params = conn.execute(sa.text("SELECT params FROM ingest_runs")).scalar_one()
        params = json.loads(params) if isinstance(params, str) else params
        assert params["flow"] == "ingest_report" and params["prefect_flow_run_id"] == str(run.id)
    finally:
        store.close()


@pytest.mark.slow
def test_the_dask_batch_reports_to_the_real_server(
    prefect_server: str, shared_store_url: str, tmp_path: Path, marker: str
) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    cmd = [sys.executable, "-m", "pipeline", "ingest", *map(str, SAMPLES), "--dask", "--workers", "2",
           "--db", shared_store_url]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=marked_env(marker, PREFECT_API_URL=prefect_server), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        out, _ = proc.communicate(timeout=300)
    finally:
        kill_group(proc)
    assert proc.returncode == 0, out
    assert "4 file(s)" in out

    store = Store(shared_store_url)
    try:
        assert sorted(store.documents_df()["status"]) == ["ok"] * 4
        with store.engine.connect() as conn:
            params = conn.execute(sa.text("SELECT params FROM ingest_runs")).scalar_one()
    finally:
        store.close()
    params = json.loads(params) if isinstance(params, str) else params
    flow_run_id = uuid.UUID(params["prefect_flow_run_id"])
    # the document tasks ran on the Dask workers and were recorded by the real server
    with _api(prefect_server), get_client(sync_client=True) as client:
        deadline = time.monotonic() + 30
        while True:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
            done = [
                r
                for r in runs
                if r.state and r.state.is_completed() and r.task_key.startswith("ingest_document")
            ]
            if len(done) == 4 or time.monotonic() > deadline:
                break
            time.sleep(1)
    assert len(done) == 4, [(r.name, r.state) for r in runs]


def _lines(proc: subprocess.Popen) -> queue.Queue:
    q: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            q.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return q


@pytest.mark.slow
def test_serve_starts_a_server_schedules_the_inbox_and_runs_it(tmp_path: Path, marker: str) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
    )
    from prefect.client.schemas.filters import FlowRunFilterStateType as StateType
    from prefect.client.schemas.objects import StateType as ST
    from prefect.deployments import run_deployment

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "report.pdf").write_bytes(SEED_GOV.read_bytes())
    make_not_pdf(inbox / "not-a-report.pdf")
    db = f"sqlite:///{tmp_path / 'reports.db'}"
    env = marked_env(
        marker,
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_RUNNER_POLL_FREQUENCY="1",
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2",
    )
    cmd = [sys.executable, "-m", "pipeline", "serve", "--inbox", str(inbox), "--cron", "0 2 * * *", "--db", db,
           "--min-age", "0"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    seen: list[str] = []
    try:
        lines = _lines(proc)
        api = auth = None
        deadline = time.monotonic() + 120
        while api is None or auth is None:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            seen.append(line)
            if line.startswith("started a local Prefect server: "):
                api = line.split(": ", 1)[1].split()[0] + "/api"
            if line.startswith("its API asks for the auth string in "):  # serve made one up
                auth = Path(line.rsplit(" ", 1)[1].strip()).read_text().strip()
        with _api(api, auth), get_client(sync_client=True) as client:
            while True:  # the deployment appears once serve has registered it
                try:
                    dep = client.read_deployment_by_name("ingest_inbox/inbox")
                    break
                except Exception:
                    assert time.monotonic() < deadline and proc.poll() is None, "".join(seen)
                    time.sleep(0.5)
            assert [s.schedule.cron for s in dep.schedules] == ["0 2 * * *"]
            assert dep.parameters["inbox"] == str(inbox) and dep.parameters["min_age_seconds"] == 0
            # the server itself schedules the next 02:00 runs (it would not on a temporary server)
            while True:
                scheduled = client.read_flow_runs(
                    deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[dep.id])),
                    flow_run_filter=FlowRunFilter(
                        state=FlowRunFilterState(type=StateType(any_=[ST.SCHEDULED]))
                    ),
                )
                if scheduled or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert scheduled, "no scheduled runs"
            when = min(r.expected_start_time for r in scheduled).astimezone(UTC)
            assert (when.hour, when.minute) == (2, 0) and when > datetime.now(UTC)

            run = run_deployment(dep.id, timeout=240, poll_interval=1)
            assert run.state is not None and run.state.is_completed(), (run.state, "".join(seen))
        assert (inbox / "processed" / "report.pdf").exists()
        assert (
            (inbox / "failed" / "not-a-report.pdf.reason.txt")
            .read_text(encoding="utf-8")
            .startswith("不是 PDF 文件")
        )
        assert Store(db).counts()["documents"] == 2

        proc.send_signal(signal.SIGTERM)  # a graceful stop takes its server down with it
        proc.wait(60)
        with pytest.raises((RuntimeError, TimeoutError)):
            wait_healthy(api, timeout=2)
    finally:
        kill_group(proc)
