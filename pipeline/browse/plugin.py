"""The Datasette plugin of `pipeline browse`: link columns of the views become links.

Only values of the shapes the views build (from a document's sha256 and a check's position) are
linked; anything else in those columns is shown as plain text, escaped by Datasette as usual.
"""

from __future__ import annotations

import re
from typing import Any

from datasette import hookimpl
from markupsafe import Markup, escape

from .views import AUDIT_CARD, AUDIT_PAGE, CROP, ORIGINAL

NAME = "pipeline-browse"
AUDIT_MOUNT, ARCHIVE_MOUNT = "audit", "archive"

_AUDIT = re.compile(r"^(report-[0-9a-f]{12}\.html(#check-\d+)?|img/[0-9a-f]{12}-\d+-p\d+\.png)$")
_ARCHIVE = re.compile(r"^[0-9a-f]{64}\.pdf(#page=(\d+))?$")
_TEXT = {AUDIT_PAGE: "审核页", AUDIT_CARD: "问题卡片", CROP: "截图"}


@hookimpl
def render_cell(value: Any, column: str, datasette: Any) -> Markup | None:
    if not isinstance(value, str):
        return None
    config = datasette.plugin_config(NAME) or {}
    if column in _TEXT and config.get("audit") and _AUDIT.match(value):
        href = datasette.urls.path(f"/{AUDIT_MOUNT}/{value}")
        return Markup('<a href="{}">{}</a>').format(href, _TEXT[column])
    if column == ORIGINAL and config.get("archive"):
        m = _ARCHIVE.match(value)
        if m:
            href = datasette.urls.path(f"/{ARCHIVE_MOUNT}/{value}")
            text = f"原文第 {m.group(2)} 页" if m.group(2) else "原文"
            return Markup('<a href="{}">{}</a>').format(href, escape(text))
    return None

