"""Shapes shared by several resources."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


def iso(value: datetime) -> str:
    """Ringg's timestamps: ISO 8601 with microseconds and an offset."""
    return value.isoformat(timespec="microseconds")


class Message(BaseModel):
    message: str


class ErrorInfo(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    detail: str | list[dict[str, object]]
    error: ErrorInfo


ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (400, "Bad Request"),
        (401, "Unauthorized - Invalid or missing API key."),
        (403, "Forbidden"),
        (404, "Not Found"),
        (409, "Conflict"),
        (422, "Validation Error"),
        (429, "Too Many Requests"),
    )
}
