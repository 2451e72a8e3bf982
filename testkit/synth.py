"""Render a report given as structured blocks into a PDF that looks like a real submission.

Tests, samples and benchmarks need many realistic reports but the real ones are few, so this draws the
same text in the layouts units actually submit: different fonts, sizes, margins, page sizes, running
headers and page-number styles. Body text wraps character by character at the right margin, exactly as
Word and WPS do with Chinese, so a number can be cut from its unit across a line or a page; that is the
point, the extractor has to cope with it. Tables are ruled so pdfplumber finds them.

Everything is drawn with reportlab's canvas: the text is typeset into pages of drawing operations
first, then drawn, so a footer can print the page total ("第 2 页 共 7 页").
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import cm, inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

__all__ = [
    "Block",
    "Layout",
    "LAYOUTS",
    "render_pdf",
    "blocks_from_text",
    "seed_text",
    "heading_level",
    "selfeval_blocks",
    "UNIT",
]


@dataclass
class Block:
    """One piece of a report, in reading order."""

    kind: str  # "title" | "heading" | "para" | "table" | "signature"
    text: str = ""  # a heading's text includes its marker; a signature may hold several lines ("\n")
    rows: list[list[str]] | None = None  # table cells, header rows first
    col_widths: list[float] | None = None  # relative column widths
    spans: list[tuple[int, int, int, int]] | None = None  # merged cells (row0, col0, row1, col1), inclusive


# --- fonts -------------------------------------------------------------------------------------------

# logical name -> (fontconfig family, usual Debian file); the CID font needs no file.
_TTF = {
    "UMing": ("AR PL UMing CN", "/usr/share/fonts/truetype/arphic/uming.ttc"),
    "UKai": ("AR PL UKai CN", "/usr/share/fonts/truetype/arphic/ukai.ttc"),
    "ZenHei": ("WenQuanYi Zen Hei", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
}
_CID = "STSong-Light"


def _find_font(family: str, default: str) -> tuple[str, int]:
    """File and face index of a font family: ask fontconfig, since .ttc files hold several faces."""
    if shutil.which("fc-match"):
        out = subprocess.run(
            ["fc-match", "-f", "%{file}\t%{index}\t%{family}", family], capture_output=True, text=True
        ).stdout
        parts = out.split("\t")
        # fc-match always answers with *something*; only trust it when it found the family asked for.
        if len(parts) == 3 and family in parts[2].split(","):
            return parts[0], int(parts[1] or 0)
    return default, 0


def _font(name: str) -> str:
    """Register a font with reportlab once and return the name to draw with."""
    if name in pdfmetrics.getRegisteredFontNames():
        return name
    if name == _CID:
        pdfmetrics.registerFont(UnicodeCIDFont(_CID))  # not embedded: the viewer supplies the glyphs
    else:
        path, index = _find_font(*_TTF[name])
        pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))  # embedded as subsets
    return name


def _width(text: str, font: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, font, size)


# --- layouts -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """How one kind of submission looks. Sizes in points."""

    name: str
    page: tuple[float, float]
    margins: tuple[float, float, float, float]  # left, right, top, bottom
    font: str  # body text
    size: float
    leading: float  # baseline to baseline, as a multiple of size
    title_font: str
    title_size: float
    h1_font: str  # 一、 headings
    h2_font: str  # （一） headings; lower levels use the body font
    footer: Callable[[int, int], str]  # (page, total) -> page-number text
    footer_align: str = "center"  # "center" | "right" | "outside" (odd pages right, even left)
    heading_indent: bool = False  # official documents indent headings like paragraphs
    bold_headings: bool = False  # fake bold (fill + stroke), as WPS does for fonts without a bold face
    justify: bool = False  # stretch full lines to the right margin
    kinsoku: str = ""  # "" naive; "hang": closing punctuation hangs in the margin; "push": carry a char down
    para_space: float = 0.0  # extra space after a paragraph
    table_size: float = 10.5
    cell_align: str = "left"  # "left" | "center"
    rule: float = 0.6  # table line width


def _dash(n: int, total: int) -> str:
    return f"- {n} -"


def _page(n: int, total: int) -> str:
    return f"第 {n} 页"


def _page_of(n: int, total: int) -> str:
    return f"第 {n} 页 共 {total} 页"


def _bare(n: int, total: int) -> str:
    return str(n)


LAYOUTS: dict[str, Layout] = {
    # GB/T 9704 official-document look: wide margins, fixed 28 pt lines, headings 黑体 / 楷体.
    "gov": Layout(
        name="gov",
        page=A4,
        margins=(2.8 * cm, 2.6 * cm, 3.7 * cm, 3.5 * cm),
        font="UMing",
        size=14,
        leading=2.0,
        title_font="ZenHei",
        title_size=20,
        h1_font="ZenHei",
        h2_font="UKai",
        footer=_dash,
        footer_align="outside",
        heading_indent=True,
        justify=True,
        kinsoku="hang",
        table_size=10.5,
        cell_align="center",
        rule=0.75,
    ),
    # WPS with the non-embedded Adobe CID font: WPS's default margins, fake-bold headings, ragged right.
    "cid": Layout(
        name="cid",
        page=A4,
        margins=(3.18 * cm, 3.18 * cm, 2.54 * cm, 2.54 * cm),
        font=_CID,
        size=12,
        leading=1.5,
        title_font=_CID,
        title_size=18,
        h1_font=_CID,
        h2_font=_CID,
        footer=_page,
        bold_headings=True,
        para_space=3,
    ),
    # Squeezed to save paper: small 楷体, narrow margins, a bare page number bottom right.
    "tight": Layout(
        name="tight",
        page=A4,
        margins=(1.8 * cm, 1.8 * cm, 1.6 * cm, 1.6 * cm),
        font="UKai",
        size=10.5,
        leading=1.3,
        title_font="ZenHei",
        title_size=15,
        h1_font="ZenHei",
        h2_font="ZenHei",
        footer=_bare,
        footer_align="right",
        para_space=2,
        table_size=9,
        rule=0.5,
    ),
    # Word on US Letter (a template nobody changed): 1.25 in side margins, 1.6 lines, "第 n 页 共 m 页".
    "word": Layout(
        name="word",
        page=LETTER,
        margins=(1.25 * inch, 1.25 * inch, 1 * inch, 1 * inch),
        font="ZenHei",
        size=12,
        leading=1.6,
        title_font="ZenHei",
        title_size=18,
        h1_font="ZenHei",
        h2_font="ZenHei",
        footer=_page_of,
        bold_headings=True,
        justify=True,
        kinsoku="push",
        para_space=4,
    ),
}


# --- line breaking -----------------------------------------------------------------------------------

_NO_START = "，。、；：？！）》」』”’%％·…,.;:?!)]"  # may not begin a line (kinsoku)
_NO_END = "（《「『“‘(["  # may not end a line


def _wrap(
    text: str, font: str, size: float, width: float, indent: float = 0.0, kinsoku: str = ""
) -> list[str]:
    """Break text into lines character by character; the first line is `indent` shorter."""
    lines: list[str] = []
    for part in text.split("\n"):
        start = len(lines)
        cur, used, avail = "", 0.0, width - (indent if not lines else 0.0)
        for ch in part:
            if not cur and ch == " " and lines:
                continue  # a space at the start of a wrapped line disappears, as in Word
            if not cur and kinsoku == "hang" and ch in _NO_START and len(lines) > start:
                lines[-1] += ch  # a second closing mark ("。”") hangs beside the first
                continue
            cw = _width(ch, font, size)
            if cur and used + cw > avail + 0.01:
                if kinsoku == "hang" and ch in _NO_START:
                    lines.append(cur + ch)  # the mark hangs in the margin
                    cur, used, avail = "", 0.0, width
                    continue
                carry = ""
                if kinsoku and len(cur) > 1 and cur[-1] in _NO_END:
                    cur, carry = cur[:-1], cur[-1]
                elif kinsoku == "push" and ch in _NO_START:
                    # carry characters down until the new line starts with one allowed there
                    while len(cur) > 1 and (not carry or carry[0] in _NO_START):
                        cur, carry = cur[:-1], cur[-1] + carry
                lines.append(cur)
                cur, used, avail = carry, _width(carry, font, size), width
            cur += ch
            used += cw
        if cur or len(lines) == start:  # not when a hanging mark ended the part: no empty line after it
            lines.append(cur)
    return lines


# --- typesetting -------------------------------------------------------------------------------------


@dataclass
class _Text:
    x: float
    y: float  # baseline
    text: str
    font: str
    size: float
    space: float = 0.0  # extra space after each character (justification)
    bold: bool = False


@dataclass
class _Rect:
    x: float
    y: float
    w: float
    h: float


_H1 = re.compile(r"^[一二三四五六七八九十]+、")
_H2 = re.compile(r"^[（(][一二三四五六七八九十]+[)）]")
_H3 = re.compile(r"^\d{1,2}[.．、](?!\d)")
_H4 = re.compile(r"^[（(]\d{1,2}[)）]")


def heading_level(text: str) -> int | None:
    """Marker kind of a heading: 1 一、, 2 （一）, 3 1. / 1、, 4 (1); None when it has none."""
    for level, pattern in enumerate((_H1, _H2, _H3, _H4), start=1):
        if pattern.match(text.strip()):
            return level
    return None


class _Setter:
    """Places blocks on pages as drawing operations, keeping a cursor `y` (top of the next line)."""

    def __init__(self, lay: Layout) -> None:
        self.lay = lay
        w, h = lay.page
        left, right, top, bottom = lay.margins
        self.x0, self.x1, self.top, self.bottom = left, w - right, h - top, bottom
        self.width = self.x1 - self.x0
        self.pages: list[list[_Text | _Rect]] = [[]]
        self.y = self.top
        self.font = _font(lay.font)

    def new_page(self) -> None:
        self.pages.append([])
        self.y = self.top

    def need(self, h: float) -> None:
        """Start a new page unless `h` still fits (never leave a page empty)."""
        if self.y - h < self.bottom - 0.01 and self.y < self.top:
            self.new_page()

    def skip(self, h: float) -> None:
        if self.y < self.top:  # no space before the first thing on a page
            self.y = max(self.y - h, self.bottom)

    def line(
        self, x: float, text: str, font: str, size: float, space: float = 0.0, bold: bool = False
    ) -> None:
        lead = size * self.lay.leading
        self.need(lead)
        # centre the em box in the line slot: the baseline sits 0.12 em above the box's bottom
        base = self.y - lead / 2 - 0.38 * size
        self.pages[-1].append(_Text(x, base, text, font, size, space, bold))
        self.y -= lead

    def lines(
        self, text: str, font: str, size: float, indent: float, justify: bool, bold: bool = False
    ) -> None:
        wrapped = _wrap(text, font, size, self.width, indent, self.lay.kinsoku)
        for i, s in enumerate(wrapped):
            x = self.x0 + (indent if i == 0 else 0.0)
            space = 0.0
            if justify and i < len(wrapped) - 1 and len(s) > 1:
                slack = self.x1 - x - _width(s.rstrip(), font, size)
                space = max(slack, 0.0) / (len(s.rstrip()) - 1)
            self.line(x, s, font, size, space, bold)

    def block(self, b: Block) -> None:
        lay, size = self.lay, self.lay.size
        indent = 2 * _width("中", self.font, size)  # two characters, as every Chinese paragraph
        if b.kind == "title":
            font = _font(lay.title_font)
            self.skip(lay.title_size * 0.5)
            for s in _wrap(b.text, font, lay.title_size, self.width * 0.9):
                self.line(
                    self.x0 + (self.width - _width(s, font, lay.title_size)) / 2, s, font, lay.title_size
                )
            self.y -= lay.title_size * 0.6
        elif b.kind == "heading":
            level = heading_level(b.text) or 1
            font = _font({1: lay.h1_font, 2: lay.h2_font}.get(level, lay.font))
            lead = size * lay.leading
            self.skip(lay.para_space * 2)
            self.need(lead * 3)  # keep the heading with the two lines after it
            self.lines(
                b.text,
                font,
                size,
                indent if lay.heading_indent else 0.0,
                False,
                lay.bold_headings and level <= 2,
            )
            self.y -= lay.para_space
        elif b.kind == "para":
            self.lines(b.text, self.font, size, indent, lay.justify)
            self.y -= lay.para_space
        elif b.kind == "signature":
            sig = b.text.split("\n")
            widths = [_width(s, self.font, size) for s in sig]
            centre = (
                self.x1 - 2 * indent - max(widths) / 2
            )  # lines centred on each other, clear of the margin
            self.skip(size * lay.leading * 1.5)
            for s, w in zip(sig, widths, strict=True):
                self.line(centre - w / 2, s, self.font, size)
        elif b.kind == "table":
            self.table(b)
        else:
            raise ValueError(f"unknown block kind {b.kind!r}")

    def table(self, b: Block) -> None:
        lay, size = self.lay, self.lay.table_size
        rows = [list(r) for r in b.rows or []]
        if not rows:
            return
        ncol = max(len(r) for r in rows)
        rows = [r + [""] * (ncol - len(r)) for r in rows]
        span = {(r0, c0): (r1, c1) for r0, c0, r1, c1 in b.spans or []}
        hidden = {
            (r, c)
            for (r0, c0), (r1, c1) in span.items()
            for r in range(r0, r1 + 1)
            for c in range(c0, c1 + 1)
            if (r, c) != (r0, c0)
        }
        pad, lead = 3.0, size * 1.3
        if b.col_widths:
            rel = list(b.col_widths) + [1.0] * (ncol - len(b.col_widths))
        else:  # widths follow the longest unmerged text, capped so one long cell cannot starve the rest
            alone = [
                (r, c)
                for r in range(len(rows))
                for c in range(ncol)
                if (r, c) not in span and (r, c) not in hidden
            ]
            rel = [2.0 * size] * ncol
            for r, c in alone:
                rel[c] = max(rel[c], min(_width(rows[r][c], self.font, size), self.width / 3))
        xs = [self.x0]
        for w in rel:
            xs.append(xs[-1] + w / sum(rel) * self.width)

        cells: dict[tuple[int, int], tuple[int, int, list[str]]] = {}
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                if (r, c) in hidden:
                    continue
                r1, c1 = span.get((r, c), (r, c))
                inner = xs[c1 + 1] - xs[c] - 2 * pad
                cells[r, c] = (
                    r1,
                    c1,
                    _wrap(text, self.font, size, inner, 0.0, "push" if lay.kinsoku else ""),
                )
        heights = [lead + 2 * pad] * len(rows)
        for (r, _c), (r1, _c1, lines) in sorted(cells.items(), key=lambda kv: kv[1][0] - kv[0][0]):
            need = len(lines) * lead + 2 * pad
            have = sum(heights[r : r1 + 1])
            if need > have:  # a merged cell that needs more room makes its last row taller
                heights[r1] += need - have

        self.skip(size)
        r = 0
        while r < len(rows):
            # rows tied together by a vertical merge move to the next page together
            end, k = r, r
            while k <= end:
                end = max([end] + [r1 for (rr, _c), (r1, _c1, _l) in cells.items() if rr == k])
                k += 1
            self.need(sum(heights[r : end + 1]))
            tops = {}
            y = self.y
            for i in range(r, end + 1):
                tops[i] = y
                y -= heights[i]
            for (rr, c), (r1, c1, lines) in cells.items():
                if not r <= rr <= end:
                    continue
                top, h = tops[rr], sum(heights[rr : r1 + 1])
                x, w = xs[c], xs[c1 + 1] - xs[c]
                self.pages[-1].append(_Rect(x, top - h, w, h))
                first = top - (h - len(lines) * lead) / 2  # text centred vertically
                for j, s in enumerate(lines):
                    tw = _width(s, self.font, size)
                    tx = x + (w - tw) / 2 if lay.cell_align == "center" and len(lines) == 1 else x + pad
                    self.pages[-1].append(
                        _Text(tx, first - j * lead - lead / 2 - 0.38 * size, s, self.font, size)
                    )
            self.y = y
            r = end + 1
        self.y -= size


# --- drawing -----------------------------------------------------------------------------------------


def render_pdf(blocks: list[Block], out: Path | str, layout: str = "gov", header: str | None = None) -> Path:
    """Draw `blocks` into a PDF at `out` in one of LAYOUTS; `header` is a running header on every page."""
    lay = LAYOUTS[layout]
    setter = _Setter(lay)
    for b in blocks:
        setter.block(b)
    pages = [p for p in setter.pages if p] or [[]]

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # invariant: no timestamps or random ids, so committed samples only change when the drawing does
    c = Canvas(str(out), pagesize=lay.page, invariant=1, pageCompression=1)
    title = next((b.text for b in blocks if b.kind == "title"), "")
    c.setTitle(title)
    w, h = lay.page
    left, right, top, bottom = lay.margins
    small = min(lay.size, 10.5)
    for n, ops in enumerate(pages, start=1):
        if header:
            c.setFont(setter.font, small * 0.9)
            c.drawCentredString(w / 2, h - top * 0.55, header)
            c.setLineWidth(0.5)
            c.line(left, h - top * 0.55 - 4, w - right, h - top * 0.55 - 4)
        foot = lay.footer(n, len(pages))
        c.setFont(setter.font, small)
        fy = bottom * 0.45
        if lay.footer_align == "right" or (lay.footer_align == "outside" and n % 2):
            c.drawRightString(w - right, fy, foot)
        elif lay.footer_align == "outside":
            c.drawString(left, fy, foot)
        else:
            c.drawCentredString(w / 2, fy, foot)
        for op in ops:
            if isinstance(op, _Rect):
                c.setLineWidth(lay.rule)
                c.rect(op.x, op.y, op.w, op.h, stroke=1, fill=0)
                continue
            c.saveState()
            t = c.beginText(op.x, op.y)
            t.setFont(op.font, op.size)
            if op.space:
                t.setCharSpace(op.space)
            if op.bold:
                c.setLineWidth(op.size * 0.03)
                t.setTextRenderMode(2)
            t.textOut(op.text)
            c.drawText(t)
            c.restoreState()
        c.showPage()
    c.save()
    return out


# --- plain text --------------------------------------------------------------------------------------

_DATE = re.compile(r"^\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日$")
_ENDS = "。；：！？;:!?"  # a paragraph ending in one of these is complete
_CLOSERS = "”’）)」』》"


def _is_heading(line: str) -> bool:
    """A marker line is a heading when it is short and has no sentence in it.

    "(1) 疫情防控全力以赴。精心调度…" is a run-in heading and "（1）负责…工作；" a list item: both stay
    paragraphs, so their text is drawn (and read back) as one paragraph.
    """
    return heading_level(line) is not None and len(line) <= 40 and not any(ch in line for ch in "。；;！？")


def blocks_from_text(text: str) -> list[Block]:
    """Blocks of a plain-text report like the seed (blank lines separate paragraphs and mark page breaks)."""
    items = [s.strip() for s in text.splitlines() if s.strip()]
    blocks: list[Block] = []
    if not items:
        return blocks
    sig: list[str] = []
    if len(items) >= 3 and _DATE.match(items[-1]) and len(items[-2]) <= 40 and "。" not in items[-2]:
        sig, items = items[-2:], items[:-2]
    title, i = items[0], 1
    # a long title the text layer broke over lines: short, no sentence punctuation, before any heading
    while (
        i < len(items)
        and heading_level(items[i]) is None
        and len(items[i]) <= 30
        and not any(ch in items[i] for ch in "。，；：,")
    ):
        title += items[i]
        i += 1
    blocks.append(Block("title", title))
    for line in items[i:]:
        if _is_heading(line):
            blocks.append(Block("heading", line))
            continue
        prev = blocks[-1]
        # a paragraph cut by a page break: the first part stops mid-sentence
        if (
            prev.kind == "para"
            and heading_level(line) is None
            and not prev.text.rstrip(_CLOSERS).endswith(tuple(_ENDS))
        ):
            prev.text += line
        else:
            blocks.append(Block("para", line))
    if sig:
        blocks.append(Block("signature", "\n".join(sig)))
    return blocks


# --- the seed unit's self-evaluation table ---------------------------------------------------------

UNIT = "望城区机关事务中心"


def selfeval_blocks() -> list[Block]:
    """The seed unit's 部门整体支出绩效自评表, with the seed's own budget figures (万元).

    Modelled on the form units fill in: one ruled table, budget execution on top, the overall goal, then
    the indicator rows with 一级/二级指标 merged down the rows they group.
    """
    rows = [
        ["部门（单位）名称", UNIT, "", "", "", "", "", ""],
        ["年度预算执行情况（万元）", "", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
        ["年度资金总额", "", "4526.69", "4526.69", "5017.13", "10", "110.83%", "10"],
        ["其中：基本支出", "", "828.69", "828.69", "959.98", "—", "115.84%", "—"],
        ["项目支出", "", "3698", "3698", "4057.15", "—", "109.71%", "—"],
        ["年度总体目标", "预期目标", "", "", "", "实际完成情况", "", ""],
        [
            "",
            "保障行政中心安全、高效运转，满意度90%以上；保障公务用车安全高效运转。",
            "",
            "",
            "",
            "基本达成年度目标，行政中心区域综合满意率稳中有升。",
            "",
            "",
        ],
        ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因"],
        ["产出指标", "数量指标", "办公用房摸排院落覆盖率", "100%", "100%", "10", "10", ""],
        ["", "", "公务用车保障出车率", "100%", "100%", "10", "10", ""],
        ["", "质量指标", "节约型公共机构示范创建", "通过省级验收", "通过", "10", "10", ""],
        ["", "时效指标", "资金支付及时率", "100%", "95%", "10", "9", "部分项目结算滞后"],
        ["", "成本指标", "部门整体支出控制", "≤4526.69万元", "5017.13万元", "10", "8", "追加临时专项"],
        ["效益指标", "社会效益指标", "行政中心安全高效运转", "保障", "保障", "15", "15", ""],
        ["", "生态效益指标", "垃圾分类投放精准度", "提升", "提升", "15", "14", ""],
        ["满意度指标", "服务对象满意度指标", "服务对象满意度", "≥90%", "93%", "10", "9", ""],
        ["总分", "", "", "", "", "100", "95", ""],
    ]
    spans = [
        (0, 1, 0, 7),
        (1, 0, 1, 1),
        (2, 0, 2, 1),
        (3, 0, 3, 1),
        (4, 0, 4, 1),
        (5, 0, 6, 0),
        (5, 1, 5, 4),
        (5, 5, 5, 7),
        (6, 1, 6, 4),
        (6, 5, 6, 7),
        (8, 0, 12, 0),
        (8, 1, 9, 1),
        (13, 0, 14, 0),
        (16, 0, 16, 4),
    ]
    return [
        Block("title", f"2020年度{UNIT}部门整体支出绩效自评表"),
        Block("para", "本单位2020年度部门整体支出预算4526.69万元，全年执行5017.13万元，自评得分95分。"),
        Block("table", rows=rows, col_widths=[1.2, 1.1, 1.6, 1.0, 1.0, 0.6, 0.8, 1.0], spans=spans),
    ]


_REPO = Path(__file__).resolve().parents[1]


def seed_text() -> str:
    """The seed report: from the shared folder when it is there, else the copy committed in samples/."""
    roots = [Path(os.environ["PIPELINE_SHARED"])] if os.environ.get("PIPELINE_SHARED") else []
    roots.append(_REPO.parent / "shared")
    for root in roots:
        found = sorted((root / "seed").glob("*.txt"))
        if found:
            return found[0].read_text(encoding="utf-8")
    return (_REPO / "samples" / "seed.txt").read_text(encoding="utf-8")
