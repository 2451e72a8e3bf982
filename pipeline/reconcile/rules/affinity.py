"""Whether two figures speak of the same subject: their labels share the subject's words."""

from __future__ import annotations

from ..context import Context, Item, cfg, rx


def core(label: str | None) -> str:
    """A label without years, generic measure words and punctuation: what it is about."""
    s = rx("label_noise").sub("", label or "")
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


def dated_pair(ctx: Context, change: Item, threshold: float = 0.6) -> tuple[Item, Item] | None:
    """This year's and last year's figure of the subject a change is said of, when the passage before
    states exactly one figure of that subject for each of two years (2024 年会议费预算 15.6 … 2023 年会议费
    决算 16.25 … 会议费较上年减少 0.65): (later, earlier); the years pin which is which."""
    by_year: dict[int, list[Item]] = {}
    for p in ctx.passage(change):
        if p is change or p.fig.kind != change.fig.kind or not p.role.level or p.role.year is None:
            continue
        if overlap(core(p.fig.label), core(change.fig.label)) >= threshold:
            by_year.setdefault(p.role.year, []).append(p)
    if len(by_year) != 2 or any(len({x.fig.value for x in v}) != 1 for v in by_year.values()):
        return None
    (y1, early), (y2, late) = sorted(by_year.items())
    return late[0], early[0]
