"""`pipeline debug REPORT.pdf [--page N] [--out x.png]`: one page drawn with what extraction found on it.

Every figure framed in its kind's colour with its id and label (red and thicker when a failing check
reads it), headings and tables outlined, `--words` every word the page gave: a number read but not
taken as a figure shows as a word without a frame. Exit 0 when the image was written, 2 for a file that
cannot be read or a page it does not have.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline import settings
from pipeline.cli.extract import add_ocr_option


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `debug` command; it sets `func(args) -> int` (the exit code)."""
    from pipeline.debug import RESOLUTION

    p = subparsers.add_parser(
        "debug", help="draw one page with its figures, headings and tables framed (PNG)"
    )
    p.add_argument("pdf", type=Path)
    p.add_argument("--page", type=int, default=1, help="page number, 1-based (default 1)")
    p.add_argument(
        "--out",
        "-o",
        type=Path,
        default=None,
        help=f"PNG to write (default {settings.DEBUG_OUT}/<name>-p<N>.png)",
    )
    p.add_argument(
        "--resolution", type=float, default=RESOLUTION, help=f"dots per inch (default {RESOLUTION})"
    )
    p.add_argument("--words", action="store_true", help="also outline every word the PDF or OCR gave")
    add_ocr_option(p)
    p.set_defaults(func=run_debug)


def run_debug(args: argparse.Namespace) -> int:
    from pipeline.debug import check_page, overlay, page_count
    from pipeline.errors import ReportError, storable_path
    from pipeline.safety import printable  # the file's name may carry terminal escapes

    def fail(reason: str) -> int:
        print(f"error: {printable(storable_path(args.pdf.name))}: {reason}", file=sys.stderr)
        return 2

    if not 0 < args.resolution <= 1200:
        return fail(f"resolution {args.resolution:g} dpi is not between 0 and 1200")
    pages = page_count(args.pdf)
    try:
        if pages is not None:
            check_page(args.page, pages)  # before extraction, which may OCR every page
        drawn = overlay(args.pdf, args.page, resolution=args.resolution, words=args.words, ocr=args.ocr)
    except ReportError as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)
        return 2
    except ValueError as exc:
        return fail(str(exc))
    out = args.out or settings.DEBUG_OUT / f"{args.pdf.stem}-p{args.page}.png"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        drawn.image.save(out)
    except OSError as exc:
        print(
            f"error: {printable(storable_path(out))}: cannot write ({exc.strerror or exc})", file=sys.stderr
        )
        return 2
    ocr = f" (read by OCR: {drawn.ocr})" if drawn.ocr else ""
    print(
        f"page {drawn.page} of {drawn.pages}{ocr}: {drawn.figures} figures ({drawn.failing} in failing checks), "
        f"{drawn.headings} headings, {drawn.tables} tables" + (f", {drawn.words} words" if args.words else "")
    )
    if drawn.unboxed:
        print(
            f"note: {len(drawn.unboxed)} figures of this page have no box, not drawn: {', '.join(drawn.unboxed)}",
            file=sys.stderr,
        )
    if not drawn.cjk_font:
        print(
            "note: no Chinese font found (fc-match :lang=zh-cn); labels show figure ids only", file=sys.stderr
        )
    print(printable(storable_path(out)))
    return 0
