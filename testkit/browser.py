"""Headless Chromium for tests that look at pages as a reviewer would: the DOM it built, a screenshot."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def chromium() -> str:
    """The browser binary; the test is skipped where there is none (scripts/system-deps.sh installs it)."""
    found = next(
        (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None
    )
    if found is None:
        pytest.skip("no chromium binary on PATH (scripts/system-deps.sh installs Debian's chromium)")
    return found


class Browser:
    def __init__(self, profile: Path, size: str = "1200,1600") -> None:
        self.flags = [
            chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", f"--window-size={size}",
        ]  # fmt: skip

    def dom(self, url: str) -> str:
        """The DOM after the page loaded and its scripts ran."""
        return subprocess.run(
            [*self.flags, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True
        ).stdout

    def screenshot(self, url: str, path: Path) -> Path:
        subprocess.run(
            [*self.flags, f"--screenshot={path}", url], capture_output=True, timeout=120, check=True
        )
        assert path.is_file(), f"no screenshot of {url}"
        return path
