"""Questions reviewers ask of the store, answered as DataFrames (read through `pipeline.store.Store`)."""

from __future__ import annotations

import pandas as pd

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
    "figures",
    "evidence",
    "message",
]


def failing_checks(store: Store, unit: str | None = None, year: int | None = None) -> pd.DataFrame:
    """Every failed check, with the figures it involves spelled out.

    Columns: unit, year, file_name, document_id, check_id, rule, expected, stated, difference
    (stated − expected), figures (ids), evidence ("f3 基本支出 828.69万元 p.2; …"), message. Sorted by
    unit, year, document and the check's order in its report.
    """
    checks = store.checks_df(unit=unit, year=year, status=CheckStatus.FAIL)
    if checks.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype=checks[c].dtype if c in checks else "string") for c in FAILING_COLUMNS}
        )
    checks["difference"] = checks["stated"] - checks["expected"]

    figs = store.figures_df(unit=unit, year=year)
    figs = figs[figs["document_id"].isin(checks["document_id"].unique())]
    described = {
        (int(d), f): f"{f} {label or ''} {text or ''} p.{page}".replace("  ", " ")
        for d, f, label, text, page in zip(
            figs["document_id"],
            figs["fig_id"],
            figs["label"].fillna(""),
            figs["text"].fillna(""),
            figs["page"],
            strict=True,
        )
    }

    def evidence(doc_id: int, ids: str) -> str:
        return "; ".join(described.get((int(doc_id), f), f) for f in ids.split(",") if f)

    checks["evidence"] = pd.Series(
        [evidence(d, ids or "") for d, ids in zip(checks["document_id"], checks["figures"], strict=True)],
        index=checks.index,
        dtype="string",
    )
    out = checks.sort_values(["unit", "year", "document_id", "ord"], na_position="last", kind="stable")
    return out[FAILING_COLUMNS].reset_index(drop=True)


def label_across_years(store: Store, label: str, unit: str | None = None) -> pd.DataFrame:
    """One row per (reporting unit, label, unit of measure) whose label contains `label`, one column per year.

    Amounts are converted to 万元 so that reports printing 元 and 万元 line up. Where a unit has several
    reports for one year, the one stored last (highest document id) counts; within a report, the label's first
    figure in reading order (later ones are usually restatements). Years without the label are NaN.
    """
    figs = store.figures_df(unit=unit, label=label)
    figs = figs[figs["year"].notna()]
    index = ["unit", "label", "measure"]
    if figs.empty:
        empty = pd.DataFrame(
            columns=pd.Index([], name="year"), index=pd.MultiIndex.from_arrays([[], [], []], names=index)
        )
        return empty.astype("float64")

    is_amount = figs["kind"].eq(Kind.AMOUNT).fillna(False)
    yuan = figs["value_yuan"].fillna(figs["value"] * figs["value_unit"].map(_YUAN_PER).astype("float64"))
    figs = figs.assign(
        measure=figs["value_unit"].where(~is_amount, AMOUNT_UNIT),
        # Rounded past any printed precision, only to drop the float noise of the conversion.
        shown=figs["value"].where(~is_amount, (yuan / _YUAN_PER[AMOUNT_UNIT]).round(6)),
    )
    # groupby would silently drop rows whose keys are missing.
    figs[["unit", "measure"]] = figs[["unit", "measure"]].fillna("")
    # Latest document per (unit, year) first, then reading order: drop_duplicates keeps that one.
    figs = figs.sort_values(["document_id", "ord"], ascending=[False, True], kind="stable")
    latest = figs.groupby(["unit", "year"], dropna=False)["document_id"].transform("max")
    figs = figs[figs["document_id"] == latest].drop_duplicates(["unit", "year", "label", "measure"])

    table = figs.pivot_table(index=index, columns="year", values="shown", aggfunc="first", dropna=False)
    table = table.dropna(how="all")
    table.columns = pd.Index([int(y) for y in table.columns], name="year")
    return table.sort_index(axis=1).astype("float64")
