"""Budget-performance self-evaluation reports (PDF) → checked, structured data.

The library is pure: no Prefect import anywhere under `pipeline/` (orchestration lives in `flows/`).
"""

__version__ = "0.1.0"
# Bumped whenever extraction output changes, so the store can tell stale rows from fresh ones.
EXTRACTOR_VERSION = "0.1.0"
