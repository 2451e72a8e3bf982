"""Stage 2: page furniture out, paragraphs back.

Running headers, footers and page numbers are dropped; line wraps and sentences cut by a page
break are joined again, so a number printed at the end of one line and its unit at the start of
the next (`51` / `人`) read as one figure.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict

from pipeline.model import Glyph, Line, Page, Paragraph, Report
from pipeline.vocabulary import vocab

from .outline import markers
from .text import normalise

_SENTENCE_END = "。；;:：!！?？"


def _furniture_key(text: str) -> str:
    # page numbers and dates change from page to page; the rest of a running header does not
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", normalise(text)))


def mark_furniture(report: Report) -> Report:
    """Flag running headers/footers and page numbers (lines in the top or bottom band)."""
    cfg = vocab()["furniture"]
    page_patterns = [re.compile(p) for p in cfg["page_number"]]
    band = cfg["band"]
    pages_with: dict[str, set[int]] = defaultdict(set)
    for page in report.pages:
        for line in _band_lines(page, band):
            pages_with[_furniture_key(line.text)].add(page.number)
    n_pages = len(report.pages)
    for page in report.pages:
        for line in _band_lines(page, band):
            flat = re.sub(r"\s+", "", normalise(line.text))
            if any(p.match(flat) for p in page_patterns):
                line.furniture = True
            elif n_pages >= 2 and len(pages_with[_furniture_key(line.text)]) >= max(
                2, cfg["repeat_share"] * n_pages
            ):
                line.furniture = True
    return report


def _band_lines(page: Page, band: float) -> list[Line]:
    text_lines = [ln for ln in page.lines if ln.table is None]
    if not text_lines:
        return []
    top_limit, bottom_limit = page.height * band, page.height * (1 - band)
    out = []
    # only the outermost lines of a page can be furniture: the first two and the last two
    for ln in text_lines[:2] + text_lines[-2:]:
        if (ln.bottom <= top_limit or ln.top >= bottom_limit) and ln not in out:
            out.append(ln)
    return out


def build_paragraphs(report: Report) -> Report:
    """Join the body lines of all pages into paragraphs, in reading order."""
    body = [ln for p in report.pages for ln in p.lines if not ln.furniture or ln.table]
    sizes = Counter()
    for ln in body:
        if ln.table is None:
            sizes[ln.size] += len(ln.text)
    body_size = sizes.most_common(1)[0][0] if sizes else 10.0
    margins = _margins(report, body_size)
    paragraphs: list[Paragraph] = []
    current: list[Line] = []

    def flush() -> None:
        if current:
            paragraphs.append(_join(current, len(paragraphs), body_size))
            current.clear()

    prev: Line | None = None
    for ln in body:
        if ln.table is not None:
            flush()
            paragraphs.append(
                Paragraph(index=len(paragraphs), text="", norm="", glyphs=[], page=ln.page, table=ln.table)
            )
            prev = None
            continue
        if prev is not None and _continues(prev, ln, margins, body_size):
            current.append(ln)
        else:
            flush()
            current.append(ln)
        prev = ln
    flush()
    report.paragraphs = [q for par in paragraphs for q in _split_trailing_heading(par)]
    for n, par in enumerate(report.paragraphs):
        par.index = n
    return report


def _split_trailing_heading(par: Paragraph) -> list[Paragraph]:
    """…具体情况报告如下：一、部门概况 — a heading run on after the colon that ends the paragraph before it
    (printed on one line) opens a paragraph of its own."""
    if par.table is not None:
        return [par]
    at = max(par.norm.rfind(":"), par.norm.rfind("："))
    tail = par.norm[at + 1 :].strip() if at > 0 else ""
    if not tail or len(tail) > 24 or re.search(r"[，,。；;:：]", tail):
        return [par]
    if not any(p.match(tail) and tail[p.match(tail).end() :].strip() for _, p in markers()):
        return [par]
    cut = at + 1
    head, rest = par.text[:cut], par.text[cut:]
    lead = len(rest) - len(rest.lstrip())
    first = Paragraph(
        index=par.index,
        text=head,
        norm=par.norm[:cut],
        glyphs=par.glyphs[:cut],
        page=par.page,
        size=par.size,
        display=par.display,
    )
    start = cut + lead
    page = next((g.page for g in par.glyphs[start:] if g is not None), par.page)
    second = Paragraph(
        index=par.index,
        text=par.text[start:],
        norm=par.norm[start:],
        glyphs=par.glyphs[start:],
        page=page,
        size=par.size,
        display=par.display,
    )
    return [first, second]


def _margins(report: Report, body_size: float) -> dict[int, tuple[float, float, float]]:
    """Per page: left margin, right margin, usual gap between lines (from body-size lines)."""
    out = {}
    all_lines = [
        ln
        for p in report.pages
        for ln in p.lines
        if not ln.furniture and ln.table is None and abs(ln.size - body_size) <= 1
    ]
    doc_left = _mode([ln.x0 for ln in all_lines]) if all_lines else 0.0
    doc_right = _high([ln.x1 for ln in all_lines]) if all_lines else 0.0
    for page in report.pages:
        lines = [
            ln for ln in page.lines if not ln.furniture and ln.table is None and abs(ln.size - body_size) <= 1
        ]
        left = _mode([ln.x0 for ln in lines]) if len(lines) >= 8 else doc_left
        right = _high([ln.x1 for ln in lines]) if len(lines) >= 8 else doc_right
        gaps = [b.top - a.bottom for a, b in zip(lines, lines[1:]) if 0 <= b.top - a.bottom < 3 * body_size]
        gap = statistics.median(gaps) if gaps else body_size * 0.5
        out[page.number] = (left, right, gap)
    return out


def _mode(values: list[float]) -> float:
    return Counter(round(v) for v in values).most_common(1)[0][0]


def _high(values: list[float]) -> float:
    # the right margin is where full lines end: the furthest body line (short lines are the majority
    # in forms and lists, so a percentile would sit inside the text column)
    return max(values)


def _starts_with_marker(text: str) -> bool:
    """Does the line open with a heading marker (the outline's own patterns)?"""
    stripped = text.lstrip()
    return any(p.match(stripped) for _, p in markers())


def _continues(prev: Line, ln: Line, margins: dict, body_size: float) -> bool:
    """Does `ln` continue the paragraph that `prev` is the last line of?"""
    left, right, gap = margins[ln.page]
    size = body_size
    display = prev.size > body_size + 1 or ln.size > body_size + 1
    if abs(prev.size - ln.size) > 1:
        return False
    if display:  # a title set over several lines, same size, stacked closely
        return ln.page == prev.page and ln.top - prev.bottom < 1.2 * ln.size
    if ln.page == prev.page and ln.top - prev.bottom > gap + 0.8 * size:
        return False
    p_left, p_right, _ = margins[prev.page]
    prev_full = prev.x1 >= p_right - 2.2 * size
    # a long number or Latin word is wrapped whole, leaving the line before it short
    if (
        not prev_full
        and prev.text.rstrip()[-1:] not in _SENTENCE_END
        and re.match(r"[-+\dA-Za-z]", ln.text)
        and not _starts_with_marker(normalise(prev.text))
        and not _starts_with_marker(normalise(ln.text))
        and prev.x1 - left >= 0.6 * (p_right - left)
    ):
        first_token = re.match(r"[-+\w.,%]+", ln.text)
        width = (first_token.end() if first_token else 1) * size * 0.6
        prev_full = prev.x1 + width >= p_right - 2.2 * size
    # a continuation line starts at the left margin; one further in or out starts another block
    indented = ln.x0 > left + 1.2 * size
    if not prev_full or indented:
        return False
    if _starts_with_marker(normalise(ln.text)) and prev.text.rstrip()[-1:] in _SENTENCE_END:
        return False
    return True


def _join(lines: list[Line], index: int, body_size: float) -> Paragraph:
    text_parts: list[str] = []
    glyphs: list[Glyph | None] = []
    for ln in lines:
        t, g = ln.text, list(ln.glyphs)
        if text_parts:
            t, g = t.lstrip(), g[len(t) - len(t.lstrip()) :]
        text_parts.append(t)
        glyphs.extend(g)
    text = "".join(text_parts)
    size = Counter(ln.size for ln in lines).most_common(1)[0][0]
    return Paragraph(
        index=index,
        text=text,
        norm=normalise(text),
        glyphs=glyphs,
        page=lines[0].page,
        size=size,
        display=size > body_size + 1,
    )
