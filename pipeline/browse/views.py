"""Chinese views over the store's tables, derived from the same mappings as the exports.

Datasette shows tables as they are; reviewers read 报告单位 and 未通过, not `unit` and `fail`. Each
view names its columns with the headers the exports use (`schema.Field.zh`), spells codes in words,
and adds the links a reviewer follows: a check's audit card (`report-<sha[:12]>.html#check-<n>`,
the anchors `pipeline.audit` writes), its crop, the archived original at the check's page.

The views live in the SQLite file itself (they are what Datasette lists); they are dropped and
created again whenever `pipeline browse` starts, so a newer pipeline never serves old definitions.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pipeline.store.exports import WORDS
from pipeline.store.schema import CELLS, CHECKS, DOC_KEY, DOCUMENTS, FIGURES, SECTIONS, TABLES, Field

# view name → what it shows; the order Datasette lists them in
REPORTS, FIGURES_V, CHECKS_V, SECTIONS_V, CELLS_V, FILES_V = (
    "报告",
    "数据",
    "校验",
    "章节",
    "表格单元格",
    "入库记录",
)
# Columns the browser shows as links (see plugin.py): audit page, audit card, crop, original.
AUDIT_PAGE, AUDIT_CARD, CROP, ORIGINAL = "审核页", "审核卡片", "截图", "原文PDF"
CHECK_POSITION, CHECK_PAGE, DIFFERENCE = "校验序号", "页码", "差额(报告值-计算值)"
DOC_ID = "文档编号"


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _expr(alias: str, f: Field) -> str:
    """The column of `f` in table `alias`, its codes spelled in words where it has them."""
    col = f"{alias}.{q(f.column)}"
    if alias == "d" and f.column == "error":
        # in Chinese where the store kept it (pipeline.messages), else the English it has
        return "coalesce(d.error_zh, d.error)"
    if alias == "d" and f.key == "file":
        # as the exports show it: with its folder, so that twenty report.pdf are told apart
        return f"CASE WHEN d.folder <> '' THEN d.folder || '/' || {col} ELSE {col} END"
    if f.words:
        cases = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in WORDS[f.words].items())
        return f"CASE {col} {cases} ELSE {col} END"
    return col


def _cols(alias: str, fields: object) -> list[str]:
    return [f"{_expr(alias, f)} AS {q(f.zh)}" for f in fields if f.sql is not None and f.zh]  # type: ignore[attr-defined]


def _doc_key(alias: str = "d") -> list[str]:
    (doc_id, *rest) = DOC_KEY
    return [f"{alias}.id AS {q(doc_id.zh)}", *(f"{_expr(alias, f)} AS {q(f.zh)}" for f in rest)]


_SLUG = "substr(d.sha256, 1, 12)"
# The name of the folder a document was submitted from: SQLite has no basename, but rtrim with the
# path's own non-slash characters cuts back to the last slash.
_P = "replace(coalesce(path, ''), '\\', '/')"
_DIR = f"rtrim(rtrim({_P}, replace({_P}, '/', '')), '/')"
_FOLDER = f"substr({_DIR}, length(rtrim({_DIR}, replace({_DIR}, '/', ''))) + 1)"
DOCS = f"(SELECT documents.*, {_FOLDER} AS folder FROM documents) d"
# A store made before the Chinese reasons has no error_zh / reason_zh until it is next written: NULL.
_DOCS_OLD = f"(SELECT documents.*, NULL AS error_zh, {_FOLDER} AS folder FROM documents) d"
# The page a check's figures start on, among those with a position on the page (those have crops).
_CHECK_PAGE = (
    "(SELECT min(f.page) FROM check_figures cf JOIN figures f ON f.id = cf.figure_id "
    "WHERE cf.check_id = c.id AND f.page IS NOT NULL AND f.bbox_x0 IS NOT NULL)"
)
_FINDING = "c.status IN ('fail', 'unverifiable')"


def view_sql(have: dict[str, set[str]] | None = None) -> dict[str, str]:
    """Each view's SELECT; `have` (table → its columns) when the store may predate a column."""
    docs = _DOCS_OLD if have is not None and "error_zh" not in have.get("documents", set()) else DOCS
    reason_zh = "i.reason_zh" if have is None or "reason_zh" in have.get("ingest_files", set()) else "NULL"
    doc_cols = _cols("d", DOCUMENTS.fields)
    at = next(
        i for i, f in enumerate(f for f in DOCUMENTS.fields if f.sql is not None and f.zh) if f.key == "file"
    )
    links = [
        f"CASE WHEN d.status = 'ok' THEN 'report-' || {_SLUG} || '.html' END AS {q(AUDIT_PAGE)}",
        f"d.sha256 || '.pdf' AS {q(ORIGINAL)}",
    ]
    # the links beside the file's name, where the eye is when it wants to open one
    documents = ", ".join([f"d.id AS {q(DOC_ID)}", *doc_cols[: at + 1], *links, *doc_cols[at + 1 :]])
    figures = ", ".join([*_doc_key(), *_cols("x", FIGURES.fields)])
    checks = ", ".join(
        [
            *_doc_key(),
            f"c.ord + 1 AS {q(CHECK_POSITION)}",
            *_cols("c", CHECKS.fields),
            # rounded past any printed precision: only the binary noise of the subtraction goes
            f"round(c.stated - c.expected, 6) AS {q(DIFFERENCE)}",
            "(SELECT group_concat(fig_id, ',') FROM (SELECT cf.fig_id FROM check_figures cf "
            f"WHERE cf.check_id = c.id ORDER BY cf.position)) AS {q(CHECKS.field('figures').zh)}",
            f"{_CHECK_PAGE} AS {q(CHECK_PAGE)}",
            f"CASE WHEN {_FINDING} THEN 'report-' || {_SLUG} || '.html#check-' || (c.ord + 1) END AS {q(AUDIT_CARD)}",
            f"CASE WHEN {_FINDING} AND {_CHECK_PAGE} IS NOT NULL THEN 'img/' || {_SLUG} || '-' || (c.ord + 1) "
            f"|| '-p' || {_CHECK_PAGE} || '.png' END AS {q(CROP)}",
            f"d.sha256 || '.pdf' || coalesce('#page=' || {_CHECK_PAGE}, '') AS {q(ORIGINAL)}",
        ]
    )
    sections = ", ".join([*_doc_key(), *_cols("s", SECTIONS.fields)])
    cells = ", ".join([*_doc_key(), *_cols("t", TABLES.fields), *_cols("tc", CELLS.fields)])
    return {
        REPORTS: f"SELECT {documents} FROM {docs}",
        FIGURES_V: f"SELECT {figures} FROM figures x JOIN {docs} ON d.id = x.document_id",
        CHECKS_V: f"SELECT {checks} FROM checks c JOIN {docs} ON d.id = c.document_id",
        SECTIONS_V: f"SELECT {sections} FROM sections s JOIN {docs} ON d.id = s.document_id",
        CELLS_V: (
            f"SELECT {cells} FROM table_cells tc JOIN report_tables t ON t.id = tc.table_id "
            f"JOIN {docs} ON d.id = t.document_id"
        ),
        FILES_V: (
            'SELECT i.id AS 记录编号, i.run_id AS 入库批次, i.path AS 提交路径, i.sha256 AS "SHA-256", '
            f"CASE i.status {' '.join(f'WHEN {_lit(k)} THEN {_lit(v)}' for k, v in FILE_STATUS_ZH.items())} "
            f"ELSE i.status END AS 状态, coalesce({reason_zh}, i.reason) AS 原因, i.document_id AS {q(DOC_ID)}, i.recorded_at AS 记录时间 "
            "FROM ingest_files i"
        ),
    }


FILE_STATUS_ZH = {**WORDS["doc_status"], "skipped": "跳过"}


def install_views(db_file: str | Path) -> list[str]:
    """Create (or re-create) the views in the SQLite store at `db_file`; returns their names."""
    conn = sqlite3.connect(str(db_file), timeout=30, isolation_level=None)
    try:
        have = {
            t: {row[1] for row in conn.execute(f"PRAGMA table_info({t})")}
            for t in ("documents", "ingest_files")
        }
        views = view_sql(have)
        conn.execute("BEGIN IMMEDIATE")
        for name, select in views.items():
            conn.execute(f"DROP VIEW IF EXISTS {q(name)}")
            conn.execute(f"CREATE VIEW {q(name)} AS {select}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()
    return list(views)
