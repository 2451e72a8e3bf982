"""Exports of the store: an Excel workbook, CSV files, Parquet files, one contract JSON per report, or
a SQLite copy of the whole store (to browse a PostgreSQL store with `pipeline browse`).

Excel and CSV are for people (Chinese column names, enumerations in words); Parquet is for code
(English column names, typed columns, codes as stored); JSON gives each report back in the contract's
shape. Everything is read through `pipeline.store.Store`; the columns come from `pipeline.store.schema`.

Numbers are exported as the report printed them: a figure with the decimals of its printed text, a
check's values with those of the figure it checks (`pipeline.numbers`, the rule the messages and the
audit follow), never with binary noise; in Excel each cell has the number format of its kind (amounts
with their decimals, percents with %, head counts as integers).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from pipeline import excel, numbers, settings
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
# Where a check's figures stand: the first page as a number (to sort and filter), all of them as text.
CHECK_PAGE = Field("page", None, "Int64", zh="页码", plain=True)
CHECK_PAGES = Field("pages", None, zh="涉及页码")
# Per-row printing of the numeric columns: `<column>.decimals` and `<column>.kind` beside each of them.
PRINTED = {"figures": ("value",), "checks": ("expected", "stated", "difference")}
# Failing checks are marked in the workbook: a reviewer's eye goes to them first.
MARK = "_mark"


def _words(c: Field) -> dict[str, str] | None:
    return WORDS[c.words] if c.words else None


@dataclass(frozen=True)
class Dataset:
    name: str  # file stem for CSV/Parquet
    sheet: str | None  # Excel sheet, None when not in the workbook
    load: Callable[[Store], pd.DataFrame]
    cols: list[Field]


def _shown_files(store: Store) -> dict[int, str]:
    """Each document's file as people tell it apart: with its folder ("单位A/report.pdf")."""
    docs = store.documents_df()
    out = {}
    for doc_id, name, path in zip(docs["id"], docs["file_name"], docs["path"], strict=True):
        name = None if pd.isna(name) else str(name)
        folder = Path(str(path)).parent.name if not pd.isna(path) else ""
        out[int(doc_id)] = f"{folder}/{name}" if folder and name else (name or "")
    return out


def _with_folders(store: Store, df: pd.DataFrame, id_col: str) -> pd.DataFrame:
    shown = _shown_files(store)
    df["file_name"] = pd.Series([shown.get(int(i)) for i in df[id_col]], index=df.index, dtype="string")
    return df


def _documents(store: Store) -> pd.DataFrame:
    return _with_folders(
        store, store.documents_df().rename(columns={"id": DOCUMENT_ID.name}), DOCUMENT_ID.name
    )


def _figures(store: Store) -> pd.DataFrame:
    df = _with_folders(store, store.figures_df(), DOCUMENT_ID.name)
    dec = [numbers.printed_decimals(t) for t in df["text"].fillna("")]
    df["value.decimals"] = dec
    df["value.kind"] = df["kind"]
    df["value"] = [numbers.rounded(v, d) for v, d in zip(df["value"], dec, strict=True)]
    # 折合金额(元): to the cent, which is finer than any printed amount and drops the conversion's noise.
    df["value_yuan"] = [numbers.rounded(v, 2) for v in df["value_yuan"]]
    return df.astype({"value": "float64", "value_yuan": "float64"})


def _checks(store: Store) -> pd.DataFrame:
    df = _with_folders(store, store.checks_df(), DOCUMENT_ID.name)
    figs = store.figures_df()
    by_doc: dict[int, dict[str, dict]] = {}
    for row in figs[["document_id", "fig_id", "kind", "value_unit", "text", "value", "page"]].itertuples(
        index=False
    ):
        fig = {"id": row.fig_id, "kind": row.kind, "unit": row.value_unit, "text": row.text,
               "value": row.value, "page": None if pd.isna(row.page) else int(row.page)}  # fmt: skip
        by_doc.setdefault(int(row.document_id), {}).setdefault(str(row.fig_id), fig)
    finest = {d: numbers.finest_by_unit(fs.values()) for d, fs in by_doc.items()}
    styles, first, pages = [], [], []
    for doc_id, ids, stated in zip(df["document_id"], df["figures"].fillna(""), df["stated"], strict=True):
        known = by_doc.get(int(doc_id), {})
        involved = [known[i] for i in str(ids).split(",") if i in known]
        styles.append(numbers.check_style(involved, stated, None, finest.get(int(doc_id), {})))
        ps = sorted({f["page"] for f in involved if f["page"] is not None})
        first.append(ps[0] if ps else None)
        pages.append(", ".join(map(str, ps)))
    df.insert(df.columns.get_loc(CHECKS.linked[0]), DIFFERENCE.name, df["stated"] - df["expected"])
    for col in PRINTED["checks"]:
        df[f"{col}.decimals"] = [d for _, _, d in styles]
        df[f"{col}.kind"] = [k for k, _, _ in styles]
        df[col] = pd.Series([numbers.rounded(v, d) for v, (_, _, d) in zip(df[col], styles, strict=True)],
                            index=df.index, dtype="float64")  # fmt: skip
    df[CHECK_PAGE.name] = pd.array(first, dtype="Int64")
    df[CHECK_PAGES.name] = pd.array(pages, dtype="string")
    df[MARK] = (df["status"] == "fail").fillna(False).astype(bool)
    return df


def _check_cols() -> list[Field]:
    cols = [*DOC_KEY, *CHECKS.exported()]
    at = [c.key for c in cols].index(CHECKS.linked[0])
    return [*cols[:at], DIFFERENCE, *cols[at:], CHECK_PAGE, CHECK_PAGES]


DATASETS = [
    Dataset("documents", "报告", _documents, [DOCUMENT_ID, *DOCUMENTS.exported()]),
    Dataset("figures", "数据", _figures, [*DOC_KEY, *FIGURES.exported()]),
    Dataset("checks", "校验", _checks, _check_cols()),
    Dataset(
        "sections",
        "章节",
        lambda s: _with_folders(s, s.sections_df(), DOCUMENT_ID.name),
        [*DOC_KEY, *SECTIONS.exported()],
    ),  # fmt: skip
    # one row per cell: for code and CSV users, too long and too narrow for a sheet
    Dataset(
        "tables",
        None,
        lambda s: _with_folders(s, s.table_cells_df(), DOCUMENT_ID.name),
        [*DOC_KEY, *TABLES.exported(), *CELLS.exported()],
    ),  # fmt: skip
]


# `progress(name, done, total)`: called after each step of an export (a file, a sheet, a report, a
# table copied), so that a command can show a bar; the library itself prints nothing.
ProgressCallback = Callable[[str, int, int], None]


def export(
    store: Store, fmt: str, out_dir: str | Path, progress: ProgressCallback | None = None
) -> list[Path]:
    """Write the store's contents to `out_dir` as `fmt` (xlsx, csv, parquet or json); returns the files.

    * xlsx: `reports.xlsx` with sheets 报告, 数据, 校验 (failing rows marked), 章节 and 表格 (each
      table as a grid under its title);
    * csv: one UTF-8 file with BOM per dataset (documents, figures, checks, sections, tables), so
      that Excel opens the Chinese correctly; numbers written with their printed decimals; text that
      a spreadsheet would run as a formula starts with "'" (`pipeline.safety.csv_cell`);
    * parquet: the same datasets with English column names and typed columns;
    * json: one `<sha256>.json` per successfully stored report, in the contract's shape;
    * sqlite: `reports.sqlite`, every table of the store copied (what `pipeline browse` serves).

    `progress`, when given, is called as `progress(name, done, total)` after each step: each dataset
    read, then each file (csv, parquet) or sheet and the save (xlsx) written; each report (json);
    each table copied (sqlite).
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    step = progress or (lambda name, done, total: None)
    if fmt == "json":
        return _export_json(store, out, step)
    if fmt == "sqlite":
        from .copy import copy_store

        path = out / "reports.sqlite"
        copy_store(store, path, progress=step)
        return [path]
    loaded = [d for d in DATASETS if fmt != "xlsx" or d.sheet]
    # Reading and writing take about as long each (the 数据 sheet longest): both are steps.
    total = 2 * len(loaded) + (2 if fmt == "xlsx" else 0)  # xlsx: the 表格 sheet, the save
    done = iter(range(1, total + 1))
    frames = {}
    for d in loaded:
        frames[d.name] = d.load(store)
        step(f"{d.name} (read)", next(done), total)
    if "error_zh" in frames["documents"]:
        # The sheets people read (Chinese headers) give the reason in Chinese where the store has it;
        # parquet, for programs, keeps the English.
        zh = frames["documents"].pop("error_zh")
        if fmt in ("xlsx", "csv"):
            frames["documents"]["error"] = zh.fillna(frames["documents"]["error"])
    if fmt == "xlsx":
        path = out / "reports.xlsx"
        sheets = [(d, frames[d.name]) for d in DATASETS if d.sheet]
        grid = _table_grid(store, frames["documents"])
        _write_xlsx(sheets, path, grid, out, lambda name: step(name, next(done), total))
        step(path.name, next(done), total)
        return [path]
    paths = []
    for d in DATASETS:
        if fmt == "csv":
            path = out / f"{d.name}.csv"
            # utf-8-sig: without the BOM, Excel reads the file as the system code page and the
            # Chinese comes out garbled. write_csv neutralises cells a spreadsheet would run.
            write_csv(_human(d, _printed(d, frames[d.name])), path, encoding="utf-8-sig")
        else:
            path = out / f"{d.name}.parquet"
            _typed(d, frames[d.name]).to_parquet(path, index=False)
        paths.append(path)
        step(path.name, next(done), total)
    return paths


# -- frames ----------------------------------------------------------------------------------------


def _printed(d: Dataset, df: pd.DataFrame) -> pd.DataFrame:
    """For CSV: the numeric columns as the text the report printed (decimals kept, no noise)."""
    out = df.copy()
    for col in PRINTED.get(d.name, ()):
        out[col] = pd.Series(
            [None if numbers.as_number(v) is None else f"{v:.{dec}f}"
             for v, dec in zip(df[col], df[f"{col}.decimals"], strict=True)],
            index=df.index, dtype="string",
        )  # fmt: skip
    return out


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


def _cell_formats(d: Dataset, df: pd.DataFrame) -> dict[int, list[str]]:
    """Column index → the number format of each row, for the columns printed per row."""
    names = [c.name for c in d.cols]
    return {
        names.index(col): [
            numbers.excel_format(None if pd.isna(k) else str(k), int(dec))
            for k, dec in zip(df[f"{col}.kind"], df[f"{col}.decimals"], strict=True)
        ]
        for col in PRINTED.get(d.name, ())
        if col in names
    }


def _archive_link(path: Any, out_dir: Path) -> str | None:
    # Relative to the workbook, so the link survives moving the export and the archive together.
    if path is None or path is pd.NA or (isinstance(path, float) and math.isnan(path)):
        return None
    try:
        return Path(os.path.relpath(str(path), out_dir)).as_posix()
    except ValueError:  # another drive (Windows)
        return Path(str(path)).as_uri()


def _write_xlsx(
    sheets: list[tuple[Dataset, pd.DataFrame]],
    path: Path,
    grid: list[list[Any]],
    out_dir: Path,
    written: Callable[[str], None] = lambda sheet: None,
) -> None:
    book = excel.Writer()
    for d, df in sheets:
        human = _human(d, df)
        formats = _cell_formats(d, df)
        archived = (
            [c.name for c in d.cols].index("archived") if any(c.name == "archived" for c in d.cols) else None
        )
        rows = []
        for n, r in enumerate(human.itertuples(index=False)):
            row: list[Any] = [_excel_value(v, c.kind) for v, c in zip(r, d.cols, strict=True)]
            for i, fmts in formats.items():
                row[i] = excel.Cell(row[i], fmts[n])
            if archived is not None and row[archived]:
                row[archived] = excel.Cell(row[archived], link=_archive_link(row[archived], out_dir))
            rows.append(row)
        marks = df[MARK].tolist() if MARK in df.columns else None
        cols = [excel.Column(c.zh, PLAIN_INT if c.plain else NUMBER_FORMATS.get(c.kind)) for c in d.cols]
        per_sheet = excel.MAX_ROWS - 1
        starts = range(0, len(rows), per_sheet)
        chunks = [(rows[i : i + per_sheet], marks[i : i + per_sheet] if marks else None) for i in starts] or [
            ([], None)
        ]
        for n, (chunk, marked) in enumerate(chunks, 1):
            book.sheet(
                d.sheet if n == 1 else f"{d.sheet}({n})",
                cols,
                chunk,
                shown=lambda v, i, d=d: _shown(v, d.cols[i]),
                marked=marked,
            )
        written(d.sheet or d.name)
    width = max((len(r) for r in grid), default=1)
    book.sheet(
        TABLE_SHEET,
        [excel.Column(f"第{i + 1}列", width=40 if i == 0 else None) for i in range(width)],
        [r + [None] * (width - len(r)) for r in grid],
        filter=False,
    )
    written(TABLE_SHEET)
    book.save(path)


# -- the 表格 sheet: each table as a grid under its title -------------------------------------------

TABLE_SHEET = "表格"


def _table_grid(store: Store, documents: pd.DataFrame) -> list[list[Any]]:
    """Rows of the 表格 sheet: per table a bold title line (unit, year, file, page, title), its rows
    cell by cell as printed, then an empty row."""
    cells = store.table_cells_df()
    shown = dict(zip(documents[DOCUMENT_ID.name].astype(int), documents["file_name"], strict=True))
    out: list[list[Any]] = []
    if cells.empty:
        return out
    keys = ["document_id", "table_id"]
    for (doc_id, table_id), t in cells.groupby(keys, sort=False):
        first = t.iloc[0]
        where = [str(v) for v in (first["unit"], first["year"], shown.get(int(doc_id))) if not pd.isna(v)]
        page = "" if pd.isna(first["page"]) else f"第 {int(first['page'])} 页"
        title = "" if pd.isna(first["title"]) else str(first["title"])
        out.append([excel.Cell("　".join([*where, page, title or str(table_id)]).strip(), bold=True)])
        n_rows = int(t["row"].max()) + 1
        n_cols = int(t["col"].max()) + 1
        grid: list[list[Any]] = [[None] * n_cols for _ in range(n_rows)]
        for r, c, text in zip(t["row"], t["col"], t["text"], strict=True):
            grid[int(r)][int(c)] = None if pd.isna(text) else str(text)
        out.extend(grid)
        out.append([])
    return out


# -- JSON ------------------------------------------------------------------------------------------


def _export_json(store: Store, out: Path, step: ProgressCallback) -> list[Path]:
    paths = []
    ids = store.document_ids()
    for n, doc_id in enumerate(ids, 1):
        doc = store.load_report(doc_id)
        path = out / f"{doc['source']['sha256']}.json"
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        paths.append(path)
        step(str(doc["source"].get("file") or path.name), n, len(ids))
    return paths
