"""Reconciliation cost against document length, on real report text.

  .venv/bin/python bench/bench_reconcile.py [PDF_OR_DIR …] [--pages 50,100,200,400] [--repeat 3]

Every PDF (default: the shared dev corpus and samples/) is extracted once without the reconcile stage;
their paragraphs, sections, tables and figures are then laid end to end, renumbered, until a document of
the asked length in pages stands, and only `reconcile` is timed on it (median of `repeat`, one core).
Cost must grow linearly with the document: seconds per page should not rise with length.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from pathlib import Path

from pipeline.extract import STAGES, extract
from pipeline.model import Report, Source
from pipeline.reconcile import reconcile

REPO = Path(__file__).resolve().parents[1]


def pdfs(args: list[str]) -> list[Path]:
    roots = [Path(a) for a in args] or [REPO.parent / "shared" / "corpus" / "dev", REPO / "samples"]
    out: list[Path] = []
    for r in roots:
        if r.exists():
            out += [r] if r.is_file() else sorted(r.rglob("*.pdf"))
    return out


def long_report(parts: list[Report], pages: int) -> Report:
    """The reports laid end to end (copies, renumbered) until `pages` pages stand."""
    out = Report(source=Source(file="long.pdf", sha256="0" * 64, pages=pages))
    page_offset = 0
    n = 0
    while page_offset < pages:
        src = copy.deepcopy(parts[n % len(parts)])
        n += 1
        p_off, s_off, t_off = len(out.paragraphs), len(out.sections), len(out.tables)
        sec_ids = {s.id: f"s{s_off + k + 1}" for k, s in enumerate(src.sections)}
        tab_ids = {t.id: f"t{t_off + k + 1}" for k, t in enumerate(src.tables)}
        for p in src.paragraphs:
            p.index += p_off
            p.page += page_offset
            p.section = sec_ids.get(p.section) if p.section else None
            p.heading = sec_ids.get(p.heading) if p.heading else None
            p.table = tab_ids.get(p.table) if p.table else None
        for s in src.sections:
            s.id, s.parent = sec_ids[s.id], sec_ids.get(s.parent) if s.parent else None
            s.paragraph += p_off
            s.page += page_offset
        for t in src.tables:
            t.id = tab_ids[t.id]
            t.page += page_offset
        for f in src.figures:
            f.paragraph += p_off
            f.page += page_offset
            f.section = sec_ids.get(f.section) if f.section else None
            f.table = tab_ids.get(f.table) if f.table else None
        out.paragraphs += src.paragraphs
        out.sections += src.sections
        out.tables += src.tables
        out.figures += src.figures
        page_offset += max(1, src.source.pages)
    for k, f in enumerate(out.figures, 1):
        f.id = f"f{k}"
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--pages", default="50,100,200,400")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    stages = [s for s in STAGES if s is not reconcile]
    parts = [extract(p, stages=stages) for p in pdfs(args.paths)]
    total_pages = sum(r.source.pages for r in parts)
    print(f"{len(parts)} reports, {total_pages} pages of real text")
    reconcile(copy.deepcopy(parts[0]))  # warm: vocabulary, patterns, jieba for labels
    print(f"{'pages':>6} {'figures':>8} {'checks':>7} {'seconds':>8} {'ms/page':>8}")
    for pages in (int(x) for x in args.pages.split(",")):
        doc = long_report(parts, pages)
        times = []
        checks = 0
        for _ in range(args.repeat):
            d = copy.deepcopy(doc)
            t0 = time.perf_counter()
            reconcile(d)
            times.append(time.perf_counter() - t0)
            checks = len(d.checks)
        sec = statistics.median(times)
        print(f"{pages:>6} {len(doc.figures):>8} {checks:>7} {sec:>8.3f} {sec / pages * 1000:>8.2f}")


if __name__ == "__main__":
    main()
