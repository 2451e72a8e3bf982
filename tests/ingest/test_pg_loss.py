"""PostgreSQL going away in the middle of a batch: the batch stops, the next run ingests the rest.

Runs its own throw-away cluster (the shared test server must not be stopped under other tests), so it
needs the PostgreSQL binaries; stopping it is the event the test drives, right after the first file's
status is recorded.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.server import free_port
from pipeline.ingest import BatchStopped, ingest_paths
from pipeline.store import Store
from testkit.files import SAMPLES

pytestmark = pytest.mark.slow


class Cluster:
    def __init__(self, root: Path) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins or not shutil.which("su") and os.geteuid() == 0:
            pytest.skip("no PostgreSQL binaries")
        self.bin = bins[-1]
        self.root = root
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, cmd: str) -> None:
        full = ["su", "postgres", "-c", cmd] if os.geteuid() == 0 else ["bash", "-c", cmd]
        subprocess.run(full, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.root.mkdir(mode=0o755)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run(f"{self.bin}/initdb -D {self.root}/data -A trust -U postgres")

    def start(self) -> None:
        self._run(f"{self.bin}/pg_ctl -D {self.root}/data -l {self.root}/log -w "
                  f"-o '-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root}' start")  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        self._run(f"{self.bin}/pg_ctl -D {self.root}/data -m {mode} -w stop")


@pytest.fixture
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(Path(f"/tmp/pipeline-pgloss-{os.getpid()}-{free_port()}"))
    try:
        c.init()
        c.start()
    except (subprocess.CalledProcessError, OSError) as exc:
        shutil.rmtree(c.root, ignore_errors=True)
        pytest.skip(f"cannot start a PostgreSQL cluster here ({exc})")
    try:
        yield c
    finally:
        try:
            c.stop("fast")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(c.root, ignore_errors=True)


def test_postgres_lost_mid_batch_stops_it_and_the_next_run_ingests_the_rest(cluster: Cluster) -> None:
    store = Store(cluster.url)
    stopped = []

    def stop_after_first(done: int, total: int | None, outcome: object) -> None:
        if not stopped:
            cluster.stop()  # the server goes away right after the first status is written
            stopped.append(done)

    with pytest.raises(BatchStopped) as exc:
        ingest_paths([str(p) for p in SAMPLES], store, workers=1, retries=1, on_outcome=stop_after_first)
    assert "unreachable" in str(exc.value) and "\n" not in str(exc.value)
    assert exc.value.done == 1  # one file got its status; the batch stopped at the next
    store.close()

    cluster.start()
    store = Store(cluster.url)
    summary = ingest_paths([str(p) for p in SAMPLES], store, workers=1)
    assert summary["unfinished_before"] == [1]  # run 1 never finished: said so
    assert (summary["ok"], summary["duplicate"], summary["failed"]) == (len(SAMPLES) - 1, 1, 0)
    docs = store.documents_df()
    assert sorted(docs["path"]) == sorted(str(p) for p in SAMPLES) and set(docs["status"]) == {"ok"}
    store.close()
