from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("PIPELINE_CORPUS_DIR", REPO.parent / "shared" / "corpus" / "dev"))
SCHEMA = REPO.parent / "shared" / "contract" / "report.schema.json"
SAMPLES = REPO / "samples"


def corpus_case(name: str) -> Path:
    pdf = CORPUS / name / "report.pdf"
    if not pdf.exists():
        pytest.skip(f"the shared dev corpus is not beside the repository ({CORPUS})")
    return pdf


def gold(name: str) -> dict:
    return json.loads((CORPUS / name / "gold.json").read_text(encoding="utf-8"))


_cache: dict[str, object] = {}


def extracted(pdf: Path):
    """Extract once per test session: several tests read the same report."""
    from pipeline.extract import extract

    key = str(pdf)
    if key not in _cache:
        _cache[key] = extract(pdf)
    return _cache[key]
