"""How fast the store takes reports: 1,000 reports' worth of contract dicts into SQLite and PostgreSQL.

The reports are the dev corpus' gold answers (or synthetic ones without the corpus) varied into new
reports: new sha256, amounts scaled, years shifted. Each is saved as the pipeline saves it, one
transaction per report; then all are saved again under a new extractor version (every report's rows
replaced). PostgreSQL is measured when env PIPELINE_TEST_PG_URL or --pg gives a server; it works in
a schema of its own, dropped afterwards.

    .venv/bin/python bench/bench_store.py [--n 1000] [--pg URL] [--exports]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from pipeline.store import Store, resolve_url
from testkit.contracts import corpus_docs, expected_counts, vary

REPO = Path(__file__).resolve().parents[1]


def make_docs(n: int) -> list[dict]:
    base = corpus_docs()
    return [vary(base[i % len(base)], i) for i in range(n)]


def run(store: Store, docs: list[dict], label: str) -> dict[str, float]:
    rows = sum(expected_counts(docs).values())
    results = {}
    for phase, version in (("insert", "1.0"), ("replace", "2.0"), ("duplicate", "2.0")):
        t0 = time.perf_counter()
        outcomes = {store.save_report(d, extractor_version=version).outcome for d in docs}
        dt = time.perf_counter() - t0
        expected = {"insert": "inserted", "replace": "replaced", "duplicate": "duplicate"}[phase]
        assert outcomes == {expected}, outcomes
        written = 0 if phase == "duplicate" else rows
        print(
            f"{label:<10} {phase:<9} {len(docs):>6} docs {written:>8} rows {dt:7.2f} s "
            f"{len(docs) / dt:9.1f} docs/s {written / dt:10.0f} rows/s"
        )
        results[phase] = dt
    counts = store.counts()
    assert all(counts[k] == v for k, v in expected_counts(docs).items()), counts
    return results


def time_exports(store: Store, label: str) -> None:
    from pipeline.store.exports import export

    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("xlsx", "csv", "parquet", "json"):
            t0 = time.perf_counter()
            paths = export(store, fmt, Path(tmp) / fmt)
            size = sum(p.stat().st_size for p in paths)
            print(
                f"{label:<10} export {fmt:<8} {time.perf_counter() - t0:7.2f} s  {len(paths):>5} files {size / 1e6:8.1f} MB"
            )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="reports to store (default 1000)")
    ap.add_argument("--pg", default=os.environ.get("PIPELINE_TEST_PG_URL"), help="PostgreSQL URL")
    ap.add_argument("--exports", action="store_true", help="also time each export format")
    args = ap.parse_args(argv)

    docs = make_docs(args.n)
    rows = sum(expected_counts(docs).values())
    print(f"{args.n} reports, {rows} rows ({rows / args.n:.0f} per report), one transaction per report")

    with tempfile.TemporaryDirectory() as tmp:
        with Store(f"sqlite:///{Path(tmp) / 'bench.db'}") as store:
            run(store, docs, "sqlite")
            if args.exports:
                time_exports(store, "sqlite")

    if not args.pg:
        print("postgresql skipped: set PIPELINE_TEST_PG_URL or pass --pg URL")
        return 0
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(resolve_url(args.pg))
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        url = make_url(resolve_url(args.pg)).update_query_dict({"options": f"-csearch_path={schema}"})
        with Store(url.render_as_string(hide_password=False)) as store:
            run(store, docs, "postgresql")
            if args.exports:
                time_exports(store, "postgresql")
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
