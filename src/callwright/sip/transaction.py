"""SIP transactions over UDP (RFC 3261 §17): retransmission and response matching, driven
by loop timers (no task per transaction)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from callwright.sip.addr import Via
from callwright.sip.message import Headers, Message, Request, Response

T1_S = 0.5
T2_S = 4.0
Send = Callable[[Message, tuple[str, int]], None]


def response_to(
    request: Request, status: int, reason: str, *, to_tag: str | None = None
) -> Response:
    """A response copying Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6)."""
    h = Headers()
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        for value in (
            request.headers.get_all(name) if name == "Via" else [request.headers.get(name) or ""]
        ):
            h.add(name, value)
    if to_tag is not None and ";tag=" not in (h.get("To") or ""):
        h.set("To", f"{h.get('To')};tag={to_tag}")
    return Response(status, reason, h)


def transaction_key(message: Message) -> tuple[str, str]:
    """(top Via branch, CSeq method): ACK and CANCEL map onto the INVITE they concern only
    by branch plus their own method, as RFC 3261 §17.2.3 does. Peers without the RFC 3261
    branch cookie get a key from Call-ID, CSeq number, From tag and sent-by instead."""
    via = Via.parse(message.headers.get_all("Via")[0])
    number, _, method = (message.headers.get("CSeq") or " ").partition(" ")
    branch = via.branch
    if not branch.startswith("z9hG4bK"):
        from_tag = (message.headers.get("From") or "").partition(";tag=")[2].split(";")[0]
        call_id = message.headers.get("Call-ID") or ""
        branch = f"{call_id}|{number}|{from_tag}|{via.host}:{via.port}"
    return branch, method.strip().upper()


class ClientTransaction:
    """Sends ``request`` to ``addr``, retransmits until answered, and queues responses.

    A final response that never comes is reported as a local ``408``. For INVITE, the
    ACK of a non-2xx final response is sent here (the 2xx ACK belongs to the dialog)."""

    def __init__(
        self, *, request: Request, addr: tuple[str, int], send: Send, t1_s: float = T1_S
    ) -> None:
        self.request = request
        self.addr = addr
        self.key = transaction_key(request)
        self.responses: asyncio.Queue[Response] = asyncio.Queue()
        self.provisional = False
        self.final: Response | None = None
        self._send = send
        self._t1 = t1_s
        self._interval = t1_s
        self._invite = request.method == "INVITE"
        self._loop = asyncio.get_running_loop()
        self._retransmit: asyncio.TimerHandle | None = None
        self._timeout: asyncio.TimerHandle | None = None
        self.closed = False

    def start(self) -> None:
        self._send(self.request, self.addr)
        self._retransmit = self._loop.call_later(self._interval, self._resend)
        self._timeout = self._loop.call_later(64 * self._t1, self._time_out)

    def _resend(self) -> None:
        if self.closed or self.final is not None or (self._invite and self.provisional):
            return
        self._send(self.request, self.addr)
        self._interval = self._interval * 2 if self._invite else min(self._interval * 2, T2_S)
        self._retransmit = self._loop.call_later(self._interval, self._resend)

    def _time_out(self) -> None:
        if self.final is None and not self.closed:
            if self._invite and self.provisional:
                return  # ringing: the caller's ring timeout decides, not Timer B
            self.final = response_to(self.request, 408, "Request Timeout")
            self.responses.put_nowait(self.final)
            self._stop_timers()

    def on_response(self, response: Response) -> None:
        if self.closed:
            return
        if response.status < 200:
            if self.final is None:
                self.provisional = True
                self.responses.put_nowait(response)
            return
        if self._invite and response.status >= 300:
            self._send(self._ack(response), self.addr)  # also for retransmitted finals
        if self.final is not None:
            if self._invite and response.status < 300:
                self.responses.put_nowait(response)  # a retransmitted 2xx: the dialog re-ACKs
            return
        self.final = response
        self._stop_timers()
        self.responses.put_nowait(response)

    def _ack(self, response: Response) -> Request:
        h = Headers()
        h.add("Via", self.request.headers.get_all("Via")[0])
        for name in ("Route", "From", "Call-ID"):
            for value in self.request.headers.get_all(name):
                h.add(name, value)
        h.add("To", response.headers.get("To") or "")
        h.add("CSeq", f"{(self.request.headers.get('CSeq') or '1').split()[0]} ACK")
        h.add("Max-Forwards", "70")
        return Request("ACK", self.request.uri, h)

    def _stop_timers(self) -> None:
        for handle in (self._retransmit, self._timeout):
            if handle is not None:
                handle.cancel()

    def close(self) -> None:
        self.closed = True
        self._stop_timers()


class ServerTransaction:
    """Remembers the last response to a request so retransmissions get it again; for INVITE
    final responses, retransmits until the ACK arrives (RFC 3261 §13.3.1.4, §17.2.1)."""

    def __init__(
        self, *, request: Request, addr: tuple[str, int], send: Send, t1_s: float = T1_S
    ) -> None:
        self.request = request
        self.addr = addr
        self.last: Response | None = None
        self.acked = asyncio.Event()
        self._send = send
        self._t1 = t1_s
        self._interval = t1_s
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._gave_up: asyncio.TimerHandle | None = None
        self.on_no_ack: Callable[[], None] | None = None

    def respond(self, response: Response) -> None:
        self.last = response
        self._send(response, self.addr)
        if self.request.method == "INVITE" and response.status >= 200:
            self._timer = self._loop.call_later(self._interval, self._resend)
            self._gave_up = self._loop.call_later(64 * self._t1, self._no_ack)

    def retransmitted(self) -> None:
        """The request came again: repeat the last response."""
        if self.last is not None:
            self._send(self.last, self.addr)

    def _resend(self) -> None:
        if self.acked.is_set() or self.last is None:
            return
        self._send(self.last, self.addr)
        self._interval = min(self._interval * 2, T2_S)
        self._timer = self._loop.call_later(self._interval, self._resend)

    def _no_ack(self) -> None:
        if not self.acked.is_set():
            self.close()
            if self.on_no_ack is not None:
                self.on_no_ack()

    def ack(self) -> None:
        self.acked.set()
        self.close()

    def close(self) -> None:
        for handle in (self._timer, self._gave_up):
            if handle is not None:
                handle.cancel()
