"""SIP over UDP: one socket per user agent; datagrams in, messages out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import cast

from callwright.sip.message import Message, SipParseError, parse, serialize

log = logging.getLogger(__name__)

Address = tuple[str, int]


class UdpTransport(asyncio.DatagramProtocol):
    """Parses each datagram and hands it on; malformed ones are counted and dropped."""

    def __init__(self, on_message: Callable[[Message, Address], None]) -> None:
        self._on_message = on_message
        self._transport: asyncio.DatagramTransport | None = None
        self.malformed = 0
        self.handler_errors = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # CPython's selector datagram transport does not subclass DatagramTransport
        self._transport = cast(asyncio.DatagramTransport, transport)

    @property
    def local_address(self) -> Address:
        assert self._transport is not None
        host, port = self._transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not data.strip():
            return  # keep-alive (RFC 5626 CRLF)
        try:
            message = parse(data)
        except SipParseError as exc:
            self.malformed += 1
            log.debug("dropped malformed SIP from %s: %s", addr, exc)
            return
        try:
            self._on_message(message, (addr[0], addr[1]))
        except Exception:  # one bad message must never take the user agent down
            self.handler_errors += 1
            log.exception("error handling SIP %s from %s", type(message).__name__, addr)

    def send(self, message: Message, addr: Address) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(serialize(message), addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("SIP socket error: %s", exc)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
