"""What a served inbox flow may be asked to do: the inbox and the store it was served with, nothing else.

Anybody who can reach the orchestration API can start a run of a served deployment with parameters
of their own. The parameters are therefore not trusted: the service's own environment (set by
`pipeline serve` for the runs it starts, out of reach of the API) says which inbox and store are
allowed, and a run asking for another one is refused before it touches any file or database.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline import settings
from pipeline.safety import mask_secrets, printable
from pipeline.store import absolute_url


class RefusedRun(PermissionError):
    """A flow run asked for an inbox or a store its service was not started with."""


def served_env(inbox: str | Path, db_url: str | None) -> dict[str, str]:
    """The environment `serve` gives its runs: the inbox it serves and the store (never a parameter)."""
    return {settings.SERVED_INBOX_ENV: str(Path(inbox).resolve()), settings.DB_ENV: absolute_url(db_url)}


def _allowed_roots() -> list[Path]:
    value = os.environ.get(settings.INBOX_ROOTS_ENV, "")
    return [Path(p).resolve() for p in value.split(os.pathsep) if p.strip()]


def check_served_run(inbox: str | Path, db_url: str | None) -> Path:
    """The resolved inbox when this run may use `inbox` and `db_url`; RefusedRun otherwise.

    Outside a service (no `PIPELINE_SERVED_INBOX` in the environment: a flow called from Python or a
    test) the caller is trusted and anything goes. Inside one, the inbox must be the served one or lie
    under a folder of `PIPELINE_INBOX_ROOTS`, and the store must be the served one (`db_url` None, or
    the same URL).
    """
    root = Path(inbox).resolve()  # links resolved: a link to elsewhere is elsewhere
    served = os.environ.get(settings.SERVED_INBOX_ENV)
    if not served:
        return root
    roots = _allowed_roots()
    if root != Path(served).resolve() and not any(root == r or r in root.parents for r in roots):
        raise RefusedRun(
            f"refused: this service serves the inbox {printable(served)}, not {printable(inbox)}"
            + (f" (nor is it under {', '.join(map(str, roots))})" if roots else "")
        )
    if db_url is not None and not _same_store(db_url):
        raise RefusedRun(
            f"refused: this service writes to its own store, not to {printable(mask_secrets(str(db_url)))}"
        )
    return root


def _same_store(db_url: str) -> bool:
    try:
        return absolute_url(db_url) == absolute_url(None)
    except Exception:  # not even a URL
        return False
