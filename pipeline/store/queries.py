"""Questions reviewers ask of the store, answered as DataFrames (read through `pipeline.store.Store`)."""

from __future__ import annotations

import math
import unicodedata

import pandas as pd

from pipeline import numbers
from pipeline.model import CheckStatus, Kind
from pipeline.store import Store
from pipeline.vocabulary import yuan_per

# To compare amounts across reports that print them in different units, they are shown in 万元, the
# unit these reports use most.
AMOUNT_UNIT = "万元"
_YUAN_PER = yuan_per()

FAILING_COLUMNS = [
    "unit",
    "year",
    "file_name",
    "document_id",
    "check_id",
    "rule",
    "expected",
    "stated",
    "difference",
    "decimals",
    "figures",
    "pages",
    "evidence",
    "message",
]
_FAILING_DTYPES = {"difference": "float64", "decimals": "Int64", "pages": "string", "evidence": "string"}


class NoMatch(LookupError):
    """A unit or year asked for that the store does not hold (or a unit that several match): the
    message says which, and what the store holds instead."""


def _listed(items: list, limit: int = 12) -> str:
    shown = ", ".join(map(str, items[:limit]))
    return shown + (f", … ({len(items) - limit} more)" if len(items) > limit else "") if items else "none"


def units(store: Store) -> list[str]:
    """The reporting units of the stored reports, sorted."""
    docs = store.documents_df(status="ok")
    return sorted(set(docs["unit"].dropna()))


def match_unit(store: Store, text: str) -> str:
    """The stored unit `text` names: itself, else the one unit containing it (width and case folded).

    Raises NoMatch naming the matches when several units contain `text`, or listing the units when none does.
    """
    known = units(store)
    if text in known:
        return text
    want = _folded(text)
    hits = [u for u in known if want in _folded(u)]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise NoMatch(f"unit {text!r} matches {len(hits)} units: {_listed(hits)}; give more of the name")
    raise NoMatch(f"no such unit: {text} (units in the store: {_listed(known)})")


def check_year(store: Store, year: int, unit: str | None = None) -> int:
    """`year` if the store holds a report of it (of `unit`, when given); else NoMatch listing the years."""
    docs = store.documents_df(unit=unit, status="ok")
    years = sorted({int(y) for y in docs["year"].dropna()})
    if year in years:
        return year
    where = f"years of {unit}" if unit is not None else "years"
    raise NoMatch(f"no such year: {year} ({where}: {_listed(years)})")


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def failing_checks(store: Store, unit: str | None = None, year: int | None = None) -> pd.DataFrame:
    """Every failed check, with the figures it involves spelled out.

    Columns: unit, year, file_name, document_id, check_id, rule, expected, stated, difference
    (stated − expected), decimals (those the report prints these values with: the figure stating the
    result, by `pipeline.numbers.check_style`), figures (ids), pages (where they stand, "2, 3"),
    evidence ("f3 基本支出 828.69万元 p.2; …"), message. Sorted by unit, year, document and the
    check's order in its report.
    """
    checks = store.checks_df(unit=unit, year=year, status=CheckStatus.FAIL)
    if checks.empty:
        return pd.DataFrame(
            {
                c: pd.Series(dtype=checks[c].dtype if c in checks else _FAILING_DTYPES.get(c, "string"))
                for c in FAILING_COLUMNS
            }
        )
    checks["difference"] = checks["stated"] - checks["expected"]

    figs = store.figures_df(unit=unit, year=year)
    figs = figs[figs["document_id"].isin(checks["document_id"].unique())]
    by_doc: dict[int, dict[str, dict]] = {}
    for d, f, kind, unit_, label, text, value, page in zip(
        figs["document_id"],
        figs["fig_id"],
        figs["kind"],
        figs["value_unit"],
        figs["label"].fillna(""),
        figs["text"].fillna(""),
        figs["value"],
        figs["page"],
        strict=True,
    ):
        page = None if pd.isna(page) else int(page)
        by_doc.setdefault(int(d), {}).setdefault(
            str(f),
            {"id": f, "kind": kind, "unit": unit_, "text": text, "value": value, "page": page,
             "shown": f"{f} {label} {text} p.{page}".replace("  ", " ")},
        )  # fmt: skip
    finest = {d: numbers.finest_by_unit(fs.values()) for d, fs in by_doc.items()}

    evidence, pages, decimals = [], [], []
    for doc_id, ids, stated in zip(
        checks["document_id"], checks["figures"].fillna(""), checks["stated"], strict=True
    ):
        known = by_doc.get(int(doc_id), {})
        listed = [f for f in str(ids).split(",") if f]
        involved = [known[f] for f in listed if f in known]
        evidence.append("; ".join(known[f]["shown"] if f in known else f for f in listed))
        pages.append(", ".join(map(str, sorted({f["page"] for f in involved if f["page"] is not None}))))
        decimals.append(numbers.check_style(involved, stated, None, finest.get(int(doc_id), {}))[2])
    checks["evidence"] = pd.Series(evidence, index=checks.index, dtype="string")
    checks["pages"] = pd.Series(pages, index=checks.index, dtype="string")
    checks["decimals"] = pd.Series(decimals, index=checks.index, dtype="Int64")
    out = checks.sort_values(["unit", "year", "document_id", "ord"], na_position="last", kind="stable")
    return out[FAILING_COLUMNS].reset_index(drop=True)


def label_across_years(store: Store, label: str, unit: str | None = None) -> pd.DataFrame:
    """One row per (reporting unit, label, unit of measure) whose label contains `label`, one column per year.

    Amounts are converted to 万元 so that reports printing 元 and 万元 line up. Where a unit has several
    reports for one year, the one stored last (highest document id) counts; within a report, the label's first
    figure in reading order (later ones are usually restatements). Years without the label are NaN.
    """
    return _label_pivot(store, label, unit, "shown").astype("float64")


def label_decimals(store: Store, label: str, unit: str | None = None) -> pd.DataFrame:
    """The decimals each value of `label_across_years` (same rows and columns) is printed with.

    A figure's own printed decimals; an amount converted to 万元 from a smaller unit (元) keeps the
    digits its printed value had, without zeros past the second decimal (8286900 元 → 828.69).
    """
    return _label_pivot(store, label, unit, "decimals").astype("Int64")


def _label_pivot(store: Store, label: str, unit: str | None, values: str) -> pd.DataFrame:
    figs = store.figures_df(unit=unit, label=label)
    figs = figs[figs["year"].notna()]
    index = ["unit", "label", "measure"]
    if figs.empty:
        empty = pd.DataFrame(
            columns=pd.Index([], name="year"), index=pd.MultiIndex.from_arrays([[], [], []], names=index)
        )
        return empty.astype("float64")

    is_amount = figs["kind"].eq(Kind.AMOUNT).fillna(False)
    per = figs["value_unit"].map(_YUAN_PER).astype("float64")
    yuan = figs["value_yuan"].fillna(figs["value"] * per)
    shown = figs["value"].where(~is_amount, (yuan / _YUAN_PER[AMOUNT_UNIT]).round(6))
    printed = pd.Series([numbers.printed_decimals(t) for t in figs["text"].fillna("")], index=figs.index)
    figs = figs.assign(
        measure=figs["value_unit"].where(~is_amount, AMOUNT_UNIT),
        # Rounded past any printed precision, only to drop the float noise of the conversion.
        shown=shown,
        decimals=[
            _converted_decimals(v, d, p) if amount and p == p and p != _YUAN_PER[AMOUNT_UNIT] else d
            for v, d, p, amount in zip(shown, printed, per, is_amount, strict=True)
        ],
    )
    # groupby would silently drop rows whose keys are missing.
    figs[["unit", "measure"]] = figs[["unit", "measure"]].fillna("")
    # Latest document per (unit, year) first, then reading order: drop_duplicates keeps that one.
    figs = figs.sort_values(["document_id", "ord"], ascending=[False, True], kind="stable")
    latest = figs.groupby(["unit", "year"], dropna=False)["document_id"].transform("max")
    figs = figs[figs["document_id"] == latest].drop_duplicates(["unit", "year", "label", "measure"])

    table = figs.pivot_table(index=index, columns="year", values=values, aggfunc="first", dropna=False)
    table = table.dropna(how="all")
    table.columns = pd.Index([int(y) for y in table.columns], name="year")
    return table.sort_index(axis=1)


def _converted_decimals(value: float, printed: int, yuan_per: float) -> int:
    # 元 → 万元 moves the point four places: the printed digits need up to four more decimals (亿元: fewer).
    shift = round(math.log10(_YUAN_PER[AMOUNT_UNIT] / yuan_per))
    most = max(0, printed + shift)
    if shift <= 0:
        return most
    text = f"{value:.{most}f}".rstrip("0")
    return max(min(2, most), len(text.split(".", 1)[1]) if "." in text else 0)
