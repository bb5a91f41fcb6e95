"""A real HTTP/1.1 webhook receiver on a local socket, for tests and local debugging.

`RecordingReceiver` accepts connections, records each request (method, target,
headers, body, the TLS SNI name if any) and answers from a script. It is a real server
on a real socket — not a mock — so senders are tested over TCP (and TLS) end to end.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One request as it arrived; header names are lower-cased."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    server_name: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptedResponse:
    """What the receiver answers. `delay_s` waits before the status line;
    `body_bytes` > 0 streams that many filler bytes instead of `body`."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b"ok"
    delay_s: float = 0.0
    body_bytes: int = 0


@dataclass
class RecordingReceiver:
    """Serve on `host`:`port` (0 = any free port) until `close()`.

    `respond` maps a request to a response (default: 200 "ok"). `connections` counts
    accepted TCP connections.
    """

    host: str = "127.0.0.1"
    port: int = 0
    respond: Callable[[ReceivedRequest], ScriptedResponse] = lambda _r: ScriptedResponse()
    ssl_context: ssl.SSLContext | None = None
    requests: list[ReceivedRequest] = field(default_factory=list)
    connections: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _sni: dict[int, str | None] = field(default_factory=dict)

    async def start(self) -> RecordingReceiver:
        """Bind and listen; `port` is the bound port afterwards."""
        if self.ssl_context is not None:
            self.ssl_context.sni_callback = self._on_sni
        self._server = await asyncio.start_server(
            self._on_connection, self.host, self.port, ssl=self.ssl_context
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        """Stop listening and cancel every connection handler."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            try:
                await task
            except asyncio.CancelledError:
                pass
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> RecordingReceiver:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def url(self, path: str = "/hook", *, host: str | None = None) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        name = host or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"{scheme}://{name}:{self.port}{path}"

    def _on_sni(self, obj: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        self._sni[id(obj)] = name

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        ssl_obj = writer.get_extra_info("ssl_object")
        server_name = self._sni.get(id(ssl_obj)) if ssl_obj is not None else None
        request = ReceivedRequest(method, target, headers, body, server_name)
        self.requests.append(request)
        reply = self.respond(request)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        length = reply.body_bytes or len(reply.body)
        out = [f"HTTP/1.1 {reply.status} X", f"Content-Length: {length}", "Connection: close"]
        out += [f"{k}: {v}" for k, v in reply.headers]
        writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
        if reply.body_bytes:
            chunk = b"x" * 65536
            remaining = reply.body_bytes
            while remaining > 0:
                writer.write(chunk[: min(remaining, len(chunk))])
                remaining -= len(chunk)
                await writer.drain()
        else:
            writer.write(reply.body)
        await writer.drain()
