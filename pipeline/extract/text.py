"""Normalising printed text for parsing without losing the way back to it.

Every function here maps one character to one character, so an offset into the normalised text
is an offset into the printed text and into its glyphs (evidence boxes).
"""

from __future__ import annotations

import re
import unicodedata

# Full-width punctuation that carries meaning for parsing; the rest of NFKC's single-character
# foldings (full-width digits, Kangxi radicals that PDFs print for 一/二…) come from unicodedata.
_KEEP = {"，", "。", "、", "；", "：", "！", "？", "“", "”", "‘", "’", "《", "》", "【", "】", "—"}
_EXTRA = {"：": ":", "；": ";", "－": "-", "—": "—", "–": "-", "−": "-", "﹣": "-", "～": "~", "〜": "~"}


def fold_char(ch: str) -> str:
    if ch in ("：", "；"):
        return _EXTRA[ch]
    if ch in _KEEP:
        return ch
    if ch in _EXTRA:
        return _EXTRA[ch]
    folded = unicodedata.normalize("NFKC", ch)
    return folded if len(folded) == 1 else ch


_THOUSANDS = re.compile(r"(?<=\d)，(?=\d{3}(?!\d))")


def normalise(text: str) -> str:
    """Same-length normalised text: ASCII digits, %, (), :, ; and '.'; ideographic space → space."""
    out = "".join(fold_char(c) for c in text)
    # a full-width comma between digit groups is a thousands separator (1，280.21)
    out = _THOUSANDS.sub(",", out)
    assert len(out) == len(text)
    return out


def parse_number(s: str) -> float:
    return float(s.replace(",", "").replace(" ", ""))


def decimals_of(s: str) -> int:
    s = s.replace(",", "")
    return len(s.split(".", 1)[1]) if "." in s else 0


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_SMALL = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}


def parse_cn_number(s: str) -> float | None:
    """三千 → 3000, 十二 → 12, 一亿二千万 → 120000000; None when it is not a numeral."""
    if not s:
        return None
    total = section = 0
    digit = None
    for ch in s:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_SMALL:
            section += (digit if digit is not None else 1) * _CN_SMALL[ch]
            digit = None
        elif ch in _CN_BIG:
            section += digit or 0
            total = (total + section) * _CN_BIG[ch] if ch == "亿" else total + section * _CN_BIG[ch]
            section, digit = 0, None
        else:
            return None
    return float(total + section + (digit or 0))
