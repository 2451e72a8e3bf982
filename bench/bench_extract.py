"""Seconds per page of the whole extraction, against pdfplumber's own extract_words on the same PDFs.

  .venv/bin/python bench/bench_extract.py [PDF_OR_DIR …] [--repeat N]

Defaults to samples/ and the shared dev corpus. Both sides run warm in one process (the spaCy/jieba
pipeline is built once before timing; its one-off cost is reported separately), each PDF `repeat`
times, and the medians are compared.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import pdfplumber

from pipeline.extract import extract
from pipeline.extract.prose.nlp import pipeline

REPO = Path(__file__).resolve().parents[1]


def pdfs(args: list[str]) -> list[Path]:
    roots = [Path(a) for a in args] or [REPO / "samples", REPO.parent / "shared" / "corpus" / "dev"]
    out: list[Path] = []
    for r in roots:
        out += [r] if r.is_file() else sorted(r.rglob("*.pdf"))
    return out


def words_only(path: Path) -> int:
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            page.extract_words()
        return len(pdf.pages)


def timed(fn, path: Path, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(path)
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    t0 = time.perf_counter()
    pipeline()
    startup = time.perf_counter() - t0
    files = pdfs(a.paths)
    total_pages = total_words = total_full = 0.0
    print(f"{'file':<40} {'pages':>5} {'words s/page':>13} {'extract s/page':>15} {'ratio':>6}")
    for path in files:
        pages = words_only(path)  # warms the file cache too
        w = timed(words_only, path, a.repeat)
        e = timed(extract, path, a.repeat)
        total_pages += pages
        total_words += w
        total_full += e
        name = f"{path.parent.name}/{path.name}"[-40:]
        print(f"{name:<40} {pages:>5} {w / pages:>13.4f} {e / pages:>15.4f} {e / w:>6.2f}")
    print(
        f"\nTOTAL {len(files)} PDFs, {int(total_pages)} pages: extract_words {total_words / total_pages:.4f} s/page, "
        f"whole extraction {total_full / total_pages:.4f} s/page, ratio {total_full / total_words:.2f}x; "
        f"pipeline start-up (jieba dictionary, spaCy) {startup:.2f} s once per process"
    )


if __name__ == "__main__":
    main()
