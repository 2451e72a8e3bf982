"""Errors a user sees: each names the file and the reason, in one line."""

from __future__ import annotations


class ReportError(Exception):
    """A submitted file that cannot be read as a report (not a PDF, encrypted, corrupt, no text)."""

    def __init__(self, file: str, reason: str):
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason
