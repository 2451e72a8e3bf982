"""How fast batches of reports go in, what Prefect costs, and whether memory stays flat.

Generates N different reports (the seed drawn by testkit.synth with varied amounts, years, units and
layouts) into a temp folder, then ingests the first `--n` of them into fresh SQLite stores:

* reports/min with 1 and 2 extraction workers, through the `ingest_batch` flow (Prefect's temporary
  local API, started once and timed apart) and through `pipeline.ingest.ingest_paths` directly (the
  same work without Prefect); Prefect's share is the difference over the flow's wall time;
* peak RSS of each extraction worker and of the batch process itself, for `--n` and for `--big`
  reports with 2 workers. Workers are not recycled during these runs (they would hide a leak): flat
  means the figures for `--big` are those for `--n`.

    .venv/bin/python bench/bench_batch.py [--n 200] [--big 1000] [--workers 1,2] [--no-big]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")  # no line per file: the batch is what is timed

import pipeline.ingest as ingest
from pipeline.store import Store
from testkit.files import varied_reports

REPO = Path(__file__).resolve().parents[1]


def generate(out: Path, n: int, procs: int = 2) -> list[str]:
    """Render n reports into `out`, in `procs` processes."""
    step = -(-n // procs)
    with ProcessPoolExecutor(procs) as ex:
        futs = [ex.submit(varied_reports, out, min(step, n - s), s) for s in range(0, n, step)]
        paths = [str(p) for f in futs for p in f.result()]
    return sorted(paths)


def fresh_pool(workers: int, max_tasks: int) -> ingest.ExtractorPool:
    """New warm extraction workers (started before any clock runs), replacing the process' pool."""
    from pipeline.ingest import pool as ingest_pool  # the module: the package exports no _pool

    if ingest_pool._pool is not None:
        ingest_pool._pool.close()
    pool = ingest.default_pool(workers)
    assert isinstance(pool, ingest.ExtractorPool)
    pool.max_tasks = max_tasks
    pool.prestart(workers)
    while pool.stats.started < workers:
        time.sleep(0.05)
    return pool


def reset_peak_rss() -> None:
    # Linux: writing 5 to clear_refs resets this process' peak RSS (VmHWM), so each run gets its own.
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class RssSampler(threading.Thread):
    """This process' RSS every 0.2 s; `by_fifth()` gives the peak of each fifth of the run."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.samples.append(rss_mb())

    def by_fifth(self) -> list[int]:
        self.stop.set()
        self.join()
        n = len(self.samples)
        return (
            [round(max(self.samples[i * n // 5 : max((i + 1) * n // 5, i * n // 5 + 1)])) for i in range(5)]
            if n
            else []
        )


def one_run(kind: str, paths: list[str], workers: int, tmp: Path, max_tasks: int) -> dict[str, Any]:
    from flows.ingest import ingest_batch

    pool = fresh_pool(workers, max_tasks)
    url = f"sqlite:///{tmp / f'{kind}-{workers}-{len(paths)}.db'}"
    Store(url).close()  # schema created before the clock starts, as for a store in use
    reset_peak_rss()
    sampler = RssSampler()
    sampler.start()
    t0 = time.perf_counter()
    if kind == "prefect":
        summary = ingest_batch(paths, db_url=url, workers=workers, timeout=300)
    else:
        summary = ingest.ingest_paths(paths, ingest.open_store(url), workers=workers, timeout=300)
    seconds = time.perf_counter() - t0
    fifths = sampler.by_fifth()
    assert summary["ok"] == len(paths), summary
    return {
        "kind": kind,
        "workers": workers,
        "reports": len(paths),
        "seconds": round(seconds, 2),
        "reports_per_min": round(len(paths) / seconds * 60, 1),
        "worker_peak_rss_mb": sorted(round(v) for v in pool.stats.peak_rss_mb.values()),
        "batch_process_peak_rss_mb": round(peak_rss_mb()),
        "batch_process_rss_mb_by_fifth": fifths,  # flat, or still growing at the end?
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="reports for the speed runs (default 200)")
    ap.add_argument("--big", type=int, default=1000, help="reports for the memory run (default 1000)")
    ap.add_argument("--workers", default="1,2", help="worker counts to time (default 1,2)")
    ap.add_argument("--no-big", action="store_true", help="skip the --big run")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",")]
    total = args.n if args.no_big else max(args.n, args.big)
    unlimited = 10**9

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        paths = generate(tmp / "reports", total)
        size = sum(os.path.getsize(p) for p in paths) / 1e6
        print(f"generated {total} reports ({size:.0f} MB) in {time.perf_counter() - t0:.0f} s", flush=True)

        # Prefect's fixed cost: its temporary API starts with the first flow of the process.
        from flows.ingest import ingest_batch

        t0 = time.perf_counter()
        ingest_batch([], db_url=f"sqlite:///{tmp / 'warmup.db'}", workers=1)
        startup = time.perf_counter() - t0
        print(f"Prefect: first flow of the process (temporary API start) {startup:.1f} s", flush=True)

        results = []
        subset = paths[: args.n]
        for w in counts:
            for kind in ("plain", "prefect"):
                r = one_run(kind, subset, w, tmp, unlimited)
                results.append(r)
                print(json.dumps(r), flush=True)
        if not args.no_big:
            r = one_run("prefect", paths[: args.big], max(counts), tmp, unlimited)
            results.append(r)
            print(json.dumps(r), flush=True)

    print()
    print(f"{'run':<10}{'workers':>8}{'reports':>9}{'seconds':>9}{'reports/min':>13}"
          f"{'worker peak RSS MB':>22}{'batch RSS MB':>14}")  # fmt: skip
    for r in results:
        print(
            f"{r['kind']:<10}{r['workers']:>8}{r['reports']:>9}{r['seconds']:>9.1f}{r['reports_per_min']:>13.1f}"
            f"{'/'.join(map(str, r['worker_peak_rss_mb'])):>22}{r['batch_process_peak_rss_mb']:>14}"
        )
    print()
    for w in counts:
        plain = next(r for r in results if r["kind"] == "plain" and r["workers"] == w)
        pref = next(
            r for r in results if r["kind"] == "prefect" and r["workers"] == w and r["reports"] == args.n
        )
        share = (pref["seconds"] - plain["seconds"]) / pref["seconds"]
        print(
            f"Prefect's share of the wall time, {w} worker(s), {args.n} reports: {share:.1%} "
            f"({pref['seconds'] - plain['seconds']:+.1f} s; plus {startup:.0f} s once per process for its API)"
        )
    big = [r for r in results if r["reports"] != args.n]
    for r in big:
        print(f"{r['reports']} reports: batch process RSS (MB), peak per fifth of the run: "
              f"{' / '.join(map(str, r['batch_process_rss_mb_by_fifth']))}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"startup_s": startup, "runs": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
