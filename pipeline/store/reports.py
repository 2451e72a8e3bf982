"""Saving and loading whole reports (the JSON contract, as dicts), row by row as `schema` maps them.

Works on the contract's dicts, not on the extractor's model, so that the store does not move each
time extraction does. Guarantees the rest of the pipeline relies on:

* one report is written in one transaction: it is either all there or not there at all;
* a report is identified by the sha256 of its file: storing it again with the same extractor version
  writes nothing, storing it with another version replaces its rows in place (same document id).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from pipeline.messages import Message
from pipeline.model import CheckStatus

from .database import now
from .schema import (
    CELLS,
    CHECKS,
    CHILDREN,
    DOCUMENTS,
    FIGURES,
    SECTIONS,
    TABLES,
    DocStatus,
    Entity,
    FileStatus,
    check_figures,
    checks,
    documents,
    figures,
    report_tables,
    sections,
    table_cells,
)

Outcome = Literal["inserted", "replaced", "duplicate"]
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class SaveResult:
    """What `Store.save_report` did with one report."""

    document_id: int
    outcome: Outcome
    sha256: str
    previous_version: str | None = None  # extractor version of the rows that were replaced
    rows: int = 0  # child rows written (sections, figures, checks, links, tables, cells)


def _extra(d: dict, known: set[str]) -> dict | None:
    rest = {k: v for k, v in d.items() if k not in known}
    return rest or None


def _rows(entity: Entity, doc_id: int, items: Sequence[dict]) -> list[dict]:
    known = entity.known()
    return [
        {
            "document_id": doc_id,
            **{f.column: f.value(item) for f in entity.stored() if f.key},
            "ord": i,
            "extra": _extra(item, known),
        }
        for i, item in enumerate(items)
    ]


def _row_ids(conn: Connection, table: sa.Table, doc_id: int) -> list[int]:
    # One extra query is cheaper and more portable than RETURNING over executemany.
    stmt = sa.select(table.c.id).where(table.c.document_id == doc_id).order_by(table.c.ord)
    return list(conn.execute(stmt).scalars())


def _contract(entity: Entity, row: Any, **linked: Any) -> dict:
    """A stored row back in the contract's shape; `linked` gives the keys kept in tables of their own."""
    out: dict[str, Any] = {}
    for f in entity.fields:
        if f.key is None:
            continue
        if f.sql is None:
            out[f.key] = linked.pop(f.key)
        elif f.part is not None:
            out.setdefault(f.key, []).append(row[f.column])
        else:
            out[f.key] = row[f.column]
    for f in entity.fields:
        if f.part == 0 and all(v is None for v in out[f.key]):
            out[f.key] = None
    return {**out, **linked, **(row["extra"] or {})}


class ReportsMixin:
    """`Store`'s report methods: save a contract dict, load it back, look documents up."""

    # -- writing ---------------------------------------------------------------------------------

    def save_report(
        self,
        doc: dict,
        *,
        path: str | None = None,
        extractor_version: str,
        run_id: int | None = None,
        archived: str | None = None,
    ) -> SaveResult:
        """Store one extracted report (a contract dict), idempotently by `source.sha256`.

        * sha256 not stored yet (or stored only as a failed file) → rows written, outcome "inserted";
        * stored by the same `extractor_version` → nothing written, outcome "duplicate";
        * stored by another version → its child rows replaced and the document row updated in place
          (same document id), outcome "replaced". Any different version replaces: the store does not
          order version strings, the caller decides which extractor runs.

        Everything, the `ingest_files` row included, happens in one transaction: an error part-way
        leaves the database as it was. The file's `ingest_files` row (status ok or duplicate, under
        `run_id` when given) is written here, so callers must not `record_file` it again. `archived`
        is where the file's archived copy is (`pipeline.archive`).
        """
        sha = self._validate(doc)
        path = path or doc["source"].get("file") or sha
        for attempt in range(2):
            try:
                with self._writer.begin() as conn:
                    return self._save(conn, doc, sha, path, extractor_version, run_id, archived)
            except IntegrityError:
                # Another process inserted the same sha256 between our look-up and our insert
                # (PostgreSQL; SQLite's IMMEDIATE transactions cannot race). Once more, it is found.
                if attempt:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _validate(doc: dict) -> str:
        try:
            sha = doc["source"]["sha256"]
            for key in DOCUMENTS.linked:
                doc[key]  # noqa: B018 - presence check
        except (KeyError, TypeError) as e:
            raise ValueError(f"not a report contract dict: missing {e}") from None
        if not isinstance(sha, str) or not _SHA256.match(sha):
            raise ValueError(f"source.sha256 is not a lowercase hex sha256: {sha!r}")
        return sha

    def _save(
        self,
        conn: Connection,
        doc: dict,
        sha: str,
        path: str,
        version: str,
        run_id: int | None,
        archived: str | None = None,
    ) -> SaveResult:
        self._lock_sha(conn, sha)
        existing = conn.execute(
            sa.select(documents.c.id, documents.c.status, documents.c.extractor_version, documents.c.archived)
            .where(documents.c.sha256 == sha)
            .with_for_update()  # PostgreSQL: two replacers of one report queue here
        ).first()
        if existing is not None and existing.status == DocStatus.OK and existing.extractor_version == version:
            if archived and existing.archived != archived:  # a store older than its archive
                conn.execute(
                    documents.update().where(documents.c.id == existing.id).values(archived=archived)
                )
            self._file_row(
                conn, run_id, path, sha, FileStatus.DUPLICATE, Message("already_stored"), existing.id
            )
            return SaveResult(existing.id, "duplicate", sha, existing.extractor_version)

        values = self._document_values(doc, path, version)
        if archived:
            values["archived"] = archived
        stamp = now()
        if existing is None:
            doc_id = conn.execute(
                documents.insert().returning(documents.c.id),
                {**values, "ingested_at": stamp, "updated_at": stamp},
            ).scalar_one()
            outcome: Outcome = "inserted"
            previous = None
        else:
            doc_id = existing.id
            self._delete_children(conn, doc_id)
            conn.execute(
                documents.update().where(documents.c.id == doc_id).values(**values, updated_at=stamp)
            )
            # A failed file that now extracts is new data, not a replacement of data.
            outcome = "replaced" if existing.status == DocStatus.OK else "inserted"
            previous = existing.extractor_version if existing.status == DocStatus.OK else None

        rows = self._insert_sections(conn, doc_id, doc[SECTIONS.key])
        fig_ids, n = self._insert_figures(conn, doc_id, doc[FIGURES.key])
        rows += n
        rows += self._insert_checks(conn, doc_id, doc[CHECKS.key], fig_ids)
        rows += self._insert_tables(conn, doc_id, doc[TABLES.key])
        self._file_row(conn, run_id, path, sha, FileStatus.OK.value, None, doc_id)
        return SaveResult(doc_id, outcome, sha, previous, rows)

    @staticmethod
    def _document_values(doc: dict, path: str, version: str) -> dict:
        parts = {None: doc, "source": doc["source"], "report": doc["report"] or {}}
        extra = {at or "top": _extra(obj, DOCUMENTS.known(at)) for at, obj in parts.items()}
        checks_ = doc[CHECKS.key]
        return {
            **{f.column: f.value(parts[f.at]) for f in DOCUMENTS.stored() if f.key},
            "path": path,
            "status": DocStatus.OK.value,
            "error": None,
            "error_zh": None,
            "extractor_version": version,
            "n_sections": len(doc[SECTIONS.key]),
            "n_figures": len(doc[FIGURES.key]),
            "n_checks": len(checks_),
            "n_checks_failed": sum(1 for c in checks_ if c.get("status") == CheckStatus.FAIL),
            "n_tables": len(doc[TABLES.key]),
            "extra": {k: v for k, v in extra.items() if v} or None,
        }

    @staticmethod
    def _delete_children(conn: Connection, doc_id: int) -> None:
        # Explicit, children first, rather than relying on ON DELETE CASCADE: the document row stays
        # (its id is referenced by ingest_files), and SQLite enforces cascades only when told to.
        check_rows = sa.select(checks.c.id).where(checks.c.document_id == doc_id).scalar_subquery()
        table_rows = (
            sa.select(report_tables.c.id).where(report_tables.c.document_id == doc_id).scalar_subquery()
        )
        conn.execute(check_figures.delete().where(check_figures.c.check_id.in_(check_rows)))
        conn.execute(table_cells.delete().where(table_cells.c.table_id.in_(table_rows)))
        for t in (checks, figures, sections, report_tables):
            conn.execute(t.delete().where(t.c.document_id == doc_id))

    # -- the write, step by step (separate methods so a test can make one of them fail) -----------

    @staticmethod
    def _insert_sections(conn: Connection, doc_id: int, items: Sequence[dict]) -> int:
        rows = _rows(SECTIONS, doc_id, items)
        if rows:
            conn.execute(sections.insert(), rows)
        return len(rows)

    @staticmethod
    def _insert_figures(conn: Connection, doc_id: int, items: Sequence[dict]) -> tuple[dict[str, int], int]:
        for f in items:
            bbox = f.get("bbox") or (None, None, None, None)
            if len(bbox) != 4:
                raise ValueError(f"figure {f.get('id')}: bbox must have 4 numbers, has {len(bbox)}")
        rows = _rows(FIGURES, doc_id, items)
        if not rows:
            return {}, 0
        conn.execute(figures.insert(), rows)
        # Row ids by contract id, for the check links. A repeated contract id links to its first figure.
        ids: dict[str, int] = {}
        for row_id, row in zip(_row_ids(conn, figures, doc_id), rows, strict=True):
            ids.setdefault(row["fig_id"], row_id)
        return ids, len(rows)

    @staticmethod
    def _insert_checks(conn: Connection, doc_id: int, items: Sequence[dict], fig_ids: dict[str, int]) -> int:
        rows = _rows(CHECKS, doc_id, items)
        if not rows:
            return 0
        conn.execute(checks.insert(), rows)
        links = [
            {"check_id": row_id, "figure_id": fig_ids.get(str(fid)), "fig_id": str(fid), "position": p}
            for row_id, c in zip(_row_ids(conn, checks, doc_id), items, strict=True)
            for p, fid in enumerate(c.get(CHECKS.linked[0]) or [])
        ]
        if links:
            conn.execute(check_figures.insert(), links)
        return len(rows) + len(links)

    @staticmethod
    def _insert_tables(conn: Connection, doc_id: int, items: Sequence[dict]) -> int:
        (cells_key,) = TABLES.linked
        rows = [
            {**row, "n_rows": len(t.get(cells_key) or [])}
            for row, t in zip(_rows(TABLES, doc_id, items), items, strict=True)
        ]
        if not rows:
            return 0
        conn.execute(report_tables.insert(), rows)
        row_col_text = [f.column for f in CELLS.fields]
        cells = [
            dict(
                zip(
                    ["table_id", *row_col_text],
                    (row_id, r, c, None if text is None else str(text)),
                    strict=True,
                )
            )
            for row_id, t in zip(_row_ids(conn, report_tables, doc_id), items, strict=True)
            for r, cells_ in enumerate(t.get(cells_key) or [])
            for c, text in enumerate(cells_)
        ]
        if cells:
            conn.execute(table_cells.insert(), cells)
        return len(rows) + len(cells)

    def set_archived(self, sha256: str, archived: str) -> None:
        """Note where the archived copy of a stored file is (a file stored before the archive existed)."""
        with self._writer.begin() as conn:
            conn.execute(
                documents.update()
                .where(
                    documents.c.sha256 == sha256,
                    sa.or_(documents.c.archived.is_(None), documents.c.archived != archived),
                )
                .values(archived=archived)
            )

    # -- reading ---------------------------------------------------------------------------------

    def document_id(self, sha256: str) -> int | None:
        """The id of the document stored for these bytes, if any."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(documents.c.id).where(documents.c.sha256 == sha256)).scalar()

    def seen(self, sha256: str, extractor_version: str) -> bool:
        """True when this file is stored successfully by this extractor version (so it can be skipped).

        A file that failed is not "seen": it is tried again.
        """
        with self.engine.connect() as conn:
            return (
                conn.execute(
                    sa.select(documents.c.id).where(
                        documents.c.sha256 == sha256,
                        documents.c.extractor_version == extractor_version,
                        documents.c.status == DocStatus.OK.value,
                    )
                ).first()
                is not None
            )

    def document_ids(self, status: str | None = DocStatus.OK.value) -> list[int]:
        """Ids of the stored documents (by default the successfully extracted ones), in id order."""
        stmt = sa.select(documents.c.id).order_by(documents.c.id)
        if status is not None:
            stmt = stmt.where(documents.c.status == status)
        with self.engine.connect() as conn:
            return list(conn.execute(stmt).scalars())

    def iter_reports(self, status: str | None = DocStatus.OK.value) -> Iterator[dict]:
        """Each stored document rebuilt in the contract's shape (see `load_report`)."""
        for doc_id in self.document_ids(status):
            yield self.load_report(doc_id)

    def load_report(self, document_id: int) -> dict:
        """Rebuild one stored document as a contract dict (extra properties included).

        Numbers come back as floats (an integer `value` of 247 as 247.0) and `year`/`pages`/`page`/
        `level` as ints; everything else as stored.
        """
        with self.engine.connect() as conn:
            d = (
                conn.execute(sa.select(*self._present(documents)).where(documents.c.id == document_id))
                .mappings()
                .first()
            )
            if d is None:
                raise KeyError(f"no document {document_id}")

            def children(table: sa.Table) -> list[Any]:
                stmt = sa.select(table).where(table.c.document_id == document_id).order_by(table.c.ord)
                return list(conn.execute(stmt).mappings())

            links: dict[int, list[tuple[int, str]]] = {}
            for check_row, fig_id, pos in conn.execute(
                sa.select(check_figures.c.check_id, check_figures.c.fig_id, check_figures.c.position)
                .join(checks, check_figures.c.check_id == checks.c.id)
                .where(checks.c.document_id == document_id)
            ):
                links.setdefault(check_row, []).append((pos, fig_id))
            grid: dict[int, dict[int, dict[int, str | None]]] = {}
            for table_row, r, c, text in conn.execute(
                sa.select(table_cells.c.table_id, *(table_cells.c[f.column] for f in CELLS.fields))
                .join(report_tables, table_cells.c.table_id == report_tables.c.id)
                .where(report_tables.c.document_id == document_id)
            ):
                grid.setdefault(table_row, {}).setdefault(r, {})[c] = text
            out_sections = [_contract(SECTIONS, s) for s in children(sections)]
            out_figures = [_contract(FIGURES, f) for f in children(figures)]
            (check_links,) = CHECKS.linked
            out_checks = [
                _contract(CHECKS, c, **{check_links: [f for _, f in sorted(links.get(c["id"], []))]})
                for c in children(checks)
            ]
            (cells_key,) = TABLES.linked
            out_tables = [
                _contract(TABLES, t, **{cells_key: _rows_of(grid.get(t["id"], {}), t["n_rows"])})
                for t in children(report_tables)
            ]
        extra = d["extra"] or {}
        out: dict[str, Any] = {}
        for f in DOCUMENTS.fields:
            if f.key:
                (out if f.at is None else out.setdefault(f.at, {}))[f.key] = d[f.column]
        for at in ("source", "report"):
            out[at].update(extra.get(at) or {})
        children_out = (out_sections, out_figures, out_checks, out_tables)
        for entity, items in zip(CHILDREN, children_out, strict=True):
            out[entity.key] = items
        return {**out, **(extra.get("top") or {})}


def _rows_of(grid: dict[int, dict[int, str | None]], n_rows: int) -> list[list[str | None]]:
    rows = []
    for r in range(n_rows):
        row = grid.get(r, {})
        rows.append([row.get(c) for c in range(max(row) + 1)] if row else [])
    return rows
