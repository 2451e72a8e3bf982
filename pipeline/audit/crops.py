"""Cropped page images with each involved figure highlighted, so that a finding shows the words it rests on."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .view import Report, num, to_int

# Highlight of an involved figure: translucent yellow over the text, an orange frame around it.
HIGHLIGHT_FILL = (255, 230, 0, 90)
HIGHLIGHT_STROKE = (230, 90, 0)
STATED_STROKE = (200, 0, 40)  # the figure that states the result, framed apart from its operands
RESOLUTION = 110
# A crop never renders to more pixels than this: a huge page is drawn at a lower resolution instead
# (at 110 dpi a 14,400-pt page would be a 4 GB bitmap). 12 MP is an A4 page at about 290 dpi.
MAX_CROP_PIXELS = 12_000_000


def crop_resolution(width_pt: float, height_pt: float, wanted: float = RESOLUTION,
                    max_pixels: int = MAX_CROP_PIXELS) -> float:
    """The resolution (dpi) to render a region of this size at: `wanted`, or less to stay under `max_pixels`."""
    area = max(width_pt, 1.0) * max(height_pt, 1.0) / 72**2  # square inches
    return min(wanted, (max_pixels / area) ** 0.5)


def _line_pitch(page: Any, default: float) -> float:
    """Baseline-to-baseline distance of the page's body text, so "two lines" means two of its lines."""
    tops = sorted({round(float(c["top"]), 1) for c in page.chars if str(c.get("text", "")).strip()})
    gaps = [b - a for a, b in zip(tops, tops[1:]) if b - a > 2]
    return statistics.median(gaps) if gaps else default


def _crop_region(page: Any, boxes: list[list[float]]) -> tuple[float, float, float, float]:
    """Union of the boxes, widened to the text column and about two lines above and below."""
    px0, ptop, px1, pbottom = (float(v) for v in page.bbox)
    top = min(b[1] for b in boxes)
    bottom = max(b[3] for b in boxes)
    height = max(b[3] - b[1] for b in boxes) or 12.0
    pad = 2.2 * _line_pitch(page, 2 * height)
    chars = [c for c in page.chars if str(c.get("text", "")).strip()]
    x0 = min([float(c["x0"]) for c in chars] + [b[0] for b in boxes]) - 8
    x1 = max([float(c["x1"]) for c in chars] + [b[2] for b in boxes]) + 8
    return (max(px0, x0), max(ptop, top - pad), min(px1, x1), min(pbottom, bottom + pad))


def _bbox(f: dict) -> list[float] | None:
    b = f.get("bbox")
    if not isinstance(b, list | tuple) or len(b) != 4:
        return None
    vals = [num(v) for v in b]
    if any(v is None for v in vals):
        return None
    x0, top, x1, bottom = vals  # type: ignore[misc]
    return [min(x0, x1), min(top, bottom), max(x0, x1), max(top, bottom)]  # type: ignore[type-var]


@dataclass
class Crop:
    page: int
    src: str  # relative to the HTML page
    width: int
    height: int
    figures: list[dict]


def crop_images(pdf: Any, r: Report, check: dict, n: int, img_dir: Path) -> list[Crop]:
    """One highlighted PNG per page the check's figures stand on."""
    by_page: dict[int, list[dict]] = defaultdict(list)
    for f in r.involved(check):
        p = to_int(f.get("page"))
        if p is not None and _bbox(f) is not None and 1 <= p <= len(pdf.pages):
            by_page[p].append(f)
    out = []
    for p in sorted(by_page):
        page = pdf.pages[p - 1]
        boxes = [_bbox(f) for f in by_page[p]]
        region = _crop_region(page, boxes)  # type: ignore[arg-type]
        dpi = crop_resolution(region[2] - region[0], region[3] - region[1])
        im = page.crop(region).to_image(resolution=dpi, antialias=True)
        stated = r.stated_id(check)
        for f, b in zip(by_page[p], boxes):
            is_stated = f.get("id") == stated
            # A point and a half of padding so the frame does not cut through the digits.
            im.draw_rects(
                [(b[0] - 1.5, b[1] - 1.5, b[2] + 1.5, b[3] + 1.5)],  # type: ignore[index]
                stroke=STATED_STROKE if is_stated else HIGHLIGHT_STROKE,
                fill=HIGHLIGHT_FILL,
                stroke_width=3 if is_stated else 2,
            )
        name = f"{r.slug}-{n}-p{p}.png"
        im.save(img_dir / name)
        w, h = im.annotated.size
        out.append(Crop(page=p, src=f"img/{name}", width=w, height=h, figures=by_page[p]))
    return out
