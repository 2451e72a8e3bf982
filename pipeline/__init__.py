"""Budget-performance self-evaluation reports (PDF) → checked, structured data.

    pipeline.extract(path)        a PDF → a `Report` (every stage, reconciliation included)
    report.to_frames()            its figures, checks, sections and table cells as pandas DataFrames
    pipeline.to_contract(report)  the JSON contract (`pipeline extract --json` writes it)
    pipeline.open_store(path)     the store (SQLite file or SQLAlchemy URL) with its DataFrame methods

See docs/api.md. These names are loaded on first use, so that `import pipeline` (and `pipeline --help`)
costs no spaCy, pandas or SQLAlchemy. The library is pure: no Prefect import anywhere under
`pipeline/` (orchestration lives in `flows/`).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
# Bumped whenever extraction output changes, so the store can tell stale rows from fresh ones.
EXTRACTOR_VERSION = "0.1.0"

# public name → (module, attribute); None: the module itself (`pipeline.extract` is a callable module)
_LAZY: dict[str, tuple[str, str | None]] = {
    "extract": ("pipeline.extract", None),
    "Report": ("pipeline.model", "Report"),
    "to_contract": ("pipeline.serialize", "to_contract"),
    "open_store": ("pipeline.store", "open_store"),
    "Store": ("pipeline.store", "Store"),
    "StoreError": ("pipeline.store", "StoreError"),
    "ReportError": ("pipeline.errors", "ReportError"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attr = _LAZY[name]
    found = importlib.import_module(module)
    return found if attr is None else getattr(found, attr)


def __dir__() -> list[str]:
    return sorted({*(n for n in globals() if n.startswith("__") or n in __all__), *__all__})


__all__ = ["EXTRACTOR_VERSION", "__version__", *_LAZY]
