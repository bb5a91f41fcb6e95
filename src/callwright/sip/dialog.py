"""A SIP dialog (RFC 3261 §12): the state two user agents share for one call."""

from __future__ import annotations

from dataclasses import dataclass, field

from callwright.sip.addr import NameAddr, SipUri
from callwright.sip.message import Headers, Request, Response


@dataclass(slots=True)
class Dialog:
    call_id: str
    local: NameAddr  # carries our tag
    remote: NameAddr  # carries theirs
    remote_target: SipUri
    contact: str  # our Contact header value
    local_cseq: int
    route_set: list[str] = field(default_factory=list)
    remote_cseq: int = -1
    sdp_version: int = 1

    @classmethod
    def as_uac(cls, invite: Request, response: Response, *, contact: str) -> Dialog:
        """The dialog a 2xx to our INVITE creates (route set from Record-Route, reversed)."""
        target = response.headers.get("Contact")
        return cls(
            call_id=invite.headers.get("Call-ID") or "",
            local=NameAddr.parse(invite.headers.get("From") or ""),
            remote=NameAddr.parse(response.headers.get("To") or ""),
            remote_target=NameAddr.parse(target).uri if target else SipUri.parse(invite.uri),
            contact=contact,
            local_cseq=int((invite.headers.get("CSeq") or "1").split()[0]),
            route_set=list(reversed(response.headers.get_all("Record-Route"))),
        )

    @classmethod
    def as_uas(cls, invite: Request, *, local_tag: str, contact: str, cseq: int) -> Dialog:
        """The dialog we create answering ``invite`` (route set from Record-Route as is)."""
        target = invite.headers.get("Contact")
        remote = NameAddr.parse(invite.headers.get("From") or "")
        return cls(
            call_id=invite.headers.get("Call-ID") or "",
            local=NameAddr.parse(invite.headers.get("To") or "").with_tag(local_tag),
            remote=remote,
            remote_target=NameAddr.parse(target).uri if target else remote.uri,
            contact=contact,
            local_cseq=cseq,
            route_set=invite.headers.get_all("Record-Route"),
            remote_cseq=int((invite.headers.get("CSeq") or "0").split()[0]),
        )

    @property
    def local_tag(self) -> str:
        return self.local.tag or ""

    def next_hop(self) -> tuple[str, int]:
        """Where in-dialog requests go: the first loose route, else the remote target."""
        if self.route_set:
            first = NameAddr.parse(self.route_set[0]).uri
            if "lr" in first.params:
                return first.address()
        return self.remote_target.address()

    def request(
        self, method: str, *, via: str, body: bytes = b"", content_type: str = ""
    ) -> Request:
        """A new in-dialog request (ACK reuses the INVITE's CSeq number: pass it yourself)."""
        if method != "ACK":
            self.local_cseq += 1
        h = Headers()
        h.add("Via", via)
        h.add("Max-Forwards", "70")
        for route in self.route_set:
            h.add("Route", route)
        h.add("From", str(self.local))
        h.add("To", str(self.remote))
        h.add("Call-ID", self.call_id)
        h.add("CSeq", f"{self.local_cseq} {method}")
        h.add("Contact", self.contact)
        if content_type:
            h.add("Content-Type", content_type)
        return Request(method, str(self.remote_target), h, body)

    def accepts(self, request: Request) -> bool:
        """False for an out-of-order in-dialog request (RFC 3261 §12.2.2: answer 500)."""
        num = int((request.headers.get("CSeq") or "0").split()[0])
        if request.method in ("ACK", "CANCEL"):
            return True
        if num <= self.remote_cseq:
            return False
        self.remote_cseq = num
        return True
