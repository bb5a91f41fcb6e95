"""Documents for knowledge-base tests and benchmarks, written here (no PDF library needed).

:func:`pdf_document` writes a plain PDF 1.4: one page per entry of ``pages`` (lines of
Helvetica text, wrapped), optionally each with an uncompressed greyscale image of
``image_bytes_per_page`` bytes (what a scanned figure or photo adds to a real manual).
"""

from __future__ import annotations

import random
import textwrap
from collections.abc import Sequence


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_document(pages: Sequence[str], *, image_bytes_per_page: int = 0, seed: int = 7) -> bytes:
    """A valid PDF whose pages hold ``pages`` as text (pypdf extracts it back)."""
    rng = random.Random(seed)
    objects: list[bytes] = []  # object n+1 is objects[n]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    pages_id = add(b"")  # filled in below, once the kids are known
    kids: list[int] = []
    for text in pages:
        lines: list[str] = []
        for paragraph in text.split("\n"):
            lines += textwrap.wrap(paragraph, 95) or [""]
        ops = ["BT", "/F1 10 Tf", "12 TL", "50 760 Td"]
        ops += [f"({_escape(line)}) Tj T*" for line in lines[:60]]
        ops.append("ET")
        resources = f"/Font << /F1 {font} 0 R >>"
        if image_bytes_per_page:
            side = int(image_bytes_per_page**0.5)
            pixels = bytes(rng.getrandbits(8) for _ in range(side * side))
            image = add(
                f"<< /Type /XObject /Subtype /Image /Width {side} /Height {side} "
                f"/ColorSpace /DeviceGray /BitsPerComponent 8 /Length {len(pixels)} >>\n"
                "stream\n".encode()
                + pixels
                + b"\nendstream"
            )
            resources += f" /XObject << /Im1 {image} 0 R >>"
            ops.append("q 120 0 0 120 420 40 cm /Im1 Do Q")
        stream = "\n".join(ops).encode("latin-1", errors="replace")
        content = add(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
        kids.append(
            add(
                f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 612 792] "
                f"/Resources << {resources} >> /Contents {content} 0 R >>".encode()
            )
        )
    objects[pages_id - 1] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
    ).encode()
    catalog = add(f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode())
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def docx_document(paragraphs: Sequence[str]) -> bytes:
    """A DOCX with ``paragraphs`` (needs python-docx)."""
    import io

    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
