"""A chaos webhook receiver on loopback and clocks for time-compressed delivery tests.

`ChaosReceiver` is a real HTTP/1.1 server on a real socket. Each request gets the next
behaviour from its script: a status (500, 429 with Retry-After, 410, 200), a stall
longer than the sender's timeout, or a connection reset (RST, no response). `down()` /
`up()` stop and restart listening on the same port (the receiver "goes away").
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from callwright.webhooks.testing import ReceivedRequest


@dataclass(frozen=True, slots=True)
class Behaviour:
    kind: str  # "status" | "stall" | "reset"
    status: int = 200
    retry_after_s: int | None = None
    stall_s: float = 0.0


OK = Behaviour("status", 200)
E500 = Behaviour("status", 500)
GONE = Behaviour("status", 410)
RESET = Behaviour("reset")


def throttle(retry_after_s: int) -> Behaviour:
    return Behaviour("status", 429, retry_after_s=retry_after_s)


def stall(seconds: float) -> Behaviour:
    return Behaviour("stall", stall_s=seconds)


@dataclass
class ChaosReceiver:
    script: Callable[[ReceivedRequest], Behaviour] = lambda _r: OK
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[tuple[float, ReceivedRequest, Behaviour]] = field(default_factory=list)
    connections: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def up(self) -> ChaosReceiver:
        self._server = await asyncio.start_server(self._on_connection, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def down(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def delivered(self) -> list[ReceivedRequest]:
        """Requests answered 2xx."""
        return [r for _t, r, b in self.requests if b.kind == "status" and b.status < 300]

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if line:
                    k, _, v = line.partition(":")
                    headers[k.strip().lower()] = v.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            request = ReceivedRequest(method, target, headers, body, None)
            b = self.script(request)
            self.requests.append((asyncio.get_running_loop().time(), request, b))
            if b.kind == "reset":
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            if b.kind == "stall":
                await asyncio.sleep(b.stall_s)
            extra = f"Retry-After: {b.retry_after_s}\r\n" if b.retry_after_s is not None else ""
            head_out = f"HTTP/1.1 {b.status} X\r\nContent-Length: 2\r\nConnection: close\r\n"
            writer.write(f"{head_out}{extra}\r\nok".encode())
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()


class CompressedClock:
    """Virtual time running ``factor`` times faster than the wall clock."""

    def __init__(self, factor: float) -> None:
        self.factor = factor
        self.real0 = datetime.now(UTC)

    def now(self) -> datetime:
        return self.real0 + (datetime.now(UTC) - self.real0) * self.factor

    def wall(self, at: datetime) -> datetime:
        return self.real0 + (at - self.real0) / self.factor


class JumpClock:
    """Virtual time that stands still except when a job sleeps: sleeping jumps it to the
    wake-up time at once. With one delivery in flight, retry times are exact."""

    def __init__(self) -> None:
        self.t = datetime.now(UTC)

    def now(self) -> datetime:
        return self.t

    def wall(self, at: datetime) -> datetime:
        self.t = max(self.t, at)
        return datetime.now(UTC)

    def advance(self, delta: timedelta) -> None:
        self.t += delta
