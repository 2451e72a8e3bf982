"""OCR resolution: seconds per page and character error against the text-layer twin, per dpi.

  .venv/bin/python bench/bench_ocr.py [--scanned DIR] [--text DIR] [--dpi 100 150 200]
  .venv/bin/python bench/bench_ocr.py --batch 2 [--workers 2]   pages/min of the batch on the scans

Each case `NAME-scan` of the scanned corpus is read whole by the OCR path (rules and tables included)
and compared with case `NAME` of the text corpus read from its text layer, page by page: lines outside
tables, then table cells (both folded by `normalise`, whitespace removed), as character error rate
(edit distance / text length) and as the numbers (digit runs) of the text layer read exactly.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from pipeline.extract import ocr
from pipeline.extract.pdfread import read_pdf
from pipeline.extract.text import normalise

REPO = Path(__file__).resolve().parents[1]


def page_texts(report) -> list[str]:
    """Per page: its lines outside tables, then its tables' cells row by row; folded, no whitespace."""
    out = []
    for page in report.pages:
        parts = [ln.text for ln in page.lines if ln.table is None]
        parts += [c or "" for t in report.tables if t.page == page.number for row in t.rows for c in row]
        out.append(re.sub(r"\s+", "", normalise("".join(parts))))
    return out


def distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def numbers_right(truth: str, read: str) -> tuple[list[str], int]:
    """The numbers of `truth` not read, and how many it has."""
    want = re.findall(r"\d+(?:[.,]\d+)*", truth)
    got = re.findall(r"\d+(?:[.,]\d+)*", read)
    missed = []
    for n in want:  # each read number used once
        if n in got:
            got.remove(n)
        else:
            missed.append(n)
    return missed, len(want)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    corpus = REPO.parent / "shared" / "corpus"
    ap.add_argument("--scanned", type=Path, default=corpus / "scanned")
    ap.add_argument("--text", type=Path, default=corpus / "dev")
    ap.add_argument("--dpi", type=float, nargs="+", default=[100, 125, 150, 200])
    ap.add_argument("--missed", action="store_true", help="list the numbers each dpi misreads")
    ap.add_argument(
        "--batch",
        type=int,
        default=0,
        metavar="COPIES",
        help="instead: ingest COPIES distinct copies of every scan with --workers processes",
    )
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    if a.batch:
        return batch(a.scanned, a.batch, a.workers)
    cases = sorted(d for d in a.scanned.iterdir() if (d / "report.pdf").is_file())
    truth = {
        d.name: page_texts(read_pdf(a.text / d.name.removesuffix("-scan") / "report.pdf", ocr="never"))
        for d in cases
    }
    ocr.recognise(ocr.render(cases[0] / "report.pdf", 1, 72))  # the engine's start-up, not timed
    print(f"{'dpi':>5} {'s/page':>8} {'CER':>7} {'numbers':>9}")
    for dpi in a.dpi:
        ocr.DPI = dpi
        secs, errors, chars, missed, total = [], 0, 0, [], 0
        for d in cases:
            t0 = time.perf_counter()
            got = page_texts(read_pdf(d / "report.pdf", ocr="always"))
            secs.append((time.perf_counter() - t0) / len(got))
            for n, (want, read) in enumerate(zip(truth[d.name], got), 1):
                errors += distance(want, read)
                chars += len(want)
                m, t = numbers_right(want, read)
                missed, total = missed + [f"{d.name}:{n}:{x}" for x in m], total + t
        print(
            f"{dpi:>5g} {statistics.median(secs):>8.2f} {errors / max(chars, 1):>7.2%} "
            f"{total - len(missed):>4}/{total:<4}"
        )
        if a.missed and missed:
            print("      missed: " + " ".join(missed))


def batch(scanned: Path, copies: int, workers: int) -> None:
    """The batch (pipeline.ingest, no orchestrator) on copies of the scans, each copy its own file."""
    from pipeline.ingest import default_pool, ingest_paths
    from pipeline.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="bench-ocr-"))
    try:
        files, pages = [], 0
        for d in sorted(d for d in scanned.iterdir() if (d / "report.pdf").is_file()):
            data = (d / "report.pdf").read_bytes()
            n = _pages(d / "report.pdf")
            for k in range(copies):
                path = tmp / f"{d.name}-{k}.pdf"
                path.write_bytes(data + f"\n% copy {k}\n".encode())  # other bytes, another report
                files.append(str(path))
                pages += n
        pool = default_pool(workers)
        pool.prestart(workers)
        store = Store(f"sqlite:///{tmp / 'bench.db'}")
        t0 = time.perf_counter()
        summary = ingest_paths(files, store, workers=workers)
        seconds = time.perf_counter() - t0
        store.close()
        print(
            f"{len(files)} files, {pages} pages ({summary['ocr_pages']} by OCR), {workers} workers: "
            f"{seconds:.1f} s, {pages / seconds * 60:.1f} pages/min; ok {summary['ok']}, failed {summary['failed']}"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _pages(pdf: Path) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        return len(doc)
    finally:
        doc.close()


if __name__ == "__main__":
    main()
