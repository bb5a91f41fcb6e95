"""REGISTER with the trunk (RFC 3261 §10) while the user agent runs, refreshed before expiry."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import TYPE_CHECKING

from callwright.sip.addr import NameAddr
from callwright.sip.message import Headers, Request, Response, SipParseError

if TYPE_CHECKING:
    from callwright.sip.ua import UserAgent

log = logging.getLogger(__name__)
RETRY_S = (5.0, 15.0, 30.0, 60.0)


class Registration:
    def __init__(self, ua: UserAgent) -> None:
        self.ua = ua
        self.registered = asyncio.Event()
        self.last_status: int | None = None
        self._call_id = f"{secrets.token_hex(12)}@{ua.contact_host}"
        self._tag = ua.new_tag()
        self._cseq = 0

    def _request(self, expires_s: int) -> Request:
        cfg = self.ua.config
        user = cfg.username or "callwright"
        aor = f"<sip:{user}@{cfg.domain}>"
        self._cseq += 1
        h = Headers()
        h.add("Via", self.ua.via())
        h.add("Max-Forwards", "70")
        h.add("From", f"{aor};tag={self._tag}")
        h.add("To", aor)
        h.add("Call-ID", self._call_id)
        h.add("CSeq", f"{self._cseq} REGISTER")
        h.add("Contact", self.ua.contact(user))
        h.add("Expires", str(expires_s))
        return Request("REGISTER", f"sip:{cfg.domain}", h)

    async def _send(self, expires_s: int) -> Response:
        assert self.ua.config.proxy is not None
        response = await self.ua.request(self._request(expires_s), self.ua.config.proxy)
        self._cseq = max(self._cseq, int((response.headers.get("CSeq") or "0").split()[0]))
        self.last_status = response.status
        return response

    async def run(self) -> None:
        """Register, then refresh at 80 % of the granted interval; back off on failure."""
        failures = 0
        while True:
            response = await self._send(self.ua.config.register_expires_s)
            if 200 <= response.status < 300:
                failures = 0
                self.registered.set()
                await asyncio.sleep(
                    max(5.0, 0.8 * _granted(response, self.ua.config.register_expires_s))
                )
            else:
                self.registered.clear()
                log.warning("SIP registration refused: %s %s", response.status, response.reason)
                await asyncio.sleep(RETRY_S[min(failures, len(RETRY_S) - 1)])
                failures += 1

    async def unregister(self) -> None:
        if self.registered.is_set():
            self.registered.clear()
            await self._send(0)


def _granted(response: Response, asked_s: int) -> int:
    for value in response.headers.get_all("Contact"):
        try:
            expires = NameAddr.parse(value).params.get("expires", "")
        except SipParseError:
            continue
        if expires.isdigit():
            return int(expires)
    header = response.headers.get("Expires") or ""
    return int(header) if header.isdigit() else asked_s
