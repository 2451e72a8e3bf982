"""Self-evaluation tables: 执行率 = 全年执行数 / 全年预算数 per row, column totals = their 其中 rows,
总分 = Σ 分值 and Σ 得分, and 得分 ≤ 分值."""

from __future__ import annotations

import re
from collections import defaultdict

from ...vocabulary import vocab
from ..claims import Claim, Relation, detector
from ..context import Context, cfg, rx


def _rows(figures):
    rows: dict[int, list] = defaultdict(list)
    for f in figures:
        rows[f.cell[0]].append(f)
    return dict(sorted(rows.items()))


@detector("table", reads=("tables",))
def find(ctx: Context) -> list[Claim]:
    """The rules a table's structure states: each relation is pinned by the headers it was read from."""
    return [Claim(r.result, [r], "table", r.evidence, pinned=True) for r in _relations(ctx)]


def _relations(ctx: Context) -> list[Relation]:
    out: list[Relation] = []
    t = vocab()["tables"]
    total_rx = re.compile("|".join(t["total_rows"]))
    for table in ctx.report.tables:
        figs = [f for f in ctx.report.figures if f.table == table.id and f.cell]
        rows = _rows(figs)
        for cells in rows.values():
            out += _rate(cells)
            out += _cap(cells)
        out += _column_totals(table, rows, total_rx)
        out += _score_totals(rows)
    return out


def _pick(cells, role, prefer=None):
    cands = [f for f in cells if f.role == role]
    if prefer:
        best = [f for f in cands if re.search(prefer, f.column or "")]
        if best:
            return best[0]
    return cands[-1] if cands else None


def _rate(cells) -> list[Relation]:
    rate = next((f for f in cells if f.role == "rate" and f.kind == "percent"), None)
    actual = _pick(cells, "actual", cfg()["actual_column"])
    budget = _pick(cells, "budget", cfg()["budget_column"])
    if rate and actual and budget:
        return [
            Relation(
                "ratio", rate, [actual, budget], evidence=f"{rate.row_label}：{actual.text} / {budget.text}"
            )
        ]
    return []


def _cap(cells) -> list[Relation]:
    got = next((f for f in cells if f.role == "score" and f.kind == "score"), None)
    cap = next((f for f in cells if f.role == "score_max" and f.kind == "score"), None)
    if got and cap:
        return [
            Relation("score_cap", got, [cap], evidence=f"{got.row_label}：得分 {got.text} / 分值 {cap.text}")
        ]
    return []


def _column_totals(table, rows, total_rx) -> list[Relation]:
    out = []
    keys = list(rows)
    for i, r in enumerate(keys):
        label = rows[r][0].row_label or ""
        if not total_rx.search(label) or i + 1 >= len(keys):
            continue
        nxt = rows[keys[i + 1]][0]
        raw = table.rows[nxt.cell[0]] or [""]
        if not any(rx("part_row").match(c or "") for c in raw):
            continue
        parts_rows = []
        for r2 in keys[i + 1 :]:
            if total_rx.search(rows[r2][0].row_label or ""):
                break
            if r2 != keys[i + 1] and r2 - parts_rows[-1] > 1:
                break
            parts_rows.append(r2)
        if len(parts_rows) < 2:
            continue
        for f in rows[r]:
            if f.kind != "amount":
                continue
            parts = [
                g for r2 in parts_rows for g in rows[r2] if g.cell[1] == f.cell[1] and g.kind == "amount"
            ]
            if len(parts) >= 2:
                out.append(
                    Relation(
                        "sum",
                        f,
                        parts,
                        evidence=f"{f.column}：{label} = "
                        + " + ".join(f"{p.row_label} {p.text}" for p in parts),
                    )
                )
    return out


def _score_totals(rows) -> list[Relation]:
    out = []
    for r, cells in rows.items():
        label = cells[0].row_label or ""
        if not re.search("|".join(vocab()["tables"]["score_total_rows"]), label):
            continue
        for f in cells:
            if f.kind != "score":
                continue
            parts = [
                g for r2, cs in rows.items() if r2 != r for g in cs if g.kind == "score" and g.role == f.role
            ]
            if len(parts) >= 2:
                out.append(Relation("sum", f, parts, evidence=f"{label}{f.column or ''} = Σ {len(parts)} 项"))
    return out
