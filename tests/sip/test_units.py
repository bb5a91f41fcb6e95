"""The SIP building blocks on their own: messages, addresses, digest (RFC test vectors),
SDP offer/answer, the jitter buffer and RFC 4733 events."""

from __future__ import annotations

import pytest

from callwright.sip import digest, sdp
from callwright.sip.addr import NameAddr, SipUri, Via
from callwright.sip.dtmf import DtmfDetector, event_payload, parse_event
from callwright.sip.jitter import JitterBuffer
from callwright.sip.message import Request, Response, SipParseError, parse, serialize

INVITE = (
    b"INVITE sip:+14155550100@trunk.example.com SIP/2.0\r\n"
    b"v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;rport\r\n"
    b"Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKdef, "
    b"SIP/2.0/UDP [2001:db8::1]:5070;branch=z9hG4bKghi\r\n"
    b'f: "Alice" <sip:alice@example.com>;tag=1928301774\r\n'
    b"t: <sip:+14155550100@trunk.example.com>\r\n"
    b"i: a84b4c76e66710@pc33.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Subject: folded\r\n  header\r\n"
    b"l: 4\r\n\r\nbody+garbage"
)


def test_parse_compact_folded_multi_value_and_content_length() -> None:
    m = parse(INVITE)
    assert isinstance(m, Request) and m.method == "INVITE"
    assert m.headers.get("call-id") == "a84b4c76e66710@pc33.example.com"
    assert len(m.headers.get_all("Via")) == 3
    assert Via.parse(m.headers.get_all("Via")[2]).host == "2001:db8::1"
    assert m.headers.get("Subject") == "folded header"
    assert m.body == b"body"  # Content-Length wins over trailing bytes
    again = parse(serialize(m))
    assert isinstance(again, Request) and again.headers.items == m.headers.items


@pytest.mark.parametrize(
    "data",
    [
        INVITE.replace(b"l: 4", b"l: 40"),  # truncated body
        INVITE.replace(b"CSeq: 314159 INVITE", b"CSeq: 314159 BYE"),
        INVITE.replace(b"i: a84b4c76e66710@pc33.example.com\r\n", b""),
        INVITE.replace(b"SIP/2.0\r\nv:", b"SIP/3.0\r\nv:"),
        b"SIP/2.0 700 Nope\r\n\r\n",
        INVITE.replace(b"Subject", b"Sub ject"),
        b"\xff\xfe" + INVITE,
    ],
)
def test_malformed_messages_raise_parse_error(data: bytes) -> None:
    with pytest.raises(SipParseError):
        parse(data)


def test_response_and_addresses() -> None:
    r = parse(
        INVITE.replace(b"INVITE sip:+14155550100@trunk.example.com SIP/2.0", b"SIP/2.0 180 Ringing")
    )
    assert isinstance(r, Response) and (r.status, r.reason) == (180, "Ringing")
    a = NameAddr.parse('"Alice" <sip:alice@example.com:5070;transport=udp>;tag=x')
    assert (a.display, a.uri.user, a.uri.port, a.tag) == ("Alice", "alice", 5070, "x")
    assert a.uri.params == {"transport": "udp"}
    assert SipUri.parse("sip:[::1]:5062").address() == ("::1", 5062)
    v = Via.parse("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;rport")
    assert v.reply_address(("192.0.2.9", 40000)) == ("192.0.2.9", 40000)  # rport: the source
    assert Via.parse("SIP/2.0/UDP h;received=192.0.2.1").reply_address(("x", 1)) == (
        "192.0.2.1",
        5060,
    )


def test_digest_md5_rfc2617_vector() -> None:
    challenge = digest.Challenge.parse(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    value = digest.authorization(
        challenge,
        method="GET",
        uri="/dir/index.html",
        username="Mufasa",
        password="Circle Of Life",
        cnonce="0a4f113b",
    )
    assert 'response="6629fae49393a05397450978507c4ef1"' in value
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in value and "nc=00000001" in value


def test_digest_sha256_rfc7616_vector_and_preference() -> None:
    sha = (
        'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, '
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
        'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
    )
    md5 = sha.replace("SHA-256", "MD5")
    chosen = digest.pick([md5, sha, "Basic realm=x"])
    assert chosen is not None and chosen.algorithm == "SHA-256"
    value = digest.authorization(
        chosen,
        method="GET",
        uri="/dir/index.html",
        username="Mufasa",
        password="Circle of Life",
        cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    )
    assert 'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"' in value


def test_sdp_offer_answer_and_hold() -> None:
    body = sdp.build(host="192.0.2.5", port=40000, payload_types=(sdp.PCMU, sdp.PCMA))
    offer = sdp.parse(body)
    assert (offer.host, offer.port, offer.codec(), offer.event_pt()) == ("192.0.2.5", 40000, 0, 101)
    remote = sdp.parse(
        b"v=0\r\nc=IN IP4 198.51.100.1\r\nm=video 9 RTP/AVP 96\r\n"
        b"m=audio 5004 RTP/AVP 18 8 0\r\nc=IN IP4 198.51.100.2\r\na=sendonly\r\n"
    )
    assert (remote.host, remote.port, remote.codec()) == ("198.51.100.2", 5004, 8)  # PCMA first
    assert remote.on_hold and sdp.answer_direction(remote.direction) == "recvonly"
    assert sdp.parse(b"c=IN IP4 0.0.0.0\r\nm=audio 5 RTP/AVP 0\r\n").on_hold  # RFC 2543 hold
    assert sdp.parse(b"c=IN IP4 1.2.3.4\r\nm=audio 5 RTP/AVP 18\r\n").codec() is None
    with pytest.raises(SipParseError):
        sdp.parse(b"v=0\r\nm=video 5 RTP/AVP 96\r\n")


def test_jitter_buffer_reorders_drops_duplicates_and_conceals_loss() -> None:
    jb = JitterBuffer(depth=2)
    out: list[bytes | None] = []
    for seq in (65534, 0, 0, 65535, 2, 3, 4, 5, 1):  # reordered, duplicate, wraps, late 1
        out += jb.push(seq, seq.to_bytes(2, "big"))
    out += jb.flush()
    names = [None if p is None else int.from_bytes(p, "big") for p in out]
    assert names == [65534, 65535, 0, None, 2, 3, 4, 5]  # 1 came too late: concealed
    assert (jb.duplicates, jb.late, jb.lost) == (1, 1, 1)
    fresh = JitterBuffer()
    assert fresh.push(10, b"a") == [b"a"] and fresh.push(20_000, b"b") == [b"b"]  # new stream


def test_rfc4733_events_give_one_digit_per_event() -> None:
    assert parse_event(event_payload("#", end=True, duration=800)) is not None
    detector = DtmfDetector()
    digits = [
        detector.feed(ts, event_payload(d, end=end, duration=160))
        for ts, d, end in [
            (100, "4", False),
            (100, "4", False),
            (100, "4", True),
            (100, "4", True),
            (900, "2", True),
        ]
    ]
    assert [d for d in digits if d] == ["4", "2"]
    assert parse_event(b"\x20\x80\x00\xa0") is None  # event 32 is not DTMF
