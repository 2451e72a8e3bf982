"""What a bureau's messy inbox holds besides reports: special files, odd names, hostile PDFs.

Each maker writes one entry into a folder and returns its path. The PDFs are written object by
object (no library would write them), each small, each aimed at one weakness of a parser that trusts
a file's structure.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from pathlib import Path

from testkit.files import make_corrupt, make_encrypted, make_not_pdf, write_pdf
from testkit.synth import blocks_from_text, render_pdf, seed_text

_PAGE_FONT = b"<< /Font << /F1 4 0 R >> >>"


def _one_page(
    dst: Path,
    contents: bytes,
    *,
    mediabox: bytes = b"[0 0 595 842]",
    catalog_extra: bytes = b"",
    page_extra: bytes = b"",
    extra: list[bytes] | None = None,
) -> Path:
    """One page whose content stream object (5) is `contents` (a whole stream object body)."""
    return write_pdf(dst, [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox " + mediabox + b" /Resources " + _PAGE_FONT
        + b" /Contents 5 0 R " + page_extra + b">>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        contents,
        *(extra or []),
    ])  # fmt: skip


def _stream(data: bytes, dict_extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), dict_extra) + data + b"\nendstream"


_TEXT = b"BT /F1 12 Tf 72 720 Td (Budget performance self-evaluation report of a district bureau) Tj ET"


def make_bomb(dst: Path, inflated: int = 48 << 20) -> Path:
    """A page whose content is Flate over Flate of `inflated` zero bytes: a few kB on disk."""
    z = zlib.compressobj(9)
    chunk = b"\0" * (1 << 24)
    inner = b"".join(z.compress(chunk) for _ in range(inflated >> 24)) + z.flush()
    return _one_page(dst, _stream(zlib.compress(inner, 9), b"/Filter [/FlateDecode /FlateDecode] "))


def make_length_cycle(dst: Path) -> Path:
    """A content stream whose /Length is a reference to a reference back to the first."""
    body = b"<< /Length 6 0 R >>\nstream\n" + _TEXT + b"\nendstream"
    return _one_page(dst, body, extra=[b"7 0 R", b"6 0 R"])


def make_absurd_length(dst: Path) -> Path:
    """A content stream that claims to be 10^15 bytes long."""
    return _one_page(dst, b"<< /Length 1000000000000000 >>\nstream\n" + _TEXT + b"\nendstream")


def make_deeply_nested(dst: Path, depth: int = 5000) -> Path:
    """A page whose /Annots array holds arrays `depth` deep."""
    return _one_page(dst, _stream(_TEXT), page_extra=b"/Annots " + b"[" * depth + b"]" * depth + b" ")


def make_huge_page(dst: Path, side: int = 200_000) -> Path:
    """A page `side` points square (the PDF specification stops at 14,400)."""
    return _one_page(dst, _stream(_TEXT), mediabox=b"[0 0 %d %d]" % (side, side))


def make_many_pages(dst: Path, pages: int = 6000) -> Path:
    """`pages` pages sharing one content stream."""
    kids = b" ".join(b"%d 0 R" % (6 + i) for i in range(pages))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        _stream(_TEXT),
    ]
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources "
        + _PAGE_FONT
        + b" /Contents 5 0 R >>"
    )
    return write_pdf(dst, objs + [page] * pages)


def make_javascript(dst: Path) -> Path:
    """A one-page PDF that runs JavaScript when opened (and has a line of text)."""
    return _one_page(
        dst, _stream(_TEXT), catalog_extra=b"/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> "
    )


def make_fifo(dst: Path) -> Path:
    os.mkfifo(dst)
    return dst


def make_link_to_device(dst: Path) -> Path:
    dst.symlink_to("/dev/zero")
    return dst


def make_dangling_link(dst: Path) -> Path:
    dst.symlink_to(dst.parent / "gone-long-ago.pdf")
    return dst


def make_directory(dst: Path) -> Path:
    dst.mkdir()
    return dst


def make_empty(dst: Path) -> Path:
    dst.write_bytes(b"")
    return dst


def make_good(dst: Path) -> Path:
    """A real report (the seed, drawn)."""
    return render_pdf(blocks_from_text(seed_text()), dst, "gov")


def non_utf8_name(folder: Path) -> Path:
    """A real report whose file name is not UTF-8 (GBK bytes, as an old Windows share writes them)."""
    name = os.fsdecode("自评报告".encode("gbk") + b"-\xff.pdf")
    return make_good(folder / name)


# name → (maker, what its reason says)
HOSTILE: dict[str, tuple[Callable[[Path], Path], str]] = {
    "fifo.pdf": (make_fifo, "named pipe"),
    "zero-link.pdf": (make_link_to_device, "symbolic link to a device"),
    "dangling.pdf": (make_dangling_link, "symbolic link to nothing"),
    "folder.pdf": (make_directory, "a directory"),
    "empty.pdf": (make_empty, "empty file"),
    "bomb.pdf": (make_bomb, "decompression bomb"),
    "length-cycle.pdf": (make_length_cycle, "reference cycle"),
    "absurd-length.pdf": (make_absurd_length, "runs past the end of the file"),
    "nested.pdf": (make_deeply_nested, "nested more than"),
    "huge-page.pdf": (make_huge_page, "larger than the limit"),
    "many-pages.pdf": (make_many_pages, "more than the limit of"),
    "not-a-pdf.pdf": (make_not_pdf, "not a PDF"),
    "encrypted.pdf": (make_encrypted, "encrypted"),
}


def hostile_folder(folder: Path) -> dict[str, Path]:
    """One entry of each hostile kind in `folder` (plus a truncated report and a JavaScript one)."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {name: maker(folder / name) for name, (maker, _) in HOSTILE.items()}
    made["truncated.pdf"] = make_corrupt(make_good(folder / ".whole.tmp"), folder / "truncated.pdf")
    (folder / ".whole.tmp").unlink()
    made["javascript.pdf"] = make_javascript(folder / "javascript.pdf")
    return made
