"""Extraction: a PDF in, a `Report` out, stage by stage; `stages.py` runs them in order.

    pdfread.py   the PDF's pages, lines and glyphs (and its ruled tables)
    layout.py    running headers and footers marked; lines joined back into paragraphs
    tables.py    tables continued on the next page merged; figures read from table cells
    outline.py   the section headings and their levels
    prose/       figures in the running text: nlp (segmentation), figures (numbers, units), labels
    metadata.py  title, reporting unit, year, date, kind of report
    text.py      normalisation and number parsing every stage shares

Each stage is a function Report → Report that can run alone on a Report built from a string.

The package is callable: `pipeline.extract(path)` is `pipeline.extract.extract(path)`. A function of
that name in `pipeline/__init__.py` could not work, since importing any `pipeline.extract.*` module sets
the attribute `pipeline.extract` to this package.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.model import Report

# `from pipeline.extract import extract` loads the stages (and reconciliation, the last of them) only
# when asked for: reconciliation itself imports helpers from extract.prose, and `import
# pipeline.extract.text` should not cost every stage.
_LAZY = ("extract", "STAGES", "Stage")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import stages

        return getattr(stages, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = list(_LAZY)


class _CallablePackage(types.ModuleType):
    # A module's class may be replaced by a ModuleType subclass (Python ≥ 3.5): how a package is called.
    def __call__(self, *args: Any, **kwargs: Any) -> Report:
        """`pipeline.extract(path, stages=None, ocr=None)`: see `pipeline.extract.stages.extract`."""
        return self.extract(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
