"""The detectors, one statement kind per module; importing a module registers its detectors.

Each reads only the context (`Context`) and returns claims; no detector sees another's output. The
order below is the order a reviewer reads the checks in, and which of two slips on one figure is shown.
"""

from __future__ import annotations

from functools import cache


@cache
def load() -> None:
    from . import (  # noqa: F401  (registration happens on import)
        breakdown,
        counts,
        difference,
        discovery,
        growth,
        identity,
        parallel,
        rates,
        repeats,
        savings,
        share,
        table,
        totals,
    )
