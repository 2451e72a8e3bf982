"""A static audit of extracted reports that a reviewer can check without trusting the pipeline.

Every finding (a check that failed or could not be verified) is shown with the words it rests on: the
figures' labels and printed text, the page, and a cropped image of that page with each involved figure
highlighted. The output is plain files (HTML, PNG, PDF, one workbook) that open offline from a folder, every link relative, so
the folder can be copied or shared whole:

    out_dir/index.html                  the batch: one row per file, sortable, errors included
    out_dir/report-<sha256[:12]>.html   one page per report: findings first, then the rest
    out_dir/img/*.png                   the crops the report pages show
    out_dir/pdf/<slug>.pdf              the originals, opened at a finding's page (…pdf#page=N)
    out_dir/audit.xlsx                  the same findings as a workbook (sheet 问题)

    view.py       what is shown of a report (findings, figures, numbers as reviewers read them)
    crops.py      the highlighted page images
    render.py     the pages, from templates/ (Jinja2, autoescaped) and static/ (CSS, JS)
    workbook.py   audit.xlsx, through the Excel writer the exports use
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pipeline import messages
from pipeline.progress import Progress

from .crops import HIGHLIGHT_FILL, HIGHLIGHT_STROKE
from .render import index_order, index_page, report_page
from .view import FINDING_COLUMNS, Report, error_doc, findings, slug_for
from .workbook import write_workbook

__all__ = ["write_audit", "error_doc", "findings", "FINDING_COLUMNS", "HIGHLIGHT_FILL", "HIGHLIGHT_STROKE"]


def write_audit(
    items: Iterable[tuple[dict, str | Path | None]],
    out_dir: str | Path,
    bar: Progress | None = None,
) -> Path:
    """Write the audit of (contract document, PDF path or None) pairs into out_dir; returns index.html.

    A document with an `error` key (see `error_doc`) stands for a file that could not be extracted: it
    is listed in the index and the workbook's 文件 sheet with its error (said in Chinese where it is a
    `pipeline.messages.Message`). Without a PDF a report's page has everything but the crops.
    `bar` (a `pipeline.progress.Progress` over the reports without an error) shows the page being written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    reports = []
    for doc, pdf in items:
        pdf_path = Path(pdf) if pdf else None
        r = Report(doc=doc, pdf=pdf_path, slug=slug_for(doc, pdf_path, taken))
        if doc.get("error") is not None:
            r.error = messages.zh(doc["error"])
        r.figs = {str(f["id"]): f for f in doc.get("figures") or [] if isinstance(f, dict) and "id" in f}
        reports.append(r)
    # Folders of report.pdf (one per unit) would all list as "report.pdf": name those by folder too.
    names = [r.file for r in reports]
    for r in reports:
        if names.count(r.file) > 1 and r.pdf is not None:
            r.shown_as = f"{r.pdf.parent.name}/{r.file}"
    pages = [r for r in index_order(reports) if r.error is None]
    for i, r in enumerate(pages):
        prev = pages[i - 1] if i > 0 else None
        next_ = pages[i + 1] if i + 1 < len(pages) else None
        if bar is not None:
            bar.start(r.file)
        (out / r.page_name).write_text(report_page(r, out, prev, next_), encoding="utf-8")
        if bar is not None:
            bar.advance()
    write_workbook(reports, out / "audit.xlsx")
    index = out / "index.html"
    index.write_text(index_page(reports), encoding="utf-8")
    return index
