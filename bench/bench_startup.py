"""What `pipeline ingest` costs before it does any work: Prefect's start-up share for 1, 10, 1,000 files.

Runs the real command line (`python -m pipeline ingest DIR`) on N generated reports into a fresh
SQLite store, each size `--repeat` times, and reads the work time back from the store's ingest run
(first file submitted to last status); start-up and shut-down are the rest of the wall time. With
`--server` a local Prefect server is started first (`pipeline server start`) and reused by every run,
which is what the start-up cost is with one running.

    .venv/bin/python bench/bench_startup.py [--sizes 1,10,1000] [--repeat 3] [--server] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

from bench_batch import generate  # noqa: E402


def one(folder: Path, db: Path, env: dict[str, str]) -> dict[str, Any]:
    """One `pipeline ingest` of `folder` into a new store `db`: wall, work and start-up seconds."""
    for leftover in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        leftover.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pipeline",
        "ingest",
        str(folder),
        "--db",
        f"sqlite:///{db}",
        "--workers",
        "2",
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return {"ok": False, "wall": round(wall, 2), "error": (proc.stderr or proc.stdout)[-300:]}
    with sqlite3.connect(db) as conn:
        counts = json.loads(conn.execute("SELECT counts FROM ingest_runs ORDER BY id DESC").fetchone()[0])
    work = float(counts["seconds"])
    return {"ok": True, "wall": round(wall, 2), "work": round(work, 2), "startup": round(wall - work, 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1,10,1000", help="batch sizes (default 1,10,1000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per size (default 3)")
    ap.add_argument("--server", action="store_true", help="start a local Prefect server first and reuse it")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    results: dict[str, Any] = {"server": args.server, "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        tmp_path = Path(tmp)
        all_files = generate(tmp_path / "all", max(sizes))
        server_env = {**env, "PIPELINE_SERVER_HOME": str(tmp_path / "server")}
        if args.server:
            subprocess.run(
                [sys.executable, "-m", "pipeline", "server", "start"], cwd=REPO, env=server_env, check=True
            )
            env = server_env
        try:
            for n in sizes:
                folder = tmp_path / f"in-{n}"
                folder.mkdir()
                for p in all_files[:n]:
                    os.link(p, folder / Path(p).name)
                runs = [one(folder, tmp_path / f"store-{n}.db", env) for _ in range(args.repeat)]
                good = [r for r in runs if r["ok"]]
                row: dict[str, Any] = {"runs": runs, "failed_runs": len(runs) - len(good)}
                if good:
                    row["startup_median"] = statistics.median(r["startup"] for r in good)
                    row["wall_median"] = statistics.median(r["wall"] for r in good)
                    row["share_median"] = round(statistics.median(r["startup"] / r["wall"] for r in good), 3)
                results["sizes"][n] = row
                print(f"{n:>5} file(s): {json.dumps(row)}", flush=True)
        finally:
            if args.server:
                subprocess.run([sys.executable, "-m", "pipeline", "server", "stop"], cwd=REPO, env=server_env)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
