"""The OpenAI-compatible provider against a real loopback server speaking the wire format."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from fake_openai_server import FakeOpenAIServer

from callwright.providers import registry
from callwright.providers.base import ChatMessage, EngineSpec, ErrorCategory, ProviderError
from callwright.providers.llm.openai import OpenAIChat, RateLimitedError, parse_json_object

MESSAGES = [
    ChatMessage(role="system", content="You are a phone agent."),
    ChatMessage(role="user", content="When do you open?"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as running:
        yield running


@pytest.fixture
def fake(server: FakeOpenAIServer) -> FakeOpenAIServer:
    server.reset()
    return server


def chat(server: FakeOpenAIServer, model: str, **options: object) -> OpenAIChat:
    engine = registry.create(
        "llm", EngineSpec("openai", {"base_url": server.base_url, "model": model, **options})
    )
    assert isinstance(engine, OpenAIChat)
    return engine


@pytest.fixture
async def engines(fake: FakeOpenAIServer) -> AsyncIterator[list[OpenAIChat]]:
    made: list[OpenAIChat] = []
    yield made
    for engine in made:
        await engine.aclose()


async def test_stream_yields_recorded_openai_deltas(
    fake: FakeOpenAIServer, engines: list[OpenAIChat]
) -> None:
    engine = chat(fake, "recorded", api_key="sk-test", extra_headers={"OpenAI-Organization": "o"})
    engines.append(engine)
    deltas = [d async for d in engine.stream(MESSAGES, max_tokens=50, temperature=0.1)]
    assert deltas == ["Our", " office", " opens", " at 9\u202fam — ", "see you then!"]
    headers, body = fake.state.requests[-1]
    assert headers["authorization"] == "Bearer sk-test"
    assert headers["openai-organization"] == "o"
    assert body["stream"] is True and body["max_tokens"] == 50 and body["temperature"] == 0.1
    assert body["messages"][1] == {"role": "user", "content": "When do you open?"}


async def test_stream_yields_recorded_groq_deltas(
    fake: FakeOpenAIServer, engines: list[OpenAIChat]
) -> None:
    engine = chat(fake, "groq-recorded")
    engines.append(engine)
    assert "".join([d async for d in engine.stream(MESSAGES)]) == "Yes, we do."
    headers, _ = fake.state.requests[-1]
    assert "authorization" not in headers  # no key configured, none sent


async def test_aclose_stops_the_stream_and_the_server_sees_it(
    fake: FakeOpenAIServer, engines: list[OpenAIChat]
) -> None:
    engine = chat(fake, "endless")
    engines.append(engine)
    stream = engine.stream(MESSAGES)
    got = [await anext(stream) for _ in range(3)]
    assert got == ["t0 ", "t1 ", "t2 "]
    await stream.aclose()
    for _ in range(100):  # the server notices the closed connection at its next write
        if fake.state.disconnected:
            break
        await asyncio.sleep(0.01)
    assert fake.state.disconnected
    sent = fake.state.sent
    await asyncio.sleep(0.1)
    assert fake.state.sent == sent < 100


@pytest.mark.parametrize(
    ("status", "category", "retryable"),
    [
        (401, ErrorCategory.AUTH, False),
        (403, ErrorCategory.AUTH, False),
        (400, ErrorCategory.BAD_REQUEST, False),
        (404, ErrorCategory.BAD_REQUEST, False),
        (429, ErrorCategory.RATE_LIMITED, True),
        (500, ErrorCategory.UNAVAILABLE, True),
        (503, ErrorCategory.UNAVAILABLE, True),
    ],
)
async def test_http_errors_are_translated(
    fake: FakeOpenAIServer,
    engines: list[OpenAIChat],
    status: int,
    category: ErrorCategory,
    retryable: bool,
) -> None:
    engine = chat(fake, f"status-{status}")
    engines.append(engine)
    with pytest.raises(ProviderError) as streamed:
        _ = [d async for d in engine.stream(MESSAGES)]
    with pytest.raises(ProviderError) as completed:
        await engine.complete_json(MESSAGES, schema={"type": "object"})
    for excinfo in (streamed, completed):
        assert excinfo.value.category is category
        assert excinfo.value.retryable is retryable
        assert str(status) in str(excinfo.value)
    if status == 429:
        assert isinstance(streamed.value, RateLimitedError)
        assert streamed.value.retry_after_s == 7.0


async def test_timeout_is_translated(fake: FakeOpenAIServer, engines: list[OpenAIChat]) -> None:
    engine = chat(fake, "slow", timeout_s=0.3)
    engines.append(engine)
    with pytest.raises(ProviderError) as excinfo:
        _ = [d async for d in engine.stream(MESSAGES)]
    assert excinfo.value.category is ErrorCategory.TIMEOUT and excinfo.value.retryable


async def test_connection_refused_is_unavailable(engines: list[OpenAIChat]) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    engine = registry.create(
        "llm", EngineSpec("openai", {"base_url": f"http://127.0.0.1:{port}/v1", "model": "m"})
    )
    engines.append(engine)
    with pytest.raises(ProviderError) as excinfo:
        await engine.complete_json(MESSAGES, schema={"type": "object"})
    assert excinfo.value.category is ErrorCategory.UNAVAILABLE and excinfo.value.retryable


async def test_complete_json_sends_json_schema(
    fake: FakeOpenAIServer, engines: list[OpenAIChat]
) -> None:
    engine = chat(fake, "recorded")
    engines.append(engine)
    schema = {"type": "object", "properties": {"last": {"type": "string"}}}
    result = await engine.complete_json(MESSAGES, schema=schema, max_tokens=99)
    assert result == {"messages": 2, "last": "When do you open?", "format": "json_schema"}
    _, body = fake.state.requests[-1]
    assert body["response_format"]["json_schema"]["schema"] == schema
    assert body["max_tokens"] == 99 and "stream" not in body


async def test_max_completion_tokens_for_reasoning_models(
    fake: FakeOpenAIServer, engines: list[OpenAIChat]
) -> None:
    engine = chat(fake, "recorded", max_tokens_field="max_completion_tokens")
    engines.append(engine)
    _ = [d async for d in engine.stream(MESSAGES, max_tokens=42)]
    _, body = fake.state.requests[-1]
    assert body["max_completion_tokens"] == 42 and "max_tokens" not in body


async def test_complete_json_falls_back_when_json_schema_is_refused(
    fake: FakeOpenAIServer, engines: list[OpenAIChat]
) -> None:
    engine = chat(fake, "no-json-schema")
    engines.append(engine)
    assert await engine.complete_json(MESSAGES, schema={"type": "object"}) == {
        "answer": "yes",
        "n": 2,
    }
    (_, first), (_, second) = fake.state.requests
    assert first["response_format"]["type"] == "json_schema"
    assert "response_format" not in second
    assert "JSON schema" in second["messages"][-1]["content"]


def test_parse_json_object_rejects_non_objects() -> None:
    assert parse_json_object('noise {"a": [1, {"b": 2}]} trailing') == {"a": [1, {"b": 2}]}
    with pytest.raises(ProviderError) as excinfo:
        parse_json_object("[1, 2]")
    assert excinfo.value.category is ErrorCategory.INTERNAL


def test_config_keeps_api_key_secret() -> None:
    provider = registry.load("llm", "openai")
    config = registry.config_for(provider, {"api_key": "sk-very-secret", "model": "m"})
    assert "sk-very-secret" not in repr(config)
    with pytest.raises(ProviderError) as excinfo:
        registry.config_for(provider, {"base_url": "ftp://x", "model": "m"})
    assert excinfo.value.category is ErrorCategory.BAD_REQUEST
