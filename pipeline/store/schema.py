"""The store's tables, each derived from one mapping per entity: contract key → column → dtype.

Every field of the contract that the store keeps is named here once, with the column it lives in, the
pandas dtype the read models give it and the header people see in exports. Inserting, loading, the
DataFrames and the exports all walk these mappings; none of them spells a field out again.

Anything a document carries beyond these fields ("extra properties are allowed everywhere") is kept
in each row's `extra` JSON column, so that loading gives back what was stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

# How a column is exported: the Excel number format and the Parquet type follow from it.
INT, FLOAT, TEXT, DATE, TIME = "int", "float", "text", "date", "datetime"
UTC_TIME = "datetime64[ns, UTC]"


class DocStatus(StrEnum):
    """A stored document: extracted and stored, or a file that failed (its error kept)."""

    OK = "ok"
    FAILED = "failed"
    DUPLICATE = "duplicate"


class FileStatus(StrEnum):
    """A submitted file's row in the ingest log."""

    OK = "ok"
    FAILED = "failed"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"


DOC_STATUSES = tuple(s.value for s in DocStatus)
FILE_STATUSES = tuple(s.value for s in FileStatus)
DOC_STATUS_ZH = {DocStatus.OK: "成功", DocStatus.FAILED: "失败", DocStatus.DUPLICATE: "重复"}


def _int(x: Any) -> int | None:
    return None if x is None else int(x)


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


@dataclass(frozen=True)
class Field:
    """One stored field: where it is in the contract, which column holds it, how it is read and shown."""

    column: str
    sql: Any  # SQLAlchemy type; None for a field kept in a table of its own (a check's figures)
    dtype: str = "string"  # pandas dtype in the read models
    key: str | None = None  # key in the contract object; None for the store's own columns
    part: int | None = None  # position inside a list-valued key (the four numbers of a bbox)
    at: str | None = None  # documents only: the contract object holding `key` (source, report; None = top)
    zh: str | None = None  # header shown to people (Excel, CSV); None = not exported
    export: str | None = None  # export kind when the dtype does not tell (a date kept as text)
    plain: bool = False  # an integer shown without thousands separators (year, page, id)
    words: str | None = None  # codes shown in words: a table of the vocabulary's [display]
    frame: str | None = None  # name in the read models when the column's is ambiguous there
    required: bool = False  # the contract id: always present, stored as text
    nullable: bool = True
    unique: bool = False
    index: bool = False
    default: Any = None
    joins: bool = False  # documents only: shown beside every child row in the read models

    @property
    def name(self) -> str:
        """The column's name in DataFrames and exports."""
        return self.frame or self.column

    @property
    def kind(self) -> str:
        if self.export:
            return self.export
        return {"Int64": INT, "float64": FLOAT, UTC_TIME: TIME}.get(self.dtype, TEXT)

    def value(self, obj: dict) -> Any:
        """This field of a contract object, converted to what its column holds."""
        if self.required:
            return str(obj[self.key])
        v = obj.get(self.key) if self.key else None
        if self.part is not None:
            v = (v or (None,) * (self.part + 1))[self.part]
        if self.dtype == "Int64":
            return _int(v)
        if self.dtype == "float64":
            return _num(v)
        return v


@dataclass(frozen=True)
class Entity:
    """A kind of row: its table, its contract list (for a document's children) and its fields in order.

    The order is the one reviewers read (DataFrames, exports); loading follows it too.
    """

    table: str
    fields: tuple[Field, ...]
    key: str | None = None  # the document's list this entity's rows come from ("figures")
    linked: tuple[str, ...] = ()  # contract keys kept in tables of their own (a check's figures)

    def stored(self) -> Iterator[Field]:
        """Fields with a column in this entity's table."""
        return (f for f in self.fields if f.sql is not None)

    def exported(self) -> Iterator[Field]:
        return (f for f in self.fields if f.zh is not None)

    def known(self, at: str | None = None) -> set[str]:
        """Contract keys this entity stores in columns (documents: those of object `at`)."""
        return {f.key for f in self.fields if f.key and f.at == at} | set(self.linked)

    def field(self, key: str) -> Field:
        return next(f for f in self.fields if f.key == key)

    def shown(self) -> Iterator[Field]:
        """Stored fields that the read models and exports show."""
        return (f for f in self.fields if f.sql is not None and f.zh is not None)

    def dtypes(self) -> dict[str, str]:
        return {f.name: f.dtype for f in self.fields}


def _contract_id(column: str, zh: str) -> Field:
    return Field(column, sa.String(64), key="id", zh=zh, required=True, nullable=False)


DOCUMENT_ID = Field("document_id", sa.Integer, "Int64", zh="文档编号", plain=True)

# The document row. Timestamps are written by Python in UTC (not by server defaults) so both backends
# hold the same values; SQLite drops the zone on the way in, the loaders put it back.
DOCUMENTS = Entity(
    "documents",
    (
        Field("unit", sa.Text, key="unit", at="report", zh="报告单位", joins=True),
        Field("year", sa.Integer, "Int64", key="year", at="report", zh="年度", plain=True, joins=True),
        # The contract's ISO date string, kept as text: the extractor may print a date that matches the
        # pattern but is no calendar day, and the store should not be the place that rejects it.
        Field("date", sa.String(10), key="date", at="report", zh="报告日期", export=DATE),
        Field("doc_type", sa.Text, key="doc_type", at="report", zh="报告类型"),
        Field("title", sa.Text, key="title", at="report", zh="标题"),
        Field("file_name", sa.Text, key="file", at="source", zh="文件名", joins=True),
        Field("pages", sa.Integer, "Int64", key="pages", at="source", zh="页数", plain=True),
        Field("status", sa.String(16), zh="状态", words="doc_status", nullable=False),
        Field("error", sa.Text, zh="错误原因"),
        # the same reason in Chinese (pipeline.messages), for the Chinese outputs; NULL in older stores
        Field("error_zh", sa.Text),
        Field("n_sections", sa.Integer, "Int64", zh="章节数", nullable=False, default=0),
        Field("n_figures", sa.Integer, "Int64", zh="数据项数", nullable=False, default=0),
        Field("n_checks", sa.Integer, "Int64", zh="校验数", nullable=False, default=0),
        Field("n_checks_failed", sa.Integer, "Int64", zh="未通过校验数", nullable=False, default=0),
        Field("n_tables", sa.Integer, "Int64", zh="表格数", nullable=False, default=0),
        Field("extractor_version", sa.String(64), zh="提取程序版本"),
        Field("ingested_at", sa.DateTime(timezone=True), UTC_TIME, zh="入库时间(UTC)", nullable=False),
        Field("updated_at", sa.DateTime(timezone=True), UTC_TIME, zh="更新时间(UTC)", nullable=False),
        Field("sha256", sa.String(64), key="sha256", at="source", zh="SHA-256", nullable=False, unique=True),
        Field("path", sa.Text, zh="提交路径"),
        # The copy in the content-addressed archive (`pipeline.archive`): stays when the submitted file moves.
        Field("archived", sa.Text, zh="原文存档"),
        Field("schema_version", sa.Integer, "Int64", key="schema_version"),
    ),
    # the top-level keys the store takes apart (the rest of the top level goes into `extra`)
    linked=("source", "report", "sections", "figures", "checks", "tables"),
)

SECTIONS = Entity(
    "sections",
    (
        _contract_id("sec_id", "章节编号"),
        Field("level", sa.Integer, "Int64", key="level", zh="层级", plain=True),
        Field("number", sa.Text, key="number", zh="序号"),
        Field("title", sa.Text, key="title", zh="标题"),
        Field("page", sa.Integer, "Int64", key="page", zh="页码", plain=True),
        Field("parent", sa.String(64), key="parent", zh="上级章节"),
    ),
    key="sections",
)

# Double, not Numeric: the contract's numbers are JSON numbers (binary floats) and the loaders hand
# them to pandas as float64; Numeric would only add a Decimal round trip on PostgreSQL.
FIGURES = Entity(
    "figures",
    (
        _contract_id("fig_id", "数据编号"),
        Field("kind", sa.String(16), key="kind", zh="类别", words="kinds"),
        Field("label", sa.Text, key="label", zh="标签"),
        Field("value", sa.Double, "float64", key="value", zh="数值"),
        # The reporting unit is `unit` in the read models; a figure's unit of measure is `value_unit`.
        Field("unit", sa.String(32), key="unit", zh="计量单位", frame="value_unit"),
        Field("value_yuan", sa.Double, "float64", key="value_yuan", zh="折合金额(元)"),
        Field("qualifier", sa.String(32), key="qualifier", zh="限定词"),
        Field("text", sa.Text, key="text", zh="原文"),
        Field("page", sa.Integer, "Int64", key="page", zh="页码", plain=True),
        Field("section", sa.String(64), key="section", zh="所在章节"),
        *(
            Field(f"bbox_{side}", sa.Double, "float64", key="bbox", part=i, zh=f"位置{side}")
            for i, side in enumerate(("x0", "top", "x1", "bottom"))
        ),
    ),
    key="figures",
)

CHECKS = Entity(
    "checks",
    (
        _contract_id("check_id", "校验编号"),
        Field("rule", sa.String(32), key="rule", zh="规则", words="rules"),
        Field("status", sa.String(16), key="status", zh="结果", words="check_status"),
        Field("expected", sa.Double, "float64", key="expected", zh="计算值"),
        Field("stated", sa.Double, "float64", key="stated", zh="报告值"),
        # The ids of the figures a check involves live in check_figures, one row each.
        Field("figures", None, key="figures", zh="涉及数据"),
        Field("message", sa.Text, key="message", zh="说明"),
    ),
    key="checks",
    linked=("figures",),
)

TABLES = Entity(
    "report_tables",
    (
        _contract_id("table_id", "表格编号"),
        Field("page", sa.Integer, "Int64", key="page", zh="页码", plain=True),
        Field("title", sa.Text, key="title", zh="表格标题"),
        # Kept so that empty rows and ragged rows survive the trip through cells.
        Field("n_rows", sa.Integer, "Int64", nullable=False),
    ),
    key="tables",
    linked=("rows",),
)

# A table's `rows`, one row per cell, empty (NULL) ones too: a row's length is its highest column + 1.
CELLS = Entity(
    "table_cells",
    (
        Field("row", sa.Integer, "Int64", zh="行", plain=True, nullable=False),
        Field("col", sa.Integer, "Int64", zh="列", plain=True, nullable=False),
        Field("text", sa.Text, zh="内容"),
    ),
)

INGEST_RUNS = Entity(
    "ingest_runs",
    (
        Field("started_at", sa.DateTime(timezone=True), UTC_TIME, nullable=False),
        Field("finished_at", sa.DateTime(timezone=True), UTC_TIME),
        Field("params", sa.JSON, "object"),
        Field("counts", sa.JSON, "object"),
    ),
)

# The submission log: every submitted file leaves a row (ok / failed / duplicate / skipped).
INGEST_FILES = Entity(
    "ingest_files",
    (
        Field("run_id", None, "Int64"),
        Field("path", sa.Text, nullable=False),
        Field("sha256", sa.String(64), index=True),
        Field("status", sa.String(16), nullable=False),
        Field("reason", sa.Text),
        Field("reason_zh", sa.Text),  # in Chinese, as `error_zh`
        Field("document_id", None, "Int64"),
        Field("recorded_at", sa.DateTime(timezone=True), UTC_TIME, nullable=False),
    ),
)

# What identifies a child row's document in the read models and exports: its id, unit, year, file.
DOC_KEY = (DOCUMENT_ID, *(f for f in DOCUMENTS.fields if f.joins))

# The children of a document, in the order they are written, loaded and deleted.
CHILDREN = (SECTIONS, FIGURES, CHECKS, TABLES)


# -- the tables ---------------------------------------------------------------------------------------

metadata = sa.MetaData()


def _columns(entity: Entity, **own: sa.Column) -> list[sa.Column]:
    """The entity's columns in its order; `own` gives those that need more than a type (foreign keys)."""
    return [
        own[f.column]
        if f.column in own
        else sa.Column(
            f.column, f.sql, nullable=f.nullable, unique=f.unique, index=f.index, default=f.default
        )
        for f in entity.fields
        if f.sql is not None or f.column in own
    ]


def _doc_fk() -> sa.Column:
    # Child rows go with their document; indexed because every replace deletes by it.
    return sa.Column(
        "document_id",
        sa.Integer,
        sa.ForeignKey("documents.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


def _child_table(entity: Entity, *extra: Any) -> sa.Table:
    return sa.Table(
        entity.table,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        _doc_fk(),
        *_columns(entity),
        sa.Column("ord", sa.Integer, nullable=False),
        sa.Column("extra", sa.JSON),
        *extra,
    )


documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    *_columns(DOCUMENTS),
    sa.Column("extra", sa.JSON),
    sa.CheckConstraint(f"status IN {DOC_STATUSES}", name="documents_status"),
    sa.Index("ix_documents_unit_year", "unit", "year"),
    sa.Index("ix_documents_status", "status"),
)
sections = _child_table(SECTIONS)
figures = _child_table(FIGURES, sa.Index("ix_figures_label", "label"))
checks = _child_table(CHECKS, sa.Index("ix_checks_status", "status"))

# A check names its figures by contract id; `fig_id` keeps that id even when it matches no figure of
# the document (figure_id NULL then), so that loading gives the check back unchanged.
check_figures = sa.Table(
    "check_figures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "check_id", sa.Integer, sa.ForeignKey("checks.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("figure_id", sa.Integer, sa.ForeignKey("figures.id", ondelete="CASCADE"), index=True),
    sa.Column("fig_id", sa.String(64), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
)

report_tables = _child_table(TABLES)
table_cells = sa.Table(
    "table_cells",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("table_id", sa.Integer, sa.ForeignKey("report_tables.id", ondelete="CASCADE"), nullable=False),
    *_columns(CELLS),
    sa.Index("ix_table_cells_table", "table_id", "row", "col"),
)

ingest_runs = sa.Table(
    "ingest_runs", metadata, sa.Column("id", sa.Integer, primary_key=True), *_columns(INGEST_RUNS)
)
ingest_files = sa.Table(
    "ingest_files",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    *_columns(
        INGEST_FILES,
        run_id=sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("ingest_runs.id", ondelete="CASCADE"), index=True
        ),
        document_id=sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="SET NULL")),
    ),
    sa.CheckConstraint(f"status IN {FILE_STATUSES}", name="ingest_files_status"),
)

TABLES_OF = {
    e.table: t
    for e, t in ((SECTIONS, sections), (FIGURES, figures), (CHECKS, checks), (TABLES, report_tables))
}

# Order matters for counts() and for dropping: children before parents.
ALL_TABLES = (
    "documents",
    "sections",
    "figures",
    "checks",
    "check_figures",
    "report_tables",
    "table_cells",
    "ingest_runs",
    "ingest_files",
)
