"""The message table (data/messages.toml): every reason a user reads about a file, in English and Chinese.

A reason is raised as a `Message(code, **params)`: a `str` whose value is the English text (what the
command line, the logs and the store's reason columns carry, as before), which also knows its code
and parameters, so that the Chinese outputs (audit, workbook, reason files, browser, exports) can say
it in Chinese. A reason that is a plain string (from an older store, or a library's own text) is
shown as it is: English is the fallback, never an empty cell.
"""

from __future__ import annotations

import tomllib
from functools import cache
from typing import Any

from pipeline.vocabulary import DATA

LANGS = ("en", "zh")
_MAX_PARAM = 300  # an exception's text can be a page long; the reason stays one line


@cache
def table() -> dict[str, dict[str, str]]:
    """code → {"en": template, "zh": template}, read once."""
    with open(DATA / "messages.toml", "rb") as fh:
        data = tomllib.load(fh)
    for code, entry in data.items():
        missing = [lang for lang in LANGS if not isinstance(entry.get(lang), str)]
        if missing:
            raise ValueError(f"messages.toml: [{code}] has no {', '.join(missing)} text")
    return data


def text(code: str, lang: str = "en", /, **params: Any) -> str:
    """The message `code` in `lang` ("en" or "zh") with its parameters filled in.

    A parameter that is itself a Message is said in the same language.
    """
    if lang not in LANGS:
        raise ValueError(f"language must be one of {LANGS}, not {lang!r}")
    try:
        template = table()[code][lang]
    except KeyError:
        raise KeyError(f"no message {code!r} in messages.toml") from None
    return template.format(**{k: v.text(lang) if isinstance(v, Message) else v for k, v in params.items()})


class Message(str):
    """A reason: its English text as a string, with its code and parameters for the other language."""

    code: str
    params: dict[str, Any]

    def __new__(cls, code: str, /, **params: Any) -> Message:
        params = {k: _short(v) for k, v in params.items()}
        self = super().__new__(cls, text(code, "en", **params))
        self.code = code
        self.params = params
        return self

    def text(self, lang: str = "en") -> str:
        return text(self.code, lang, **self.params)

    def __reduce__(self) -> tuple:
        # across the extraction workers' pipes: rebuilt from code and parameters, not from the text
        return (_rebuild, (self.code, self.params))


def _rebuild(code: str, params: dict[str, Any]) -> Message:
    return Message(code, **params)


def _short(v: Any) -> Any:
    return v[:_MAX_PARAM] if isinstance(v, str) and not isinstance(v, Message) else v


def unexpected(exc: BaseException) -> Message:
    """The coded message of an error nobody foresaw: its kind and its text."""
    return Message("unexpected", error=f"{type(exc).__name__}: {exc}")


def of_exception(exc: BaseException) -> Message:
    """The message an exception was raised with (`Exc(Message(…))`), else `unexpected(exc)`."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, Message):
        return reason
    if exc.args and isinstance(exc.args[0], Message):
        return exc.args[0]
    return unexpected(exc)


def say(reason: str | None, lang: str) -> str | None:
    """`reason` in `lang`: a Message in that language, a plain string as it is (the English fallback)."""
    if reason is None:
        return None
    return reason.text(lang) if isinstance(reason, Message) else str(reason)


def zh(reason: str | None) -> str | None:
    """`reason` in Chinese where it is a Message (see `say`)."""
    return say(reason, "zh")


def zh_only(reason: str | None) -> str | None:
    """`reason` in Chinese when it is a Message, else None (what a column of Chinese text stores)."""
    return reason.text("zh") if isinstance(reason, Message) else None
