"""What the reconciliation rules read: the report's prose as one stream with sentences, and the
breakdowns (其中 / 包括 …) it states, parsed once and shared by the rules."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import cache

from ..model import Figure, Report
from ..vocabulary import alternation, vocab
from .arith import Interval, finest_decimals, interval

_SENTENCE_END = re.compile(r"[。！？!?]")


@cache
def cfg() -> dict:
    return vocab()["reconcile"]


@dataclass
class Item:
    """A prose figure placed in the stream."""

    fig: Figure
    pos: int
    end: int
    sentence: int


@dataclass
class Group:
    """A stated breakdown: `total` and the `parts` listed after 其中/包括."""

    marker: str
    pos: int  # where the marker stands in the stream
    scope_end: int
    in_paren: bool
    total: Figure | None = None
    parts: list[Figure] = field(default_factory=list)


@dataclass
class Relation:
    """An arithmetic relation the report states, before it is verified."""

    rule: str  # sum, difference, ratio, ratio_sum, growth, count, repeat, score_cap, …
    result: Figure
    operands: list[Figure] = field(default_factory=list)
    numerator: list[Figure] = field(default_factory=list)
    denominator: list[Figure] = field(default_factory=list)
    evidence: str = ""
    kind: str | None = None  # the arithmetic when it differs from the rule's name
    direction: int = 1  # growth stated as 下降: the rate is the negative of the arithmetic
    strict: bool = True  # False: report only when it holds (a guess at what the words mean)
    count: int | None = None  # for count relations: how many items are listed


class Context:
    def __init__(self, report: Report):
        self.report = report
        self.finest = finest_decimals(report.figures)
        parts: list[str] = []
        offset = 0
        breaks: list[int] = []
        self.items: list[Item] = []
        self.paragraph_start: dict[int, int] = {}
        by_paragraph: dict[int, list[Figure]] = {}
        for f in report.figures:
            if f.table is None:
                by_paragraph.setdefault(f.paragraph, []).append(f)
        for p in report.paragraphs:
            if p.table is not None:
                breaks.append(offset)
                continue
            self.paragraph_start[p.index] = offset
            text = p.norm
            for m in _SENTENCE_END.finditer(text):
                breaks.append(offset + m.end())
            for f in by_paragraph.get(p.index, []):
                self.items.append(Item(f, offset + f.start, offset + f.end, 0))
            parts.append(text)
            offset += len(text)
            if p.heading or p.display or text.rstrip()[-1:] in "。！？!?":
                breaks.append(offset)
            parts.append("\n")
            offset += 1
        self.text = "".join(parts)
        self.breaks = sorted(set(breaks))
        for it in self.items:
            it.sentence = self.sentence_of(it.pos)
        self.item_of = {it.fig.id: it for it in self.items}
        self.groups = self._groups()
        self.part_ids = {f.id for g in self.groups if g.total is not None or len(g.parts) > 1 for f in g.parts}
        self.group_totals = {g.total.id for g in self.groups if g.total is not None and len(g.parts) >= 2}
        # results already explained by a relation that holds: later, looser rules leave them alone
        self.claimed: set[str] = set()
        self.passed: dict[str, list[Relation]] = {}  # result id → relations that hold, as rules find them
        self.stated: dict[str, list[Relation]] = {}  # result id → every relation kept, holding or not
        parents = {s.id: s.parent for s in report.sections}
        self.top_section: dict[str | None, str | None] = {}
        for s in report.sections:
            top = s.id
            while parents.get(top):
                top = parents[top]
            self.top_section[s.id] = top

    # -- helpers the rules share
    def sentence_of(self, pos: int) -> int:
        return bisect.bisect_right(self.breaks, pos)

    def sentence_span(self, sentence: int) -> tuple[int, int]:
        start = self.breaks[sentence - 1] if sentence > 0 else 0
        end = self.breaks[sentence] if sentence < len(self.breaks) else len(self.text)
        return start, end

    def iv(self, f: Figure) -> Interval:
        return interval(f, self.finest)

    def words(self, start: int, end: int) -> str:
        return self.text[max(0, start):end].replace("\n", "")

    def before(self, it: Item, n: int = 8) -> str:
        return self.text[max(0, it.pos - n):it.pos]

    def in_sentence(self, sentence: int) -> list[Item]:
        return [it for it in self.items if it.sentence == sentence]

    # -- breakdowns
    def _groups(self) -> list[Group]:
        c = cfg()
        # 其中一位 / 其中之一 name one of something, not a breakdown
        marker_re = re.compile(rf"(?P<m>{alternation(c['breakdown'])})(?![一二两三四五六七八九十\d]+[位个名项人家次]|之)[:：]?"
                               r"|(?<=元)(?P<zhong>中)[,，]")
        paren_re = re.compile(rf"[(（]\s*(?P<m>{alternation(c['paren_part'])})[:：]?")
        markers: list[tuple[int, int, str, bool]] = []
        for m in marker_re.finditer(self.text):
            inside = self._open_paren(m.start())
            markers.append((m.start(), m.end(), m.group("m") or "中", inside is not None))
        for m in paren_re.finditer(self.text):
            if any(a == m.start("m") for a, _, _, _ in markers):
                continue
            markers.append((m.start("m"), m.end(), m.group("m"), True))
        markers.sort()
        groups: list[Group] = []
        for pos, end, word, in_paren in markers:
            if in_paren:
                close = re.search(r"[)）]", self.text[end:])
                scope_end = end + close.start() if close else self.sentence_span(self.sentence_of(pos))[1]
            else:
                scope_end = self.sentence_span(self.sentence_of(pos))[1]
            groups.append(Group(word, pos, scope_end, in_paren))
        for g in groups:
            nested = [h for h in groups if g.pos < h.pos < g.scope_end]
            inside = [it for it in self.items if g.pos < it.pos < g.scope_end
                      and not any(h.pos < it.pos < h.scope_end for h in nested)]
            g.total = self._total(g, inside)
            cls = _class(g.total.fig if isinstance(g.total, Item) else None) or next(
                (_class(it.fig) for it in inside if _class(it.fig)), None)
            parts = [it for it in inside if _class(it.fig) == cls and cls is not None]
            if isinstance(g.total, Item) and not g.in_paren:
                parts = self._clause_cut(g.total, parts)
            g.parts = [it.fig for it in parts]
            if isinstance(g.total, Item):
                g.total = g.total.fig
        return groups

    def _clause_cut(self, total: Item, parts: list[Item]) -> list[Item]:
        """A breakdown may end at a ；before its sentence does (…其中行政 42 人，事业 1,193 人；离退休
        560 人。): the longest run of parts up to a ；that adds up is the breakdown, else the run up to
        the first ；when it already lists two parts."""
        cuts = [n for n in range(1, len(parts))
                if re.search(r"[;；]", self.text[parts[n - 1].end:parts[n].pos])]
        if not cuts:
            return parts
        if self._sums_to(total, parts):
            return parts
        for n in reversed(cuts):
            if n >= 2 and self._sums_to(total, parts[:n]):
                return parts[:n]
        return parts[:cuts[0]] if cuts[0] >= 2 else parts

    def _open_paren(self, pos: int) -> int | None:
        start = self.sentence_span(self.sentence_of(pos))[0]
        seg = self.text[start:pos]
        o = max(seg.rfind("("), seg.rfind("（"))
        if o >= 0 and not re.search(r"[)）]", seg[o:]):
            return start + o
        return None

    def _total(self, g: Group, inside: list[Item]):
        """The figure a breakdown is of: the one just before it, or the one its parts add up to."""
        parts_cls = next((_class(it.fig) for it in inside if _class(it.fig)), None)
        if g.in_paren:
            open_at = self._open_paren(g.pos)
            cands = [it for it in self.items if it.end <= (open_at or g.pos) and it.end >= (open_at or g.pos) - 2]
            return cands[-1] if cands and _class(cands[-1].fig) else None
        sentence = self.sentence_of(g.pos)
        start = self.sentence_span(sentence)[0]
        same = [it for it in self.items if start <= it.pos < g.pos and _class(it.fig)
                and (parts_cls is None or _class(it.fig) == parts_cls)]
        # "X，较上年 Y 下降 p%，其中：…" breaks down X, not the prior year's Y
        prior = re.compile("|".join(cfg()["prior_words"]))
        current = [it for it in same if not prior.search(it.fig.label or "")]
        same = current or same
        parts = [it for it in inside if _class(it.fig) == parts_cls]
        if same:
            exact = [it for it in same if parts and self._sums_to(it, parts)]
            return exact[-1] if exact else same[-1]
        prev = [it for it in self.in_sentence(sentence - 1) if _class(it.fig)
                and (parts_cls is None or _class(it.fig) == parts_cls)]
        if not prev or not parts:
            return None
        exact = [it for it in prev if self._sums_to(it, parts)]
        if exact:
            return exact[-1]
        s = sum(it.fig.value_yuan or it.fig.value for it in parts)
        return min(prev, key=lambda it: abs((it.fig.value_yuan or it.fig.value) - s))

    def _sums_to(self, total: Item, parts: list[Item]) -> bool:
        acc = None
        for it in parts:
            acc = self.iv(it.fig) if acc is None else acc + self.iv(it.fig)
        return acc is not None and acc.overlaps(self.iv(total.fig))


def _class(f: Figure | None) -> str | None:
    """Figures that can add up together: money with money, head counts with head counts."""
    if f is None:
        return None
    if f.kind == "amount":
        return "amount"
    if f.kind == "count" and f.unit in ("人", "名"):
        return "head"
    return None
