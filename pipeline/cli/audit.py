"""Command-line glue for the audit, registered into `pipeline`'s argument parser.

    pipeline audit PATH... [--out outputs/audit/]   PDFs, or folders searched for PDFs, extracted now
    pipeline audit --db URL [--out DIR]             the reports already in a store

Writes index.html, one report-<sha>.html per report, img/ and audit.xlsx (see `pipeline.audit`).
On a terminal a progress bar shows the file being extracted and the page being written; standard
error gets one line per file that failed and a summary, the same on a terminal and in a log.
The exit code is 0 when the audit was written, findings and unreadable files included (they are what
the audit is for); 2 when there was nothing to audit or the store could not be opened.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path

from pipeline import settings
from pipeline.cli.extract import add_ocr_option, pdf_files
from pipeline.progress import Progress, track

DEFAULT_OUT = settings.AUDIT_OUT


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `audit` command; it sets `func(args) -> int` (the exit code)."""
    p = subparsers.add_parser("audit", help="write an HTML + xlsx audit with the evidence for every finding")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="PDF files or folders of PDFs")
    p.add_argument("--db", default=None, help="audit the reports stored in this database URL instead")
    p.add_argument(
        "--out", "-o", type=Path, default=DEFAULT_OUT, help=f"folder to write into (default {DEFAULT_OUT}/)"
    )
    add_ocr_option(p)
    p.set_defaults(func=run_audit)


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def extract_items(
    paths: list[Path], ocr: str | None = None, bar: Progress | None = None
) -> Iterator[tuple[dict, Path | None]]:
    """Extract each PDF; one that fails becomes an error document so that it still shows in the index.

    A failure is noted on `bar` (its English line: the command line speaks English); the error
    document keeps the coded reason, which the audit says in Chinese.
    """
    from pipeline.audit import error_doc
    from pipeline.errors import ReportError
    from pipeline.extract import extract
    from pipeline.messages import unexpected
    from pipeline.serialize import to_contract

    bar = bar or Progress(None, "", enabled=False)
    for path in pdf_files(paths):
        bar.start(path.name)
        try:
            doc = to_contract(extract(path, ocr=ocr))
        except ReportError as exc:
            bar.note(f"error: {exc}")
            yield error_doc(path.name, exc.reason, _sha256(path)), path
        except Exception as exc:  # one bad file must not cost the batch its audit
            reason = unexpected(exc)
            bar.note(f"error: {path}: {reason}")
            yield error_doc(path.name, reason, _sha256(path)), path
        else:
            yield doc, path
        bar.advance()


def store_items(url: str | None) -> list[tuple[dict, Path | None]]:
    """Every stored report (with its PDF: the archived copy, else the submitted path), and every failed file."""
    import pandas as pd

    from pipeline.archive import locate
    from pipeline.audit import error_doc
    from pipeline.messages import Message
    from pipeline.store import Store

    def val(x: object) -> str | None:
        return None if x is None or pd.isna(x) else str(x)

    items: list[tuple[dict, Path | None]] = []
    with Store(url, read_only=True) as store:  # a read command changes nothing in the store
        rows = list(store.documents_df().itertuples(index=False))
        for row, _ in track(rows, "loading the store", name=lambda row: str(row.file_name)):
            path = Path(val(row.path)) if val(row.path) else None
            # The archived copy first: a served inbox moves the submitted file away.
            pdf = locate(val(row.archived), val(row.sha256), val(row.path), store.url)
            if row.status == "ok":
                items.append((store.load_report(int(row.id)), pdf))
            elif row.status == "failed":
                name = val(row.file_name) or (path.name if path else "?")
                # the Chinese the store kept beside the English; a store from before it has English only
                error = val(getattr(row, "error_zh", None)) or val(row.error) or Message("no_reason")
                items.append((error_doc(name, error, val(row.sha256)), pdf))
    return items


def run_audit(args: argparse.Namespace) -> int:
    """`pipeline audit`: extract (or load) the reports, write the audit, print the index's path."""
    from pipeline.audit import write_audit

    if not args.paths and args.db is None:
        print("error: give PDF files or folders, or --db URL", file=sys.stderr)
        return 2
    items: list[tuple[dict, Path | None]] = []
    if args.db is not None:
        try:
            items += store_items(args.db)
        except FileNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except RuntimeError as exc:  # StoreError: one line naming the store and the cause
            from pipeline.store import StoreError

            if not isinstance(exc, StoreError):
                raise
            print(f"error: {exc}", file=sys.stderr)
            return 3
    if args.paths:
        files = list(pdf_files(args.paths))
        with Progress(len(files), "extracting") as bar:
            items += list(extract_items(files, args.ocr, bar))
    if not items:
        print("error: no PDF files found", file=sys.stderr)
        return 2
    pages = [doc for doc, _ in items if doc.get("error") is None]
    with Progress(len(pages), "writing the audit") as bar:
        index = write_audit(items, args.out, bar=bar)
    failing = sum(c.get("status") == "fail" for doc in pages for c in doc.get("checks") or [])
    print(
        f"audited {len(items)} file(s): {len(pages)} report(s), {len(items) - len(pages)} failed, "
        f"{failing} failing check(s)",
        file=sys.stderr,
    )
    print(index)
    return 0
