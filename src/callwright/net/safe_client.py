"""SSRF-safe HTTP/1.1 client for user-supplied URLs (webhooks, knowledge-base fetches).

One request = parse → resolve once → check every address → dial only a checked
address. The dial goes through `_PinnedBackend`, an httpcore network backend that
ignores DNS entirely and connects to the pre-checked IPs, while httpcore still uses the
original host name for the Host header and for TLS SNI and certificate verification.
So a DNS answer that changes between check and connect (rebinding) cannot matter.

Redirects are never followed (a 3xx is returned as-is); the response body is read up
to a cap and the rest discarded; the whole exchange, DNS included, has one deadline.
Proxy environment variables are ignored on purpose: a proxy would dial for us.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass

import certifi
import httpcore

from callwright.net.errors import DeliveryError, NetError
from callwright.net.resolver import Resolver, SystemResolver
from callwright.net.ssrf import AddressPolicy, CheckedTarget, check_url
from callwright.net.urls import IPAddress

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
# Framing and routing headers come from the checked URL and the body, never the caller.
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientLimits:
    """Time and size limits of one request."""

    connect_timeout_s: float = 5.0
    total_timeout_s: float = 30.0
    max_response_bytes: int = 64 * 1024


@dataclass(frozen=True, slots=True)
class SafeResponse:
    """A response read under the limits.

    `body` holds at most the cap; `truncated` says the server sent more. `peer` is the
    IP address actually dialled; `elapsed_s` covers resolution to end of body.
    """

    status_code: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    truncated: bool
    peer: str
    elapsed_s: float

    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), or None."""
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None


class SafeHTTPClient:
    """Sends single HTTP requests to user-supplied URLs under an `AddressPolicy`.

    Stateless between requests (no pooling), so it needs no shutdown. `ssl_context`
    defaults to the certifi trust store with hostname verification.
    """

    def __init__(
        self,
        *,
        policy: AddressPolicy,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
        limits: ClientLimits | None = None,
    ) -> None:
        self._policy = policy
        self._resolver: Resolver = resolver if resolver is not None else SystemResolver()
        self._ssl_context = ssl_context
        self._limits = limits if limits is not None else ClientLimits()

    @property
    def policy(self) -> AddressPolicy:
        return self._policy

    @property
    def limits(self) -> ClientLimits:
        return self._limits

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Sequence[tuple[str, str]] = (),
        content: bytes = b"",
        max_response_bytes: int | None = None,
        total_timeout_s: float | None = None,
    ) -> SafeResponse:
        """Send one request; return whatever status the server answered.

        Raises `UnsafeURLError` (nothing was sent) or `DeliveryError` (no complete
        response). `Host` and `Content-Length` are set here and must not be in `headers`.
        """
        method = method.upper()
        if method not in _METHODS:
            raise ValueError(f"unsupported method {method!r}")
        for name, _value in headers:
            if name.lower() in _OWN_HEADERS:
                raise ValueError(f"header {name!r} is set by the client")
        cap = self._limits.max_response_bytes if max_response_bytes is None else max_response_bytes
        deadline_s = self._limits.total_timeout_s if total_timeout_s is None else total_timeout_s
        started = time.monotonic()
        try:
            async with asyncio.timeout(deadline_s):
                checked = await check_url(url, policy=self._policy, resolver=self._resolver)
                return await self._exchange(checked, method, headers, content, cap, started)
        except TimeoutError:
            raise DeliveryError(
                "timeout", retryable=True, detail=f"no complete response within {deadline_s} s"
            ) from None

    async def _exchange(
        self,
        checked: CheckedTarget,
        method: str,
        headers: Sequence[tuple[str, str]],
        content: bytes,
        cap: int,
        started: float,
    ) -> SafeResponse:
        url = checked.url
        backend = _PinnedBackend(host=url.host, port=url.port, addresses=checked.addresses)
        wire_headers: list[tuple[bytes, bytes]] = [(b"Host", url.host_header.encode("ascii"))]
        wire_headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        if content or method in ("POST", "PUT", "PATCH"):
            wire_headers.append((b"Content-Length", str(len(content)).encode("ascii")))
        request_url = httpcore.URL(
            scheme=url.scheme.encode("ascii"),
            host=url.host.encode("ascii"),
            port=url.port,
            target=url.target.encode("ascii"),
        )
        # The outer asyncio deadline bounds the total; these bound each phase.
        phase = self._limits.total_timeout_s
        timeouts = {"connect": self._limits.connect_timeout_s, "read": phase, "write": phase}
        pool = httpcore.AsyncConnectionPool(
            ssl_context=self._context(),
            max_connections=1,
            retries=0,
            network_backend=backend,
        )
        try:
            async with pool:
                async with pool.stream(
                    method,
                    request_url,
                    headers=wire_headers,
                    content=content,
                    extensions={"timeout": timeouts},
                ) as response:
                    body, truncated = await _read_capped(response.aiter_stream(), cap)
                    return SafeResponse(
                        status_code=response.status,
                        headers=tuple(
                            (k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers
                        ),
                        body=body,
                        truncated=truncated,
                        peer=backend.peer or "",
                        elapsed_s=time.monotonic() - started,
                    )
        except NetError:
            raise
        except Exception as exc:
            raise _translate(exc) from exc

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context(cafile=certifi.where())
        return self._ssl_context


async def _read_capped(chunks: AsyncIterator[bytes], cap: int) -> tuple[bytes, bool]:
    buf = bytearray()
    async for chunk in chunks:
        room = cap - len(buf)
        if len(chunk) > room:
            buf += chunk[:room]
            # Stop reading: closing the response drops the connection, so the rest of
            # an oversized body is never pulled off the wire.
            return bytes(buf), True
        buf += chunk
    return bytes(buf), False


def _translate(exc: BaseException) -> DeliveryError:
    """Map transport exceptions onto our `DeliveryError` categories."""
    if _caused_by(exc, ssl.SSLError):
        return DeliveryError("tls", retryable=True, detail=_short(exc))
    if isinstance(exc, httpcore.TimeoutException):
        return DeliveryError("timeout", retryable=True, detail=type(exc).__name__)
    if isinstance(exc, httpcore.ConnectError):
        return DeliveryError("connect", retryable=True, detail=_short(exc))
    if isinstance(exc, httpcore.LocalProtocolError):
        return DeliveryError("protocol", retryable=False, detail=_short(exc))
    if isinstance(exc, httpcore.NetworkError | httpcore.RemoteProtocolError | OSError):
        return DeliveryError("protocol", retryable=True, detail=_short(exc))
    return DeliveryError("protocol", retryable=True, detail=type(exc).__name__)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _short(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:200]


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Dials only the checked addresses of one origin; never resolves anything."""

    def __init__(self, *, host: str, port: int, addresses: tuple[IPAddress, ...]) -> None:
        self._host = host
        self._port = port
        self._addresses = addresses
        self._inner = httpcore.AnyIOBackend()
        self.peer: str | None = None

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if host != self._host or port != self._port:
            raise httpcore.ConnectError("refusing to dial an origin that was not checked")
        last: Exception = httpcore.ConnectError("no checked address")
        for ip in self._addresses:
            try:
                stream = await self._inner.connect_tcp(
                    str(ip),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            self.peer = str(ip)
            return stream
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are never dialled")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
