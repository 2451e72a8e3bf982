"""The Datasette plugin of `pipeline browse`: link columns of the views become links.

Only values of the shapes the views build (from a document's sha256 and a check's position) are
linked, and only when the file they lead to exists (an audit written before the last ingest has no
card for the new reports): anything else in those columns is plain text, escaped by Datasette.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from datasette import hookimpl
from datasette.utils import to_css_class
from markupsafe import Markup, escape

from .views import AUDIT_CARD, AUDIT_PAGE, CROP, ORIGINAL

NAME = "pipeline-browse"
AUDIT_MOUNT, ARCHIVE_MOUNT = "audit", "archive"

_AUDIT = re.compile(r"^(report-[0-9a-f]{12}\.html(#check-\d+)?|img/[0-9a-f]{12}-\d+-p\d+\.png)$")
_ARCHIVE = re.compile(r"^[0-9a-f]{64}\.pdf(#page=(\d+))?$")
_TEXT = {AUDIT_PAGE: "审核页", AUDIT_CARD: "问题卡片", CROP: "截图"}
# Columns of long text: wide enough to read instead of one character per line beside thirty others.
_WIDE = ("说明", "标题", "原文", "错误原因", "原因", "标签", "提交路径")


@hookimpl
def render_cell(value: Any, column: str, datasette: Any) -> Markup | None:
    if not isinstance(value, str):
        return None
    config = datasette.plugin_config(NAME) or {}
    audit, archive = config.get("audit"), config.get("archive")
    if column in _TEXT and _AUDIT.match(value):
        if not (audit and _exists(audit, value)):
            return Markup("—")  # the audit has no such card or crop (no PDF, or written before)
        href = datasette.urls.path(f"/{AUDIT_MOUNT}/{value}")
        return Markup('<a href="{}">{}</a>').format(href, _TEXT[column])
    if column == ORIGINAL:
        m = _ARCHIVE.match(value)
        if m and not (archive and _exists(archive, value)):
            return Markup("—")
        if m:
            href = datasette.urls.path(f"/{ARCHIVE_MOUNT}/{value}")
            text = f"原文第 {m.group(2)} 页" if m.group(2) else "原文"
            return Markup('<a href="{}">{}</a>').format(href, escape(text))
    return None


def _exists(folder: str, value: str) -> bool:
    return (Path(folder) / value.split("#", 1)[0]).is_file()


@hookimpl
def extra_css_urls() -> list[str]:
    return [_css()]


@cache
def _css() -> str:
    # Datasette names each column's cells col-<css class of its name>.
    rules = "".join(f".rows-and-columns td.col-{to_css_class(c)}{{min-width:16em}}" for c in _WIDE)
    return "data:text/css," + quote(rules + ".rows-and-columns td{min-width:3.5em}")
