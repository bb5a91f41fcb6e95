"""The two calls we make to Twilio's REST API, with its errors in our words.

From the Call resource (https://www.twilio.com/docs/voice/api/call-resource):

- create: ``POST /2010-04-01/Accounts/{AccountSid}/Calls.json``, form-encoded ``To``,
  ``From``, ``Twiml`` (or ``Url``), ``StatusCallback``, ``StatusCallbackEvent`` (repeated:
  initiated, ringing, answered, completed), ``StatusCallbackMethod`` and ``Timeout`` (whole
  seconds of ringing before ``no-answer``); HTTP basic auth with the Account SID and auth
  token. Answer: 201 and the call as JSON (``sid`` ``CA…``, ``status`` ``queued`` …).
- update: ``POST …/Calls/{CallSid}.json`` with ``Status=canceled`` (a call still queued or
  ringing) or ``Status=completed`` (a call in progress).

Errors come back as JSON ``{"code", "message", "more_info", "status"}``
(https://www.twilio.com/docs/usage/troubleshooting/debugging-your-application, e.g.
``{"code": 21211, "message": "The 'To' number … is not a valid phone number.", …}``) and
become :class:`ProviderError`: 401/20003 → AUTH; 429/20429 → RATE_LIMITED (retryable);
other 4xx → BAD_REQUEST; 5xx and network failures → UNAVAILABLE (retryable); timeouts →
TIMEOUT (retryable).
"""

from __future__ import annotations

import math
from typing import Any

import httpx

from callwright.providers.base import ErrorCategory, ProviderError

DEFAULT_API_BASE_URL = "https://api.twilio.com"
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")
MAX_TIMEOUT_S = 600  # Twilio's ceiling for Timeout


class TwilioRest:
    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        account_sid: str,
        auth_token: str,
        api_base_url: str | None = None,
    ) -> None:
        self._client = client
        self._auth = httpx.BasicAuth(account_sid, auth_token)
        base = (api_base_url or DEFAULT_API_BASE_URL).rstrip("/")
        self._calls_url = f"{base}/2010-04-01/Accounts/{account_sid}/Calls"

    async def create_call(
        self, *, to: str, from_: str, twiml: str, status_callback: str, ring_timeout_s: float
    ) -> str:
        """Place a call that will run ``twiml`` when answered; returns its Call SID."""
        form: list[tuple[str, str]] = [
            ("To", to),
            ("From", from_),
            ("Twiml", twiml),
            ("StatusCallback", status_callback),
            ("StatusCallbackMethod", "POST"),
            ("Timeout", str(min(MAX_TIMEOUT_S, max(1, math.ceil(ring_timeout_s))))),
            *(("StatusCallbackEvent", event) for event in STATUS_EVENTS),
        ]
        body = await self._post(f"{self._calls_url}.json", form)
        sid = body.get("sid")
        if not isinstance(sid, str) or not sid:
            raise ProviderError(
                "Twilio accepted the call but sent no call SID", category=ErrorCategory.INTERNAL
            )
        return sid

    async def end_call(self, call_sid: str, *, answered: bool) -> None:
        """Cancel a call still ringing, or complete one in progress."""
        status = "completed" if answered else "canceled"
        await self._post(f"{self._calls_url}/{call_sid}.json", [("Status", status)])

    async def _post(self, url: str, form: list[tuple[str, str]]) -> dict[str, Any]:
        try:
            response = await self._client.post(url, data=_encoded(form), auth=self._auth)
        except httpx.TimeoutException as exc:
            raise ProviderError(
                "Twilio did not answer in time", category=ErrorCategory.TIMEOUT, retryable=True
            ) from exc
        except httpx.HTTPError as exc:
            raise ProviderError(
                f"Twilio is unreachable: {type(exc).__name__}",
                category=ErrorCategory.UNAVAILABLE,
                retryable=True,
            ) from exc
        if response.is_success:
            return _json(response)
        raise _error(response)


def _encoded(form: list[tuple[str, str]]) -> dict[str, list[str]]:
    """A list value goes out as a repeated field (StatusCallbackEvent=a&StatusCallbackEvent=b)."""
    fields: dict[str, list[str]] = {}
    for name, value in form:
        fields.setdefault(name, []).append(value)
    return fields


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error(response: httpx.Response) -> ProviderError:
    body = _json(response)
    code = body.get("code")
    message = str(body.get("message") or response.reason_phrase or "error")
    text = f"Twilio {response.status_code}" + (f" ({code})" if code else "") + f": {message}"
    status = response.status_code
    if status in (401, 403) or code == 20003:
        return ProviderError(text, category=ErrorCategory.AUTH)
    if status == 429 or code == 20429:
        retry_after = response.headers.get("Retry-After", "")
        return ProviderError(
            text,
            category=ErrorCategory.RATE_LIMITED,
            retryable=True,
            retry_after_s=float(retry_after) if retry_after.isdigit() else None,
        )
    if status >= 500:
        return ProviderError(text, category=ErrorCategory.UNAVAILABLE, retryable=True)
    return ProviderError(text, category=ErrorCategory.BAD_REQUEST)
