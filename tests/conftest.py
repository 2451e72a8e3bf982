"""Fixtures every test folder shares: the dev corpus' cases and gold answers, and extraction done once.

Tests that need the shared corpus (or the contract's schema) beside the repository are marked
`corpus`: without it they are skipped, with the reason, instead of failing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.model import Report
from testkit.corpus import CORPUS, have_corpus


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if have_corpus():
        return
    skip = pytest.mark.skip(reason=f"the shared dev corpus is not beside the repository ({CORPUS})")
    for item in items:
        if "corpus" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def corpus_case() -> Callable[[str], Path]:
    """`corpus_case(name)`: the report.pdf of one dev-corpus case."""

    def case(name: str) -> Path:
        pdf = CORPUS / name / "report.pdf"
        if not pdf.exists():
            pytest.skip(f"no case {name!r} in the dev corpus ({CORPUS})")
        return pdf

    return case


@pytest.fixture
def gold() -> Callable[[str], dict]:
    """`gold(name)`: the gold answers of one dev-corpus case."""
    return lambda name: json.loads((CORPUS / name / "gold.json").read_text(encoding="utf-8"))


_extracted: dict[str, Report] = {}


@pytest.fixture(scope="session")
def extracted() -> Callable[[Path], Report]:
    """`extracted(pdf)`: the Report of a PDF, extracted once per session (several tests read one report)."""
    from pipeline.extract import extract

    def run(pdf: Path) -> Report:
        key = str(pdf)
        if key not in _extracted:
            _extracted[key] = extract(pdf)
        return _extracted[key]

    return run
