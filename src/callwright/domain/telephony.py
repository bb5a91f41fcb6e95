"""Telephony accounts: which carrier a number dials through, and what it needs to do so."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from callwright.domain.errors import InvalidRequest


class _Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SimCredentials(_Credentials):
    """The built-in simulated network needs nothing."""


class SipCredentials(_Credentials):
    host: str = Field(min_length=1, max_length=255, description="trunk or PBX host")
    port: int = Field(default=5060, ge=1, le=65535)
    transport: Literal["udp", "tcp"] = "udp"
    username: str | None = None
    password: SecretStr | None = None
    registration: bool = Field(default=False, description="send REGISTER to the trunk")
    from_domain: str | None = None
    bind_port: int = Field(default=5060, ge=0, le=65535, description="local SIP port (UDP)")
    contact_host: str | None = Field(
        default=None, max_length=255, description="address the trunk reaches us at (NAT)"
    )
    max_calls: int = Field(default=200, ge=1, le=10_000)
    register_expires_s: int = Field(default=300, ge=30, le=86_400)


class TwilioCredentials(_Credentials):
    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: SecretStr = Field(min_length=8)
    api_base_url: str | None = Field(default=None, description="override, for tests")


PROVIDERS: dict[str, type[_Credentials]] = {
    "sim": SimCredentials,
    "sip": SipCredentials,
    "twilio": TwilioCredentials,
}
SECRET_FIELDS = ("password", "auth_token")


def validate_credentials(provider: str, credentials: dict[str, Any]) -> dict[str, Any]:
    """Check ``credentials`` against the provider's model; returns them ready to store."""
    model = PROVIDERS.get(provider)
    if model is None:
        raise InvalidRequest(
            f"Unknown telephony provider {provider!r}; use one of {list(PROVIDERS)}"
        )
    try:
        parsed = model.model_validate(credentials)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InvalidRequest(f"Invalid {provider} credentials: {where} {err['msg']}") from exc
    stored = parsed.model_dump(mode="python")
    return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in stored.items()}


def redacted(credentials: dict[str, Any]) -> dict[str, Any]:
    """What the API may show: secrets replaced by a mark that says one is set."""
    return {
        k: ("********" if v else None) if k in SECRET_FIELDS else v for k, v in credentials.items()
    }
