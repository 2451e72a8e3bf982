"""Text that crosses a trust boundary: CSV cells for spreadsheets, names for terminals, URLs for logs.

Report text and file names come from whoever supplied the PDF. Three places would otherwise run or
leak it:

* a spreadsheet opening a CSV runs a cell that starts with `=`, `+`, `-`, `@`, tab or CR as a formula
  (`=HYPERLINK(…)`, `=cmd|'/C calc'!A0`): `csv_cell` neutralises such a cell the way OWASP's CSV
  injection guidance says (a leading `'`), and `write_csv` is the one CSV writer every export and
  query uses;
* a terminal obeys escape sequences (ESC, CSI, OSC) in a printed name: `printable` shows every
  control character as an escape instead;
* a database URL carries its password: `mask_secrets` hides the password in any text (a log line,
  an error message) and `SecretsFilter` does it to every record a logging handler emits.

Standard library only (pandas is imported by `write_csv` when it runs), so the command line can use
these without loading anything heavy.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# -- CSV cells -----------------------------------------------------------------------------------------

# First characters that make Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A cell that is just a number ("-12.5", "+3", "-1,280.21", "-15.84%") is a number to a spreadsheet,
# never a formula: it is kept as it is, so that numbers stay numbers.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?(?:[eE][+-]?\d+)?%?")


def csv_cell(value: Any) -> Any:
    """`value` safe for a CSV cell: text that a spreadsheet would run gets a leading `'`; the rest as is.

    Leading spaces do not hide a formula from every spreadsheet, so they are looked through. Values
    that are not text (numbers, dates, missing) are returned unchanged.
    """
    if not isinstance(value, str) or not value:
        return value
    head = value.lstrip(" \u00a0\u3000\t\r\n")
    if value[0] in FORMULA_START or head[:1] in FORMULA_START:
        if _PLAIN_NUMBER.fullmatch(value.strip()):
            return value
        return "'" + value
    return value


def csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` with every text cell passed through `csv_cell`; numeric columns untouched."""
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            continue
        out[col] = s.map(csv_cell, na_action="ignore")
    out.columns = [csv_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def write_csv(df: pd.DataFrame, target: str | Path | IO[str], **kwargs: Any) -> None:
    """Write `df` as CSV with every text cell neutralised (`csv_cell`): the only way CSV is written.

    `kwargs` go to `DataFrame.to_csv` (index defaults to False).
    """
    kwargs.setdefault("index", False)
    csv_frame(df).to_csv(target, **kwargs)


# -- terminals and logs --------------------------------------------------------------------------------

# Bidirectional overrides and isolates reorder what a terminal shows ("fdp.exe" shown as "exe.pdf").
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: Any) -> str:
    """`text` as a terminal or a log may show it: control characters (C0, DEL, C1, line and paragraph
    separators, bidirectional controls) become visible escapes such as `\\x1b`; the rest, Chinese
    included, is kept."""
    from pipeline.errors import storable_path

    s = storable_path(str(text))  # a file name's bytes that are not UTF-8 first, as \xNN
    if s.isprintable():
        return s
    out = []
    for ch in s:
        if ch.isprintable():
            out.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI:
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:  # other non-printables (spaces of other widths, format marks) are harmless to show
            out.append(ch)
    return "".join(out)


# scheme://user:password@host — the password is what is between the first ":" after "//" and the "@"
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^@\s]+)(?=@)")


def mask_secrets(text: str) -> str:
    """`text` with the password of every URL in it replaced by `***`."""
    return _URL_PASSWORD.sub(r"\g<head>***", text)


class SecretsFilter(logging.Filter):
    """A handler filter: the record's message (and traceback) with passwords masked.

    Attached to handlers, not loggers: a logger's filters do not see its children's records.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot be formatted is the handler's problem, not ours
            return True
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        return True


def mask_log_handlers() -> None:
    """Put a `SecretsFilter` on every handler of every logger configured now (once each)."""
    loggers = [logging.getLogger(), *(v for v in logging.root.manager.loggerDict.values()
                                      if isinstance(v, logging.Logger))]  # fmt: skip
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, SecretsFilter) for f in handler.filters):
                handler.addFilter(SecretsFilter())
