"""Whether two figures speak of the same subject: their labels share the subject's words."""

from __future__ import annotations

import re

from ..context import Context, Item, cfg

_NOISE = re.compile(r"\d{4}年度?|[年度的了和及与、“”\"()（）《》\s]")


def core(label: str | None) -> str:
    """A label without years, generic measure words and punctuation: what it is about."""
    s = _NOISE.sub("", label or "")
    for w in sorted(cfg()["generic_labels"], key=len, reverse=True):
        s = s.replace(w, "")
    return s


def overlap(a: str, b: str) -> float:
    """Character F1 of two strings (0 when either is empty)."""
    if not a or not b:
        return 0.0
    from collections import Counter

    common = sum((Counter(a) & Counter(b)).values())
    return 0.0 if not common else 2 * common / (len(a) + len(b))


def affine(ctx: Context, a: Item, b: Item, threshold: float = 0.5) -> bool:
    ca, cb = core(a.fig.label), core(b.fig.label)
    return overlap(ca, cb) >= threshold
