"""`pipeline browse`: the store in Datasette, for reviewers to search by unit, year and label.

Datasette serves the SQLite store with Chinese views (`views.py`), facets on unit / year / report type /
status, canned queries for the common questions, and links from each finding to its audit card and crop
(the audit folder, mounted at /audit/) and to the archived original at its page (/archive/). It listens on
127.0.0.1 unless told otherwise: the store holds whatever the reports say, and is nobody else's to read.

Datasette reads SQLite only: a PostgreSQL store is browsed through `pipeline export --format sqlite`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline import settings

from . import views
from .plugin import ARCHIVE_MOUNT, AUDIT_MOUNT, NAME

TITLE = "预算绩效自评报告库"


class BrowseError(Exception):
    """The store cannot be browsed (not SQLite, no such file)."""


def sqlite_file(db_url: str | None) -> Path:
    """The SQLite file of the store at `db_url`; BrowseError for other backends or a missing file."""
    from sqlalchemy.engine import make_url

    from pipeline.store import resolve_url

    url = make_url(resolve_url(db_url))
    if url.get_backend_name() != "sqlite":
        raise BrowseError(
            f"Datasette browses SQLite files, and this store is {url.get_backend_name()}: write a copy with "
            "`pipeline export --format sqlite --out DIR --db URL`, then "
            "`pipeline browse --db sqlite:///DIR/reports.sqlite`"
        )
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BrowseError(f"not a SQLite file: {db_url}")
    path = Path(url.database)
    if not path.is_file():
        raise BrowseError(f"no database at {path}")
    return path


def _queries() -> dict[str, Any]:
    q = views.q
    checks, figures, reports, files = (
        q(v) for v in (views.CHECKS_V, views.FIGURES_V, views.REPORTS, views.FILES_V)
    )
    return {
        "failing_checks": {
            "title": "未通过的校验（按单位、年度）",
            "description": "单位、年度留空即为全部。每行链接到审核卡片、截图和原文所在页。",
            "sql": (
                f"SELECT 报告单位, 年度, 文件名, 规则, 说明, 报告值, 计算值, {q(views.DIFFERENCE)}, 页码, "
                f"{q(views.AUDIT_CARD)}, {q(views.CROP)}, {q(views.ORIGINAL)} FROM {checks} "
                "WHERE 结果 = '未通过' AND (:单位 = '' OR 报告单位 = :单位) "
                "AND (:年度 = '' OR 年度 = CAST(:年度 AS INTEGER)) "
                f"ORDER BY 报告单位, 年度, {q(views.DOC_ID)}, {q(views.CHECK_POSITION)}"
            ),
        },
        "label_across_years": {
            "title": "同一标签跨年度",
            "description": "标签包含所填文字的数据，按单位、标签、年度排列（原文照录）。",
            "sql": (
                "SELECT 报告单位, 标签, 计量单位, 年度, group_concat(原文, '；') AS 原文, count(*) AS 次数 "
                f"FROM {figures} WHERE 标签 LIKE '%' || :标签 || '%' AND (:单位 = '' OR 报告单位 = :单位) "
                "GROUP BY 报告单位, 标签, 计量单位, 年度 ORDER BY 报告单位, 标签, 计量单位, 年度"
            ),
        },
        "failed_files": {
            "title": "提取失败的文件",
            "description": "提取失败的报告及原因；找不到或读不出的文件见入库记录。",
            "sql": (
                f"SELECT 文件名, 提交路径, 错误原因 AS 原因, {q('更新时间(UTC)')} AS 时间, {q(views.ORIGINAL)} "
                f"FROM {reports} WHERE 状态 = '失败' "
                f"UNION ALL SELECT NULL, 提交路径, 原因, 记录时间, NULL FROM {files} "
                f"WHERE 状态 = '失败' AND {q(views.DOC_ID)} IS NULL ORDER BY 时间 DESC"
            ),
        },
    }


def metadata(db_name: str, *, audit: Path | None, archive: Path | None) -> dict[str, Any]:
    """Datasette's metadata: titles, facets, hidden raw tables, canned queries, the plugin's settings."""
    from pipeline.store import ALL_TABLES

    tables: dict[str, Any] = {t: {"hidden": True} for t in ALL_TABLES}
    tables.update(
        {
            views.REPORTS: {
                "description": "每个提交的文件一行（含提取失败的）。",
                "facets": ["报告单位", "年度", "报告类型", "状态"],
                "sort": views.DOC_ID,
            },
            views.CHECKS_V: {
                "description": "每项核验一行；未通过和无法核验的链接到审核卡片。",
                "facets": ["结果", "规则", "报告单位", "年度"],
            },
            views.FIGURES_V: {
                "description": "报告中识别的每个数据。",
                "facets": ["类别", "报告单位", "年度"],
            },
            views.SECTIONS_V: {"description": "各报告的提纲。", "facets": ["报告单位", "年度"]},
            views.CELLS_V: {"description": "表格的每个单元格。", "facets": ["报告单位", "年度"]},
            views.FILES_V: {"description": "每次提交的每个文件及其结果。", "facets": ["状态"]},
        }
    )
    return {
        "title": TITLE,
        "description": "预算绩效自评报告的提取结果：报告、数据、校验、章节、表格。",
        "databases": {db_name: {"tables": tables, "queries": _queries()}},
        # the folders behind /audit/ and /archive/ (None: not mounted), for the plugin's links
        "plugins": {
            NAME: {"audit": str(audit) if audit else None, "archive": str(archive) if archive else None}
        },
    }


def datasette_app(db_file: Path, *, audit_dir: Path | None, archive_dir: Path | None) -> Any:
    """A Datasette instance over `db_file` (views installed), the audit and the archive mounted."""
    from datasette.app import Datasette
    from datasette.plugins import pm

    from . import plugin

    views.install_views(db_file)
    if not pm.is_registered(plugin):
        pm.register(plugin, name=NAME)
    mounts = []
    has_audit = audit_dir is not None and (audit_dir / "index.html").is_file()
    if has_audit:
        mounts.append((AUDIT_MOUNT, str(audit_dir)))
    has_archive = archive_dir is not None and archive_dir.is_dir()
    if has_archive:
        mounts.append((ARCHIVE_MOUNT, str(archive_dir)))
    return Datasette(
        files=[str(db_file)],
        metadata=metadata(
            db_file.stem, audit=audit_dir if has_audit else None, archive=archive_dir if has_archive else None
        ),
        static_mounts=mounts,
        settings={"default_facet_size": 20, "sql_time_limit_ms": 5000, "facet_time_limit_ms": 500},
    )


def serve(
    db_url: str | None,
    *,
    host: str = settings.BROWSE_HOST,
    port: int = settings.BROWSE_PORT,
    audit_dir: Path | None = settings.AUDIT_OUT,
    archive_dir: Path | None = None,
) -> None:
    """Serve the store until interrupted (what `pipeline browse` runs)."""
    import asyncio

    import uvicorn

    from pipeline.archive import archive_dir as default_archive

    db_file = sqlite_file(db_url)
    ds = datasette_app(db_file, audit_dir=audit_dir, archive_dir=archive_dir or default_archive(db_url))
    asyncio.run(ds.invoke_startup())
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning")
