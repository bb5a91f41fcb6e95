"""SDP offer/answer for one audio stream (RFC 4566, RFC 3264): G.711 and RFC 4733 events."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from callwright.sip.message import SipParseError

PCMU, PCMA = 0, 8
CODECS = {PCMU: "PCMU", PCMA: "PCMA"}
EVENT_PT = 101
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_REVERSE = {"sendonly": "recvonly", "recvonly": "sendonly"}


@dataclass(frozen=True, slots=True)
class MediaDescription:
    """The remote (or local) audio stream as an SDP body describes it."""

    host: str
    port: int
    payload_types: tuple[int, ...]
    rtpmap: dict[int, str] = field(default_factory=dict)  # pt -> "name/rate"
    direction: str = "sendrecv"
    ptime_ms: int = 20

    @property
    def on_hold(self) -> bool:
        return self.direction in ("sendonly", "inactive") or self.host in ("0.0.0.0", "::")

    def event_pt(self) -> int | None:
        for pt, enc in self.rtpmap.items():
            if enc.lower().startswith("telephone-event/8000"):
                return pt
        return None

    def codec(self) -> int | None:
        """The first G.711 payload type (static 0 or 8) in the remote's order of preference."""
        for pt in self.payload_types:
            if pt in CODECS:
                return pt
        return None


def parse(body: bytes) -> MediaDescription:
    """The first audio stream of an SDP body. Raises SipParseError when there is none."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError("SDP is not UTF-8") from exc
    session_host, media_host = "", ""
    port, pts = -1, tuple[int, ...]()
    rtpmap: dict[int, str] = {}
    direction, ptime, in_audio, seen_audio = "sendrecv", 20, False, False
    for raw in text.splitlines():
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:]
        if kind == "m":
            if seen_audio:
                in_audio = False
                continue
            fields = value.split()
            in_audio = len(fields) >= 4 and fields[0] == "audio" and fields[2].startswith("RTP/")
            if in_audio:
                seen_audio = True
                if not fields[1].split("/")[0].isdigit():
                    raise SipParseError("bad media port")
                port = int(fields[1].split("/")[0])
                pts = tuple(int(p) for p in fields[3:] if p.isdigit() and int(p) < 128)
        elif kind == "c":
            parts = value.split()
            if len(parts) >= 3:
                if in_audio:
                    media_host = parts[2].split("/")[0]
                elif not seen_audio:
                    session_host = parts[2].split("/")[0]
        elif kind == "a" and (in_audio or not seen_audio):
            name, _, rest = value.partition(":")
            if name == "rtpmap" and in_audio:
                pt, _, enc = rest.partition(" ")
                if pt.isdigit():
                    rtpmap[int(pt)] = enc.strip()
            elif name in DIRECTIONS:
                direction = name
            elif name == "ptime" and rest.strip().isdigit():
                ptime = int(rest.strip())
    host = media_host or session_host
    if port < 0 or not host:
        raise SipParseError("SDP has no audio stream")
    return MediaDescription(host, port, pts, rtpmap, direction, ptime)


def build(
    *,
    host: str,
    port: int,
    payload_types: tuple[int, ...],
    event_pt: int | None = EVENT_PT,
    direction: str = "sendrecv",
    session_id: int | None = None,
    version: int = 1,
) -> bytes:
    """An SDP body offering (or answering with) ``payload_types`` at host:port."""
    sid = session_id if session_id is not None else int(time.time())
    ip = "IP6" if ":" in host else "IP4"
    pts = list(payload_types) + ([event_pt] if event_pt is not None else [])
    lines = [
        "v=0",
        f"o=callwright {sid} {version} IN {ip} {host}",
        "s=callwright",
        f"c=IN {ip} {host}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(str(p) for p in pts)}",
    ]
    lines += [f"a=rtpmap:{pt} {CODECS[pt]}/8000" for pt in payload_types if pt in CODECS]
    if event_pt is not None:
        lines += [f"a=rtpmap:{event_pt} telephone-event/8000", f"a=fmtp:{event_pt} 0-16"]
    lines += ["a=ptime:20", f"a={direction}"]
    return ("\r\n".join(lines) + "\r\n").encode()


def answer_direction(offered: str) -> str:
    """Our direction in answer to the remote's (a hold offer gets recvonly/inactive)."""
    return _REVERSE.get(offered, offered)
