"""The Datasette plugin of `pipeline browse`: link columns of the views become links.

Only values of the shapes the views build (from a document's sha256 and a check's position) are
linked, and only when the file they lead to exists (an audit written before the last ingest has no
card for the new reports): anything else in those columns is plain text, escaped by Datasette.
"""

from __future__ import annotations

import re
from pathlib import Path
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
    audit, archive = config.get("audit"), config.get("archive")
    if column in _TEXT and audit and _AUDIT.match(value) and _exists(audit, value):
        href = datasette.urls.path(f"/{AUDIT_MOUNT}/{value}")
        return Markup('<a href="{}">{}</a>').format(href, _TEXT[column])
    if column == ORIGINAL and archive:
        m = _ARCHIVE.match(value)
        if m and _exists(archive, value):
            href = datasette.urls.path(f"/{ARCHIVE_MOUNT}/{value}")
            text = f"原文第 {m.group(2)} 页" if m.group(2) else "原文"
            return Markup('<a href="{}">{}</a>').format(href, escape(text))
    return None


def _exists(folder: str, value: str) -> bool:
    return (Path(folder) / value.split("#", 1)[0]).is_file()
