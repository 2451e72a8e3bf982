"""Errors a user sees: each names the file and the reason, in one line."""

from __future__ import annotations

import os


def storable_path(path: str | os.PathLike[str]) -> str:
    """`path` as text that can be stored, logged and printed: bytes that are not UTF-8 shown as \\xNN.

    File names are bytes on Linux; Python hands undecodable ones over as lone surrogates, which no
    database, JSON file or terminal accepts.
    """
    s = os.fspath(path)
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogateescape" if _escapes_only(s) else "surrogatepass").decode(
            "utf-8", "backslashreplace"
        )


def _escapes_only(s: str) -> bool:
    # surrogateescape can give back only U+DC80..U+DCFF (the bytes 0x80..0xFF it stood in for)
    return all(not 0xD800 <= ord(c) <= 0xDFFF or 0xDC80 <= ord(c) <= 0xDCFF for c in s)


class ReportError(Exception):
    """A submitted file that cannot be read as a report (not a PDF, encrypted, corrupt, no text).

    `reason` is English (the command line, the logs); raised with a `pipeline.messages.Message` it also
    has its code, parameters and Chinese text (`reason_zh`), which the Chinese outputs show.
    """

    def __init__(self, file: str, reason: str):
        file = storable_path(file)
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason

    @property
    def code(self) -> str | None:
        return getattr(self.reason, "code", None)

    @property
    def params(self) -> dict:
        return dict(getattr(self.reason, "params", {}))

    @property
    def reason_zh(self) -> str:
        from pipeline.messages import zh

        return zh(self.reason) or ""

    def __reduce__(self) -> tuple:
        return (type(self), (self.file, self.reason))
