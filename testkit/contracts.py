"""Contract dicts for the storage tests and the store benchmark, built from the dev corpus' gold answers.

The gold files say what a report contains (metadata, headings, figures, relations) but not where:
page numbers, boxes and ids are made up here, deterministically, so that every contract field the
store keeps has a value to round-trip. When the corpus is not there (it lives beside the repository,
in shared/), a synthetic report stands in so the tests still run.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from pathlib import Path

from pipeline.vocabulary import yuan_per

REPO = Path(__file__).resolve().parents[1]
_UNIT_YUAN = yuan_per()


def corpus_dir() -> Path | None:
    """The dev corpus: env PIPELINE_CORPUS_DIR, else shared/corpus/dev beside the repository."""
    candidates = [os.environ.get("PIPELINE_CORPUS_DIR"), REPO.parent / "shared" / "corpus" / "dev"]
    for c in candidates:
        if c and Path(c).is_dir() and any(Path(c).glob("*/gold.json")):
            return Path(c)
    return None


def _pdf_pages(pdf: bytes) -> int:
    # Good enough for the corpus' PDFs (no compressed object streams) and keeps the helpers free of
    # a PDF library.
    return max(1, len(re.findall(rb"/Type\s*/Page\b", pdf)))


def gold_to_contract(case: Path) -> dict:
    """One corpus case (folder with gold.json and report.pdf) as the contract dict an extractor writes."""
    gold = json.loads((case / "gold.json").read_text(encoding="utf-8"))
    pdf_path = case / "report.pdf"
    pdf = pdf_path.read_bytes() if pdf_path.exists() else (case.name + json.dumps(gold)).encode()
    pages = _pdf_pages(pdf) if pdf_path.exists() else 1

    sections, stack = [], []  # stack of (level, id) of the enclosing headings
    for i, s in enumerate(gold.get("sections", []), 1):
        while stack and stack[-1][0] >= s["level"]:
            stack.pop()
        sid = f"s{i}"
        sections.append(
            {
                "id": sid,
                "level": s["level"],
                "number": s.get("number"),
                "title": s["title"],
                "page": min(pages, 1 + i * pages // (len(gold["sections"]) + 1)),
                "parent": stack[-1][1] if stack else None,
            }
        )
        stack.append((s["level"], sid))

    figures = []
    n_fig = len(gold.get("figures", []))
    for i, f in enumerate(gold.get("figures", []), 1):
        kind = f["kind"]
        value_yuan = (
            f["value"] * _UNIT_YUAN[f["unit"]] if kind == "amount" and f["unit"] in _UNIT_YUAN else None
        )
        page = min(pages, 1 + (i - 1) * pages // max(n_fig, 1))
        top = 72.0 + (i * 37) % 700
        figures.append(
            {
                "id": f"f{i}",
                "kind": kind,
                "value": f["value"],
                "unit": f["unit"],
                "value_yuan": value_yuan,
                "label": f.get("label"),
                "qualifier": f.get("qualifier"),
                "page": page,
                # Every fifth figure without a box, as for text the extractor cannot place.
                "bbox": None if i % 5 == 0 else [90.0 + i % 7, top, 160.5 + i % 7, top + 12.25],
                "section": sections[min(len(sections) - 1, (i - 1) * len(sections) // max(n_fig, 1))]["id"]
                if sections
                else None,
                "text": f["text"],
            }
        )

    checks = []
    for i, r in enumerate(gold.get("relations", []), 1):
        ids = [figures[j]["id"] for j in r["operands"]] + [figures[r["result"]]["id"]]
        stated = figures[r["result"]]["value"]
        checks.append(
            {
                "id": f"c{i}",
                "rule": r["type"],
                "status": "pass" if r["holds"] else "fail",
                "figures": ids,
                "expected": r.get("computed"),
                "stated": stated,
                "message": (r.get("note") or r["type"])
                + ("：一致" if r["holds"] else f"：计算得 {r.get('computed')}，报告为 {stated}"),
                "tolerance": 0.005,  # an extra property: the store must keep it
            }
        )

    # One table per report: label / printed figure for the first rows, a blank cell and a short row
    # included, because real tables have both.
    rows: list[list[str | None]] = [["项目", "金额", "备注"]]
    rows += [[f["label"], f["text"], None] for f in figures[:6]]
    rows.append(["合计"])
    tables = [{"id": "t1", "page": 1, "title": f"{gold.get('unit') or ''}绩效自评表", "rows": rows}]

    return {
        "schema_version": 1,
        "source": {"file": f"{case.name}.pdf", "sha256": hashlib.sha256(pdf).hexdigest(), "pages": pages},
        "report": {
            "title": f"{gold.get('unit') or ''}{gold.get('year') or ''}年度{gold.get('doc_type') or ''}",
            "unit": gold.get("unit"),
            "year": gold.get("year"),
            "date": gold.get("date"),
            "doc_type": gold.get("doc_type"),
        },
        "sections": sections,
        "figures": figures,
        "checks": checks,
        "tables": tables,
        "extractor": {"case": case.name},  # an extra top-level property
    }


def synthetic_doc(i: int = 0) -> dict:
    """A small report that needs no corpus; `i` varies its sha256, unit, year and values."""
    sha = hashlib.sha256(f"synthetic-{i}".encode()).hexdigest()
    figs = [
        {
            "id": "f1",
            "kind": "amount",
            "value": 828.69 + i,
            "unit": "万元",
            "value_yuan": (828.69 + i) * 1e4,
            "label": "基本支出预算",
            "qualifier": None,
            "page": 1,
            "bbox": [90.0, 100.0, 150.0, 112.0],
            "section": "s1",
            "text": f"{828.69 + i:.2f}万元",
        },
        {
            "id": "f2",
            "kind": "amount",
            "value": 390.55,
            "unit": "万元",
            "value_yuan": 3905500.0,
            "label": "人员经费",
            "qualifier": "约",
            "page": 1,
            "bbox": None,
            "section": "s2",
            "text": "390.55万元",
        },
        {
            "id": "f3",
            "kind": "percent",
            "value": 15.84,
            "unit": "%",
            "value_yuan": None,
            "label": "增幅",
            "qualifier": None,
            "page": 2,
            "bbox": [10.0, 20.0, 30.0, 40.0],
            "section": "s2",
            "text": "15.84%",
        },
        {
            "id": "f4",
            "kind": "count",
            "value": 22,
            "unit": "人",
            "value_yuan": None,
            "label": "实有在职在编",
            "qualifier": "以上",
            "page": 2,
            "bbox": None,
            "section": None,
            "text": "22人",
        },
    ]
    return {
        "schema_version": 1,
        "source": {"file": f"synthetic-{i}.pdf", "sha256": sha, "pages": 2},
        "report": {
            "title": "望城区机关事务中心部门整体支出绩效自评报告",
            "unit": f"望城区机关事务中心{i % 3}",
            "year": 2019 + i % 3,
            "date": "2021-01-26",
            "doc_type": "部门整体支出绩效自评报告",
        },
        "sections": [
            {"id": "s1", "level": 1, "number": "一", "title": "单位基本情况", "page": 1, "parent": None},
            {"id": "s2", "level": 2, "number": "1", "title": "基本支出情况", "page": 1, "parent": "s1"},
        ],
        "figures": figs,
        "checks": [
            {
                "id": "c1",
                "rule": "sum",
                "status": "fail",
                "figures": ["f2", "f1"],
                "expected": 390.55,
                "stated": figs[0]["value"],
                "message": "合计与分项之和不符",
            },
            {
                "id": "c2",
                "rule": "growth",
                "status": "pass",
                "figures": ["f1", "f2", "f3"],
                "expected": 15.84,
                "stated": 15.84,
                "message": "增幅一致",
            },
        ],
        "tables": [
            {
                "id": "t1",
                "page": 2,
                "title": None,
                "rows": [["项目", "金额"], ["人员经费", "390.55"], [None, None]],
            }
        ],
    }


def corpus_docs() -> list[dict]:
    """Every dev-corpus case as a contract dict (distinct sha256), or three synthetic ones without it."""
    root = corpus_dir()
    if root is None:
        return [synthetic_doc(i) for i in range(3)]
    docs, seen = [], set()
    for case in sorted(p.parent for p in root.glob("*/gold.json")):
        doc = gold_to_contract(case)
        if doc["source"]["sha256"] not in seen:  # two cases with one PDF would be one document
            seen.add(doc["source"]["sha256"])
            docs.append(doc)
    return docs


def vary(doc: dict, i: int, factor: float | None = None) -> dict:
    """A copy of `doc` posing as another report: new sha256, values scaled, year shifted."""
    out = copy.deepcopy(doc)
    factor = factor if factor is not None else 1.0 + (i % 97) / 100
    out["source"]["sha256"] = hashlib.sha256(f"{doc['source']['sha256']}:{i}".encode()).hexdigest()
    out["source"]["file"] = f"{i:05d}-{doc['source']['file']}"
    if out["report"].get("year") is not None:
        out["report"]["year"] += i % 5
    for f in out["figures"]:
        if f["kind"] == "amount":
            f["value"] = round(f["value"] * factor, 2)
            if f.get("value_yuan") is not None:
                f["value_yuan"] = round(f["value"] * _UNIT_YUAN[f["unit"]], 2)
            f["text"] = f"{f['value']}{f['unit']}"
    return out


def expected_counts(docs: list[dict]) -> dict[str, int]:
    """Rows the store should hold for `docs` (each stored once), per content table."""
    return {
        "documents": len(docs),
        "sections": sum(len(d["sections"]) for d in docs),
        "figures": sum(len(d["figures"]) for d in docs),
        "checks": sum(len(d["checks"]) for d in docs),
        "check_figures": sum(len(c["figures"]) for d in docs for c in d["checks"]),
        "report_tables": sum(len(d["tables"]) for d in docs),
        "table_cells": sum(len(r) for d in docs for t in d["tables"] for r in t["rows"]),
    }


def normalized(x: object) -> object:
    """`x` with every int made a float, so a stored 247.0 compares equal to a contract's 247."""
    if isinstance(x, bool) or x is None:
        return x
    if isinstance(x, int | float):
        return float(x)
    if isinstance(x, dict):
        return {k: normalized(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [normalized(v) for v in x]
    return x


def write_docs(url: str, docs: list[dict], version: str, barrier: object, results: object) -> None:
    """Child process of the concurrency test: open the store, wait for the other writer, save all."""
    from pipeline.store import Store

    store = Store(url)
    try:
        barrier.wait(timeout=60)
        out = [store.save_report(d, extractor_version=version).outcome for d in docs]
        results.put(("ok", out))
    except Exception as exc:  # reported to the parent, which fails the test with it
        results.put(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        store.close()
