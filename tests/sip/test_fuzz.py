"""Malformed SIP never takes the user agent down: a corpus of truncated, oversized,
garbled, binary and header-broken datagrams is thrown at both ends of a call in progress;
the call carries on, and the agents still answer."""

from __future__ import annotations

import asyncio
import random
import socket

import numpy as np
import pytest

from callwright.media.audio import rms
from callwright.providers.base import FRAME_BYTES
from callwright.sip import IncomingCall, SipCall, UaConfig, UserAgent, place_call
from callwright.sip.message import SipParseError, parse
from tests.sip.conftest import rtp_range

pytestmark = [pytest.mark.usefixtures("no_leaks"), pytest.mark.timeout(60)]

TONE = (np.sin(2 * np.pi * 440 * np.arange(FRAME_BYTES // 2) / 16_000) * 8000).astype("<i2")


def valid_invite(
    port: int, *, call_id: str = "fuzz-1@127.0.0.1", branch: str = "z9hG4bKfuzz"
) -> bytes:
    body = (
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 0\r\n"
    )
    return (
        f"INVITE sip:+15550100000@127.0.0.1:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:9;branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:fuzzer@127.0.0.1>;tag=f1\r\n"
        "To: <sip:+15550100000@127.0.0.1>\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:fuzzer@127.0.0.1:9>\r\n"
        "Content-Type: application/sdp\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


def corpus(port: int, call: SipCall) -> list[bytes]:
    rng = random.Random(7)
    base = valid_invite(port)
    serial = iter(range(10**6))

    def fresh() -> bytes:  # a new transaction and call each time (not a retransmission)
        n = next(serial)
        return valid_invite(port, call_id=f"fuzz-{n}@x", branch=f"z9hG4bKf{n}")

    out: list[bytes] = [b"", b"\r\n\r\n", b"SIP/2.0", b"INVITE", b"\x00" * 100]
    out += [base[:n] for n in range(0, len(base), 7)]  # truncated everywhere
    out.append(base + b"x" * 60_000)  # oversized body (Content-Length says otherwise)
    out.append(base.replace(b"Max-Forwards: 70", b"X-Pad: " + b"a" * 60_000))  # huge header
    out.append(b"INVITE sip:a@b SIP/2.0\r\n" + b"X: y\r\n" * 3000 + b"\r\n")  # header flood
    for _ in range(150):  # garbled: random bytes flipped (each a new transaction and call)
        b = bytearray(fresh())
        for _ in range(rng.randint(1, 20)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        out.append(bytes(b))
    out += [rng.randbytes(rng.randint(1, 1400)) for _ in range(100)]  # binary noise
    for header in (b"Via", b"From", b"To", b"Call-ID", b"CSeq", b"Contact", b"Content-Type"):
        lines = [ln for ln in fresh().split(b"\r\n") if not ln.startswith(header + b":")]
        out.append(b"\r\n".join(lines))  # each header missing in turn
    for length in (b"abc", b"-1", b"99999", b"", b"1e3"):
        head, _, body = fresh().partition(b"\r\n\r\n")
        head = head.replace(b"Content-Length: ", b"X-Old: ")
        out.append(head + b"\r\nContent-Length: " + length + b"\r\n\r\n" + body)
    bad_lines = (
        b"Via: SIP/2.0/UDP",
        b"Via: garbage",
        b"Via: SIP/2.0/UDP [::1;branch=x",
        b"CSeq: x INVITE",
        b"CSeq: 1 BYE",
        b"CSeq: 99999999999999999999 INVITE",
        b"From: <sip:",
        b"To: <<<>>>",
        b"Contact: <sip:a@b:99999>",
        b"Content-Type: application/sdp\r\nContent-Type: text/plain",
    )
    for line in bad_lines:
        name = line.split(b":")[0]
        out.append(
            b"\r\n".join(
                line if ln.startswith(name + b":") else ln for ln in fresh().split(b"\r\n")
            )
        )
    for sdp_body in (
        b"v=0\r\nm=audio x RTP/AVP 0\r\n",
        b"m=video 5 RTP/AVP 0",
        b"\xff\xfe",
        b"m=audio 5 RTP/AVP 99",
    ):
        head = fresh().split(b"\r\n\r\n")[0].replace(b"Content-Length: ", b"X-Old: ")
        out.append(
            head + b"\r\nContent-Length: " + str(len(sdp_body)).encode() + b"\r\n\r\n" + sdp_body
        )
    # well-formed but aimed at the call in progress: wrong tags, replays, odd methods
    d = call.dialog
    for method, to_tag in (
        ("BYE", "wrong"),
        ("INVITE", "wrong"),
        ("NOTIFY", d.local_tag),
        ("FOO", d.local_tag),
    ):
        out.append(
            (
                f"{method} sip:x@127.0.0.1 SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{method}\r\n"
                f"From: <sip:x@y>;tag={d.remote.tag}\r\nTo: <sip:y@z>;tag={to_tag}\r\n"
                f"Call-ID: {d.call_id}\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
            ).encode()
        )
    out.append(
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=nope\r\n"
        b"From: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n"
    )
    out.append(b"SIP/2.0 999 Weird\r\n\r\n")
    return out


async def test_malformed_sip_never_crashes_and_the_call_continues() -> None:
    lo, hi = rtp_range()
    rejected: list[str] = []

    async def answer(incoming: IncomingCall) -> None:
        if incoming.from_user != "+15550100001":  # fuzz INVITEs that parse: refuse them
            rejected.append(incoming.call_id)
            incoming.reject(486, "Busy Here")
            return
        call = await incoming.answer()
        while (frame := await call.receive()) is not None:
            call.send(frame)  # echo

    b = UserAgent(config=UaConfig(rtp_port_min=lo, rtp_port_max=lo + 98), on_incoming=answer)
    await b.start()
    a = UserAgent(
        config=UaConfig(proxy=("127.0.0.1", b.port), rtp_port_min=lo + 100, rtp_port_max=hi)
    )
    await a.start()
    try:
        outcome = await place_call(
            a, to_user="+15550100000", from_user="+15550100001", ring_timeout_s=5
        )
        call = outcome.call
        assert call is not None
        heard: list[bytes] = []

        async def listen() -> None:
            while (frame := await call.receive()) is not None:
                heard.append(frame)

        async with asyncio.TaskGroup() as tg:
            tg.create_task(listen())
            datagrams = corpus(b.port, call)
            sent = 0
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                for i, data in enumerate(datagrams):
                    for target in (b.port, a.port, call.rtp.local_port):
                        try:
                            s.sendto(data, ("127.0.0.1", target))
                            sent += 1
                        except OSError:
                            pass  # larger than a datagram can be
                    if i % 5 == 0:
                        call.send(TONE.tobytes())
                        await asyncio.sleep(0.02)
            for _ in range(25):  # the call still carries audio after the storm
                call.send(TONE.tobytes())
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.3)
            assert not call.ended.is_set()
            await call.hangup()
        assert sum(1 for f in heard[-40:] if rms(f) > 1000) >= 15
        assert sent > 1000
        assert a.transport.handler_errors == 0 and b.transport.handler_errors == 0
        assert b.transport.malformed > 300
        assert len(rejected) > 5  # garbled INVITEs that still parse reached the handler
        print(f"malformed={b.transport.malformed} rejected={len(rejected)}")
        malformed = 0
        for data in datagrams:
            try:
                parse(data)
            except SipParseError:
                malformed += 1
        assert malformed > 300
        # the agent still answers a fresh call
        again = await place_call(
            a, to_user="+15550100000", from_user="+15550100001", ring_timeout_s=5
        )
        assert again.call is not None
        await again.call.hangup()
    finally:
        await a.aclose()
        await b.aclose()
