"""Cropped page images with each involved figure highlighted, so that a finding shows the words it rests on.

Highlights multiply a light yellow into the page (white paper turns yellow, black digits stay black)
and frame each figure, so the digits stay as legible as on the page. A finding about table cells keeps
the table's header rows in the image (what the columns are: 分值, 得分, 预算数), stacked above the cells
when the table is too long to show whole.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops

from pipeline.numbers import as_number

from .view import Report, to_int

# Highlight of an involved figure: a light yellow multiplied into the page, an orange frame around it.
HIGHLIGHT_FILL = (255, 240, 150)
HIGHLIGHT_STROKE = (230, 90, 0)
STATED_STROKE = (200, 0, 40)  # the figure that states the result, framed apart from its operands
RESOLUTION = 110
# A table header further above the cells than this (points) is shown as a strip of its own.
_HEADER_GAP = 160.0
_GAP_PX = 8  # white band between the header strip and the cells

# A crop never renders to more pixels than this: a huge page is drawn at a lower resolution instead
# (at 110 dpi a 14,400-pt page would be a 4 GB bitmap). 12 MP is an A4 page at about 290 dpi.
MAX_CROP_PIXELS = 12_000_000


def crop_resolution(
    width_pt: float, height_pt: float, wanted: float = RESOLUTION, max_pixels: int = MAX_CROP_PIXELS
) -> float:
    """The resolution (dpi) to render a region of this size at: `wanted`, or less to stay under `max_pixels`."""
    area = max(width_pt, 1.0) * max(height_pt, 1.0) / 72**2  # square inches
    return min(wanted, (max_pixels / area) ** 0.5)


def _line_pitch(page: Any, default: float) -> float:
    """Baseline-to-baseline distance of the page's body text, so "two lines" means two of its lines."""
    tops = sorted({round(float(c["top"]), 1) for c in page.chars if str(c.get("text", "")).strip()})
    gaps = [b - a for a, b in zip(tops, tops[1:]) if b - a > 2]
    return statistics.median(gaps) if gaps else default


def _text_columns(page: Any, boxes: list[list[float]]) -> tuple[float, float]:
    chars = [c for c in page.chars if str(c.get("text", "")).strip()]
    x0 = min([float(c["x0"]) for c in chars] + [b[0] for b in boxes]) - 8
    x1 = max([float(c["x1"]) for c in chars] + [b[2] for b in boxes]) + 8
    px0, _, px1, _ = (float(v) for v in page.bbox)
    return max(px0, x0), min(px1, x1)


def _crop_region(page: Any, boxes: list[list[float]]) -> tuple[float, float, float, float]:
    """Union of the boxes, widened to the text column and about two lines above and below."""
    _, ptop, _, pbottom = (float(v) for v in page.bbox)
    top = min(b[1] for b in boxes)
    bottom = max(b[3] for b in boxes)
    height = max(b[3] - b[1] for b in boxes) or 12.0
    pad = 2.2 * _line_pitch(page, 2 * height)
    x0, x1 = _text_columns(page, boxes)
    return (x0, max(ptop, top - pad), x1, min(pbottom, bottom + pad))


def _bbox(f: dict) -> list[float] | None:
    b = f.get("bbox")
    if not isinstance(b, list | tuple) or len(b) != 4:
        return None
    vals = [as_number(v) for v in b]
    if any(v is None for v in vals):
        return None
    x0, top, x1, bottom = vals  # type: ignore[misc]
    return [min(x0, x1), min(top, bottom), max(x0, x1), max(top, bottom)]  # type: ignore[type-var]


def _is_number(text: Any) -> bool:
    s = str(text or "").strip().replace(",", "").rstrip("%％")
    try:
        float(s)
    except ValueError:
        return False
    return True


def _row_box(row: Any) -> tuple[float, float] | None:
    cells = [c for c in row.cells if c is not None]
    return (min(float(c[1]) for c in cells), max(float(c[3]) for c in cells)) if cells else None


def _header_band(page: Any, boxes: list[list[float]]) -> tuple[float, float] | None:
    """Top and bottom of the header rows nearest above the boxes, in the ruled table they stand in.

    Header rows are rows without a number in any cell; the nearest run of them above the figures'
    first row is what names their columns (a table may start a new block of columns half-way down:
    指标 / 分值 / 得分 under 预算数 / 执行数). None when the boxes stand in no table on this page or
    no such row is above them (the table runs on from the page before).
    """
    x_mid = (min(b[0] for b in boxes) + max(b[2] for b in boxes)) / 2
    y_top = min(b[1] for b in boxes)
    y_mid = (y_top + min(b[3] for b in boxes)) / 2
    for t in page.find_tables():
        tx0, ttop, tx1, tbottom = t.bbox
        if not (tx0 <= x_mid <= tx1 and ttop - 2 <= y_top <= tbottom + 2):
            continue
        spans = [_row_box(r) for r in t.rows]
        texts = t.extract()
        at = next((i for i, sp in enumerate(spans) if sp and sp[0] - 1 <= y_mid <= sp[1] + 1), None)
        if at is None:
            return None
        plain = [not any(_is_number(cell) for cell in row) for row in texts]
        last = next((i for i in range(at - 1, -1, -1) if plain[i] and spans[i]), None)
        if last is None:
            return None
        first = last
        while first > 0 and plain[first - 1] and spans[first - 1]:
            first -= 1
        return spans[first][0], spans[last][1]  # type: ignore[index]
    return None


def _highlight(im: Any, box: list[float], stated: bool) -> None:
    """Multiply the fill into the box (digits stay black), then frame it."""
    pad = 1.5  # points: the frame must not cut through the digits
    x0, top, x1, bottom = im._reproject_bbox((box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad))
    base = im.annotated
    w, h = base.size
    x0, top, x1, bottom = max(0, int(x0)), max(0, int(top)), min(w, int(x1)), min(h, int(bottom))
    if x1 <= x0 or bottom <= top:
        return
    area = base.crop((x0, top, x1, bottom)).convert("RGB")
    tint = Image.new("RGB", area.size, HIGHLIGHT_FILL)
    base.paste(ImageChops.multiply(area, tint), (x0, top))
    im.draw_rect(
        (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad),
        fill=(0, 0, 0, 0),
        stroke=STATED_STROKE if stated else HIGHLIGHT_STROKE,
        stroke_width=3 if stated else 2,
    )


@dataclass
class Crop:
    page: int
    src: str  # relative to the HTML page
    width: int
    height: int
    figures: list[dict]
    header: bool = False  # the table's header rows are in the image
    regions: list[tuple[float, float, float, float]] = field(
        default_factory=list
    )  # page boxes shown (points)


def _render(page: Any, region: tuple[float, float, float, float]) -> Any:
    dpi = crop_resolution(region[2] - region[0], region[3] - region[1])
    return page.crop(region).to_image(resolution=dpi, antialias=True)


def crop_images(pdf: Any, r: Report, check: dict, key: str, img_dir: Path) -> list[Crop]:
    """One highlighted PNG per page the check's figures stand on, named `<slug>-<key>-p<page>.png`."""
    by_page: dict[int, list[dict]] = defaultdict(list)
    for f in r.involved(check):
        p = to_int(f.get("page"))
        if p is not None and _bbox(f) is not None and 1 <= p <= len(pdf.pages):
            by_page[p].append(f)
    stated = r.stated_id(check)
    out = []
    for p in sorted(by_page):
        page = pdf.pages[p - 1]
        boxes = [_bbox(f) for f in by_page[p]]
        region = _crop_region(page, boxes)  # type: ignore[arg-type]
        in_table = any(f.get("table") for f in by_page[p])
        band = _header_band(page, boxes) if in_table else None  # type: ignore[arg-type]
        strip = None
        shown = []
        if band is not None:
            head_top, head_bottom = band
            if region[1] - head_bottom <= _HEADER_GAP:
                region = (
                    region[0],
                    max(float(page.bbox[1]), min(region[1], head_top - 2)),
                    region[2],
                    region[3],
                )
            elif head_bottom < region[1]:
                head = (region[0], max(float(page.bbox[1]), head_top - 2), region[2], head_bottom + 2)
                strip = _render(page, head)
                shown.append(head)
        shown.append(region)
        im = _render(page, region)
        for f, b in zip(by_page[p], boxes):
            _highlight(im, b, f.get("id") == stated)  # type: ignore[arg-type]
        picture = im.annotated.convert("RGB")
        if strip is not None:
            head = strip.annotated.convert("RGB")
            joined = Image.new(
                "RGB", (max(head.width, picture.width), head.height + _GAP_PX + picture.height), "white"
            )
            joined.paste(head, (0, 0))
            joined.paste(picture, (0, head.height + _GAP_PX))
            picture = joined
        name = f"{r.slug}-{key}-p{p}.png"
        picture.save(img_dir / name)
        out.append(
            Crop(
                page=p,
                src=f"img/{name}",
                width=picture.width,
                height=picture.height,
                figures=by_page[p],
                header=band is not None,
                regions=shown,
            )
        )
    return out
