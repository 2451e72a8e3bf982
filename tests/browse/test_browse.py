"""`pipeline browse`: a real Datasette server on 127.0.0.1, looked at in headless Chromium.

The store holds the seed (ingested from an inbox and filed away, as `serve` does) and a second year of
the same unit; the audit is written from the store. The browser loads the index, follows a facet, runs
the failing-checks query and follows its link to the audit card, whose crop it shows.
"""

from __future__ import annotations

import copy
import html
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image

from pipeline.cli import main
from pipeline.ingest import InlineExtractor, file_away, inbox_files, ingest_file
from pipeline.store import Store
from testkit.browser import Browser, chromium
from testkit.corpus import REPO

ROOT = REPO
SEED = ROOT / "samples" / "seed-gov.pdf"
OUT = ROOT / "outputs"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"browse exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"no answer from {url} in {seconds:g} s:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    chromium()  # skip early where there is no browser
    tmp = tmp_path_factory.mktemp("browse")
    inbox = tmp / "inbox"
    inbox.mkdir()
    shutil.copy(SEED, inbox / "seed-gov.pdf")
    url = f"sqlite:///{tmp / 'store' / 'reports.db'}"
    env_archive = os.environ.pop("PIPELINE_ARCHIVE_DIR", None)
    with Store(url) as store:
        for path in inbox_files(inbox):
            file_away(path, ingest_file(path, store, extractor=InlineExtractor()), inbox)
        seed = store.load_report(store.document_ids()[0])
        later = copy.deepcopy(seed)  # the same unit a year later, so that a facet has something to filter
        later["source"]["sha256"] = "a" * 64
        later["source"]["file"] = "seed-next-year.pdf"
        later["report"]["year"] = seed["report"]["year"] + 1
        store.save_report(later, path=str(tmp / "other" / "seed-next-year.pdf"), extractor_version="test")
    audit = tmp / "audit"
    assert main(["audit", "--db", url, "--out", str(audit)]) == 0

    port = _free_port()
    log = tmp / "browse.log"
    cmd = [
        sys.executable,
        "-m",
        "pipeline",
        "browse",
        "--db",
        url,
        "--audit",
        str(audit),
        "--port",
        str(port),
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(base + "/-/versions.json", proc, log)
        yield {
            "base": base,
            "log": log,
            "seed": seed,
            "later": later,
            "tmp": tmp,
            "browser": Browser(tmp / "profile"),
        }
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if env_archive is not None:
            os.environ["PIPELINE_ARCHIVE_DIR"] = env_archive


def _shot(site: dict, url: str, name: str) -> Path:
    OUT.mkdir(exist_ok=True)
    return site["browser"].screenshot(url, OUT / name)


def _hrefs(dom: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', dom)]


def test_index_lists_the_chinese_views_on_localhost(site: dict) -> None:
    assert f"http://127.0.0.1:{site['base'].rsplit(':', 1)[1]}/" in site["log"].read_text()
    dom = site["browser"].dom(site["base"] + "/")
    assert "预算绩效自评报告库" in dom
    for view in ("报告", "校验", "数据"):
        assert re.search(rf">{view}</a>", dom), view
    _shot(site, site["base"] + "/", "browse-index.png")


def test_a_facet_filters_the_reports(site: dict) -> None:
    b = site["browser"]
    reports = next(h for h in _hrefs(b.dom(site["base"] + "/")) if h.endswith("/reports/~E6~8A~A5~E5~91~8A"))
    dom = b.dom(site["base"] + reports)
    years = (site["seed"]["report"]["year"], site["later"]["report"]["year"])
    assert "2 rows" in dom and all(f">{y}</a>" in dom for y in years)
    # the 年度 facet's entry for the later year, as the reviewer would click it
    m = re.search(r'data-column="年度".*?<a href="([^"]+)"[^>]*>' + str(years[1]) + "</a>", dom, re.S)
    assert m, dom[:3000]
    facet = html.unescape(m.group(1))
    filtered = b.dom(facet if facet.startswith("http") else site["base"] + facet)
    assert "1 row" in filtered
    # the file with the folder it was submitted from
    assert "other/seed-next-year.pdf" in filtered and "seed-gov.pdf" not in filtered
    _shot(site, facet if facet.startswith("http") else site["base"] + facet, "browse-facet.png")


def test_the_failing_query_lists_the_slip_and_opens_its_card_with_the_crop(site: dict) -> None:
    b = site["browser"]
    query = site["base"] + "/reports/failing_checks?" + quote("单位") + "=&" + quote("年度") + "="
    dom = b.dom(query)
    assert "579.15" in dom and "578.95" in dom
    _shot(site, query, "browse-failing-checks.png")
    cards = [h for h in _hrefs(dom) if h.startswith("/audit/report-")]
    sha = site["seed"]["source"]["sha256"]
    slip = next(
        i for i, c in enumerate(site["seed"]["checks"], 1) if c["status"] == "fail" and c["stated"] == 579.15
    )
    # both years print the slip; the seed's own card is there
    assert f"/audit/report-{sha[:12]}.html#check-{slip}" in cards, cards
    originals = [h for h in _hrefs(dom) if h.startswith("/archive/")]
    assert f"/archive/{sha}.pdf#page=3" in originals
    # the later year was stored without a file: its card is there, but no crop and no original to link
    later = site["later"]["source"]["sha256"]
    assert f"/audit/report-{later[:12]}.html#check-{slip}" in cards
    assert not any(later in h for h in originals) and not any(f"img/{later[:12]}" in h for h in _hrefs(dom))
    assert f"img/{later[:12]}" not in dom and f"{later}.pdf" not in dom  # a dash: nothing to open

    card_url = site["base"] + f"/audit/report-{sha[:12]}.html#check-{slip}"
    card = b.dom(card_url)
    section = re.search(rf'<section class="finding fail" id="check-{slip}".*?</section>', card, re.S)
    assert section, card[:3000]
    assert site["seed"]["checks"][slip - 1]["message"] in section.group(0)
    (src,) = re.findall(r'<img src="([^"]+)"', section.group(0))
    assert src == f"img/{sha[:12]}-{slip}-p3.png"
    shot = _shot(site, card_url, "browse-audit-card.png")

    # the crop the card shows is served, and it is highlighted
    with urllib.request.urlopen(site["base"] + f"/audit/{src}", timeout=10) as r:
        assert r.status == 200 and r.headers["content-type"] == "image/png"
        png = site["tmp"] / "crop.png"
        png.write_bytes(r.read())
    for image in (png, shot):
        with Image.open(image) as im:
            data = im.convert("RGB").tobytes()
        tinted = sum(
            1
            for i in range(0, len(data), 3)
            if data[i] >= 235 and 215 <= data[i + 1] <= 252 and 110 <= data[i + 2] <= 205
        )
        assert tinted > 3000, image


def test_the_archived_original_is_served(site: dict) -> None:
    sha = site["seed"]["source"]["sha256"]
    with urllib.request.urlopen(site["base"] + f"/archive/{sha}.pdf", timeout=10) as r:
        assert r.read() == SEED.read_bytes()


def test_browse_explains_what_to_do_with_postgresql(capsys: pytest.CaptureFixture) -> None:
    assert main(["browse", "--db", "postgresql://user@127.0.0.1:1/none"]) == 2
    err = capsys.readouterr().err
    assert "export --format sqlite" in err


def test_browse_refuses_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["browse", "--db", f"sqlite:///{tmp_path / 'nothing.db'}"]) == 2
    assert "no database" in capsys.readouterr().err
    assert not (tmp_path / "nothing.db").exists()


def test_the_views_give_reasons_in_chinese_and_an_older_stores_in_english(tmp_path: Path) -> None:
    import sqlite3

    from pipeline.browse.views import FILES_V, REPORTS, install_views
    from pipeline.messages import Message

    def reasons(db: Path) -> tuple[list, list]:
        conn = sqlite3.connect(db)
        try:
            docs = [r[0] for r in conn.execute(f'SELECT "错误原因" FROM "{REPORTS}" ORDER BY "文档编号"')]
            files = [r[0] for r in conn.execute(f'SELECT "原因" FROM "{FILES_V}" ORDER BY "记录编号"')]
        finally:
            conn.close()
        return docs, files

    db = tmp_path / "reports.db"
    with Store(f"sqlite:///{db}") as store:
        store.record_failure(str(tmp_path / "a.pdf"), "1" * 64, Message("encrypted"))
        store.record_failure(str(tmp_path / "b.pdf"), None, Message("empty_file"))  # no sha256: no document
    views = install_views(db)
    assert reasons(db) == (
        ["PDF 已加密（需要密码才能打开）"],
        ["PDF 已加密（需要密码才能打开）", "空文件（0 字节）"],
    )

    conn = sqlite3.connect(db)  # the same store as a pipeline from before the Chinese reasons left it
    for name in views:
        conn.execute(f'DROP VIEW "{name}"')
    for table, column in (("documents", "error_zh"), ("ingest_files", "reason_zh")):
        conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    conn.commit()
    conn.close()
    install_views(db)
    assert reasons(db) == (
        ["encrypted PDF (a password is needed)"],
        ["encrypted PDF (a password is needed)", "empty file (0 bytes)"],
    )
