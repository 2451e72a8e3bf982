"""Scanned PDFs the OCR tests make: pages drawn as text, rasterised as a scanner would (grey, 150 dpi,
slightly rotated) and wrapped as image-only pages; a text layer that is not text laid over a scan."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from testkit.pdfs import cjk_font, draw


def raster(pdf: Path, page: int, dpi: float = 150, angle: float = 0.4) -> Image.Image:
    """Page `page` (1-based) of `pdf` as a grey scan, turned by `angle` degrees."""
    doc = pdfium.PdfDocument(str(pdf))
    try:
        image = doc[page - 1].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        doc.close()
    return image.rotate(angle, resample=Image.BICUBIC, fillcolor=255) if angle else image


def blank_scan(dpi: float = 150, seed: int = 1) -> Image.Image:
    """A white page as a scanner returns it: paper grey with a little dust."""
    w, h = round(A4[0] / 72 * dpi), round(A4[1] / 72 * dpi)
    image = Image.new("L", (w, h), 244)
    rnd = random.Random(seed)
    for _ in range(60):
        x, y = rnd.randrange(w), rnd.randrange(h)
        image.putpixel((x, y), rnd.randrange(150, 230))
    return image


def _png(image: Image.Image) -> ImageReader:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    buf.seek(0)
    return ImageReader(buf)


def image_pdf(path: Path, pages: list[Image.Image | list[str]], garbage: str | None = None) -> Path:
    """A PDF whose pages are full-page images, or text pages (a list of lines, drawn as `draw` does).

    `garbage`: a text layer laid invisibly over every image page, as a CID font without a Unicode map
    leaves one (private-use characters where the text should be).
    """
    font = cjk_font()
    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    for page in pages:
        if isinstance(page, list):
            y = height - 80
            for line in page:
                c.setFont(font, 12)
                c.drawString(72, y, line)
                y -= 12 * 1.6
        else:
            c.drawImage(_png(page), 0, 0, width=width, height=height)
            if garbage:
                text = c.beginText(72, height - 80)
                text.setFont(font, 12)
                text.setTextRenderMode(3)  # invisible, as OCR'd or broken layers are
                for n in range(0, len(garbage), 40):
                    text.textLine(garbage[n : n + 40])
                c.drawText(text)
        c.showPage()
    c.save()
    return path


def draw_with_table(path: Path, lines: list[str], rows: list[list[str]], widths: list[float]) -> Path:
    """One page: `lines` as `draw` sets them, then a ruled table of `rows` (column `widths` in points)."""
    font = cjk_font()
    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    y = height - 80
    for line in lines:
        c.setFont(font, 12)
        if line:
            c.drawString(72, y, line)
        y -= 12 * 1.6
    top, row_h, x0 = y, 24.0, 72.0
    xs = [x0 + sum(widths[:n]) for n in range(len(widths) + 1)]
    c.setLineWidth(0.8)
    for n in range(len(rows) + 1):
        c.line(xs[0], top - n * row_h, xs[-1], top - n * row_h)
    for x in xs:
        c.line(x, top, x, top - len(rows) * row_h)
    for r, row in enumerate(rows):
        for k, cell in enumerate(row):
            c.setFont(font, 10.5)
            c.drawString(xs[k] + 5, top - r * row_h - 16, cell)
    c.setFont(font, 9)
    c.drawCentredString(width / 2, 40, "第 1 页")
    c.showPage()
    c.save()
    return path


def scanned(
    tmp: Path,
    name: str,
    lines: list[str],
    rows: list[list[str]] | None = None,
    widths: list[float] | None = None,
    angle: float = 0.4,
) -> tuple[Path, Path]:
    """A one-page report drawn as text (`name`-text.pdf), with a ruled table when `rows` are given, and
    its scan (`name`.pdf)."""
    if rows:
        text = draw_with_table(tmp / f"{name}-text.pdf", lines, rows, widths or [110.0] * len(rows[0]))
    else:
        text = draw(tmp / f"{name}-text.pdf", [lines])
    return text, image_pdf(tmp / f"{name}.pdf", [raster(text, 1, angle=angle)])
