"""A small OpenAI-compatible chat-completions server on 127.0.0.1, for tests.

It speaks the real wire format: JSON replies, and for ``stream: true`` server-sent events
(``data: {chunk}`` blocks and ``data: [DONE]``) replayed from recorded fixtures in
``fixtures/``. The request's ``model`` picks the behaviour:

- ``recorded`` / ``groq-recorded``: replay the recorded OpenAI / Groq stream; non-streamed,
  answer with JSON describing the request (so tests see what the client sent).
- ``endless``: stream one token every 5 ms until the client goes away (``state.sent``
  counts tokens sent; ``state.disconnected`` is set when the stream was abandoned).
- ``status-<code>``: answer with that HTTP status and an OpenAI-style error body
  (429 carries ``Retry-After: 7``).
- ``slow``: wait 2 s before answering.
- ``no-json-schema``: 400 on ``response_format: json_schema``, else JSON inside prose.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

FIXTURES = Path(__file__).parent / "fixtures"
RECORDED = ("openai_chat_stream.sse", "groq_chat_stream.sse")


@dataclass
class FakeState:
    requests: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    sent: int = 0
    disconnected: bool = False


def _error(status: int, message: str, *, headers: dict[str, str] | None = None) -> Response:
    kind = {401: "invalid_api_key", 429: "rate_limit_exceeded"}.get(status, "server_error")
    body = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
    return JSONResponse(body, status_code=status, headers=headers)


def _completion(content: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-AZx2fake0000000000000000000",
        "object": "chat.completion",
        "created": 1733097642,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30},
    }


def make_app(state: FakeState) -> Starlette:
    recorded = {name: (FIXTURES / name).read_bytes() for name in RECORDED}

    async def chat(request: Request) -> Response:
        body = await request.json()
        state.requests.append((dict(request.headers), body))
        model = body.get("model", "")
        if model.startswith("status-"):
            status = int(model.removeprefix("status-"))
            headers = {"Retry-After": "7"} if status == 429 else None
            return _error(status, f"fake error {status}", headers=headers)
        if model == "slow":
            await asyncio.sleep(2)
        if body.get("stream"):
            if model == "endless":
                return StreamingResponse(endless(), media_type="text/event-stream")
            name = "groq_chat_stream.sse" if model == "groq-recorded" else "openai_chat_stream.sse"
            return StreamingResponse(replay(recorded[name]), media_type="text/event-stream")
        response_format = body.get("response_format") or {}
        if model == "no-json-schema":
            if response_format.get("type") == "json_schema":
                return _error(400, "response_format json_schema is not supported by this model")
            return JSONResponse(
                _completion('Sure! Here it is:\n```json\n{"answer": "yes", "n": 2}\n```', model)
            )
        echo = {
            "messages": len(body["messages"]),
            "last": body["messages"][-1]["content"],
            "format": response_format.get("type"),
        }
        return JSONResponse(_completion(json.dumps(echo), model))

    async def replay(data: bytes) -> AsyncIterator[bytes]:
        # Odd-sized pieces split lines mid-way, as TCP segments do.
        for i in range(0, len(data), 97):
            yield data[i : i + 97]
            await asyncio.sleep(0)

    async def endless() -> AsyncIterator[bytes]:
        try:
            for i in range(100_000):
                chunk = {
                    "id": "chatcmpl-endless",
                    "object": "chat.completion.chunk",
                    "created": 1733097642,
                    "model": "endless",
                    "choices": [
                        {"index": 0, "delta": {"content": f"t{i} "}, "finish_reason": None}
                    ],
                }
                yield f"data: {json.dumps(chunk)}\n\n".encode()
                state.sent += 1
                await asyncio.sleep(0.005)
        finally:
            state.disconnected = True

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])


class FakeOpenAIServer:
    """Runs the app with uvicorn in a thread on an ephemeral loopback port."""

    def __init__(self) -> None:
        self.state = FakeState()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"
        config = uvicorn.Config(
            make_app(self.state), log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def reset(self) -> None:
        self.state.requests.clear()
        self.state.sent = 0
        self.state.disconnected = False

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake OpenAI server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
