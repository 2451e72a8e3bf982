"""Command-line glue for the store: `export` and `query`, registered into `pipeline`'s argument parser.

    pipeline export --format xlsx|csv|parquet|json|sqlite --out DIR [--db URL]
    pipeline query failing [--unit U] [--year Y] [--db URL] [--csv]
    pipeline query label LABEL [--unit U] [--db URL] [--csv]

pandas, SQLAlchemy and the export libraries are imported only when a command runs, so that
registering these commands costs `pipeline --help` nothing.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pipeline import settings

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.store import Store

FORMATS = settings.EXPORT_FORMATS
DB_HELP = settings.DB_HELP


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `export` and `query` commands; each sets `func(args) -> int` (the exit code)."""
    p = subparsers.add_parser(
        "export", help="write the stored reports as xlsx, csv, parquet, json or a sqlite copy"
    )
    p.add_argument("--format", "-f", dest="format", choices=FORMATS, required=True)
    p.add_argument("--out", "-o", type=Path, required=True, help="folder to write into (created)")
    p.add_argument("--db", default=None, help=DB_HELP)
    p.set_defaults(func=run_export)

    q = subparsers.add_parser("query", help="ask the store: failing checks, a label across years")
    qs = q.add_subparsers(dest="query", metavar="QUERY", required=True)

    f = qs.add_parser("failing", help="checks whose arithmetic does not hold, with their figures")
    f.add_argument("--unit", help="reporting unit, exactly as stored")
    f.add_argument("--year", type=int, help="fiscal year")
    _common_query_args(f)
    f.set_defaults(func=run_failing)

    lab = qs.add_parser("label", help="figures whose label contains LABEL, one column per year")
    lab.add_argument("label", help="text the figure's label contains, e.g. 基本支出")
    lab.add_argument("--unit", help="reporting unit, exactly as stored")
    _common_query_args(lab)
    lab.set_defaults(func=run_label)


def _common_query_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=None, help=DB_HELP)
    p.add_argument("--csv", action="store_true", help="print CSV instead of a table")


T = TypeVar("T")


def _open(db: str | None) -> Store:
    from pipeline.store import Store

    # A read command changes nothing: no empty database where a path was mistyped, no tables, no WAL.
    return Store(db, read_only=True)


def _with_store(db: str | None, action: Callable[[Store], T], what: str) -> T | int:
    """Run `action` on the store; on failure print one line (no traceback) and return the exit code."""
    try:
        with _open(db) as store:
            return action(store)
    except FileNotFoundError as exc:
        print(f"error: {_shown(exc)}; pass --db or set {settings.DB_ENV}", file=sys.stderr)
        return 2
    except Exception as exc:  # a user sees one line, not a traceback
        from pipeline.store import StoreError, classify, resolve_url, store_error

        if isinstance(exc, StoreError) or classify(exc) is not None:
            err = exc if isinstance(exc, StoreError) else store_error(resolve_url(db), exc)
            print(f"error: {err}", file=sys.stderr)
            return 3
        print(f"error: {what} failed: {type(exc).__name__}: {_shown(exc)}", file=sys.stderr)
        return 1


def _shown(text: object) -> str:
    # An error may quote a database URL (its password) or a file name (its escape sequences).
    from pipeline.safety import mask_secrets, printable

    return printable(mask_secrets(str(text)))


def run_export(args: argparse.Namespace) -> int:
    """`pipeline export`: write the store to `args.out` as `args.format`; prints each file written."""
    from pipeline.store.exports import export

    paths = _with_store(args.db, lambda store: export(store, args.format, args.out), "export")
    if isinstance(paths, int):
        return paths
    for path in paths:
        print(path)
    if not paths:
        print("nothing to export: the store holds no reports", file=sys.stderr)
    return 0


def run_failing(args: argparse.Namespace) -> int:
    """`pipeline query failing`: print the failed checks (exit 0 whether or not there are any)."""
    from pipeline.store.queries import failing_checks

    def query(store: Store) -> pd.DataFrame:
        return failing_checks(store, unit=args.unit, year=args.year)

    return _run_query(args, query, empty="no failing checks")


def run_label(args: argparse.Namespace) -> int:
    """`pipeline query label LABEL`: print the label's figures, one column per year."""
    from pipeline.store.queries import label_across_years

    def query(store: Store) -> pd.DataFrame:
        return label_across_years(store, args.label, unit=args.unit).reset_index()

    return _run_query(args, query, empty=f"no figure whose label contains {args.label!r}")


def _run_query(args: argparse.Namespace, query: Callable[[Store], pd.DataFrame], *, empty: str) -> int:
    df = _with_store(args.db, query, "query")
    if isinstance(df, int):
        return df
    if args.csv:
        from pipeline.safety import printable, write_csv

        if sys.stdout.isatty():  # data for a pipe as it is; on a screen, no escape sequences
            df = df.map(lambda v: printable(v) if isinstance(v, str) else v)
        write_csv(df, sys.stdout)
    elif df.empty:
        print(empty)
    else:
        print(format_table(df))
    return 0


def format_table(df: pd.DataFrame, max_width: int = 48) -> str:
    """A DataFrame as an aligned text table: Chinese counted double-width, long text cut with …."""
    import pandas as pd

    from pipeline.safety import printable

    def cut(v: object) -> object:
        if not isinstance(v, str):
            return v
        v = printable(v)  # report text and file names may carry terminal escape sequences
        out, used = [], 0
        for ch in v:
            w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
            if used + w > max_width - 1:
                return "".join(out) + "…"
            out.append(ch)
            used += w
        return v

    # Cut here rather than with pandas' max_colwidth, which miscounts double-width characters.
    shown = df.copy()
    shown.columns = [printable(c) if isinstance(c, str) else c for c in shown.columns]
    for col in shown.columns:
        if not pd.api.types.is_numeric_dtype(shown[col]):
            shown[col] = shown[col].map(cut)
    with pd.option_context(
        "display.unicode.east_asian_width",
        True,
        "display.width",
        None,
        "display.max_columns",
        None,
        "display.max_rows",
        None,
        "display.float_format",
        "{:,.2f}".format,
    ):
        return shown.to_string(index=False, na_rep="")


def main(argv: list[str] | None = None) -> int:
    """Run these commands without `pipeline.cli` (`python -m pipeline.cli.store …`)."""
    parser = argparse.ArgumentParser(prog="pipeline")
    register(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
