"""The errors our services raise; the API maps each class to one HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """Base class. ``message`` is safe to show to the API caller."""

    code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidRequest(DomainError):
    """The request is well-formed JSON but breaks a business rule (HTTP 400)."""


class NotFound(DomainError):
    """The resource does not exist in the caller's workspace (HTTP 404)."""

    code = "not_found"


class Forbidden(DomainError):
    """The caller may not do this (HTTP 403)."""

    code = "forbidden"


class Conflict(DomainError):
    """The request conflicts with the current state (HTTP 409)."""

    code = "conflict"


class InsufficientCredits(DomainError):
    """Not enough credits in the workspace (HTTP 402)."""

    code = "insufficient_credits"


class Unauthorized(DomainError):
    """Missing, unknown or revoked API key (HTTP 401)."""

    code = "401 Unauthorized"
