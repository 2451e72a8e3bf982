"""A hostile batch: one entry of each hostile kind mixed among N good reports, through `ingest_paths`.

Checks what the batch must guarantee (one status per entry, nothing lost or duplicated) and measures
what each hostile entry cost (the seconds of its status, workers warm beforehand) and the batch in all.

    .venv/bin/python bench/bench_hostile.py [--good 200] [--workers 2] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from bench_batch import generate  # noqa: E402

from pipeline.ingest import default_pool, discover, ingest_paths  # noqa: E402
from pipeline.store import Store  # noqa: E402
from testkit.hostile import hostile_folder, non_utf8_name  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--good", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        folder = Path(tmp) / "in"
        good = generate(folder, args.good)
        bad = hostile_folder(folder)
        odd = non_utf8_name(folder)
        entries = list(discover(folder))
        store = Store(f"sqlite:///{Path(tmp) / 'reports.db'}")
        costs: dict[str, float] = {}

        def on_outcome(done: int, total: int | None, outcome) -> None:
            if Path(outcome.path).name in bad:
                costs[Path(outcome.path).name] = outcome.seconds

        pool = default_pool(args.workers)  # warm workers first: a status's seconds are then its own
        pool.prestart(args.workers)
        while pool.stats.started < args.workers:
            time.sleep(0.1)
        t0 = time.perf_counter()
        summary = ingest_paths(entries, store, workers=args.workers, on_outcome=on_outcome)
        wall = time.perf_counter() - t0
        rows = store.ingest_files_df(summary["run_id"])
        docs = store.documents_df()
        result = {
            "entries": len(entries),
            "statuses": len(rows),
            "one_per_entry": bool(rows["path"].is_unique and len(rows) == len(entries)),
            "per_status": {k: summary[k] for k in ("ok", "duplicate", "failed")},
            "good_stored": int(docs[docs["status"] == "ok"]["path"].isin(good).sum()),
            "good": len(good),
            "sha256_unique": bool(docs["sha256"].is_unique),
            "odd_name_status": rows[rows["path"].str.contains("xff")]["status"].tolist(),
            "hostile_seconds": dict(sorted(costs.items(), key=lambda kv: -kv[1])),
            "hostile_max_seconds": max(costs.values(), default=0.0),
            "batch_seconds": round(wall, 1),
        }
        store.close()
        assert odd.exists()
    print(json.dumps(result, indent=1, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
