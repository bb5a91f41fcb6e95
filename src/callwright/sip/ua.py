"""The SIP user agent: one UDP socket, its transactions, calls and registration.

Every task the agent starts (incoming-call handlers, registration) is owned and ended by
:meth:`UserAgent.aclose`; retransmissions run on loop timers, not tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from callwright.sip import digest
from callwright.sip.addr import NameAddr, Via
from callwright.sip.call import ALLOW, SipCall
from callwright.sip.incoming import IncomingCall, offer_from
from callwright.sip.message import Message, Request, Response, SipParseError
from callwright.sip.rtp import RtpSession
from callwright.sip.transaction import (
    ClientTransaction,
    ServerTransaction,
    response_to,
    transaction_key,
)
from callwright.sip.transport import Address, UdpTransport

log = logging.getLogger(__name__)

KEEP_TRANSACTION_S = 32.0  # absorbs retransmissions after a transaction ends (64*T1)
IncomingHandler = Callable[[IncomingCall], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class UaConfig:
    bind_host: str = "127.0.0.1"
    bind_port: int = 0  # 0: any free port
    contact_host: str | None = None  # the address peers reach us at (default: bind_host)
    proxy: Address | None = None  # the trunk / PBX every out-of-dialog request goes to
    domain: str = "localhost"  # host part of the From/To/request URIs we build
    username: str | None = None
    password: str | None = None
    register: bool = False
    register_expires_s: int = 300
    rtp_port_min: int = 20_000
    rtp_port_max: int = 30_000
    max_calls: int = 1_000
    t1_s: float = 0.5
    user_agent: str = "callwright"
    record_rtp_send_times: bool = False  # benches measure pacing


class SipError(Exception):
    """A SIP-level failure the provider translates into ProviderError."""


class UserAgent:
    def __init__(self, *, config: UaConfig, on_incoming: IncomingHandler | None = None) -> None:
        self.config = config
        self.on_incoming = on_incoming
        self.transport = UdpTransport(self._on_message)
        self.contact_host = config.contact_host or config.bind_host
        self.calls: dict[str, SipCall] = {}  # by Call-ID
        self.incoming: dict[str, IncomingCall] = {}  # ringing, by Call-ID
        self._clients: dict[tuple[str, str], ClientTransaction] = {}
        self._servers: dict[tuple[str, str], ServerTransaction] = {}
        self._acks: dict[str, tuple[Request, Address]] = {}  # 2xx ACKs, resent on a repeated 2xx
        self._timers: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._rtp_next = config.rtp_port_min
        self._started = False
        self.registration: Any = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(
            lambda: self.transport, local_addr=(self.config.bind_host, self.config.bind_port)
        )
        self._started = True
        if self.config.register:
            from callwright.sip.register import Registration

            self.registration = Registration(self)
            self.spawn(self.registration.run(), name="sip-register")

    @property
    def local_address(self) -> Address:
        return self.transport.local_address

    @property
    def port(self) -> int:
        return self.local_address[1]

    async def aclose(self) -> None:
        """Hang up every call, unregister, end every task and timer, close the socket."""
        for incoming in list(self.incoming.values()):
            incoming.reject(503, "Service Unavailable")
        await asyncio.gather(
            *(c.hangup() for c in list(self.calls.values())), return_exceptions=True
        )
        if self.registration is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.registration.unregister(), 2.0)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for tx in self._clients.values():
            tx.close()
        for stx in self._servers.values():
            stx.close()
        for timer in self._timers:
            timer.cancel()
        self._clients.clear()
        self._servers.clear()
        self._timers.clear()
        self.transport.close()

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _later(self, delay_s: float, fn: Callable[[], None]) -> None:
        def run() -> None:
            self._timers.discard(handle)
            fn()

        handle = asyncio.get_running_loop().call_later(delay_s, run)
        self._timers.add(handle)

    # ------------------------------------------------------------------ building blocks

    def via(self) -> str:
        port = self.port
        return f"SIP/2.0/UDP {self.contact_host}:{port};branch=z9hG4bK{secrets.token_hex(10)};rport"

    def contact(self, user: str) -> str:
        return f"<sip:{user}@{self.contact_host}:{self.port}>"

    def new_tag(self) -> str:
        return secrets.token_hex(6)

    async def open_rtp(self) -> RtpSession:
        """Bind an RTP socket on the next free even port of the configured range."""
        loop = asyncio.get_running_loop()
        lo, hi = self.config.rtp_port_min, self.config.rtp_port_max
        span = max(1, (hi - lo) // 2)
        for _ in range(span):
            port = self._rtp_next
            self._rtp_next = lo + (self._rtp_next - lo + 2) % (span * 2)
            session = RtpSession(record_send_times=self.config.record_rtp_send_times)
            try:
                await loop.create_datagram_endpoint(
                    _factory(session), local_addr=(self.config.bind_host, port)
                )
            except OSError:
                continue
            return session
        raise SipError(f"no free RTP port in {lo}-{hi}")

    def client(self, request: Request, addr: Address) -> ClientTransaction:
        """Start a client transaction (kept for retransmissions a while after it ends)."""
        request.headers.set("User-Agent", self.config.user_agent)
        tx = ClientTransaction(
            request=request, addr=addr, send=self.transport.send, t1_s=self.config.t1_s
        )
        self._clients[tx.key] = tx
        tx.start()
        return tx

    def retire(self, tx: ClientTransaction) -> None:
        def drop() -> None:
            tx.close()
            if self._clients.get(tx.key) is tx:
                del self._clients[tx.key]

        self._later(KEEP_TRANSACTION_S, drop)

    def authorized(self, request: Request, challenge: Response) -> Request | None:
        """``request`` again with credentials answering a 401/407, or None if we have none."""
        cfg = self.config
        proxy = challenge.status == 407
        header = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
        chosen = digest.pick(challenge.headers.get_all(header))
        if chosen is None or cfg.username is None or cfg.password is None:
            return None
        again = Request(request.method, request.uri, request.headers.copy(), request.body)
        again.headers.set(
            "Proxy-Authorization" if proxy else "Authorization",
            digest.authorization(
                chosen,
                method=request.method,
                uri=request.uri,
                username=cfg.username,
                password=cfg.password,
            ),
        )
        number = int((request.headers.get("CSeq") or "1").split()[0]) + 1
        again.headers.set("CSeq", f"{number} {request.method}")
        again.headers.set("Via", self.via())
        call = self.calls.get(request.headers.get("Call-ID") or "")
        if call is not None:
            call.dialog.local_cseq = max(call.dialog.local_cseq, number)
        return again

    async def request(self, request: Request, addr: Address) -> Response:
        """Send a non-INVITE request and wait for its final response (one auth retry)."""
        for attempt in range(2):
            tx = self.client(request, addr)
            try:
                while (response := await tx.responses.get()).status < 200:
                    pass
            finally:
                self.retire(tx)
            if response.status in (401, 407) and attempt == 0:
                again = self.authorized(request, response)
                if again is not None:
                    request = again
                    continue
            return response
        raise AssertionError("unreachable")

    def remember_ack(self, call_id: str, ack: Request, addr: Address) -> None:
        self._acks[call_id] = (ack, addr)
        self._later(KEEP_TRANSACTION_S, lambda: self._acks.pop(call_id, None) and None)

    def adopt(self, call: SipCall) -> None:
        self.calls[call.call_id] = call

    def forget(self, call: SipCall) -> None:
        self.calls.pop(call.call_id, None)

    # ------------------------------------------------------------------ dispatch

    def _on_message(self, message: Message, addr: Address) -> None:
        try:
            key = transaction_key(message)
        except SipParseError:
            return  # unparseable Via: nowhere to answer
        if isinstance(message, Response):
            self._on_response(message, key)
            return
        try:
            self._on_request(message, key, addr)
        except SipParseError as exc:  # a header we act on is malformed: tell the sender
            if message.method != "ACK":
                bad = response_to(message, 400, f"Bad Request ({exc})"[:80])
                self.transport.send(
                    bad, Via.parse(message.headers.get_all("Via")[0]).reply_address(addr)
                )

    def _on_response(self, response: Response, key: tuple[str, str]) -> None:
        tx = self._clients.get(key)
        if tx is None:
            return
        if key[1] == "INVITE" and 200 <= response.status < 300 and tx.final is not None:
            ack = self._acks.get(response.headers.get("Call-ID") or "")
            if ack is not None:
                self.transport.send(*ack)  # the ACK got lost: send it again
            return
        tx.on_response(response)

    def _on_request(self, request: Request, key: tuple[str, str], addr: Address) -> None:
        via = Via.parse(request.headers.get_all("Via")[0])
        reply_to = via.reply_address(addr)
        call_id = request.headers.get("Call-ID") or ""
        if request.method == "ACK":
            self._on_ack(request, key, call_id)
            return
        known = self._servers.get(key)
        if known is not None:
            known.retransmitted()
            return
        stx = ServerTransaction(
            request=request, addr=reply_to, send=self.transport.send, t1_s=self.config.t1_s
        )
        self._servers[key] = stx

        def drop() -> None:
            if self._servers.get(key) is stx:
                stx.close()
                del self._servers[key]

        self._later(KEEP_TRANSACTION_S, drop)
        to_tag = NameAddr.parse(request.headers.get("To") or "").tag
        if request.method == "CANCEL":
            self._on_cancel(request, stx, key, call_id)
        elif to_tag:
            call = self.calls.get(call_id)
            if call is None or call.dialog.local_tag != to_tag:
                stx.respond(response_to(request, 481, "Call/Transaction Does Not Exist"))
            else:
                call.on_request(request, stx)
        elif request.method == "INVITE":
            self._on_invite(request, stx)
        elif request.method == "OPTIONS":
            ok = response_to(request, 200, "OK", to_tag=self.new_tag())
            ok.headers.add("Allow", ALLOW)
            stx.respond(ok)
        elif request.method == "BYE":
            stx.respond(response_to(request, 481, "Call/Transaction Does Not Exist"))
        else:
            bad = response_to(request, 405, "Method Not Allowed", to_tag=self.new_tag())
            bad.headers.add("Allow", ALLOW)
            stx.respond(bad)

    def _on_ack(self, request: Request, key: tuple[str, str], call_id: str) -> None:
        stx = self._servers.get((key[0], "INVITE"))
        if stx is not None:
            stx.ack()  # the ACK of a non-2xx final response (same branch)
            return
        call = self.calls.get(call_id)
        if call is not None:
            call.on_ack(request)

    def _on_cancel(
        self, request: Request, stx: ServerTransaction, key: tuple[str, str], call_id: str
    ) -> None:
        invite_tx = self._servers.get((key[0], "INVITE"))
        incoming = self.incoming.get(call_id)
        if invite_tx is None or incoming is None or incoming.settled:
            stx.respond(response_to(request, 481, "Call/Transaction Does Not Exist"))
            return
        stx.respond(response_to(request, 200, "OK", to_tag=incoming.to_tag))
        incoming.cancel()

    def _on_invite(self, request: Request, stx: ServerTransaction) -> None:
        call_id = request.headers.get("Call-ID") or ""
        if call_id in self.incoming or call_id in self.calls:
            stx.respond(response_to(request, 482, "Loop Detected"))
            return
        if len(self.calls) + len(self.incoming) >= self.config.max_calls:
            stx.respond(response_to(request, 503, "Service Unavailable"))
            return
        for name in ("From", "To", "Contact"):  # the dialog is built from these: check them now
            NameAddr.parse(request.headers.get(name) or "")
        offer = offer_from(request) if request.body else None  # no body: a late offer
        if request.body and offer is None:
            stx.respond(response_to(request, 488, "Not Acceptable Here"))
            return
        stx.respond(response_to(request, 100, "Trying"))
        incoming = IncomingCall(
            ua=self, request=request, stx=stx, offer=offer, to_tag=self.new_tag()
        )
        if self.on_incoming is None:
            incoming.reject(480, "Temporarily Unavailable")
            return
        self.incoming[call_id] = incoming
        incoming.ring()
        self.spawn(self._handle(incoming), name=f"sip-incoming-{call_id[:16]}")

    async def _handle(self, incoming: IncomingCall) -> None:
        assert self.on_incoming is not None
        try:
            await self.on_incoming(incoming)
        except Exception:
            log.exception("incoming call handler failed")
        finally:
            self.incoming.pop(incoming.call_id, None)
            if not incoming.settled:
                incoming.reject(480, "Temporarily Unavailable")
            if incoming.call is not None and not incoming.call.ended.is_set():
                await asyncio.shield(incoming.call.hangup())


def _factory(session: RtpSession) -> Callable[[], RtpSession]:
    return lambda: session
