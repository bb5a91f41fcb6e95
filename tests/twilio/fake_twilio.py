"""A local Twilio for tests: its REST API, its status callbacks and its Media Streams client.

It speaks Twilio's documented wire formats, written out here independently of the code
under test:

- REST (https://www.twilio.com/docs/voice/api/call-resource): ``POST
  /2010-04-01/Accounts/{AccountSid}/Calls.json`` (form: To, From, Twiml, StatusCallback,
  StatusCallbackEvent…, Timeout) answers 201 with the call as JSON;
  ``POST …/Calls/{CallSid}.json`` with ``Status=canceled|completed`` ends a call. Errors
  are JSON ``{"code", "message", "more_info", "status"}``: 401/20003 for bad credentials,
  400/21211 for an invalid To, 400/21603 for a missing From, 429/20429 when told to.
- Status callbacks: form POSTs (AccountSid, CallSid, CallStatus, From, To, Direction,
  CallbackSource, SequenceNumber, Timestamp, SipResponseCode …) signed with
  ``X-Twilio-Signature`` = base64(HMAC-SHA1(auth token, URL + sorted name+value pairs)),
  for the subscribed events; terminal statuses always (the ``completed`` event).
- Media Streams (https://www.twilio.com/docs/voice/media-streams/websocket-messages): on
  answer it runs the call's TwiML ``<Connect><Stream url>`` — dropping the URL's query
  string, as Twilio does — sends ``connected`` and ``start`` (with the ``<Parameter>``s as
  ``customParameters``), then a ``media`` message of base64 μ-law every 20 ms (the caller's
  audio, else silence), and plays what it receives at 20 ms per frame: a ``mark`` is echoed
  when the audio before it has played, ``clear`` drops the buffer and echoes the marks in
  it at once. ``dtmf`` and ``stop`` are sent on request.

The callee's behaviour is chosen by the To number's last four digits: ``0001`` busy (SIP
486), ``0002`` no answer (after Timeout), ``0003`` failed (SIP 503), ``0004`` declined
(busy, SIP 603), ``0005`` answered but TwiML never streams, ``0429`` rate limited; any
other number answers.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import re
import secrets
import socket
import time
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

FRAME_S = 0.02
ULAW_FRAME = 160  # 20 ms of 8 kHz μ-law
ULAW_SILENCE = b"\xff" * ULAW_FRAME
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
TERMINAL = ("busy", "no-answer", "failed", "canceled", "completed")
EVENT_OF_STATUS = {"initiated": "initiated", "ringing": "ringing", "in-progress": "answered"}


def sign(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    data = url + "".join(k + v for k, v in sorted(params))
    return base64.b64encode(
        hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    ).decode()


def sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def error_body(status: int, code: int, message: str) -> JSONResponse:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status)


@dataclass
class StreamTwiml:
    url: str
    parameters: dict[str, str]


def parse_twiml(twiml: str) -> StreamTwiml | None:
    """The ``<Connect><Stream>`` of a TwiML document, or None if it has none."""
    root = ET.fromstring(twiml)
    stream = root.find("./Connect/Stream")
    if stream is None:
        return None
    params = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
    return StreamTwiml(url=stream.get("url", ""), parameters=params)


@dataclass
class FakeCall:
    sid: str
    to: str
    from_: str
    twiml: str
    status_callback: str
    events: tuple[str, ...]
    timeout_s: int
    direction: str = "outbound-api"
    status: str = "queued"
    sip_response_code: int | None = None
    answered_at: float | None = None
    callbacks: list[dict[str, str]] = field(default_factory=list)  # what we posted, in order
    callback_replies: list[int] = field(default_factory=list)
    # media, once answered
    stream_sid: str = ""
    stream_url: str = ""
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    close_code: int | None = None
    close_reason: str = ""
    media_received: list[bytes] = field(default_factory=list)  # agent μ-law payloads
    media_times: list[float] = field(default_factory=list)  # when each arrived (monotonic)
    heard: bytearray = field(default_factory=bytearray)  # agent μ-law as played, in order
    marks_received: list[str] = field(default_factory=list)
    marks_echoed: list[str] = field(default_factory=list)
    clears: int = 0
    _caller_audio: deque[bytes] = field(default_factory=deque)
    _playout: deque[bytes | str] = field(default_factory=deque)  # frames, or mark names
    _ws: ClientConnection | None = None
    _seq: int = 0

    @property
    def played_frames(self) -> int:
        return len(self.heard) // ULAW_FRAME

    def say(self, ulaw: bytes) -> None:
        """Queue caller audio (μ-law 8 kHz); it goes out 20 ms per media message."""
        for i in range(0, len(ulaw), ULAW_FRAME):
            self._caller_audio.append(ulaw[i : i + ULAW_FRAME].ljust(ULAW_FRAME, b"\xff"))

    def next_seq(self) -> str:
        self._seq += 1
        return str(self._seq)

    async def press(self, digit: str) -> None:
        assert self._ws is not None
        await self._ws.send(
            json.dumps(
                {
                    "event": "dtmf",
                    "streamSid": self.stream_sid,
                    "sequenceNumber": self.next_seq(),
                    "dtmf": {"track": "inbound_track", "digit": digit},
                }
            )
        )


class FakeTwilio:
    """Run with ``async with FakeTwilio(...) as twilio``; ``twilio.base_url`` is its API."""

    def __init__(self, *, account_sid: str, auth_token: str, ring_s: float = 0.05) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.ring_s = ring_s
        self.calls: dict[str, FakeCall] = {}
        self.requests: list[tuple[str, list[tuple[str, str]]]] = []  # (path, form)
        self.base_url = ""
        self._tasks: set[asyncio.Task[Any]] = set()
        self._http = httpx.AsyncClient(timeout=5.0)
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeTwilio:
        app = Starlette(
            routes=[
                Route("/2010-04-01/Accounts/{account}/Calls.json", self._create, methods=["POST"]),
                Route(
                    "/2010-04-01/Accounts/{account}/Calls/{call}.json",
                    self._update,
                    methods=["POST"],
                ),
            ]
        )
        self._server, self._serving, self.base_url = await serve(app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for call in self.calls.values():
            await self.hang_up(call)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._http.aclose()
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            await self._serving

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ REST

    def _authorized(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return (
            request.path_params["account"] == self.account_sid
            and request.headers.get("authorization") == f"Basic {expected}"
        )

    async def _create(self, request: Request) -> Response:
        form = [(k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)]
        self.requests.append((request.url.path, form))
        if not self._authorized(request):
            return error_body(401, 20003, "Authenticate")
        values = dict(form)
        to, from_ = values.get("To", ""), values.get("From", "")
        if not to:
            return error_body(400, 21201, "No 'To' number is specified")
        if not from_:
            return error_body(400, 21603, "A 'From' phone number is required.")
        if not _E164.match(to):
            return error_body(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to.endswith("0429"):
            return error_body(429, 20429, "Too Many Requests")
        if "Twiml" not in values and "Url" not in values:
            return error_body(400, 21205, "Url parameter is required.")
        call = FakeCall(
            sid=sid("CA"),
            to=to,
            from_=from_,
            twiml=values.get("Twiml", ""),
            status_callback=values.get("StatusCallback", ""),
            events=tuple(v for k, v in form if k == "StatusCallbackEvent"),
            timeout_s=int(values.get("Timeout", "60")),
        )
        self.calls[call.sid] = call
        self._spawn(self._progress(call))
        return JSONResponse(self._resource(call), status_code=201)

    async def _update(self, request: Request) -> Response:
        form = [(k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)]
        self.requests.append((request.url.path, form))
        if not self._authorized(request):
            return error_body(401, 20003, "Authenticate")
        call = self.calls.get(request.path_params["call"])
        if call is None:
            return error_body(404, 20404, "The requested resource was not found")
        wanted = dict(form).get("Status")
        if wanted == "canceled" and call.status in ("queued", "initiated", "ringing"):
            await self._finish(call, "canceled", 487)
        elif wanted == "completed":
            await self.hang_up(call)
        return JSONResponse(self._resource(call))

    def _resource(self, call: FakeCall) -> dict[str, Any]:
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Calls/{call.sid}.json"
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": None,
            "api_version": "2010-04-01",
            "caller_name": None,
            "date_created": formatdate(usegmt=True),
            "date_updated": formatdate(usegmt=True),
            "direction": call.direction,
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from": call.from_,
            "from_formatted": call.from_,
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": sid("PN"),
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": call.sid,
            "start_time": None,
            "status": call.status,
            "subresource_uris": {},
            "to": call.to,
            "to_formatted": call.to,
            "trunk_sid": None,
            "uri": uri,
        }

    # ------------------------------------------------------------------ call progress

    async def _progress(self, call: FakeCall) -> None:
        await self._set_status(call, "initiated")
        await asyncio.sleep(self.ring_s / 2)
        await self._set_status(call, "ringing")
        suffix = call.to[-4:]
        if suffix == "0002":
            await asyncio.sleep(call.timeout_s)
            if call.status == "ringing":
                await self._finish(call, "no-answer", 487)
            return
        await asyncio.sleep(self.ring_s / 2)
        if call.status != "ringing":
            return  # canceled meanwhile
        if suffix in ("0001", "0004"):
            await self._finish(call, "busy", 603 if suffix == "0004" else 486)
            return
        if suffix == "0003":
            await self._finish(call, "failed", 503)
            return
        call.answered_at = time.monotonic()
        await self._set_status(call, "in-progress")
        stream = parse_twiml(call.twiml) if call.twiml else None
        if suffix == "0005" or stream is None:
            await asyncio.sleep(0.05)
            await self._finish(call, "completed", 200)
            return
        await self._stream(call, stream)

    async def _set_status(self, call: FakeCall, status: str) -> None:
        call.status = status
        event = EVENT_OF_STATUS.get(status, "completed")
        if call.status_callback and (event in call.events or status in TERMINAL):
            await self._callback(call)

    async def _finish(self, call: FakeCall, status: str, sip_code: int) -> None:
        if call.status in TERMINAL:
            return
        call.sip_response_code = sip_code
        await self._set_status(call, status)
        call.ended.set()

    async def _callback(self, call: FakeCall) -> None:
        params = [
            ("AccountSid", self.account_sid),
            ("ApiVersion", "2010-04-01"),
            ("CallSid", call.sid),
            ("CallStatus", call.status),
            ("Called", call.to),
            ("Caller", call.from_),
            ("Direction", call.direction),
            ("From", call.from_),
            ("To", call.to),
            ("CallbackSource", "call-progress-events"),
            ("SequenceNumber", str(len(call.callbacks))),
            ("Timestamp", formatdate(usegmt=True)),
        ]
        if call.status in TERMINAL and call.sip_response_code is not None:
            params.append(("SipResponseCode", str(call.sip_response_code)))
        if call.status == "completed" and call.answered_at is not None:
            seconds = str(int(time.monotonic() - call.answered_at))
            params += [("CallDuration", seconds), ("Duration", seconds)]
        call.callbacks.append(dict(params))
        headers = {"X-Twilio-Signature": sign(self.auth_token, call.status_callback, params)}
        response = await self._http.post(call.status_callback, data=dict(params), headers=headers)
        call.callback_replies.append(response.status_code)

    # ------------------------------------------------------------------ Media Streams

    async def _stream(self, call: FakeCall, twiml: StreamTwiml) -> None:
        parts = urlsplit(twiml.url)
        call.stream_url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        call.stream_sid = sid("MZ")
        try:
            async with connect(call.stream_url) as ws:
                call._ws = ws
                await ws.send(
                    json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})
                )
                await ws.send(json.dumps(self._start_message(call, twiml.parameters)))
                call.connected.set()
                ticking = asyncio.create_task(self._tick(call, ws))
                try:
                    await self._listen(call, ws)
                finally:
                    ticking.cancel()
                    with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                        await ticking
        except ConnectionClosed:
            pass
        finally:
            call._ws = None
            await self._finish(call, "completed", 200)

    def _start_message(self, call: FakeCall, params: dict[str, str]) -> dict[str, Any]:
        return {
            "event": "start",
            "sequenceNumber": call.next_seq(),
            "start": {
                "accountSid": self.account_sid,
                "streamSid": call.stream_sid,
                "callSid": call.sid,
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": params,
            },
            "streamSid": call.stream_sid,
        }

    async def _listen(self, call: FakeCall, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                message = json.loads(raw)
                match message.get("event"):
                    case "media":
                        payload = base64.b64decode(message["media"]["payload"])
                        call.media_received.append(payload)
                        call.media_times.append(time.monotonic())
                        for i in range(0, len(payload), ULAW_FRAME):
                            call._playout.append(payload[i : i + ULAW_FRAME])
                    case "mark":
                        name = message["mark"]["name"]
                        call.marks_received.append(name)
                        call._playout.append(name)
                    case "clear":
                        call.clears += 1
                        pending = [item for item in call._playout if isinstance(item, str)]
                        call._playout.clear()
                        for name in pending:
                            await self._echo_mark(call, ws, name)
        except ConnectionClosed:
            pass
        finally:
            call.close_code = ws.close_code
            call.close_reason = ws.close_reason or ""

    async def _tick(self, call: FakeCall, ws: ClientConnection) -> None:
        """Every 20 ms: send one caller frame, play one agent frame (echoing marks)."""
        chunk = 0
        t0 = time.monotonic()
        while True:
            chunk += 1
            frame = call._caller_audio.popleft() if call._caller_audio else ULAW_SILENCE
            await ws.send(
                json.dumps(
                    {
                        "event": "media",
                        "sequenceNumber": call.next_seq(),
                        "media": {
                            "track": "inbound",
                            "chunk": str(chunk),
                            "timestamp": str(int((time.monotonic() - t0) * 1000)),
                            "payload": base64.b64encode(frame).decode(),
                        },
                        "streamSid": call.stream_sid,
                    }
                )
            )
            while call._playout and isinstance(call._playout[0], str):
                await self._echo_mark(call, ws, str(call._playout.popleft()))
            if call._playout and isinstance(played := call._playout.popleft(), bytes):
                call.heard += played
            while call._playout and isinstance(call._playout[0], str):
                await self._echo_mark(call, ws, str(call._playout.popleft()))
            await asyncio.sleep(max(0.0, t0 + chunk * FRAME_S - time.monotonic()))

    async def _echo_mark(self, call: FakeCall, ws: ClientConnection, name: str) -> None:
        call.marks_echoed.append(name)
        await ws.send(
            json.dumps(
                {
                    "event": "mark",
                    "sequenceNumber": call.next_seq(),
                    "streamSid": call.stream_sid,
                    "mark": {"name": name},
                }
            )
        )

    async def hang_up(self, call: FakeCall) -> None:
        """The callee hangs up: ``stop`` on the stream, then the socket closes."""
        ws = call._ws
        if ws is not None:
            with contextlib.suppress(ConnectionClosed):
                await ws.send(
                    json.dumps(
                        {
                            "event": "stop",
                            "sequenceNumber": call.next_seq(),
                            "streamSid": call.stream_sid,
                            "stop": {"accountSid": self.account_sid, "callSid": call.sid},
                        }
                    )
                )
                await ws.close()
        await call.ended.wait() if ws is not None else None

    # ------------------------------------------------------------------ inbound

    async def incoming_call(
        self, *, voice_url: str, from_: str, to: str, signature: str | None = None
    ) -> tuple[httpx.Response, FakeCall]:
        """Someone calls ``to``: post the voice webhook, then run the TwiML it answers with."""
        call = FakeCall(
            sid=sid("CA"),
            to=to,
            from_=from_,
            twiml="",
            status_callback="",
            events=(),
            timeout_s=60,
            direction="inbound",
            status="ringing",
        )
        self.calls[call.sid] = call
        params = [
            ("AccountSid", self.account_sid),
            ("ApiVersion", "2010-04-01"),
            ("CallSid", call.sid),
            ("CallStatus", "ringing"),
            ("Called", to),
            ("Caller", from_),
            ("Direction", "inbound"),
            ("From", from_),
            ("To", to),
        ]
        headers = {"X-Twilio-Signature": signature or sign(self.auth_token, voice_url, params)}
        response = await self._http.post(voice_url, data=dict(params), headers=headers)
        if response.status_code == 200:
            call.twiml = response.text
            stream = parse_twiml(response.text)
            if stream is not None:
                call.answered_at = time.monotonic()
                call.status = "in-progress"
                self._spawn(self._stream(call, stream))
        return response, call


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI app on a free loopback port for the duration; yields its base URL."""
    server, task, url = await serve(app)
    try:
        yield url
    finally:
        server.should_exit = True
        await task


async def serve(
    app: Any, *, sock: socket.socket | None = None
) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    if sock is None:
        sock = bound_socket()
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        ws="websockets-sansio",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    host, port = sock.getsockname()[:2]
    return server, task, f"http://{host}:{port}"


def bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock
