"""Write the committed sample PDFs: the seed report in three layouts and a 自评表 (self-evaluation table).

Run from anywhere: `.venv/bin/python samples/make_samples.py`. The seed is read from the shared folder when
it is there and copied to samples/seed.txt, so the samples can be rebuilt without it. The PDFs are drawn
with reportlab's invariant mode: rebuilding changes no byte unless the drawing code changed.
"""

from __future__ import annotations

from pathlib import Path

from testkit.synth import UNIT, blocks_from_text, render_pdf, seed_text, selfeval_blocks

HERE = Path(__file__).resolve().parent

__all__ = ["main", "selfeval_blocks"]  # selfeval_blocks lives in testkit.synth; kept importable from here


def main() -> None:
    text = seed_text()
    (HERE / "seed.txt").write_text(text, encoding="utf-8")
    blocks = blocks_from_text(text)
    made = [
        render_pdf(blocks, HERE / "seed-gov.pdf", "gov"),
        render_pdf(blocks, HERE / "seed-cid.pdf", "cid", header=UNIT),
        render_pdf(blocks, HERE / "seed-word.pdf", "word"),
        render_pdf(selfeval_blocks(), HERE / "table-selfeval.pdf", "tight"),
    ]
    for path in made:
        print(f"{path.name}: {path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
