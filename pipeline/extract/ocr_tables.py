"""Ruled tables on a scanned page: the rules found in the image, the cells by pdfplumber's own table
algorithm, as the text path finds them from a PDF's drawn lines.

The image is straightened first (by the skew the text boxes show), so that a rule is one row or one
column of dark pixels; rules are what stays of the dark pixels after an opening with a long thin
kernel, which no character survives.
"""

from __future__ import annotations

import math
from typing import Any

from pdfplumber.table import Table as PlumberTable
from pdfplumber.table import cells_to_tables, edges_to_intersections, intersections_to_cells, merge_edges

from pipeline.model import BBox

_DARK = 160  # grey level under which a pixel is ink (scans are grey, paper is not white)
_MIN_RULE_PT = 14.0  # a rule is at least this long in points; the longest dash a cell prints is shorter
# pdfplumber's defaults for drawn lines, in points; a scan's rules wander a little more
_SNAP, _JOIN, _INTERSECT = 3.0, 4.0, 4.0


def find_tables(image: Any, scale: float, angle: float) -> list[list[list[BBox | None]]]:
    """Each ruled table on the page image, as its rows of cell boxes in page points (None where a
    merged cell leaves a gap), straightened about the image centre by `angle` radians."""
    import cv2
    import numpy as np

    h, w = image.shape[:2]
    if angle:
        turn = cv2.getRotationMatrix2D((w / 2, h / 2), math.degrees(angle), 1.0)
        image = cv2.warpAffine(image, turn, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    ink = (image < _DARK).astype(np.uint8)
    long = max(3, int(_MIN_RULE_PT * scale))
    edges = []
    for orientation, kernel in (("h", (long, 1)), ("v", (1, long))):
        # close one-pixel gaps along the rule (scanner noise), then keep only long straight runs
        bridge = cv2.morphologyEx(
            ink, cv2.MORPH_CLOSE, np.ones((1, 3) if orientation == "h" else (3, 1), np.uint8)
        )
        rules = cv2.morphologyEx(bridge, cv2.MORPH_OPEN, np.ones(kernel[::-1], np.uint8))
        n, _, stats, _ = cv2.connectedComponentsWithStats(rules, connectivity=8)
        for x, y, bw, bh, _ in stats[1:n]:
            x0, top, x1, bottom = x / scale, y / scale, (x + bw) / scale, (y + bh) / scale
            if orientation == "h":
                mid = (top + bottom) / 2
                edges.append(_edge("h", x0, mid, x1, mid))
            else:
                mid = (x0 + x1) / 2
                edges.append(_edge("v", mid, top, mid, bottom))
    if not edges:
        return []
    edges = merge_edges(edges, _SNAP, _SNAP, _JOIN, _JOIN)
    cells = intersections_to_cells(edges_to_intersections(edges, _INTERSECT, _INTERSECT))
    out = []
    for group in cells_to_tables(cells):
        table = PlumberTable(None, group)
        rows = [list(row.cells) for row in table.rows]
        if len(rows) >= 2 and len(table.columns) >= 2:  # as the text path keeps them
            out.append(rows)
    return out


def _edge(orientation: str, x0: float, top: float, x1: float, bottom: float) -> dict:
    return {
        "orientation": orientation,
        "object_type": "line",
        "x0": x0,
        "x1": x1,
        "top": top,
        "bottom": bottom,
        "width": x1 - x0,
        "height": bottom - top,
        "doctop": top,
    }
