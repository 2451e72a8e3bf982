"""Planted-error benchmark (issue 3): how many single slips reconciliation catches, by rule kind, and how
often it raises a false alarm, on planted and on clean reports.

    .venv/bin/python bench/bench_planted.py [--planted 180] [--clean 60] [--seed 0] [--finance 4] [--workers 2]

Bases are built once (in the pool), errors are planned in this process (cheap: no extraction), and every
planted or clean report is rendered and extracted in a pool of workers.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import re
import time
from collections import Counter, defaultdict

from testkit.planted import (
    Base,
    Planted,
    base_specs,
    build_base,
    categories,
    clean_plans,
    evaluate,
    plans,
)


def _build(spec: tuple) -> Base:
    return build_base(*spec)


def _table(planted: list[Planted]) -> list[str]:
    # caught: every check the slip breaks fails; target: the check chosen to break fails; flagged: some
    # failing check involves the changed figure
    rows: dict[str, Counter[str]] = defaultdict(Counter)
    checks: dict[str, Counter[str]] = defaultdict(Counter)
    for p in planted:
        for r in (p.category, "total"):
            rows[r].update(n=1, caught=p.caught, target=p.target_caught, flagged=p.flagged)
        missed = {m[0] for m in p.missed}
        for r in p.must_fail:
            checks[r.rule].update(n=1, fail=f"{r.rule}: {r.message}" not in missed)
    head = f"{'rule kind broken':<18}{'planted':>8}{'caught':>8}{'missed':>8}{'rate':>7}{'target':>8}{'flagged':>8}"
    out = [head]
    for k in sorted(rows, key=lambda k: (k == "total", k)):
        c = rows[k]
        out.append(
            f"{k:<18}{c['n']:>8}{c['caught']:>8}{c['n'] - c['caught']:>8}{c['caught'] / c['n']:>7.0%}"
            f"{c['target']:>8}{c['flagged']:>8}"
        )
    out.append("")
    out.append(f"{'must-fail checks':<18}{'count':>8}{'fail':>8}{'not':>8}{'rate':>7}")
    for k in sorted(checks):
        c = checks[k]
        out.append(f"{k:<18}{c['n']:>8}{c['fail']:>8}{c['n'] - c['fail']:>8}{c['fail'] / c['n']:>7.0%}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--planted", type=int, default=180)
    ap.add_argument("--clean", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--finance", type=int, default=4, help="决算 bases with random consistent figures")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    t0 = time.perf_counter()
    with mp.get_context("fork").Pool(args.workers) as pool:
        bases = pool.map(_build, base_specs(args.finance), chunksize=1)
        t_bases = time.perf_counter() - t0
        for b in bases:
            note = f"  FAILING ON THE BASE: {b.failing}" if b.failing else ""
            print(f"base {b.name:<10} {len(b.figures):>3} figures, {len(b.checks):>2} passing checks{note}")
            for u in b.unmodelled:
                print(f"  not modelled here: {u}")
        print("rule kinds:", ", ".join(categories(bases)))

        t1 = time.perf_counter()
        todo = list(plans(args.planted, args.seed, bases))
        t_plan = time.perf_counter() - t1
        t2 = time.perf_counter()
        planted = list(pool.imap_unordered(evaluate, todo, chunksize=1))
        t_planted = time.perf_counter() - t2
        t3 = time.perf_counter()
        clean = list(
            pool.imap_unordered(evaluate, list(clean_plans(args.clean, args.seed, bases)), chunksize=1)
        )
        t_clean = time.perf_counter() - t3

    print()
    print("\n".join(_table(planted)))
    print()
    fa_clean = [p for p in clean if p.false_alarms]
    fa_planted = [p for p in planted if p.false_alarms]
    print(
        f"false alarms, clean reports:   {len(fa_clean)}/{len(clean)} reports, "
        f"{sum(len(p.false_alarms) for p in clean)} failing checks"
    )
    print(
        f"false alarms, planted reports: {len(fa_planted)}/{len(planted)} reports, "
        f"{sum(len(p.false_alarms) for p in planted)} failing checks not involving the changed figure"
    )
    spurious = [p for p in planted if p.spurious]
    print(f"fail where the arithmetic still holds (changed figure): {len(spurious)}/{len(planted)} reports")
    lost = [p for p in clean if p.lost]
    print(f"clean reports where a base check went missing: {len(lost)}/{len(clean)}")
    lost_planted = [p for p in planted if p.lost]
    print(
        f"planted reports where a check that still holds is no longer passed: {len(lost_planted)}/{len(planted)}"
        f" ({sum(len(p.lost) for p in planted)} checks)"
    )
    unaligned = sum(not p.aligned for p in planted + clean)
    print(f"extractions whose figures differ from the base's (other than the change): {unaligned}")
    print()
    n = len(planted) + len(clean)
    print(
        f"timing: bases {t_bases:.1f} s ({len(bases)}), planning {t_plan:.2f} s, "
        f"planted {t_planted:.1f} s, clean {t_clean:.1f} s, wall {time.perf_counter() - t0:.1f} s "
        f"on {args.workers} workers; {sum(p.seconds for p in planted + clean) / max(n, 1):.2f} s per report "
        "in a worker (render + extract)"
    )

    # the detail a reviewer needs to act on: what was missed and what was flagged wrongly
    reasons: Counter[str] = Counter()
    for p in planted:
        for check, said in p.missed:
            # figures vary from report to report: group the reasons by their words
            reasons[f"{p.category} | {check.split(':')[0]} | " + re.sub(r"\d[\d,.]*", "#", said)[:150]] += 1
    if reasons:
        print("\nmissed must-fail checks (planted kind | rule | what the pipeline said):")
        for r, k in reasons.most_common():
            print(f"  {k:>3} × {r}")
    examples: dict[str, Planted] = {}
    for p in planted:
        if p.missed:
            examples.setdefault(f"{p.base}/{p.change.label if p.change else ''}", p)
    if examples:
        print("\nexamples of misses (base, change, printed words around it):")
        for p in examples.values():
            c = p.change
            assert c is not None
            print(f"  {p.base} {p.layout}: {c.old} → {c.new} in “{c.context}”")
            for check, said in p.missed:
                print(f"      must fail: {check}")
                print(f"      pipeline:  {said[:300]}")
    for name, group in (("clean", fa_clean), ("planted", fa_planted)):
        for p in group[:5]:
            c = p.change
            where = f"{c.old} → {c.new} in “{c.context}”" if c else "no change"
            print(f"\nfalse alarm on a {name} report ({p.base}, {p.layout}, {where}):")
            for f in p.false_alarms:
                print(f"    {f}")
    for p in spurious[:5]:
        c = p.change
        assert c is not None
        print(f"\nfail although it still holds ({p.base}, {c.old} → {c.new} in “{c.context}”):")
        for f in p.spurious:
            print(f"    {f}")
    for p in lost[:5]:
        print(f"\nclean {p.base} ({p.layout}, header {p.header}) lost: {p.lost}")
    seen: set[str] = set()
    for p in lost_planted:
        c = p.change
        assert c is not None
        if c.label in seen:
            continue
        seen.add(c.label)
        print(f"\nstill holds but no longer passed ({p.base}, {c.old} → {c.new} in “{c.context}”):")
        for f in p.lost:
            print(f"    {f}")


if __name__ == "__main__":
    main()
