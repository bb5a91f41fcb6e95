"""Documents with facts that exist nowhere else, and a tiny loopback web server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from callwright.testing.documents import docx_document, pdf_document

FILLER = (
    "Our company has served coastal communities for many years. We care about quality, "
    "friendly service and fair prices. Staff receive regular training on our products. "
)

HARBOR_FACT = "The Harbor Street branch closes at 7:45 pm on Thursdays."
PETS_FAQ = {
    "question": "Do you allow pets in the store?",
    "answer": "Only trained service animals are allowed inside our stores.",
}
WARRANTY_FACT = "Warranty claims must be filed within 18 months of purchase."
SHIPPING_FACT = "Express shipping to Alaska costs 29 dollars per parcel."
LOYALTY_FACT = "Our loyalty program is called Tidepool Rewards."


def handbook_pdf() -> bytes:
    return pdf_document(
        [
            "Employee and customer handbook.\n" + FILLER * 3,
            "Opening hours.\n" + FILLER + HARBOR_FACT + " " + FILLER,
            "Returns.\n" + FILLER * 2,
        ]
    )


def warranty_docx() -> bytes:
    return docx_document(["Warranty terms", FILLER, WARRANTY_FACT, FILLER])


def shipping_md() -> bytes:
    return f"# Shipping\n\n{FILLER}\n\n## Rates\n\n- **Express**: {SHIPPING_FACT}\n".encode()


LOYALTY_PAGE = (
    "<html><head><title>Loyalty</title><script>var x = 'not text';</script></head>"
    f"<body><h1>Rewards</h1><p>{FILLER}</p><p>{LOYALTY_FACT}</p></body></html>"
).encode()


@asynccontextmanager
async def web_page(
    body: bytes, *, content_type: str = "text/html; charset=utf-8", status: str = "200 OK"
) -> AsyncIterator[str]:
    """Serve ``body`` at http://127.0.0.1:<port>/page for the duration."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        head = (
            f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nLocation: http://example.com/moved\r\n"
            "Connection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/page"
    finally:
        server.close()
        await server.wait_closed()
