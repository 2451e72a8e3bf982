"""Drawing small PDFs line by line for the layout edge cases (a number cut from its unit, a page
break inside a sentence, full-width digits): full control over where each line ends."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas


@cache
def cjk_font() -> str:
    path = subprocess.run(
        ["fc-match", "-f", "%{file}", "WenQuanYi Zen Hei"], capture_output=True, text=True, check=True
    ).stdout.strip()
    pdfmetrics.registerFont(TTFont("ZenHei", path, subfontIndex=0))
    return "ZenHei"


def draw(
    path: Path,
    pages: list[list[str]],
    size: float = 12,
    header: str | None = None,
    footer: str | None = "第 {n} 页",
    indent_first: bool = False,
    encrypt: str | None = None,
) -> Path:
    """Each page is a list of lines, drawn top-down at the left margin; '' leaves a blank line."""
    font = cjk_font()
    c = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt)
    width, height = A4
    for n, lines in enumerate(pages, 1):
        if header:
            c.setFont(font, 9)
            c.drawCentredString(width / 2, height - 40, header)
        y = height - 80
        for line in lines:
            c.setFont(font, size)
            if line:
                indent = 2 * size if indent_first and line.startswith("  ") else 0
                c.drawString(72 + indent, y, line.strip())
            y -= size * 1.6
        if footer:
            c.setFont(font, 9)
            c.drawCentredString(width / 2, 40, footer.format(n=n))
        c.showPage()
    c.save()
    return path
