"""Loads the genre's patterns and vocabularies (data/vocabulary.toml) once."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


@cache
def vocab() -> dict[str, Any]:
    with open(DATA / "vocabulary.toml", "rb") as fh:
        return tomllib.load(fh)


def yuan_per() -> dict[str, float]:
    """元 per unit of money ([units].money): the one table every conversion of amounts reads."""
    return dict(vocab()["units"]["money"])


def alternation(words: list[str]) -> str:
    """A regex alternation that prefers the longest word."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
