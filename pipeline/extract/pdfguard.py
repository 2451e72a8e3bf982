"""Cheap structural checks of a PDF's bytes before pdfminer parses it: hostile files refused in milliseconds.

pdfminer trusts a file's structure: a reference that points back at itself is followed for ever, a
stream is inflated whole into memory however large it grows, a page may be any size. A bureau's inbox
sees such files rarely, but one of them would otherwise hold an extraction worker until its time limit
(or its memory) runs out. These checks read the raw bytes once, with regular expressions and bounded
inflation, and refuse a file with its own reason; the time limit stays as the last line for whatever
they do not catch (a page that is merely very expensive to lay out).

Images are not inflated: pdfminer never decodes them for text, so a large scan costs nothing here.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from pipeline import settings
from pipeline.errors import ReportError
from pipeline.messages import Message

_OBJ = re.compile(rb"(?<![0-9])(\d{1,10})\s+(\d{1,5})\s+obj\b")
_BODY_END = re.compile(rb"\bstream\r?\n|\bendobj\b")
_REF = re.compile(rb"\s*(\d{1,10})\s+(\d{1,5})\s+R\b")
_INT = re.compile(rb"\s*(\d{1,20})\b")
_LENGTH = re.compile(rb"/Length\s+(\d{1,20})(?:\s+(\d{1,5})\s+R\b)?")
_FILTERS = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[A-Za-z0-9]+)")
_IMAGE = re.compile(rb"/Subtype\s*/Image\b")
_OBJSTM = re.compile(rb"/Type\s*/ObjStm\b")
_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
_MEDIABOX = re.compile(rb"/MediaBox\s*\[\s*([-+0-9.\s]+?)\s*\]")
_NEST = re.compile(rb"<<|>>|\[|\]")
_FLATE = {b"/FlateDecode", b"/Fl"}


@dataclass(frozen=True)
class Limits:
    """What a submitted PDF may not exceed (defaults in pipeline.settings)."""

    pages: int = settings.PDF_MAX_PAGES
    page_side_pt: float = settings.PDF_MAX_PAGE_SIDE_PT
    nesting: int = settings.PDF_MAX_NESTING
    stream_bytes: int = settings.PDF_MAX_STREAM_BYTES
    total_bytes: int = settings.PDF_MAX_INFLATED_BYTES


def check_pdf(path: str | Path, limits: Limits = Limits()) -> None:
    """Raise ReportError (file name and reason) when the PDF at `path` is structurally hostile."""
    name = Path(path).name
    with open(path, "rb") as fh:
        data = fh.read()
    reason = structural_problem(data, limits)
    if reason:
        raise ReportError(name, reason)


def structural_problem(data: bytes, limits: Limits = Limits()) -> str | None:
    """Why the PDF bytes `data` must not reach the parser, or None when they may."""
    objects = _object_table(data)
    reason = _reference_cycle(data, objects)
    if reason:
        return reason
    inflated = 0
    pages = 0
    for start, dict_end, data_start in _objects(data):
        head = data[start:dict_end]
        reason = _nesting(head, limits.nesting)
        if reason:
            return reason
        if data_start is None:
            continue
        length, reason = _stream_length(data, objects, head, data_start)
        if reason:
            return reason
        if _IMAGE.search(head):
            continue
        body = (
            data[data_start : data_start + length] if length is not None else _to_endstream(data, data_start)
        )
        out, reason = _inflate(body, head, limits.stream_bytes)
        if reason:
            return reason
        inflated += len(out)
        if inflated > limits.total_bytes:
            return Message("bomb_total", limit_mb=limits.total_bytes // 2**20)
        if _OBJSTM.search(head):  # objects packed in a stream: their nesting and pages count too
            reason = _nesting(out, limits.nesting)
            if reason:
                return reason
            pages += len(_PAGE.findall(out))
    pages += len(_PAGE.findall(data))
    if pages > limits.pages:
        return Message("too_many_pages", pages=pages, limit=limits.pages)
    for m in _MEDIABOX.finditer(data):
        nums = m.group(1).split()
        try:
            x0, y0, x1, y1 = (float(v) for v in nums[:4])
        except ValueError:
            continue
        side = max(abs(x1 - x0), abs(y1 - y0))
        if side > limits.page_side_pt:
            return Message("page_too_large", side=side, limit=limits.page_side_pt)
    return None


def _object_table(data: bytes) -> dict[int, int]:
    """Object number → offset just after its `N G obj` (the last definition wins, as in an update)."""
    return {int(m.group(1)): m.end() for m in _OBJ.finditer(data)}


def _reference_cycle(data: bytes, objects: dict[int, int]) -> str | None:
    # An object whose whole body is a reference to another: pdfminer follows such chains until it
    # meets something that is not a reference, so a chain that comes back never ends.
    points_to: dict[int, int] = {}
    for num, at in objects.items():
        m = _REF.match(data, at)
        if m and data[m.end() : m.end() + 40].lstrip().startswith(b"endobj"):
            points_to[num] = int(m.group(1))
    for num in points_to:
        seen = {num}
        nxt = points_to.get(num)
        while nxt is not None:
            if nxt in seen:
                return Message("reference_cycle", num=num)
            seen.add(nxt)
            nxt = points_to.get(nxt)
    return None


def _objects(data: bytes):
    """(object start, end of its dictionary part, start of its stream data or None) for every object."""
    pos = 0
    while True:
        m = _OBJ.search(data, pos)
        if not m:
            return
        end = _BODY_END.search(data, m.end())
        if not end:
            yield m.end(), len(data), None
            return
        if end.group(0).startswith(b"endobj"):
            yield m.end(), end.start(), None
            pos = end.end()
            continue
        yield m.end(), end.start(), end.end()
        stop = data.find(b"endstream", end.end())
        pos = len(data) if stop < 0 else stop + 9


def _nesting(chunk: bytes, limit: int) -> str | None:
    depth = deepest = 0
    for m in _NEST.finditer(chunk):
        tok = m.group(0)
        depth += 1 if tok in (b"<<", b"[") else -1
        depth = max(depth, 0)
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return Message("nested_too_deep", limit=limit)
    return None


def _stream_length(
    data: bytes, objects: dict[int, int], head: bytes, data_start: int
) -> tuple[int | None, str | None]:
    """The stream's declared /Length when it is usable, or a reason to refuse the file."""
    m = _LENGTH.search(head)
    if not m:
        return None, None
    if m.group(2) is None:
        length = int(m.group(1))
    else:
        seen: set[int] = set()
        num = int(m.group(1))
        while True:
            if num in seen:
                return None, Message("length_cycle", num=num)
            seen.add(num)
            at = objects.get(num)
            if at is None:
                return None, None  # missing: pdfminer looks for endstream itself
            ref = _REF.match(data, at)
            if ref:
                num = int(ref.group(1))
                continue
            val = _INT.match(data, at)
            if not val:
                return None, None
            length = int(val.group(1))
            break
    if length > len(data) - data_start:
        return None, Message("truncated_stream", length=length)
    return length, None


def _to_endstream(data: bytes, start: int) -> bytes:
    stop = data.find(b"endstream", start)
    return data[start : stop if stop >= 0 else len(data)]


def _inflate(body: bytes, head: bytes, cap: int) -> tuple[bytes, str | None]:
    """The stream's Flate layers undone with at most `cap` bytes out of each (other filters: stop)."""
    m = _FILTERS.search(head)
    if not m:
        return body, None
    filters = re.findall(rb"/[A-Za-z0-9]+", m.group(1))
    out = body
    for f in filters:
        if f not in _FLATE:
            break
        d = zlib.decompressobj()
        try:
            nxt = d.decompress(out, cap + 1)
        except zlib.error:
            return b"", None  # damaged: pdfminer says so itself, and it cannot grow
        if len(nxt) > cap:
            return b"", Message("bomb_stream", limit_mb=cap // 2**20)
        out = nxt
    return out, None
