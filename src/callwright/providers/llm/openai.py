"""Any OpenAI-compatible chat-completions endpoint: OpenAI, Groq, Together, OpenRouter,
vLLM, Ollama, llama.cpp ``llama-server``.

``stream`` posts ``stream: true`` and reads server-sent events (``data: {chunk}`` lines,
ending with ``data: [DONE]``), yielding ``choices[0].delta.content``. Closing the iterator
closes the HTTP response, which is how the server learns to stop generating.
``complete_json`` asks for ``response_format: json_schema``; a server that refuses it (400)
is asked again without it and the JSON is dug out of the reply text.

Errors: 401/403 → AUTH, 429 → RATE_LIMITED (retryable, ``retry_after_s`` from the
``Retry-After`` header), 5xx and connection failures → UNAVAILABLE (retryable), timeouts
→ TIMEOUT (retryable), other 4xx → BAD_REQUEST. ``timeout_s`` bounds each wait for the
server (connect, first byte, and every gap between stream chunks), not a whole reply.

Each engine owns one ``httpx.AsyncClient``, opened on first use inside the running loop;
the call that created the engine closes it with :meth:`OpenAIChat.aclose`.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator, Sequence
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from callwright.providers.base import ChatMessage, ErrorCategory, ProviderError


class OpenAIConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field(default="https://api.openai.com/v1", pattern=r"^https?://")
    api_key: SecretStr | None = None
    model: str = "gpt-4o-mini"
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    connect_timeout_s: float = Field(default=5.0, gt=0, le=60)
    extra_headers: dict[str, str] = Field(default_factory=dict)
    # OpenAI's reasoning models refuse "max_tokens" and want "max_completion_tokens".
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"


class RateLimitedError(ProviderError):
    """RATE_LIMITED, carrying the server's ``Retry-After`` (seconds) when it gave one."""

    def __init__(self, message: str, *, retry_after_s: float | None) -> None:
        super().__init__(message, category=ErrorCategory.RATE_LIMITED, retryable=True)
        self.retry_after_s = retry_after_s


class OpenAIChat:
    """Per-call chat client. Satisfies ``LanguageModel``."""

    def __init__(self, *, config: OpenAIConfig) -> None:
        self._config = config
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            config = self._config
            headers = {"Accept": "application/json", **config.extra_headers}
            if config.api_key is not None:
                headers["Authorization"] = f"Bearer {config.api_key.get_secret_value()}"
            self._client = httpx.AsyncClient(
                base_url=config.base_url.rstrip("/") + "/",
                headers=headers,
                timeout=httpx.Timeout(config.timeout_s, connect=config.connect_timeout_s),
                follow_redirects=False,
            )
        return self._client

    async def aclose(self) -> None:
        """Close the connection pool. Idempotent."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    def _body(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, **fields: Any
    ) -> dict[str, Any]:
        return {
            "model": self._config.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            self._config.max_tokens_field: max_tokens,
            **fields,
        }

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 256,
        temperature: float = 0.2,
    ) -> AsyncGenerator[str, None]:
        body = self._body(messages, max_tokens=max_tokens, temperature=temperature, stream=True)
        try:
            async with self._http().stream("POST", "chat/completions", json=body) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise _status_error(response)
                async for line in response.aiter_lines():
                    delta = _sse_delta(line)
                    if delta is _DONE:
                        return
                    if delta:
                        yield str(delta)
        except httpx.HTTPError as exc:
            raise _transport_error(exc) from exc

    async def complete_json(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: dict[str, Any],
        max_tokens: int = 512,
    ) -> dict[str, Any]:
        response_format = {
            "type": "json_schema",
            "json_schema": {"name": "result", "schema": schema},
        }
        body = self._body(messages, max_tokens=max_tokens, temperature=0)
        try:
            content = await self._complete({**body, "response_format": response_format})
        except ProviderError as exc:
            if exc.category is not ErrorCategory.BAD_REQUEST:
                raise
            # Older servers reject json_schema: ask with the schema in the prompt instead.
            hint = ChatMessage(
                role="system",
                content="Reply with only a JSON object matching this JSON schema: "
                + json.dumps(schema),
            )
            content = await self._complete(self._body([*messages, hint], max_tokens=max_tokens))
        return parse_json_object(content)

    async def _complete(self, body: dict[str, Any]) -> str:
        try:
            response = await self._http().post("chat/completions", json=body)
        except httpx.HTTPError as exc:
            raise _transport_error(exc) from exc
        if response.status_code >= 400:
            raise _status_error(response)
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ProviderError(
                f"unexpected chat-completions reply: {response.text[:200]!r}",
                category=ErrorCategory.INTERNAL,
            ) from exc
        return str(content or "")


_DONE = object()


def _sse_delta(line: str) -> object:
    """The content delta carried by one SSE line, ``_DONE``, or None (nothing to say)."""
    if not line.startswith("data:"):
        return None  # blank separators, ": keep-alive" comments, "event:" lines
    payload = line[5:].strip()
    if payload == "[DONE]":
        return _DONE
    try:
        chunk = json.loads(payload)
    except ValueError as exc:
        raise ProviderError(
            f"malformed stream chunk: {payload[:200]!r}", category=ErrorCategory.INTERNAL
        ) from exc
    if isinstance(chunk, dict) and "error" in chunk:  # some servers report errors mid-stream
        raise ProviderError(
            f"server error in stream: {chunk['error']}",
            category=ErrorCategory.UNAVAILABLE,
            retryable=True,
        )
    choices = chunk.get("choices") if isinstance(chunk, dict) else None
    if not choices:
        return None  # e.g. the final usage chunk
    delta = choices[0].get("delta") or {}
    content = delta.get("content")
    return content if isinstance(content, str) else None


def parse_json_object(text: str) -> dict[str, Any]:
    """The JSON object in ``text``: whole, inside a ``` fence, or from first ``{`` to last ``}``."""
    candidates = [text.strip()]
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    if fenced:
        candidates.append(fenced.group(1).strip())
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    raise ProviderError(
        f"model reply is not a JSON object: {text[:200]!r}", category=ErrorCategory.INTERNAL
    )


def _retry_after_s(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from datetime import UTC, datetime

        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _status_error(response: httpx.Response) -> ProviderError:
    status = response.status_code
    detail = f"HTTP {status} from {response.request.url.host}: {response.text[:300]}"
    if status in (401, 403):
        return ProviderError(detail, category=ErrorCategory.AUTH)
    if status == 429:
        return RateLimitedError(
            detail, retry_after_s=_retry_after_s(response.headers.get("retry-after"))
        )
    if status in (408, 504):
        return ProviderError(detail, category=ErrorCategory.TIMEOUT, retryable=True)
    if status >= 500:
        return ProviderError(detail, category=ErrorCategory.UNAVAILABLE, retryable=True)
    return ProviderError(detail, category=ErrorCategory.BAD_REQUEST)


def _transport_error(exc: httpx.HTTPError) -> ProviderError:
    if isinstance(exc, httpx.TimeoutException):
        return ProviderError(f"timed out: {exc!r}", category=ErrorCategory.TIMEOUT, retryable=True)
    if isinstance(exc, httpx.TransportError):
        return ProviderError(
            f"cannot reach server: {exc!r}", category=ErrorCategory.UNAVAILABLE, retryable=True
        )
    return ProviderError(f"HTTP error: {exc!r}", category=ErrorCategory.INTERNAL)


class OpenAIProvider:
    name = "openai"
    kind = "llm"
    extra = "engines"

    def config_model(self) -> type[BaseModel]:
        return OpenAIConfig

    def create(self, config: BaseModel) -> OpenAIChat:
        assert isinstance(config, OpenAIConfig)
        return OpenAIChat(config=config)


PROVIDER = OpenAIProvider()
