"""The ingest log: runs, and one `ingest_files` row for every submitted file (ok / failed / duplicate / skipped)."""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pipeline.messages import zh_only
from pipeline.model import CheckStatus

from .database import now
from .schema import FILE_STATUSES, DocStatus, FileStatus, checks, documents, ingest_files, ingest_runs


class IngestLogMixin:
    """`Store`'s ingest-log methods."""

    def record_failure(
        self,
        path: str,
        sha256: str | None,
        reason: str,
        *,
        run_id: int | None = None,
        extractor_version: str | None = None,
        archived: str | None = None,
    ) -> int | None:
        """Record a file that could not be extracted or stored; returns its document id, if any.

        With a known sha256 the file gets a `documents` row with status failed and `error` = reason
        (a later successful save of the same file fills that row in). A document already stored
        successfully is left as it is: a failing re-run must not destroy good data; the failure then
        shows in `ingest_files` only. The `ingest_files` row (status failed) is always written.
        """
        stamp = now()
        with self._writer.begin() as conn:
            doc_id: int | None = None
            if sha256:
                self._lock_sha(conn, sha256)
                row = conn.execute(
                    sa.select(documents.c.id, documents.c.status).where(documents.c.sha256 == sha256)
                ).first()
                if row is None:
                    doc_id = conn.execute(
                        documents.insert().returning(documents.c.id),
                        {
                            "sha256": sha256,
                            "file_name": os.path.basename(path),
                            "path": path,
                            "archived": archived,
                            "status": DocStatus.FAILED.value,
                            "error": str(reason),
                            "error_zh": zh_only(reason),
                            "extractor_version": extractor_version,
                            "ingested_at": stamp,
                            "updated_at": stamp,
                        },
                    ).scalar_one()
                else:
                    doc_id = row.id
                    if row.status != DocStatus.OK:
                        conn.execute(
                            documents.update()
                            .where(documents.c.id == doc_id)
                            .values(
                                status=DocStatus.FAILED.value,
                                error=str(reason),
                                error_zh=zh_only(reason),
                                extractor_version=extractor_version,
                                updated_at=stamp,
                                **({"archived": archived} if archived else {}),
                            )
                        )
            self._file_row(conn, run_id, path, sha256, FileStatus.FAILED.value, reason, doc_id)
        return doc_id

    def record_file(
        self,
        run_id: int | None,
        path: str,
        sha256: str | None,
        status: str,
        reason: str | None = None,
        document_id: int | None = None,
    ) -> None:
        """Record a submitted file that never reached `save_report`/`record_failure` (e.g. skipped)."""
        if status not in FILE_STATUSES:
            raise ValueError(f"status must be one of {FILE_STATUSES}, not {status!r}")
        with self._writer.begin() as conn:
            self._file_row(conn, run_id, path, sha256, status, reason, document_id)

    def start_run(self, params: dict) -> int:
        """Open an ingest run (its parameters as JSON); returns the run id."""
        with self._writer.begin() as conn:
            return conn.execute(
                ingest_runs.insert().returning(ingest_runs.c.id), {"started_at": now(), "params": params}
            ).scalar_one()

    def unfinished_runs(self, before: int) -> list[int]:
        """Ids of ingest runs before `before` that never finished (killed, stopped, or their store went away).

        Files such a run submitted but gave no status are not stored: the next run ingests them as
        never seen. This says that it happened.
        """
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(ingest_runs.c.id)
                    .where(ingest_runs.c.id < before, ingest_runs.c.finished_at.is_(None))
                    .order_by(ingest_runs.c.id)
                ).scalars()
            )

    def finish_run(self, run_id: int, counts: dict) -> None:
        """Close an ingest run with its counts (e.g. {"ok": 10, "failed": 1}).

        The counts of the run's `ingest_files` rows per status are merged in under "files" so the
        run row tells what happened even if the caller counted differently.
        """
        with self._writer.begin() as conn:
            per_status = self._files_per_status(conn, run_id)
            result = conn.execute(
                ingest_runs.update()
                .where(ingest_runs.c.id == run_id)
                .values(finished_at=now(), counts={**counts, "files": per_status})
            )
            if result.rowcount != 1:
                raise KeyError(f"no ingest run {run_id}")

    @staticmethod
    def _files_per_status(conn: Connection, run_id: int) -> dict[str, int]:
        return dict(
            conn.execute(
                sa.select(ingest_files.c.status, sa.func.count())
                .where(ingest_files.c.run_id == run_id)
                .group_by(ingest_files.c.status)
            ).all()
        )

    def files_per_status(self, run_id: int) -> dict[str, int]:
        """How many files of ingest run `run_id` ended with each status."""
        with self.engine.connect() as conn:
            return self._files_per_status(conn, run_id)

    def run_ocr_pages(self, run_id: int) -> int:
        """Pages read by OCR in the documents run `run_id` stored (the contract's source.ocr_pages)."""
        docs = sa.select(ingest_files.c.document_id).where(
            ingest_files.c.run_id == run_id, ingest_files.c.status == FileStatus.OK
        )
        with self.engine.connect() as conn:
            extras = conn.execute(sa.select(documents.c.extra).where(documents.c.id.in_(docs))).scalars()
            return sum(len(((e or {}).get("source") or {}).get("ocr_pages") or []) for e in extras)

    def file_status(self, run_id: int, path: str) -> dict[str, Any] | None:
        """The last status `path` got in run `run_id`: status, sha256, reason, document_id."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(
                    ingest_files.c.status,
                    ingest_files.c.sha256,
                    ingest_files.c.reason,
                    *self._present(ingest_files, "reason_zh"),
                    ingest_files.c.document_id,
                )
                .where(ingest_files.c.run_id == run_id, ingest_files.c.path == path)
                .order_by(ingest_files.c.id.desc())
                .limit(1)
            ).first()
        return dict(row._mapping) if row is not None else None

    def run_failing_checks(self, run_id: int, limit: int | None = None) -> list[dict[str, Any]]:
        """Failing checks of the documents run `run_id` stored or found stored: unit, year, file, rule, message."""
        docs = sa.select(ingest_files.c.document_id).where(
            ingest_files.c.run_id == run_id,
            ingest_files.c.status.in_((FileStatus.OK.value, FileStatus.DUPLICATE.value)),
        )
        stmt = (
            sa.select(documents.c.unit, documents.c.year, documents.c.path, checks.c.rule, checks.c.message)
            .join(documents, checks.c.document_id == documents.c.id)
            .where(checks.c.status == CheckStatus.FAIL.value, checks.c.document_id.in_(docs))
            .order_by(documents.c.unit, documents.c.year, documents.c.id, checks.c.ord)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                {"unit": u, "year": y, "file": os.path.basename(p or ""), "rule": r, "message": m}
                for u, y, p, r, m in conn.execute(stmt)
            ]

    @staticmethod
    def _file_row(
        conn: Connection,
        run_id: int | None,
        path: str,
        sha256: str | None,
        status: str,
        reason: str | None,
        document_id: int | None,
    ) -> None:
        conn.execute(
            ingest_files.insert(),
            {
                "run_id": run_id,
                "path": path,
                "sha256": sha256,
                "status": status,
                "reason": None if reason is None else str(reason),
                "reason_zh": zh_only(reason),
                "document_id": document_id,
                "recorded_at": now(),
            },
        )
