"""Planted slips in the real dev reports: caught, missed and false alarms per relation kind.

  .venv/bin/python bench/bench_planted_corpus.py [CORPUS_DIR] [--per-kind N]

Each case is extracted once (without the reconcile stage). For every relation its gold says holds, the
relation's result figure is changed in the extracted model (by about 7 %, at least 10 units of its last
printed decimal, so no rounding can absorb it) and only the reconciliation runs again: the slip is caught
when a failing check involves the changed figure. A failing check that does not involve it, and that the
clean report did not raise, is a false alarm. The clean reports are reconciled too: every failing check
there that matches no inconsistency of the gold is a false alarm on a clean report.
The gold is read only here, never by the pipeline.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
from collections import Counter, defaultdict
from pathlib import Path

from pipeline.extract import STAGES, extract
from pipeline.reconcile import reconcile
from pipeline.serialize import to_contract

REPO = Path(__file__).resolve().parents[1]


def scorer():
    spec = importlib.util.spec_from_file_location("score", REPO.parent / "shared" / "eval" / "score.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def plant(f) -> None:
    """Change a figure so that no rounding of its printed decimals can absorb it."""
    step = 10**-f.decimals
    delta = max(abs(f.value) * 0.07, 10 * step)
    f.value = round(f.value + delta, f.decimals)
    if f.value_yuan is not None:
        f.value_yuan = f.value_yuan + delta * (f.value_yuan / (f.value - delta) if f.value - delta else 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", default=str(REPO.parent / "shared" / "corpus" / "dev"))
    args = ap.parse_args()
    sc = scorer()
    stages = [s for s in STAGES if s is not reconcile]
    planted = Counter()
    caught = Counter()
    planted_alarms = Counter()
    clean_alarms = 0
    missed: dict[str, list[str]] = defaultdict(list)
    cases = sorted(p for p in Path(args.corpus).iterdir() if (p / "gold.json").exists())
    for case in cases:
        gold = json.loads((case / "gold.json").read_text(encoding="utf-8"))
        base = extract(case / "report.pdf", stages=stages)
        clean = reconcile(copy.deepcopy(base))
        doc = to_contract(clean)
        score = sc.score_case(gold, doc)
        clean_alarms += score["false_alarms"]
        clean_fails = {frozenset(c.figures) for c in clean.checks if c.status == "fail"}
        gkeys = [sc.fig_key(f) for f in gold["figures"]]
        pfig = [f for f in doc["figures"] if sc.fig_key(f) is not None]
        pairs = sc.lcs_pairs(gkeys, [sc.fig_key(f) for f in pfig], lambda x, y: x == y)
        g2p = {gi: pfig[pj]["id"] for gi, pj in pairs}
        for rel in gold.get("relations", []):
            if not rel["holds"] or rel["result"] not in g2p:
                continue
            kind = rel["type"]
            report = copy.deepcopy(base)
            target = report.figure(g2p[rel["result"]])
            plant(target)
            report = reconcile(report)
            fails = [c for c in report.checks if c.status == "fail"]
            planted[kind] += 1
            if any(target.id in c.figures for c in fails):
                caught[kind] += 1
            else:
                missed[kind].append(f"{case.name} g{rel['result']} {gold['figures'][rel['result']]['text']}")
            planted_alarms[kind] += sum(
                1 for c in fails if target.id not in c.figures and frozenset(c.figures) not in clean_fails
            )
    print(f"{len(cases)} cases; false alarms on the clean reports: {clean_alarms}")
    print(f"{'kind':<12} {'planted':>8} {'caught':>8} {'share':>7} {'alarms':>7}")
    for kind in sorted(planted):
        share = caught[kind] / planted[kind]
        print(f"{kind:<12} {planted[kind]:>8} {caught[kind]:>8} {share:>7.1%} {planted_alarms[kind]:>7}")
    total, got = sum(planted.values()), sum(caught.values())
    print(f"{'total':<12} {total:>8} {got:>8} {got / max(total, 1):>7.1%} {sum(planted_alarms.values()):>7}")
    for kind, rows in sorted(missed.items()):
        print(f"missed {kind}: " + "; ".join(rows[:12]) + (" …" if len(rows) > 12 else ""))


if __name__ == "__main__":
    main()
