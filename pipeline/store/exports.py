"""Exports of the store: an Excel workbook, CSV files, Parquet files, or one contract JSON per report.

Excel and CSV are for people (Chinese column names, enumerations in words); Parquet is for code
(English column names, typed columns, codes as stored); JSON gives each report back in the contract's
shape. Everything is read through `pipeline.store.Store`; the columns come from `pipeline.store.schema`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from pipeline import excel, settings
from pipeline.safety import write_csv
from pipeline.vocabulary import vocab

from . import Store
from .schema import (
    CELLS,
    CHECKS,
    DATE,
    DOC_KEY,
    DOC_STATUS_ZH,
    DOCUMENT_ID,
    DOCUMENTS,
    FIGURES,
    FLOAT,
    INT,
    SECTIONS,
    TABLES,
    TEXT,
    TIME,
    Field,
)

FORMATS = settings.EXPORT_FORMATS
EXCEL_MAX_ROWS = excel.MAX_ROWS

NUMBER_FORMATS = {INT: "#,##0", FLOAT: "#,##0.00", DATE: "yyyy-mm-dd", TIME: "yyyy-mm-dd hh:mm:ss"}
# Years, pages and ids read wrong with thousands separators (2,021).
PLAIN_INT = "0"

# names shown to people live with the other vocabularies (data/vocabulary.toml)
WORDS = {**vocab()["display"], "doc_status": DOC_STATUS_ZH}

# Stated minus computed: the size of the discrepancy, which is what a reviewer sorts by.
DIFFERENCE = Field("difference", None, "float64", zh="差额(报告值-计算值)")


def _words(c: Field) -> dict[str, str] | None:
    return WORDS[c.words] if c.words else None


@dataclass(frozen=True)
class Dataset:
    name: str  # file stem for CSV/Parquet
    sheet: str | None  # Excel sheet, None when not in the workbook
    load: Callable[[Store], pd.DataFrame]
    cols: list[Field]


def _documents(store: Store) -> pd.DataFrame:
    return store.documents_df().rename(columns={"id": DOCUMENT_ID.name})


def _checks(store: Store) -> pd.DataFrame:
    df = store.checks_df()
    df.insert(df.columns.get_loc(CHECKS.linked[0]), DIFFERENCE.name, df["stated"] - df["expected"])
    return df


def _check_cols() -> list[Field]:
    cols = [*DOC_KEY, *CHECKS.exported()]
    at = [c.key for c in cols].index(CHECKS.linked[0])
    return [*cols[:at], DIFFERENCE, *cols[at:]]


DATASETS = [
    Dataset("documents", "报告", _documents, [DOCUMENT_ID, *DOCUMENTS.exported()]),
    Dataset("figures", "数据", lambda s: s.figures_df(), [*DOC_KEY, *FIGURES.exported()]),
    Dataset("checks", "校验", _checks, _check_cols()),
    Dataset("sections", "章节", lambda s: s.sections_df(), [*DOC_KEY, *SECTIONS.exported()]),
    # one row per cell: for code and CSV users, too long and too narrow for a sheet
    Dataset("tables", None, lambda s: s.table_cells_df(), [*DOC_KEY, *TABLES.exported(), *CELLS.exported()]),
]


def export(store: Store, fmt: str, out_dir: str | Path) -> list[Path]:
    """Write the store's contents to `out_dir` as `fmt` (xlsx, csv, parquet or json); returns the files.

    * xlsx: `reports.xlsx` with sheets 报告, 数据, 校验, 章节;
    * csv: one UTF-8 file with BOM per dataset (documents, figures, checks, sections, tables), so
      that Excel opens the Chinese correctly; text that a spreadsheet would run as a formula starts
      with "'" (`pipeline.safety.csv_cell`);
    * parquet: the same datasets with English column names and typed columns;
    * json: one `<sha256>.json` per successfully stored report, in the contract's shape.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        return _export_json(store, out)
    frames = {d.name: d.load(store) for d in DATASETS if fmt != "xlsx" or d.sheet}
    if fmt == "xlsx":
        path = out / "reports.xlsx"
        _write_xlsx([(d, frames[d.name]) for d in DATASETS if d.sheet], path)
        return [path]
    paths = []
    for d in DATASETS:
        if fmt == "csv":
            path = out / f"{d.name}.csv"
            # utf-8-sig: without the BOM, Excel reads the file as the system code page and the
            # Chinese comes out garbled. write_csv neutralises cells a spreadsheet would run.
            write_csv(_human(d, frames[d.name]), path, encoding="utf-8-sig")
        else:
            path = out / f"{d.name}.parquet"
            _typed(d, frames[d.name]).to_parquet(path, index=False)
        paths.append(path)
    return paths


# -- frames ----------------------------------------------------------------------------------------


def _human(d: Dataset, df: pd.DataFrame) -> pd.DataFrame:
    """The dataset as people read it: Chinese headers, codes in words, dates as dates."""
    out = pd.DataFrame(index=df.index)
    for c in d.cols:
        s = df[c.name]
        if c.words:
            s = s.map(lambda v, w=_words(c): w.get(v, v) if isinstance(v, str) else v).astype("string")
        elif c.kind == TIME:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)  # Excel has no time zones
        out[c.zh] = s
    return out


def _typed(d: Dataset, df: pd.DataFrame) -> pd.DataFrame:
    """The dataset for code: English names, Int64/float64/string/date/timestamp columns."""
    out = df[[c.name for c in d.cols]].copy()
    for c in d.cols:
        if c.kind == INT:
            out[c.name] = out[c.name].astype("Int64")
        elif c.kind == FLOAT:
            out[c.name] = out[c.name].astype("float64")
        elif c.kind == DATE:
            # A printed date that is no calendar day becomes null rather than failing the export.
            days = pd.to_datetime(out[c.name], format="%Y-%m-%d", errors="coerce")
            out[c.name] = pd.array(
                [None if pd.isna(v) else v.date() for v in days], dtype=pd.ArrowDtype(pa.date32())
            )
        elif c.kind == TEXT:
            out[c.name] = out[c.name].astype("string")
    return out


# -- Excel -----------------------------------------------------------------------------------------


def _excel_value(v: Any, kind: str) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if kind == DATE and isinstance(v, str):
        try:
            return date.fromisoformat(v)
        except ValueError:
            return v  # keep what was printed
    if kind == TIME and isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if kind == INT:
        return int(v)
    if kind == FLOAT:
        return float(v)
    return v


def _shown(v: Any, c: Field) -> str:
    if v is None:
        return ""
    if c.kind == FLOAT:
        return f"{v:,.2f}"
    if c.kind == INT and not c.plain:
        return f"{v:,}"
    if isinstance(v, datetime):
        return "0000-00-00 00:00:00"
    if isinstance(v, date):
        return "0000-00-00"
    return str(v)


def _write_xlsx(sheets: list[tuple[Dataset, pd.DataFrame]], path: Path) -> None:
    book = excel.Writer()
    for d, df in sheets:
        human = _human(d, df)
        rows = [
            [_excel_value(v, c.kind) for v, c in zip(r, d.cols, strict=True)]
            for r in human.itertuples(index=False)
        ]
        cols = [excel.Column(c.zh, PLAIN_INT if c.plain else NUMBER_FORMATS.get(c.kind)) for c in d.cols]
        per_sheet = excel.MAX_ROWS - 1
        chunks = [rows[i : i + per_sheet] for i in range(0, len(rows), per_sheet)] or [[]]
        for n, chunk in enumerate(chunks, 1):
            book.sheet(
                d.sheet if n == 1 else f"{d.sheet}({n})", cols, chunk, shown=lambda v, i, d=d: _shown(v, d.cols[i])
            )
    book.save(path)


# -- JSON ------------------------------------------------------------------------------------------


def _export_json(store: Store, out: Path) -> list[Path]:
    paths = []
    for doc in store.iter_reports():
        path = out / f"{doc['source']['sha256']}.json"
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        paths.append(path)
    return paths
