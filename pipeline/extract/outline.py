"""Stage 3: the outline — headings of every marker kind, on their own line or run-in.

Depth follows the markers this document uses, ranked in their usual order (一、 above （一） above
1. above (1)), so a report that goes 一、 → (1) directly has (1) at depth 2.  A run of enumerated
items ending in ；(a list of duties) is a list, not headings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from pipeline.model import Paragraph, Report, Section
from pipeline.vocabulary import vocab

from .text import parse_cn_number

_TITLE_END = re.compile(r"[。:：]")
_CLAUSE_END = re.compile(r"[。:：;；]")


@dataclass
class _Candidate:
    paragraph: Paragraph
    kind: str
    number: str
    value: int
    title: str
    body_start: int
    list_like: bool
    eligible: bool  # a title short enough to be a heading


@cache
def markers() -> list[tuple[str, re.Pattern[str]]]:
    """Heading marker kinds and their patterns, in their usual order of depth."""
    return [(m["kind"], re.compile(m["pattern"])) for m in vocab()["outline"]["markers"]]


def _number_value(number: str) -> int:
    if number.isdigit():
        return int(number)
    circled = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
    if number in circled:
        return circled.index(number) + 1
    return int(parse_cn_number(number) or 0)


def _candidate(p: Paragraph, nxt: Paragraph | None = None) -> _Candidate | None:
    # a heading may be set larger than the body (display); the title never starts with a marker
    if p.table is not None or not p.norm.strip():
        return None
    text = p.norm.lstrip()
    lead = len(p.norm) - len(text)
    cfg = vocab()["outline"]
    for kind, pattern in markers():
        m = pattern.match(text)
        if not m:
            continue
        rest_start = lead + m.end()
        rest = p.norm[rest_start:]
        if not rest.strip():
            # the marker alone on its line, the title on the next: 三、 / 支出决算情况说明
            title = nxt.text.strip() if nxt is not None and nxt.table is None else ""
            if not title or _candidate(nxt) is not None or _CLAUSE_END.search(title[:-1]):
                return None
            eligible = len(title) <= cfg["max_title"]
            return _Candidate(
                p,
                kind,
                m.group(1),
                _number_value(m.group(1)),
                _TITLE_END.split(title)[0],
                len(p.norm),
                title[-1:] in cfg["list_end"],
                eligible,
            )
        end = _TITLE_END.search(rest)
        clause = _CLAUSE_END.search(rest)
        title_end = end.start() if end else len(rest)
        title = p.text[rest_start : rest_start + title_end].strip()
        list_like = bool(clause and rest[clause.start()] in cfg["list_end"]) or (
            not end and rest.rstrip()[-1:] in cfg["list_end"]
        )
        eligible = bool(title) and len(title) <= cfg["max_title"]
        body_start = rest_start + (end.end() if end else len(rest))
        return _Candidate(
            p, kind, m.group(1), _number_value(m.group(1)), title, body_start, list_like, eligible
        )
    return None


def _runs(cands: list[_Candidate]) -> list[list[_Candidate]]:
    """Sibling runs: consecutive same-kind markers counting up 1, 2, 3 … without a higher marker between."""
    runs: list[list[_Candidate]] = []
    open_runs: dict[str, list[_Candidate]] = {}
    kinds = list(dict.fromkeys(k for k, _ in markers()))  # a kind may have several patterns: (1) and 1）
    for c in cands:
        run = open_runs.get(c.kind)
        if run is not None and c.value == run[-1].value + 1:
            run.append(c)
        else:
            run = [c]
            runs.append(run)
            open_runs[c.kind] = run
        # a marker closes the runs of the kinds usually below it
        for k in kinds[kinds.index(c.kind) + 1 :]:
            open_runs.pop(k, None)
    return runs


def build_outline(report: Report) -> Report:
    paras = report.paragraphs
    cands = [
        c
        for c in (_candidate(p, paras[i + 1] if i + 1 < len(paras) else None) for i, p in enumerate(paras))
        if c is not None
    ]
    headings: list[_Candidate] = []
    for run in _runs(cands):
        # a list of duties: most items end their first clause with ；
        if sum(c.list_like for c in run) * 2 >= len(run) and any(c.list_like for c in run):
            continue
        headings.extend(c for c in run if c.eligible and not c.list_like)
    headings.sort(key=lambda c: c.paragraph.index)
    order = [k for k, _ in markers()]
    used = sorted({c.kind for c in headings}, key=order.index)
    depth = {k: i + 1 for i, k in enumerate(used)}
    sections: list[Section] = []
    stack: list[Section] = []
    for n, c in enumerate(headings, 1):
        level = depth[c.kind]
        while stack and stack[-1].level >= level:
            stack.pop()
        sec = Section(
            id=f"s{n}",
            level=level,
            number=c.number,
            title=c.title,
            page=c.paragraph.page,
            parent=stack[-1].id if stack else None,
            marker=c.kind,
            paragraph=c.paragraph.index,
        )
        sections.append(sec)
        stack.append(sec)
        c.paragraph.heading = sec.id
        c.paragraph.body_start = c.body_start
    # every paragraph stands in the latest section opened before (or by) it
    current = None
    by_paragraph = {s.paragraph: s for s in sections}
    for p in report.paragraphs:
        if p.index in by_paragraph:
            current = by_paragraph[p.index].id
        p.section = current
    report.sections = sections
    return report
