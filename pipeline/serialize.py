"""The Report as the JSON contract (shared contract/report.schema.json, version 1)."""

from __future__ import annotations

from typing import Any

from . import EXTRACTOR_VERSION
from .model import Report


def _num(v: float | None) -> float | int | None:
    if v is None:
        return None
    return int(v) if float(v).is_integer() and abs(v) < 2**53 else round(float(v), 10)


def to_contract(report: Report) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "extractor_version": EXTRACTOR_VERSION,
        "source": {
            "file": report.source.file,
            "sha256": report.source.sha256,
            "pages": report.source.pages,
            "ocr_pages": report.source.ocr_pages,
        },
        "report": {
            "title": report.meta.title,
            "unit": report.meta.unit,
            "year": report.meta.year,
            "date": report.meta.date,
            "doc_type": report.meta.doc_type,
        },
        "sections": [
            {
                "id": s.id,
                "level": s.level,
                "number": s.number,
                "title": s.title,
                "page": s.page,
                "parent": s.parent,
                "marker": s.marker,
            }
            for s in report.sections
        ],
        "figures": [
            {
                "id": f.id,
                "kind": str(f.kind),
                "value": _num(f.value),
                "unit": f.unit,
                "value_yuan": _num(f.value_yuan),
                "label": f.label,
                "qualifier": f.qualifier,
                "page": f.page,
                "bbox": [round(x, 2) for x in f.bbox] if f.bbox else None,
                "section": f.section,
                "text": f.text,
                "table": f.table,
                "cell": list(f.cell) if f.cell else None,
                **(
                    {"ocr_confidence": f.ocr_confidence, "low_confidence": f.low_confidence}
                    if f.ocr_confidence is not None
                    else {}
                ),
            }
            for f in report.figures
        ],
        "checks": [
            {
                "id": c.id,
                "rule": c.rule,
                "status": str(c.status),
                "figures": c.figures,
                "expected": _num(c.expected),
                "stated": _num(c.stated),
                "message": c.message,
                "result": c.result,
                "difference": _num(c.difference),
                "evidence": c.evidence,
                "detector": c.detector,
                "reading": c.reading,
            }
            for c in report.checks
        ],
        "tables": [
            {"id": t.id, "page": t.page, "pages": t.pages, "title": t.title, "unit": t.unit, "rows": t.rows}
            for t in report.tables
        ],
        "warnings": report.warnings,
    }
