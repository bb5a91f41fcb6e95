"""From uploaded bytes, fetched pages and FAQs to text sections.

Every failure is an :class:`IngestError` whose message is fit to show the API client (it
becomes the source's ``error`` and the knowledge base's ``failure_reason``). Extraction is
blocking (pypdf is pure Python): run it in a thread.
"""

from __future__ import annotations

import html.parser
import io
import re
import zipfile
from pathlib import PurePosixPath

from callwright.knowledge.chunking import Section

# file_type values as Ringg reports them (MIME types)
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT = "text/plain"
MARKDOWN = "text/markdown"
HTML = "text/html"
FAQ = "faq"

_EXTENSIONS = {
    ".pdf": PDF,
    ".docx": DOCX,
    ".txt": TEXT,
    ".text": TEXT,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
}
SUPPORTED_EXTENSIONS = tuple(sorted(_EXTENSIONS))
_CONTENT_TYPES = {
    PDF: PDF,
    DOCX: DOCX,
    TEXT: TEXT,
    MARKDOWN: MARKDOWN,
    HTML: HTML,
    "application/xhtml+xml": HTML,
    "text/x-markdown": MARKDOWN,
}


class IngestError(Exception):
    """A source that cannot be turned into text; the message says why, for the client."""


def file_type_of(filename: str) -> str | None:
    """The MIME type for a supported upload, by extension; None if unsupported."""
    return _EXTENSIONS.get(PurePosixPath(filename.lower()).suffix)


def content_type_of(header: str | None) -> str | None:
    """The supported MIME type named by a Content-Type header, or None."""
    if not header:
        return None
    return _CONTENT_TYPES.get(header.split(";")[0].strip().lower())


def looks_like(file_type: str, data: bytes) -> bool:
    """A cheap check at upload time that the bytes are of the claimed kind."""
    if file_type == PDF:
        return b"%PDF-" in data[:1024]
    if file_type == DOCX:
        return data[:4] == b"PK\x03\x04"
    return b"\x00" not in data[:4096] or data[:2] in (b"\xff\xfe", b"\xfe\xff")


def extract(file_type: str, data: bytes) -> list[Section]:
    """Sections of text from ``data`` of ``file_type``; raises IngestError."""
    if file_type == PDF:
        sections = _pdf(data)
    elif file_type == DOCX:
        sections = _docx(data)
    elif file_type in (TEXT, MARKDOWN):
        text = _decode(data)
        sections = [Section(_markdown_to_text(text) if file_type == MARKDOWN else text)]
    elif file_type == HTML:
        sections = [Section(html_to_text(_decode(data)))]
    else:
        raise IngestError(f"unsupported file type {file_type!r}")
    if not any(s.text.strip() for s in sections):
        hint = " (a scanned PDF? text recognition is not supported)" if file_type == PDF else ""
        raise IngestError(f"no text found{hint}")
    return sections


def faq_section(question: str, answer: str) -> Section:
    return Section(f"Q: {question.strip()}\nA: {answer.strip()}", "FAQ")


def _pdf(data: bytes) -> list[Section]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError("the PDF is password-protected")
        sections = [
            Section(page.extract_text() or "", f"page {n}")
            for n, page in enumerate(reader.pages, start=1)
        ]
    except IngestError:
        raise
    except (
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
        OSError,
        RecursionError,
        AssertionError,
        zipfile.BadZipFile,
    ) as exc:
        raise IngestError(f"not a readable PDF ({type(exc).__name__}: {exc})"[:300]) from exc
    if not sections:
        raise IngestError("not a readable PDF (it has no pages)")
    return sections


def _docx(data: bytes) -> list[Section]:
    try:
        import docx
    except ImportError as exc:  # pragma: no cover - python-docx is a declared dependency
        raise IngestError("DOCX support is not installed (python-docx)") from exc
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds on bad input
        raise IngestError(f"not a readable DOCX ({type(exc).__name__}: {exc})"[:300]) from exc
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text.strip() for cell in row.cells))
    return [Section("\n\n".join(part for part in parts if part.strip()))]


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARKS = re.compile(r"^\s{0,3}(#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)", re.MULTILINE)
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`+)")


def _markdown_to_text(text: str) -> str:
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_MARKS.sub("", text)
    return _MD_EMPHASIS.sub("", text)


class _TextOfHTML(html.parser.HTMLParser):
    _SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head"})
    _BLOCK = frozenset(
        {
            "p",
            "div",
            "br",
            "li",
            "tr",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "section",
            "article",
            "header",
            "footer",
            "table",
            "ul",
            "ol",
            "dd",
            "dt",
            "blockquote",
            "pre",
            "title",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextOfHTML()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)
