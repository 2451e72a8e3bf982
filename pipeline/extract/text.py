"""Normalising printed text for parsing without losing the way back to it.

Every function here maps one character to one character, so an offset into the normalised text
is an offset into the printed text and into its glyphs (evidence boxes).
"""

from __future__ import annotations

import re
import unicodedata

import cn2an

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


def parse_cn_number(s: str) -> float | None:
    """三千 → 3000, 十二 → 12, 三点五 → 3.5, 壹仟 → 1000, 一亿二千万 → 120000000; None when it is not a numeral.

    The conversion is cn2an's; finding where a numeral starts and ends is the caller's.
    """
    if not s:
        return None
    try:
        value = cn2an.cn2an(s, "normal")
    except (ValueError, KeyError, IndexError):
        return None
    return float(value)
