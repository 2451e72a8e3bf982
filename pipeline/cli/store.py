"""Command-line glue for the store: `export` and `query`, registered into `pipeline`'s argument parser.

    pipeline export --format xlsx|csv|parquet|json|sqlite --out DIR [--db URL|PATH]
    pipeline query failing [--unit U] [--year Y] [--db URL|PATH] [--format table|csv|json] [--fail-on-findings]
    pipeline query label LABEL [--unit U] [--db URL|PATH] [--format table|csv|json]

pandas, SQLAlchemy and the export libraries are imported only when a command runs, so that
registering these commands costs `pipeline --help` nothing.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pipeline import settings

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.progress import Progress
    from pipeline.store import Store

FORMATS = settings.EXPORT_FORMATS
DB_HELP = settings.DB_HELP


QUERY_FORMATS = ("table", "csv", "json")
QUERY_EXITS = """exit codes:
  0  done (also when nothing matches a label or no check fails)
  1  the query failed otherwise (the message says why)
  2  usage: no store at that path, no such unit or year, a unit that several match
  3  failing checks were printed and --fail-on-findings was given
  4  the store failed (one line: which store, what: corrupt, locked, unreachable, not ours)
  141  the reader of the output went away (`| head`)"""
EXPORT_EXITS = """exit codes:
  0  done
  1  the export failed otherwise (the message says why)
  2  no store at that path
  3  the store failed (one line: which store, what: corrupt, locked, unreachable, not ours)
  141  the reader of the output went away (`| head`)"""
# Exit codes, as listed above.
USAGE, FINDINGS, QUERY_STORE_FAULT, STORE_FAULT = 2, 3, 4, 3


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `export` and `query` commands; each sets `func(args) -> int` (the exit code)."""
    raw = argparse.RawDescriptionHelpFormatter
    p = subparsers.add_parser(
        "export",
        help="write the stored reports as xlsx, csv, parquet, json or a sqlite copy",
        epilog=EXPORT_EXITS,
        formatter_class=raw,
    )
    p.add_argument("--format", "-f", dest="format", choices=FORMATS, required=True)
    p.add_argument("--out", "-o", type=Path, required=True, help="folder to write into (created)")
    p.add_argument("--db", default=None, help=DB_HELP)
    p.set_defaults(func=run_export)

    q = subparsers.add_parser(
        "query",
        help="ask the store: failing checks, a label across years",
        epilog=QUERY_EXITS,
        formatter_class=raw,
    )
    qs = q.add_subparsers(dest="query", metavar="QUERY", required=True)

    f = qs.add_parser(
        "failing",
        help="checks whose arithmetic does not hold, with their figures",
        epilog=QUERY_EXITS,
        formatter_class=raw,
    )
    f.add_argument("--unit", help="reporting unit, or a part of its name that only one unit has")
    f.add_argument("--year", type=int, help="fiscal year")
    f.add_argument(
        "--fail-on-findings",
        action="store_true",
        help=f"exit {FINDINGS} when there are failing checks (for scripts)",
    )
    _common_query_args(f)
    f.set_defaults(func=run_failing)

    lab = qs.add_parser(
        "label",
        help="figures whose label contains LABEL, one column per year",
        epilog=QUERY_EXITS,
        formatter_class=raw,
    )
    lab.add_argument("label", help="text the figure's label contains, e.g. 基本支出")
    lab.add_argument("--unit", help="reporting unit, or a part of its name that only one unit has")
    _common_query_args(lab)
    lab.set_defaults(func=run_label)


def _common_query_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=None, help=DB_HELP)
    p.add_argument(
        "--format",
        choices=QUERY_FORMATS,
        default="table",
        help="table (fitted to the terminal; plain aligned text when piped), csv, or json (one object per row)",
    )
    p.add_argument("--csv", dest="format", action="store_const", const="csv", help="the same as --format csv")


T = TypeVar("T")


def _open(db: str | None) -> Store:
    from pipeline.store import Store

    # A read command changes nothing: no empty database where a path was mistyped, no tables, no WAL.
    return Store(db, read_only=True)


def _with_store(db: str | None, action: Callable[[Store], T], what: str, fault: int = STORE_FAULT) -> T | int:
    """Run `action` on the store; on failure print one line (no traceback) and return the exit code."""
    from pipeline.store.queries import NoMatch

    try:
        with _open(db) as store:
            return action(store)
    except FileNotFoundError as exc:
        print(f"error: {_shown(exc)}; pass --db or set {settings.DB_ENV}", file=sys.stderr)
        return USAGE
    except NoMatch as exc:
        print(f"error: {_shown(exc)}", file=sys.stderr)
        return USAGE
    except BrokenPipeError:
        raise  # the reader went away: the command line's main says so by its exit code
    except Exception as exc:  # a user sees one line, not a traceback
        from pipeline.store import StoreError, classify, resolve_url, store_error

        if isinstance(exc, StoreError) or classify(exc) is not None:
            err = exc if isinstance(exc, StoreError) else store_error(resolve_url(db), exc)
            print(f"error: {err}", file=sys.stderr)
            return fault
        print(f"error: {what} failed: {type(exc).__name__}: {_shown(exc)}", file=sys.stderr)
        return 1


def _shown(text: object) -> str:
    # An error may quote a database URL (its password) or a file name (its escape sequences).
    from pipeline.safety import mask_secrets, printable

    return printable(mask_secrets(str(text)))


def run_export(args: argparse.Namespace) -> int:
    """`pipeline export`: write the store to `args.out` as `args.format`; prints each file written.

    A bar on a terminal (standard error) counts the files, sheets or reports written.
    """
    from pipeline.store.exports import export

    bar = _ExportBar()
    try:
        paths = _with_store(
            args.db, lambda store: export(store, args.format, args.out, progress=bar), "export"
        )
    finally:
        bar.close()
    if isinstance(paths, int):
        return paths
    for path in paths:
        print(path)
    if not paths:
        print("nothing to export: the store holds no reports", file=sys.stderr)
    return 0


class _ExportBar:
    """`export`'s progress callback: the bar opens at the first step, when the total is known."""

    def __init__(self) -> None:
        self._bar: Progress | None = None

    def __call__(self, name: str, done: int, total: int) -> None:
        if self._bar is None:
            from pipeline.progress import Progress

            self._bar = Progress(total, "导出").__enter__()
        self._bar.start(name)
        self._bar.advance()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def run_failing(args: argparse.Namespace) -> int:
    """`pipeline query failing`: print the failed checks (exit 3 for any with --fail-on-findings)."""
    from pipeline.store.queries import check_year, failing_checks, match_unit

    asked: list[str] = []

    def query(store: Store) -> pd.DataFrame:
        unit = match_unit(store, args.unit) if args.unit else None
        year = check_year(store, args.year, unit) if args.year is not None else None
        asked.extend(str(v) for v in (unit, year) if v is not None)
        return failing_checks(store, unit=unit, year=year)

    df = _with_store(args.db, query, "query", fault=QUERY_STORE_FAULT)
    if isinstance(df, int):
        return df
    empty = "no failing checks" + (f" ({', '.join(asked)})" if asked else "")
    _print(args.format, df, empty, lambda: _failing_table(df))
    return FINDINGS if args.fail_on_findings and not df.empty else 0


def run_label(args: argparse.Namespace) -> int:
    """`pipeline query label LABEL`: print the label's figures, one column per year."""
    from pipeline.store.queries import label_across_years, label_decimals, match_unit

    def query(store: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
        unit = match_unit(store, args.unit) if args.unit else None
        values = label_across_years(store, args.label, unit=unit)
        return values, label_decimals(store, args.label, unit=unit)

    got = _with_store(args.db, query, "query", fault=QUERY_STORE_FAULT)
    if isinstance(got, int):
        return got
    values, decimals = got
    df = values.reset_index()
    _print(
        args.format,
        df,
        f"no figure whose label contains {args.label!r}",
        lambda: _label_table(values, decimals),
    )
    return 0


# -- output ----------------------------------------------------------------------------------------


@dataclass
class Shown:
    """A query's result as people read it: a title (what all rows share), columns, rows of text."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    numeric: set[str] = field(default_factory=set)  # right-aligned
    wide: set[str] = field(default_factory=set)  # long text that wraps
    droppable: list[str] = field(default_factory=list)  # left out first on a narrow terminal


# The width long text (a check's message) keeps on a terminal; narrower columns are left out for it.
WRAPPED_MIN = 30


def _print(fmt: str, df: pd.DataFrame, empty: str, shown: Callable[[], Shown]) -> None:
    from pipeline.safety import printable

    on_screen = sys.stdout.isatty()
    if fmt == "csv":
        from pipeline.safety import write_csv

        if on_screen:  # data for a pipe as it is; on a screen, no escape sequences
            df = df.map(lambda v: printable(v) if isinstance(v, str) else v)
        write_csv(df, sys.stdout)
    elif fmt == "json":
        text = df.to_json(orient="records", force_ascii=False, indent=1)
        sys.stdout.write((printable(text) if on_screen else text) + "\n")
    elif df.empty:
        print(empty)
    elif on_screen:
        print_rich(shown())
    else:
        print(format_plain(shown()))


def _lift_shared(df: pd.DataFrame, candidates: list[str]) -> tuple[list[str], list[str]]:
    """Columns among `candidates` with one value in every row go into the title: (title parts, kept)."""
    title, kept = [], []
    for col in candidates:
        values = set(df[col].astype("string").fillna(""))
        (title if len(values) == 1 and len(df) > 0 else kept).append(col)
    return [str(df[c].iloc[0]) for c in title if str(df[c].iloc[0]) not in ("", "<NA>")], kept


def _number(v: object, decimals: object) -> str:
    from pipeline import numbers

    f = numbers.as_number(v)
    if f is None:
        return ""
    d = 2 if decimals is None or _isna(decimals) else int(decimals)  # type: ignore[arg-type]
    return f"{numbers.rounded(f, d):,.{d}f}"


def _isna(v: object) -> bool:
    import pandas as pd

    return bool(pd.isna(v))


FAILING_SHOWN = {  # column → header; the rest of failing_checks' columns are for csv and json
    "unit": "unit",
    "year": "year",
    "file_name": "file",
    "check_id": "check",
    "rule": "rule",
    "stated": "stated",
    "expected": "computed",
    "difference": "difference",
    "pages": "pages",
    "message": "message",
}


def _failing_table(df: pd.DataFrame) -> Shown:
    title, kept = _lift_shared(df, ["unit", "year", "file_name"])
    cols = [c for c in FAILING_SHOWN if c in kept or c not in ("unit", "year", "file_name")]
    numeric = {"stated", "expected", "difference"}
    rows = []
    for r in df.to_dict("records"):
        rows.append(
            [_number(r[c], r["decimals"]) if c in numeric else "" if _isna(r[c]) else str(r[c]) for c in cols]
        )
    n = len(df)
    title = " · ".join([*title, f"{n} failing check" + ("s" if n != 1 else "")])
    # The message says the stated and computed values in words; the difference is what one scans for.
    droppable = ["rule", "computed", "stated", "file", "pages", "difference", "year", "unit"]  # in this order
    return Shown(title, [FAILING_SHOWN[c] for c in cols], rows, {FAILING_SHOWN[c] for c in numeric | {"year"}},
                 {"message"}, droppable)  # fmt: skip


def _label_table(values: pd.DataFrame, decimals: pd.DataFrame) -> Shown:
    flat = values.reset_index()
    title, kept = _lift_shared(flat, ["unit"])
    years = [int(y) for y in values.columns]
    cols = [*(["unit"] if "unit" in kept else []), "label", "measure", *map(str, years)]
    rows = []
    for key, row in values.iterrows():
        unit, label, measure = key  # type: ignore[misc]
        dec = decimals.loc[key]
        cells = [_number(row[y], dec[y]) for y in years]
        rows.append([*([str(unit)] if "unit" in kept else []), str(label), str(measure), *cells])
    return Shown(" · ".join(title), cols, rows, set(map(str, years)))


def print_rich(shown: Shown, file: object = None) -> None:
    """`shown` as a rich table that fits the terminal: long text wraps instead of being cut."""
    from rich import box
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from pipeline.safety import printable

    console = Console(file=file or sys.stdout, highlight=False, soft_wrap=False)
    rows = [[printable(v) for v in r] for r in shown.rows]
    columns = list(shown.columns)

    def natural(i: int) -> int:  # a column's width unwrapped, with the space between columns
        return max(cell_len(r[i]) for r in [columns, *rows]) + 2

    # The short columns keep their width; the long text gets the rest, at least WRAPPED_MIN cells. On a
    # terminal too narrow for that, the columns least needed go first (the message repeats the numbers).
    for name in shown.droppable:
        short = sum(natural(i) for i, c in enumerate(columns) if c not in shown.wide)
        if short + WRAPPED_MIN * len([c for c in columns if c in shown.wide]) <= console.width:
            break
        if name in columns:
            i = columns.index(name)
            columns.pop(i)
            rows = [r[:i] + r[i + 1 :] for r in rows]
    table = Table(
        title=Text(printable(shown.title)) if shown.title else None,
        box=box.SIMPLE_HEAD,
        show_lines=bool(shown.wide),
        title_justify="left",
        pad_edge=False,
        collapse_padding=True,
    )
    for c in columns:
        if c in shown.wide:
            table.add_column(c, overflow="fold", ratio=1, min_width=WRAPPED_MIN)
        else:
            table.add_column(c, justify="right" if c in shown.numeric else "left", overflow="fold")
    for row in rows:
        table.add_row(*(Text(v) for v in row))  # Text: report words are no markup
    console.print(table)


def format_plain(shown: Shown) -> str:
    """`shown` as aligned plain text for a pipe or a file: every cell whole, Chinese counted double-width."""
    from pipeline.safety import printable

    def width(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    rows = [shown.columns, *([printable(v) for v in r] for r in shown.rows)]
    widths = [max(width(r[i]) for r in rows) for i in range(len(shown.columns))]
    lines = [printable(shown.title)] if shown.title else []
    for r in rows:
        cells = []
        for i, (v, w) in enumerate(zip(r, widths, strict=True)):
            pad = " " * (w - width(v))
            last = i == len(r) - 1
            cells.append(pad + v if shown.columns[i] in shown.numeric else v + ("" if last else pad))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run these commands without `pipeline.cli` (`python -m pipeline.cli.store …`)."""
    parser = argparse.ArgumentParser(prog="pipeline")
    register(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
