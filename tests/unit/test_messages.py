"""The message table: every code says its parameters in both languages, and every code raised is in it."""

from __future__ import annotations

import ast
import pickle
import re
import string

import pytest

from pipeline import messages
from pipeline.errors import ReportError
from pipeline.messages import Message, table, text, unexpected, zh
from testkit.corpus import REPO

CJK = re.compile(r"[\u4e00-\u9fff]")


def _fields(template: str) -> dict[str, str]:
    return {name: spec for _, name, spec, _ in string.Formatter().parse(template) if name}


def _sample(name: str, spec: str) -> object:
    # a value the field's format accepts, and that can be found again in the text
    if spec.endswith(("f", "g")) or "," in spec:
        return 12345.0
    return f"<{name}>"


@pytest.mark.parametrize("code", sorted(table()))
def test_each_code_says_its_parameters_in_both_languages(code: str) -> None:
    entry = table()[code]
    en, zh_ = _fields(entry["en"]), _fields(entry["zh"])
    assert set(en) == set(zh_), f"{code}: the languages take different parameters"
    params = {k: _sample(k, spec) for k, spec in en.items()}
    m = Message(code, **params)
    english, chinese = str(m), m.text("zh")
    assert english == text(code, "en", **params) and chinese == text(code, "zh", **params)
    assert CJK.search(chinese) and english != chinese
    for k, v in params.items():
        shown = f"{v:{en[k]}}" if not isinstance(v, str) else v
        assert shown in english and shown in chinese, (code, k)
    assert not re.search(r"\{\w", english + chinese), (english, chinese)  # every field filled in


def test_a_message_is_its_english_text_and_keeps_its_code_across_processes() -> None:
    m = Message("too_large", size_mb=300.4, limit_mb=200.0)
    assert m == "too large (300 MB; the limit is 200 MB)" and "the limit" in m  # a string as before
    back = pickle.loads(pickle.dumps(m))
    assert (back.code, back.params, back.text("zh")) == (
        "too_large",
        m.params,
        "文件过大（300 MB，上限为 200 MB）",
    )
    err = pickle.loads(pickle.dumps(ReportError("a.pdf", Message("not_pdf"))))
    assert str(err) == "a.pdf: not a PDF (no %PDF- header)" and err.code == "not_pdf"
    assert err.reason_zh == "不是 PDF 文件（缺少 %PDF- 文件头）"


def test_a_message_inside_a_message_is_said_in_the_same_language() -> None:
    m = Message("symlink_to_other", kind=Message("kind_fifo"), target="/in/x")
    assert m == "a symbolic link to a named pipe (FIFO) (/in/x)"
    assert m.text("zh") == "符号链接指向命名管道（FIFO），不是文件（/in/x）"


def test_plain_text_and_unforeseen_errors() -> None:
    assert zh("not a PDF") == "not a PDF" and zh(None) is None  # an older store's English: shown as it is
    m = unexpected(ValueError("bad value " + "x" * 1000))
    assert m.startswith("ValueError: bad value") and len(m) <= 300  # one line, not a page
    assert m.text("zh").startswith("程序错误（ValueError: bad value")
    with pytest.raises(KeyError, match="no message 'no_such_code'"):
        Message("no_such_code")
    with pytest.raises(ValueError, match="language"):
        text("not_pdf", "fr")


def _codes_in_sources() -> dict[str, list[str]]:
    """Every code the code base names: the first argument of Message(…) and messages.text(…), by parsing."""
    found: dict[str, list[str]] = {}
    for folder in ("pipeline", "flows"):
        for path in sorted((REPO / folder).rglob("*.py")):
            own = path == REPO / "pipeline" / "messages.py"  # the machinery passes codes on
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                f = node.func
                name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
                if name not in ("Message", "text") or (name == "text" and not _is_messages(f)):
                    continue
                arg = node.args[0]
                options = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
                for o in options:
                    if own and not isinstance(o, ast.Constant):
                        continue
                    assert isinstance(o, ast.Constant) and isinstance(o.value, str), (
                        f"{path.relative_to(REPO)}:{node.lineno}: a message code must be spelt out"
                    )
                    found.setdefault(o.value, []).append(f"{path.relative_to(REPO)}:{node.lineno}")
    return found


def _is_messages(f: ast.expr) -> bool:
    # messages.text(…) (the module) — not some other object's text method
    return isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "messages"


def test_every_code_raised_is_in_the_table_and_every_entry_is_used() -> None:
    used = _codes_in_sources()
    assert len(used) > 40, sorted(used)  # the search really finds the raise sites
    missing = {c: where for c, where in used.items() if c not in table()}
    assert not missing, missing
    assert set(table()) - set(used) == set(), "entries nothing raises"


def test_no_reason_is_raised_as_plain_english_any_more() -> None:
    # A ReportError's reason, a refusal's reason: built from the table, not written at the raise site.
    plain = re.compile(r"ReportError\([^,]+,\s*f?\"")
    for folder in ("pipeline", "flows"):
        for path in (REPO / folder).rglob("*.py"):
            src = path.read_text(encoding="utf-8")
            assert not plain.search(src), path
    assert messages.table() is messages.table()  # read once
