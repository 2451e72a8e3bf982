"""Files for the ingestion tests and the batch benchmark: bad ones of every kind, and many good ones.

The good ones are the seed report drawn by `pipeline.synth` with varied figures, years, units and
layouts, so every file is a real, different report (its own sha256); the bad ones are what a batch
meets in practice: a truncated download, an encrypted PDF, a Word file named .pdf, and a small PDF
whose page takes minutes to read.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

from .synth import LAYOUTS, blocks_from_text, render_pdf, seed_text

REPO = Path(__file__).resolve().parents[1]
SAMPLES = sorted((REPO / "samples").glob("*.pdf"))
_UNITS = [
    "望城区机关事务中心",
    "岳麓区机关事务中心",
    "开福区机关事务中心",
    "天心区机关事务中心",
    "雨花区机关事务中心",
]
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)(\s*万元)")


def vary_text(text: str, i: int) -> str:
    """The seed's text as report number `i`: amounts scaled by 1 + i/1000, another year and unit."""
    k = 1 + i / 1000
    year = 2015 + i % 10
    unit = _UNITS[i % len(_UNITS)]

    def scale(m: re.Match) -> str:
        v = float(m.group(1)) * k
        return f"{v:.2f}{m.group(2)}"

    text = _AMOUNT.sub(scale, text)
    return text.replace("望城区机关事务中心", unit).replace("2020", str(year))


def varied_reports(out: Path, n: int, start: int = 0) -> list[Path]:
    """Render reports `start`..`start+n-1` into `out` (layouts in turn); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    seed = seed_text()
    layouts = sorted(LAYOUTS)
    paths = []
    for i in range(start, start + n):
        blocks = blocks_from_text(vary_text(seed, i))
        paths.append(render_pdf(blocks, out / f"report-{i:04d}.pdf", layouts[i % len(layouts)]))
    return paths


def make_corrupt(src: Path, dst: Path) -> Path:
    """A PDF cut in half (an interrupted download)."""
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) // 2])
    return dst


def make_encrypted(dst: Path) -> Path:
    """A PDF that needs a password to open (reportlab's standard encryption)."""
    from reportlab.pdfgen.canvas import Canvas

    c = Canvas(str(dst), encrypt="secret")
    c.drawString(72, 720, "Budget performance self-evaluation report")
    c.showPage()
    c.save()
    return dst


def make_not_pdf(dst: Path) -> Path:
    """A file with a .pdf name that is no PDF (a Word file renamed, say)."""
    dst.write_bytes(b"PK\x03\x04 this is a .docx someone renamed to .pdf\n")
    return dst


def write_pdf(dst: Path, objects: list[bytes], root: int = 1) -> Path:
    """A PDF of `objects` (object n is objects[n-1]) with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    dst.write_bytes(bytes(out))
    return dst


def make_hostile(dst: Path, glyphs: int = 2_000_000) -> Path:
    """A 21 kB PDF whose one page draws `glyphs` characters: pdfminer needs minutes (and ~40 MB/s) for it."""
    content = b"BT /F1 1 Tf 0 0 Td " + b"(a) Tj " * glyphs + b"ET"
    stream = zlib.compress(content, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >>"
        b" /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    return write_pdf(dst, objects)


def bad_and_good(folder: Path) -> dict[str, Path]:
    """The four samples plus one file of each bad kind and a duplicate (same bytes, other name)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {p.stem: folder / p.name for p in SAMPLES}
    for p in SAMPLES:
        (folder / p.name).write_bytes(p.read_bytes())
    files["duplicate"] = folder / "copy-of-seed-gov.pdf"
    files["duplicate"].write_bytes((REPO / "samples" / "seed-gov.pdf").read_bytes())
    files["corrupt"] = make_corrupt(REPO / "samples" / "seed-word.pdf", folder / "truncated.pdf")
    files["encrypted"] = make_encrypted(folder / "encrypted.pdf")
    files["not_pdf"] = make_not_pdf(folder / "renamed-docx.pdf")
    return files
