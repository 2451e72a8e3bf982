"""`pipeline extract PATH… [--out DIR] [--format json,md] [--json OUT|-]`: reports to the JSON contract and
to a Markdown review summary, in one process (no store, no Prefect).

    pipeline extract REPORT.pdf --json OUT.json     one report, the contract as before (`--json -`: stdout)
    pipeline extract REPORT.pdf --format md         one report's review summary on standard output
    pipeline extract DIR… FILE.pdf --out OUT/       every PDF given or found below the folders given

With `--out`, each report is written as OUT/<path>.json and/or OUT/<path>.md, <path> being the PDF's
path below the folder all the inputs share, without its suffix: the folder's own structure, so that
the report.pdf of every unit's folder keeps its own name (a/report.pdf → OUT/a/report.json). A file that
cannot be extracted leaves nothing under its names (an older output there is removed, never kept stale).

Exit code: 0 when every report was written; with --out, 1 when any file could not be extracted (the
others are written all the same) and 2 when nothing could be started (no PDF found, outputs that would
clash, options that do not go together); one file without --out: 2 when it cannot be extracted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.model import Report

FORMATS = ("json", "md")
SUFFIX = {"json": ".json", "md": ".md"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `extract` command; it sets `func(args) -> int` (the exit code)."""
    p = subparsers.add_parser(
        "extract", help="extract reports (files or folders) to the JSON contract and Markdown summaries"
    )
    p.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="PDF files, or folders searched for PDFs"
    )
    p.add_argument(
        "--json", dest="json_out", default=None, help="one report: output file, or - for standard output"
    )
    p.add_argument(
        "--out",
        "-o",
        type=Path,
        default=None,
        help="folder to write one <name>.json / <name>.md per report into",
    )
    p.add_argument(
        "--format", dest="formats", type=_formats, default=None, help="json, md or json,md (default json)"
    )
    add_ocr_option(p)
    p.set_defaults(func=run_extract)


def add_ocr_option(p: argparse.ArgumentParser) -> None:
    """`--ocr auto|always|never`, for every command that extracts."""
    p.add_argument(
        "--ocr",
        choices=("auto", "always", "never"),
        default=None,
        help="read pages by OCR: auto (scans and text layers that are not text; the default), always, never",
    )


def _formats(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(w.strip().lower() for w in text.split(",") if w.strip()))
    bad = [n for n in names if n not in FORMATS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"unknown format {','.join(bad) or text!r} (choose from json, md)")
    return names


def pdf_files(paths: list[Path]) -> Iterator[Path]:
    """The PDFs named, folders searched recursively in name order; a missing path is kept, to be reported."""
    for p in paths:
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() == ".pdf")
        else:
            yield p


def contract_text(report: Report) -> str:
    """The report as the contract's JSON text, as `--json` writes it (a newline at the end)."""
    from pipeline.errors import storable_path
    from pipeline.serialize import to_contract

    doc = to_contract(report)
    doc["source"]["file"] = storable_path(doc["source"]["file"])  # else a name not in UTF-8 cannot be written
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def render(report: Report, fmt: str) -> str:
    """The report in one output format (json: the contract; md: the review summary)."""
    if fmt == "json":
        return contract_text(report)
    from pipeline.review import report_markdown

    return report_markdown(report)


def run_extract(args: argparse.Namespace) -> int:
    formats = args.formats or ("json",)
    if args.out is not None:
        if args.json_out is not None:
            print("error: give --out DIR or --json OUT, not both", file=sys.stderr)
            return 2
        return run_batch(args.paths, args.out, formats, args.ocr)
    if len(args.paths) != 1 or args.paths[0].is_dir():
        print("error: several reports (or a folder) need --out DIR", file=sys.stderr)
        return 2
    if args.json_out is not None and formats != ("json",):
        print("error: --json writes the contract; use --out DIR for other formats", file=sys.stderr)
        return 2
    if len(formats) > 1:
        print("error: several formats need --out DIR", file=sys.stderr)
        return 2
    return run_one(args.paths[0], args.json_out or "-", formats[0], args.ocr)


def run_one(pdf: Path, out: str, fmt: str, ocr: str | None) -> int:
    """One report to a file or standard output, silently (the contract command the scorer runs)."""
    from pipeline.errors import ReportError
    from pipeline.extract import extract

    try:
        report = extract(pdf, ocr=ocr)
    except ReportError as exc:
        from pipeline.safety import printable  # the file's name may carry terminal escapes

        print(f"error: {printable(exc)}", file=sys.stderr)
        return 2
    text = render(report, fmt)
    if out == "-":
        sys.stdout.write(text)
    else:
        target = Path(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return 0


def output_names(pdfs: list[Path], inputs: list[Path]) -> dict[Path, Path]:
    """Each PDF's output path without suffix: its path below the folder all the inputs share.

    Folders given count as they are, files by the folder they are in; so one folder's tree is mirrored
    from its top, and the same name in two folders stays apart (a/report, b/report).
    """
    # a missing path writes nothing: it must not move the others' names
    bases = [
        os.path.abspath(p) if p.is_dir() else os.path.dirname(os.path.abspath(p))
        for p in inputs
        if p.exists()
    ]
    common = os.path.commonpath(bases) if bases else os.getcwd()
    names = {}
    for pdf in pdfs:
        rel = os.path.relpath(os.path.abspath(pdf), common)
        # only a missing path stands outside: its bare name, so nothing is ever touched outside --out
        names[pdf] = Path(os.path.basename(rel) if rel.startswith(os.pardir) else rel).with_suffix("")
    return names


def run_batch(paths: list[Path], out_dir: Path, formats: tuple[str, ...], ocr: str | None) -> int:
    """Every PDF given or found, in this process: outputs under out_dir, a bar, a line per failure."""
    from pipeline.errors import ReportError
    from pipeline.extract import extract
    from pipeline.progress import Progress

    pdfs = list(dict.fromkeys(pdf_files(paths)))  # a file given twice is extracted once
    if not pdfs:
        print("error: no PDF files found", file=sys.stderr)
        return 2
    names = output_names(pdfs, paths)
    clash = _first_clash(names)
    if clash:
        a, b = clash
        from pipeline.safety import printable

        print(
            f"error: {printable(a)} and {printable(b)} would both be written as {printable(names[a])}.*",
            file=sys.stderr,
        )
        return 2
    started = time.monotonic()
    done = failed = failing = 0
    with Progress(len(pdfs), "extract") as bar:
        for pdf in pdfs:
            name = names[pdf]
            bar.start(str(name.parent / pdf.name))  # a/report.pdf: every unit's file may be report.pdf
            targets = [out_dir / name.parent / (name.name + SUFFIX[f]) for f in formats]
            try:
                report = extract(pdf, ocr=ocr)
                texts = [render(report, f) for f in formats]
                for target, text in zip(targets, texts):
                    _write(target, text)
            except ReportError as exc:
                failed += 1
                _remove(targets)
                bar.note(f"error: {pdf}: {exc.reason}")
            except Exception as exc:  # one file's crash (ours or the PDF's) must not cost the others
                failed += 1
                _remove(targets)
                bar.note(f"error: {pdf}: {type(exc).__name__}: {exc}")
            else:
                done += 1
                failing += sum(str(c.status) == "fail" for c in report.checks)
            bar.advance()
    # after the bar's last frame, so that the summary is the last line on a terminal too
    took = time.monotonic() - started
    bar.note(f"{done} extracted, {failed} failed, {failing} failing checks in {_duration(took)} → {out_dir}")
    return 1 if failed else 0


def _first_clash(names: dict[Path, Path]) -> tuple[Path, Path] | None:
    # Only case can still make two inputs one output (A.pdf and a.PDF); a file system may ignore it too.
    seen: dict[str, Path] = {}
    for pdf, name in names.items():
        key = str(name).casefold()
        if key in seen:
            return seen[key], pdf
        seen[key] = pdf
    return None


def _write(target: Path, text: str) -> None:
    # Whole or not at all: a crash or a full disk mid-write must not leave half a report to be read.
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def _remove(targets: list[Path]) -> None:
    for t in targets:
        t.unlink(missing_ok=True)
        t.with_name(t.name + ".tmp").unlink(missing_ok=True)


def _duration(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m}m{s:02d}s" if m else f"{seconds:.1f}s"
