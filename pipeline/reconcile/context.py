"""What the reconciliation detectors read: the report's prose as one stream cut into sentences and
clauses, each prose figure placed in it with the role its words give it, and the breakdowns (其中 /
包括 …) the text states. Everything here is computed once, before any detector runs, and never changed
by one: detectors share facts, not state.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import cache, cached_property

from ..model import Figure, Report
from ..vocabulary import DATA, alternation
from .arith import Interval, finest_decimals, interval

_SENTENCE_END = re.compile(r"[。！？!?]")
# a clause ends at a comma, semicolon or colon; an ASCII comma between digits is a thousands separator
_CLAUSE_END = re.compile(r"[，;；:：、]|,(?!\d{3}(?!\d))")


@cache
def cfg() -> dict:
    import tomllib

    with open(DATA / "reconcile.toml", "rb") as fh:
        return tomllib.load(fh)


@cache
def rx(key: str) -> re.Pattern[str]:
    """The vocabulary entry `key` as one regex: a pattern as written, a word list longest word first."""
    entry = cfg()[key]
    return re.compile(entry if isinstance(entry, str) else alternation(entry))


@cache
def rx_end(key: str) -> re.Pattern[str]:
    """The vocabulary entry `key` as a regex that must end the text searched."""
    return re.compile(rf"(?:{alternation(cfg()[key])})$")


@dataclass
class Role:
    """What the words around a figure make it: a change against something, last year's figure, a budget,
    an actual, an adjustment (+1 追加 / −1 调减), and the year its clause names."""

    change: bool = False
    prior: bool = False
    budget: bool = False  # named a budget outright (预算 / 计划 / 年初 …)
    actual: bool = False  # named an actual outright (实际 / 执行 / 决算 …)
    budget_cue: bool = False  # only suggested: 下达 / 资金总额 / 项目资金 …
    actual_cue: bool = False  # 拨付 / 到位 / 支出 …
    adjust: int = 0
    year: int | None = None

    @property
    def level(self) -> bool:
        """A plain stated amount: neither a change nor an adjustment."""
        return not self.change and not self.adjust


@dataclass
class Item:
    """A prose figure placed in the stream."""

    fig: Figure
    pos: int
    end: int
    sentence: int
    n: int  # its index in reading order among prose figures
    role: Role = field(default_factory=Role)


@dataclass
class Group:
    """A stated breakdown: the candidate totals (nearest first) and the parts listed after 其中/包括."""

    marker: str
    pos: int  # where the marker stands in the stream
    scope_end: int
    in_paren: bool
    totals: list[Figure] = field(default_factory=list)
    parts: list[Figure] = field(default_factory=list)
    cuts: list[int] = field(default_factory=list)  # part counts at which a ；ends a shorter reading
    adjacent: bool = False  # the nearest total stands right before the marker: the wording pins it
    partial: bool = False  # 主要包括 / …等: only some parts are named

    @property
    def total(self) -> Figure | None:
        return self.totals[0] if self.totals else None


def _closes_paren(text: str) -> bool:
    """Whether `text` closes a parenthesis it did not open: what stands before it was inside one."""
    depth = 0
    for ch in text:
        if ch in "(（":
            depth += 1
        elif ch in ")）":
            depth -= 1
            if depth < 0:
                return True
    return False


def figure_class(f: Figure | None) -> str | None:
    """Figures that can add up together: money with money, head counts with head counts."""
    if f is None:
        return None
    if f.kind == "amount":
        return "amount"
    if f.kind == "count" and f.unit in cfg()["head_units"]:
        return "head"
    return None


class Context:
    def __init__(self, report: Report):
        self.report = report
        self.finest = finest_decimals(report.figures)
        self._intervals: dict[str, tuple[Figure, Interval]] = {}
        parts: list[str] = []
        offset = 0
        breaks: list[int] = []
        clause_breaks: list[int] = []
        self.paragraph_start: dict[int, int] = {}
        self.paragraph_of_pos: list[tuple[int, int]] = []  # (start offset, paragraph index)
        by_paragraph: dict[int, list[Figure]] = {}
        for f in report.figures:
            if f.table is None:
                by_paragraph.setdefault(f.paragraph, []).append(f)
        placed: list[tuple[Figure, int, int]] = []
        for p in report.paragraphs:
            if p.table is not None:
                breaks.append(offset)
                continue
            self.paragraph_start[p.index] = offset
            self.paragraph_of_pos.append((offset, p.index))
            text = p.norm
            for m in _SENTENCE_END.finditer(text):
                breaks.append(offset + m.end())
            for m in _CLAUSE_END.finditer(text):
                clause_breaks.append(offset + m.end())
            for f in sorted(by_paragraph.get(p.index, []), key=lambda f: f.start):
                placed.append((f, offset + f.start, offset + f.end))
            parts.append(text)
            offset += len(text)
            if p.heading or p.display or text.rstrip()[-1:] in "。！？!?":
                breaks.append(offset)
            parts.append("\n")
            offset += 1
        self.text = "".join(parts)
        self.breaks = sorted(set(breaks))
        self.clause_breaks = sorted(
            set(clause_breaks) | set(self.breaks) | {s for s in self.paragraph_start.values()}
        )
        self.items: list[Item] = []
        for n, (f, pos, end) in enumerate(placed):
            self.items.append(Item(f, pos, end, self.sentence_of(pos), n))
        self.item_of = {it.fig.id: it for it in self.items}
        self.by_sentence: dict[int, list[Item]] = {}
        self.by_paragraph: dict[int, list[Item]] = {}
        for it in self.items:
            self.by_sentence.setdefault(it.sentence, []).append(it)
            self.by_paragraph.setdefault(it.fig.paragraph, []).append(it)
        self.paragraph_order = [idx for _, idx in self.paragraph_of_pos]
        self.paragraph_rank = {idx: n for n, idx in enumerate(self.paragraph_order)}
        for it in self.items:
            it.role = self._role(it)
        self.groups = self._groups()
        self.part_ids = {f.id for g in self.groups if g.total is not None for f in g.parts}
        self.group_totals = {g.total.id for g in self.groups if g.total is not None and len(g.parts) >= 2}
        parents = self.parent_of = {s.id: s.parent for s in report.sections}
        self.top_section: dict[str | None, str | None] = {}
        for s in report.sections:
            top = s.id
            while parents.get(top):
                top = parents[top]
            self.top_section[s.id] = top

    # -- where things stand
    def sentence_of(self, pos: int) -> int:
        return bisect.bisect_right(self.breaks, pos)

    def clause_of(self, pos: int) -> int:
        return bisect.bisect_right(self.clause_breaks, pos)

    def sentence_span(self, sentence: int) -> tuple[int, int]:
        start = self.breaks[sentence - 1] if sentence > 0 else 0
        end = self.breaks[sentence] if sentence < len(self.breaks) else len(self.text)
        return start, end

    def clause_start(self, pos: int) -> int:
        c = self.clause_of(pos)
        return self.clause_breaks[c - 1] if c > 0 else 0

    def iv(self, f: Figure) -> Interval:
        cached = self._intervals.get(f.id)
        if cached is None or cached[0] is not f:
            cached = self._intervals[f.id] = (f, interval(f, self.finest))
        return cached[1]

    @cached_property
    def chapters(self) -> list[tuple[str | None, list[Item]]]:
        """The prose amounts of each top-level chapter, chapters in reading order."""
        out: dict[str | None, list[Item]] = {}
        for it in self.items:
            if it.fig.kind == "amount":
                out.setdefault(self.top_section.get(it.fig.section), []).append(it)
        return list(out.items())

    def chapters_before(self, it: Item, n: int = 3) -> list[list[Item]]:
        """The amounts of the chapter `it` stands in and of the n − 1 chapters before it, nearest first."""
        own = self.top_section.get(it.fig.section)
        keys = [k for k, _ in self.chapters]
        at = keys.index(own) if own in keys else len(keys) - 1
        return [self.chapters[k][1] for k in range(at, max(-1, at - n), -1)]

    @cached_property
    def groups_of_part(self) -> dict[str, list[Group]]:
        out: dict[str, list[Group]] = {}
        for g in self.groups:
            for f in g.parts:
                out.setdefault(f.id, []).append(g)
        return out

    def words(self, start: int, end: int) -> str:
        return self.text[max(0, start) : end].replace("\n", "")

    def before(self, it: Item, n: int = 8) -> str:
        return self.text[max(0, it.pos - n) : it.pos]

    def lead(self, it: Item) -> str:
        """The words of its own clause before the figure, back to the previous figure."""
        start = self.clause_start(it.pos)
        if it.n > 0 and self.items[it.n - 1].end > start:
            start = self.items[it.n - 1].end
        return self.text[start : it.pos]

    def tail(self, it: Item, n: int = 12) -> str:
        """The words right after the figure, up to the end of its clause (10441 万元资金全部拨付到位)."""
        return re.split(r"[，,；;。:：]", self.text[it.end : it.end + n])[0]

    def in_sentence(self, sentence: int) -> list[Item]:
        return self.by_sentence.get(sentence, [])

    def passage(self, it: Item, paragraphs: int | None = None) -> list[Item]:
        """Prose figures before `it` in its paragraph and the few paragraphs before it, nearest first."""
        k = cfg()["passage_paragraphs"] if paragraphs is None else paragraphs
        rank = self.paragraph_rank.get(it.fig.paragraph, 0)
        out: list[Item] = []
        for idx in reversed(self.paragraph_order[max(0, rank - k) : rank + 1]):
            out.extend(x for x in reversed(self.by_paragraph.get(idx, [])) if x.pos < it.pos)
        return out

    # -- roles
    def sentence_head_year(self, sentence: int) -> int | None:
        start = self.sentence_span(sentence)[0]
        first = self.in_sentence(sentence)
        head = self.text[start : first[0].pos] if first else ""
        years = rx("year").findall(head)
        return int(years[0]) if years and not rx("comparison").search(head) else None

    def _role(self, it: Item) -> Role:
        label = it.fig.label or ""
        lead = self.lead(it)
        near = rx("change_gap").sub("", lead)  # 减少了 / 增加为 / 节约达
        change = bool(rx_end("change_words").search(near)) and bool(
            rx("comparison").search(self.text[self.sentence_span(it.sentence)[0] : it.pos])
            or rx("change_verb").search(near)
        )
        if not change and rx("change_label").search(label):
            change = bool(rx("comparison").search(label))
        adjust = 0
        if rx("adjust_up").search(near) or rx("adjust_up").search(label):
            adjust = 1
        elif rx("adjust_down").search(near) or rx("adjust_down").search(label):
            adjust = -1
        prior = (
            not change
            and bool(rx("prior_words").search(label) or rx("prior_words").search(lead))
            and not rx("prior_not").search(label + lead)
        )
        # the year its own words name, else the year that heads its sentence (2022 年度预算总计 X，其中 A y);
        # a comparison's year (比 2022 年减少) belongs to the change it introduces, never to the figures after
        sentence_start = self.sentence_span(it.sentence)[0]
        own = rx("year").findall(self.text[max(sentence_start, it.pos - len(lead)) : it.pos])
        head = self.sentence_head_year(it.sentence)
        year = int(own[-1]) if own else head
        dated = None if change else rx("dated_base").search(lead)
        reference = head if head is not None else self.report.meta.year
        if dated and reference is not None and int(dated.group("year")) < reference:
            prior = True  # 2023 年支出 1.25 万元，比 2022 年 1.50 万元减少 0.25 万元
        budget = bool(rx("budget_words").search(label))
        actual = bool(rx("actual_words").search(label))
        # a word named outright wins over a cue of the other role (基本支出预算 is a budget)
        budget_cue = budget or (
            not actual
            and bool(
                rx("budget_cues").search(label)
                or rx("budget_cues").search(lead)
                or rx("budget_words").search(lead)
            )
        )
        actual_cue = actual or (
            not budget
            and bool(
                rx("actual_cues").search(label)
                or rx("actual_cues").search(lead[-6:])
                or rx("actual_words").search(lead[-6:])
            )
        )
        return Role(
            change=change,
            prior=prior,
            budget=budget,
            actual=actual,
            budget_cue=budget_cue,
            actual_cue=actual_cue,
            adjust=adjust,
            year=year,
        )

    # -- breakdowns
    def _groups(self) -> list[Group]:
        c = cfg()
        # 其中一位 / 其中之一 name one of something, not a breakdown
        marker_re = re.compile(
            rf"(?P<m>{alternation(c['breakdown'])})(?!{c['breakdown_not_before']})[:：]?"
            r"|(?<=元)(?P<zhong>中)[,，]"
        )
        paren_re = re.compile(rf"[(（]\s*(?P<m>{alternation(c['paren_part'])})[:：]?")
        partial_re = re.compile(alternation(c["partial_breakdown"]))
        markers: list[tuple[int, int, str, bool]] = []
        for m in marker_re.finditer(self.text):
            word = m.group("m") or "中"
            markers.append((m.start(), m.end(), word, self._open_paren(m.start()) is not None))
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
            g = Group(word, pos, scope_end, in_paren)
            g.partial = bool(partial_re.fullmatch(word)) or bool(
                re.search(c["partial_tail"], self.text[pos : scope_end + 1])
            )
            groups.append(g)
        by_pos = [g.pos for g in groups]
        for g in groups:
            lo = bisect.bisect_right(by_pos, g.pos)
            nested = [h for h in groups[lo:] if h.pos < g.scope_end]
            inside = [
                it
                for it in self._items_between(g.pos, g.scope_end)
                if not any(h.pos < it.pos < h.scope_end for h in nested)
            ]
            cands, adjacent = self._totals(g, inside)
            cls = (
                figure_class(cands[0].fig)
                if cands
                else next((figure_class(it.fig) for it in inside if figure_class(it.fig)), None)
            )
            parts: list[Item] = []
            adjust_at = None
            # a breakdown of a change lists changes (比上年增加 Δ，其中：A 增加 a，B 增加 b)
            of_change = bool(cands) and cands[0].role.change
            for it in inside:
                if cls is None or figure_class(it.fig) != cls:
                    continue
                if it.role.change != of_change or (
                    it.role.prior and not any(x.role.prior for x in cands[:1])
                ):
                    continue
                if it.role.adjust and adjust_at is None:
                    adjust_at = len(parts)
                if rx("total_words").search(self.lead(it)[-4:]) and len(parts) >= 2:
                    break  # 其中：A a，B b，合计 c: the list's own total closes it
                parts.append(it)
            if adjust_at is not None and adjust_at >= 2:
                # 下达 A，其中 a1、a2，调减 d，实际下达 e: the breakdown ends where the adjustment starts;
                # 其中年初预算 a，调整追加 d (one part before it) makes the adjustment a part
                parts = parts[:adjust_at]
            g.totals = [it.fig for it in cands if figure_class(it.fig) == cls]
            g.adjacent = adjacent
            g.parts = [it.fig for it in parts]
            g.cuts = [
                n
                for n in range(2, len(parts))
                if re.search(r"[;；]", self.text[parts[n - 1].end : parts[n].pos])
            ]
        return groups

    def _items_between(self, start: int, end: int) -> list[Item]:
        lo = bisect.bisect_right(self._positions, start)
        out = []
        for it in self.items[lo:]:
            if it.pos >= end:
                break
            out.append(it)
        return out

    @cached_property
    def _positions(self) -> list[int]:
        return [it.pos for it in self.items]

    def _open_paren(self, pos: int) -> int | None:
        start = self.sentence_span(self.sentence_of(pos))[0]
        seg = self.text[start:pos]
        o = max(seg.rfind("("), seg.rfind("（"))
        if o >= 0 and not re.search(r"[)）]", seg[o:]):
            return start + o
        return None

    def _totals(self, g: Group, inside: list[Item]) -> tuple[list[Item], bool]:
        """The figures a breakdown may be of, nearest first, and whether the wording pins the nearest:
        其中 right after a figure (X 万元，其中) breaks down that figure."""
        parts_cls = next((figure_class(it.fig) for it in inside if figure_class(it.fig)), None)
        i = bisect.bisect_left(self._positions, g.pos) - 1
        if g.in_paren:
            open_at = self._open_paren(g.pos) or g.pos
            if i >= 0 and open_at - 2 <= self.items[i].end <= open_at and figure_class(self.items[i].fig):
                return [self.items[i]], True
            return [], False
        sentence = self.sentence_of(g.pos)
        start = self.sentence_span(sentence)[0]
        # a figure inside a parenthesis that closed before the marker (合计 980（含结转 80），其中…) is a
        # note on the total, never the total itself
        same = [
            it
            for it in reversed(self.in_sentence(sentence))
            if it.pos < g.pos
            and figure_class(it.fig)
            and (parts_cls is None or figure_class(it.fig) == parts_cls)
            and not _closes_paren(self.text[it.end : g.pos])
        ]
        if not same:
            # 其中 opens the next sentence: 实有人数 6 人。其中：在职 3 人…
            prev = self.in_sentence(sentence - 1) if g.pos - start <= 2 else []
            same = [
                it
                for it in reversed(prev)
                if figure_class(it.fig) and (parts_cls is None or figure_class(it.fig) == parts_cls)
            ]
        if not same:
            return [], False
        # "X，较上年 Δ 下降 p%，其中：…" breaks down X, not the change or the prior year's figure — unless
        # the change itself stands right before the marker and its parts are changes too
        gap = self.text[same[0].end : g.pos]
        adjacent = bool(re.fullmatch(r"[\s,，。;；:：)）]*", gap))
        if adjacent and same[0].role.change and any(it.role.change for it in inside):
            return [same[0]], True
        # a difference named as such (超预算 131.29) is not what a 其中 after it breaks down
        plain = [
            it
            for it in same
            if it.role.level and not it.role.prior and not rx("difference_label").search(it.fig.label or "")
        ]
        if plain:
            # the nearest plain figure: what stands between it and the marker (较上年 Y 下降 p%) describes it
            return [plain[0]], True
        return same, len(same) == 1
