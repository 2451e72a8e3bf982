"""One way to print a number, for the check messages, the audit pages, the audit workbook and the exports.

A reviewer compares what the pipeline shows with what the report printed, so a value is shown with the
decimals the report printed it with (amounts with thousands separators), never with binary noise
(0.1999999999999318) nor with decimals stripped (343 beside 1,160.18). Computed values (a sum, a
difference, a rate) take the decimals of the figure they are compared with.

The same rule gives the Excel number format, so a workbook cell reads as the page does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

AMOUNT, PERCENT = "amount", "percent"
# The number inside a printed figure ("1,160.18 万元", "95.5%", "12 人"): digits, separators, decimals.
_NUMBER = re.compile(r"\d[\d,，]*(?:[.．]\d+)?")


def printed_decimals(text: Any) -> int:
    """Decimals of the first number printed in `text` (0 when there is none)."""
    m = _NUMBER.search(str(text or ""))
    if not m:
        return 0
    digits = m.group(0).replace("．", ".")
    return len(digits.split(".", 1)[1]) if "." in digits else 0


def finest_by_unit(figures: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Per money unit, the most decimals the document prints (contract figure dicts)."""
    out: dict[str, int] = {}
    for f in figures:
        if f.get("kind") == AMOUNT and f.get("unit"):
            unit = str(f["unit"])
            out[unit] = max(out.get(unit, 0), printed_decimals(f.get("text")))
    return out


def shown_decimals(
    kind: str | None, unit: str | None, decimals: int, finest: Mapping[str, int], value: Any = None
) -> int:
    """Decimals a value compared with a figure of this kind, unit and printed decimals is shown with.

    Amounts: the finest the document prints in that unit (a sum of 2-decimal parts shows 2); percents:
    at least 2, so that a computed rate shows how far it is off; counts and scores: none for a whole
    number, else 2.
    """
    if kind == AMOUNT:
        return max(finest.get(unit or "", 0), decimals)
    if kind == PERCENT:
        return max(decimals, 2)
    f = as_number(value)
    return 0 if f is None or float(f).is_integer() else 2


def as_number(v: Any) -> float | None:
    """`v` as a finite float, or None (also for booleans, text that is no number, NaN)."""
    if isinstance(v, bool) or v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def rounded(value: Any, decimals: int) -> float | None:
    """The value rounded to `decimals` through Decimal, so that 75.93000000000006 is stored as 75.93."""
    f = as_number(value)
    if f is None:
        return None
    q = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(f)).quantize(q, rounding=ROUND_HALF_EVEN)) + 0.0  # + 0.0: no "-0.0"


def format_value(value: Any, kind: str | None, decimals: int) -> str:
    """The value as printed: `decimals` decimals, thousands separators for amounts; "—" when none."""
    f = rounded(value, decimals)
    if f is None:
        return "—"
    return f"{f:,.{decimals}f}" if kind == AMOUNT else f"{f:.{decimals}f}"


def with_unit(text: str, kind: str | None, unit: str | None) -> str:
    """A formatted value with its unit ("1,160.18 万元", "33.00%"); a dash stays alone."""
    if text == "—":
        return text
    if kind == PERCENT:
        return f"{text}%"
    return f"{text} {unit}" if unit else text


def excel_format(kind: str | None, decimals: int, unit: str | None = None) -> str:
    """The Excel number format that shows a cell as `format_value` (and `with_unit`, given a unit) does."""
    frac = "." + "0" * decimals if decimals > 0 else ""
    base = f"#,##0{frac}" if kind == AMOUNT else f"0{frac}"
    if kind == PERCENT:
        return base + '"%"'
    if unit:
        return base + '" ' + unit.replace('"', "") + '"'
    return base


def stated_figure(
    figures: list[Mapping[str, Any]], stated: Any, result: Any = None
) -> Mapping[str, Any] | None:
    """Which of a check's figures states its result: the one named `result`, else the last printing
    `stated`; None when neither is among them."""
    if result is not None:
        for f in figures:
            if f.get("id") == result:
                return f
    s = as_number(stated)
    hits = [f for f in figures if s is not None and as_number(f.get("value")) == s]
    return hits[-1] if hits else None


def check_style(
    figures: list[Mapping[str, Any]], stated: Any, result: Any, finest: Mapping[str, int]
) -> tuple[str | None, str | None, int]:
    """Kind, unit and decimals a check's values (stated, expected, difference) are printed with: those
    of the figure stating its result (else its last figure), by the rule its message follows."""
    f = stated_figure(figures, stated, result) or (figures[-1] if figures else None)
    if f is None:
        return None, None, shown_decimals(None, None, 0, {}, stated)
    kind, unit = f.get("kind"), f.get("unit")
    return kind, unit, shown_decimals(kind, unit, printed_decimals(f.get("text")), finest, f.get("value"))
