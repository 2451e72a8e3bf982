"""OCR confusions that matter for figures, fixed in one place (patterns in data/ocr.toml).

Every fix maps one character to one character (the glyph boxes stay aligned). Full-width digits and
signs become ASCII; the rest only inside a number: a look-alike letter becomes the digit it looks like where it stands between digits or
beside one inside a digit run, and a decimal point read as a comma or a middle dot is restored
where the group after it cannot be a thousands group. No digit is ever added.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache

from pipeline.vocabulary import DATA


@cache
def _config() -> tuple[dict[str, str], re.Pattern[str], re.Pattern[str]]:
    with open(DATA / "ocr.toml", "rb") as fh:
        cfg = tomllib.load(fh)
    looks = cfg["digit_lookalikes"]
    letters = "".join(re.escape(c) for c in looks)
    # a look-alike inside a run of digits: at least one real digit on one side, digits or '.' around
    lookalike = re.compile(
        rf"(?<=[0-9])[{letters}](?=[0-9{letters}.%]|$|[^A-Za-z])"
        rf"|(?<![A-Za-z])[{letters}](?=[0-9])"
    )
    dots = "".join(re.escape(c) for c in cfg["decimal_lookalikes"])
    # 828·69 / 828，69 / 3,5 万元: a group of one or two digits after the mark is a fraction, never a
    # thousands group (those have three)
    decimal = re.compile(rf"(?<=[0-9])[{dots}](?=[0-9]{{1,2}}(?![0-9])\s*(?:[万亿千百]?元|%|％))")
    return looks, lookalike, decimal


# full-width digits and signs of numbers, as their ASCII forms (the engine returns either)
_FULL_WIDTH = str.maketrans({chr(0xFF10 + n): str(n) for n in range(10)} | {"％": "%", "＋": "+", "－": "-"})


def fix_confusions(text: str) -> str:
    """OCR text with the digit look-alikes in numbers fixed; same length as `text`."""
    looks, lookalike, decimal = _config()
    text = text.translate(_FULL_WIDTH)
    prev = None
    while prev != text:  # "1OO": each fix lets the next look-alike stand beside a digit
        prev = text
        text = lookalike.sub(lambda m: looks[m.group()], text)
    return decimal.sub(".", text)
