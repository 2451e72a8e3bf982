"""Where the tests find their inputs: the repository's samples, and the shared dev corpus beside it.

The corpus (35 real and seed cases with gold answers) and the contract's JSON schema live in a shared
folder beside the repository, not in it; tests that need them carry the `corpus` marker and are
skipped without it. PIPELINE_CORPUS_DIR points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
SHARED = REPO.parent / "shared"
CORPUS = Path(os.environ.get("PIPELINE_CORPUS_DIR") or SHARED / "corpus" / "dev")
SCHEMA = SHARED / "contract" / "report.schema.json"


def have_corpus() -> bool:
    """True when the dev corpus (with its gold answers) and the contract's schema are there."""
    return CORPUS.is_dir() and any(CORPUS.glob("*/gold.json")) and SCHEMA.is_file()
