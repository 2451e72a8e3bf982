"""Processes a test starts, found by a marker in their environment, so none may outlive the test."""

from __future__ import annotations

import os
from pathlib import Path


def marked(marker: str) -> list[int]:
    """Live processes whose environment carries `marker` (zombies are dead enough)."""
    found = []
    needle = f"PIPELINE_TEST_MARKER={marker}".encode()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if needle in (d / "environ").read_bytes():
                if (d / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    found.append(int(d.name))
        except OSError:
            continue
    return found


def marked_env(marker: str, **extra: str) -> dict[str, str]:
    """This environment for a child process: carrying `marker`, no inherited Prefect API, quiet analytics."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PIPELINE_TEST_MARKER=marker, PREFECT_SERVER_ANALYTICS_ENABLED="false", **extra)
    return env
