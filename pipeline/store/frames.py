"""The store as DataFrames (read models): one row per document, figure, check, section, table cell, file.

Columns and dtypes come from `schema`'s mappings; every child row carries its document's id, unit,
year and file (`schema.DOC_KEY`). Dtypes are the same whatever the backend and even for an empty
result, so that callers (and the Parquet export) can rely on them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from .schema import (
    CELLS,
    CHECKS,
    DOC_KEY,
    DOCUMENTS,
    FIGURES,
    INGEST_FILES,
    SECTIONS,
    TABLES,
    UTC_TIME,
    Entity,
    check_figures,
    checks,
    documents,
    figures,
    ingest_files,
    report_tables,
    sections,
    table_cells,
)

if TYPE_CHECKING:
    import pandas as pd

_ORD = {"ord": "Int64"}
_KEY_DTYPES = {f.name: f.dtype for f in DOC_KEY}


def _shown(entity: Entity, table: sa.Table) -> list[sa.ColumnElement]:
    return [table.c[f.column].label(f.name) for f in entity.shown()]


def _doc_key(table: sa.Table) -> list[sa.ColumnElement]:
    return [table.c.document_id, *(documents.c[f.column] for f in DOC_KEY[1:])]


class FramesMixin:
    """`Store`'s read models."""

    def _read(self, stmt: sa.Select, dtypes: dict[str, str]) -> pd.DataFrame:
        import pandas as pd  # here, not at the top: a batch process never builds a DataFrame

        with self.engine.connect() as conn:
            result = conn.execute(stmt)
            df = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        for col, dtype in dtypes.items():
            if dtype == UTC_TIME and col in df.columns:
                df[col] = pd.to_datetime(df[col], utc=True)  # SQLite drops the zone: put it back
        return df.astype(
            {c: t for c, t in dtypes.items() if c in df.columns and t not in (UTC_TIME, "object")}
        )

    @staticmethod
    def _doc_filters(stmt: sa.Select, unit: str | None, year: int | None) -> sa.Select:
        if unit is not None:
            stmt = stmt.where(documents.c.unit == unit)
        if year is not None:
            stmt = stmt.where(documents.c.year == int(year))
        return stmt

    def _children(self, entity: Entity, table: sa.Table, unit: str | None, year: int | None) -> sa.Select:
        stmt = (
            sa.select(*_doc_key(table), *_shown(entity, table), table.c.ord)
            .join(documents, table.c.document_id == documents.c.id)
            .order_by(table.c.document_id, table.c.ord)
        )
        return self._doc_filters(stmt, unit, year)

    def documents_df(
        self, unit: str | None = None, year: int | None = None, status: str | None = None
    ) -> pd.DataFrame:
        """One row per stored file (ok and failed), filtered by reporting unit, year and status."""
        stmt = sa.select(*[c for c in self._present(documents) if c.name != "extra"]).order_by(documents.c.id)
        stmt = self._doc_filters(stmt, unit, year)
        if status is not None:
            stmt = stmt.where(documents.c.status == status)
        return self._read(stmt, {"id": "Int64", **DOCUMENTS.dtypes()})

    def figures_df(
        self,
        unit: str | None = None,
        year: int | None = None,
        label: str | None = None,
        kind: str | None = None,
    ) -> pd.DataFrame:
        """Figures with their document's unit, year and file; `label` matches as a substring.

        The reporting unit is column `unit`; the figure's own unit of measure (万元, %, 人) is
        `value_unit`.
        """
        stmt = self._children(FIGURES, figures, unit, year)
        if label is not None:
            stmt = stmt.where(figures.c.label.contains(label, autoescape=True))
        if kind is not None:
            stmt = stmt.where(figures.c.kind == kind)
        return self._read(stmt, {**_KEY_DTYPES, **FIGURES.dtypes(), **_ORD})

    def checks_df(
        self, unit: str | None = None, year: int | None = None, status: str | None = None
    ) -> pd.DataFrame:
        """Checks with their document's unit, year and file; `figures` lists the involved figure ids."""
        stmt = self._children(CHECKS, checks, unit, year).add_columns(checks.c.id.label("check_row"))
        if status is not None:
            stmt = stmt.where(checks.c.status == status)
        df = self._read(stmt, {**_KEY_DTYPES, **CHECKS.dtypes(), **_ORD, "check_row": "Int64"})
        # Figure ids per check, gathered here rather than with group_concat/string_agg, which differ
        # between the backends.
        links = sa.select(check_figures.c.check_id, check_figures.c.fig_id, check_figures.c.position).where(
            check_figures.c.check_id.in_(stmt.with_only_columns(checks.c.id).order_by(None).scalar_subquery())
        )
        with self.engine.connect() as conn:
            by_check: dict[int, list[tuple[int, str]]] = {}
            for check_row, fig_id, pos in conn.execute(links):
                by_check.setdefault(check_row, []).append((pos, fig_id))
        linked = CHECKS.field(CHECKS.linked[0])
        names = [f.name for f in CHECKS.fields]
        after = names[names.index(linked.name) + 1]
        import pandas as pd

        df.insert(
            df.columns.get_loc(after),
            linked.name,
            pd.Series(
                [",".join(f for _, f in sorted(by_check.get(int(r), []))) for r in df["check_row"]],
                index=df.index,
                dtype=linked.dtype,
            ),
        )
        return df.drop(columns=["check_row"])

    def sections_df(self, unit: str | None = None, year: int | None = None) -> pd.DataFrame:
        """Section headings in reading order, with their document's unit, year and file."""
        return self._read(
            self._children(SECTIONS, sections, unit, year), {**_KEY_DTYPES, **SECTIONS.dtypes(), **_ORD}
        )

    def table_cells_df(self, unit: str | None = None, year: int | None = None) -> pd.DataFrame:
        """Every table cell (one row per cell), with its table's id, page and title."""
        stmt = (
            sa.select(*_doc_key(report_tables), *_shown(TABLES, report_tables), *_shown(CELLS, table_cells))
            .join(report_tables, table_cells.c.table_id == report_tables.c.id)
            .join(documents, report_tables.c.document_id == documents.c.id)
            .order_by(report_tables.c.document_id, report_tables.c.ord, table_cells.c.row, table_cells.c.col)
        )
        dtypes = {**_KEY_DTYPES, **TABLES.dtypes(), **CELLS.dtypes()}
        return self._read(self._doc_filters(stmt, unit, year), dtypes)

    def ingest_files_df(self, run_id: int | None = None) -> pd.DataFrame:
        """The submission log: one row per submitted file and attempt."""
        stmt = sa.select(*self._present(ingest_files)).order_by(ingest_files.c.id)
        if run_id is not None:
            stmt = stmt.where(ingest_files.c.run_id == run_id)
        return self._read(stmt, {"id": "Int64", **INGEST_FILES.dtypes()})


# -- the same frames from one contract document, without a database ------------------------------------

FRAME_NAMES = ("figures", "checks", "sections", "tables")


def contract_frames(doc: dict) -> dict[str, pd.DataFrame]:
    """One contract document as the store's read models would give it back once saved.

    Keys "figures", "checks", "sections" and "tables" (one row per table cell, as `table_cells_df`);
    the columns and dtypes are those of `figures_df`, `checks_df`, `sections_df` and `table_cells_df`,
    with `document_id` missing (<NA>): the document is in no store.
    """
    import pandas as pd

    parts = {None: doc, "source": doc.get("source") or {}, "report": doc.get("report") or {}}
    key = {DOC_KEY[0].name: None, **{f.name: f.value(parts[f.at]) for f in DOC_KEY[1:]}}

    def fields(entity: Entity) -> list:
        # the shown fields, those kept in tables of their own (a check's figures) in their place
        return [f for f in entity.fields if f.zh is not None and f.key]

    def value(f: object, item: dict) -> object:
        v = f.value(item)  # type: ignore[attr-defined]
        return ",".join(map(str, v or [])) if f.sql is None else v  # type: ignore[attr-defined]

    def frame(rows: list[dict], columns: list[str], dtypes: dict[str, str]) -> pd.DataFrame:
        df = pd.DataFrame(rows, columns=columns)
        return df.astype({c: t for c, t in dtypes.items() if c in df.columns and t != "object"})

    out = {}
    for entity in (FIGURES, CHECKS, SECTIONS):
        shown = fields(entity)
        items = doc.get(entity.key) or []
        rows = [{**key, **{f.name: value(f, item) for f in shown}, "ord": i} for i, item in enumerate(items)]
        columns = [*key, *(f.name for f in shown), "ord"]
        out[entity.key] = frame(rows, columns, {**_KEY_DTYPES, **entity.dtypes(), **_ORD})
    (cells_key,) = TABLES.linked
    table_fields = fields(TABLES)
    cell_names = [f.name for f in CELLS.fields]  # row, col, text
    rows = [
        {
            **key,
            **{f.name: f.value(t) for f in table_fields},
            **dict(zip(cell_names, (r, c, text), strict=True)),
        }
        for t in doc.get(TABLES.key) or []
        for r, cells in enumerate(t.get(cells_key) or [])
        for c, text in enumerate(cells)
    ]
    columns = [*key, *(f.name for f in table_fields), *cell_names]
    out["tables"] = frame(rows, columns, {**_KEY_DTYPES, **TABLES.dtypes(), **CELLS.dtypes()})
    return {name: out[name] for name in FRAME_NAMES}
