"""Per-file time of one folder extract in one process against one process per file, on the dev corpus.

    one process:     python -m pipeline extract DEV --out A/            (every report.pdf below DEV)
    one per file:    python -m pipeline extract X.pdf --json B/X.json   (for each, one after the other)

Both run the same extraction; the difference is start-up (imports, the spaCy pipeline, jieba's
dictionary) paid once or once per file. Wall times of the real command line; the JSON each writes is
compared byte for byte, so the faster route is known to give the same answers. The machine's load
average is printed with the numbers: on a shared machine they mean little without it.

    .venv/bin/python bench/bench_folder_extract.py [--corpus DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "dev"


def _run(cmd: list[str]) -> float:
    env = {**os.environ, "PIPELINE_PROGRESS": "0"}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    took = time.perf_counter() - t0
    if proc.returncode not in (0, 1):  # 1: some file failed, which the comparison below shows
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-500:]}")
    return took


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of PDFs (default: the dev corpus)"
    )
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    pdfs = sorted(p for p in args.corpus.rglob("*") if p.is_file() and p.suffix.lower() == ".pdf")
    if not pdfs:
        raise SystemExit(f"no PDFs below {args.corpus}")
    py = [sys.executable, "-m", "pipeline", "extract"]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-folder-") as tmp:
        folder_out, single_out = Path(tmp) / "folder", Path(tmp) / "single"
        folder_wall = _run([*py, str(args.corpus), "--out", str(folder_out)])
        single_wall = 0.0
        same = 0
        for pdf in pdfs:
            rel = pdf.relative_to(args.corpus).with_suffix(".json")
            single_wall += _run([*py, str(pdf), "--json", str(single_out / rel)])
            a, b = folder_out / rel, single_out / rel
            same += a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes()
    n = len(pdfs)
    results: dict[str, Any] = {
        "files": n,
        "folder_wall_s": round(folder_wall, 2),
        "folder_per_file_s": round(folder_wall / n, 3),
        "per_process_wall_s": round(single_wall, 2),
        "per_process_per_file_s": round(single_wall / n, 3),
        "speedup": round(single_wall / folder_wall, 2),
        "identical_json": same,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    print(
        f"{n} PDFs: one process {results['folder_wall_s']} s ({results['folder_per_file_s']} s/file); "
        f"one process per file {results['per_process_wall_s']} s ({results['per_process_per_file_s']} s/file); "
        f"×{results['speedup']}; identical JSON {same}/{n}; "
        f"load {results['load_before']} → {results['load_after']} on {results['cpus']} CPUs"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0 if same == n else 1


if __name__ == "__main__":
    sys.exit(main())
