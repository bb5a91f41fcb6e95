"""The in-process Qwen 0.5B through xllamacpp: grounded answers, JSON schema, barge-in."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from callwright.providers import registry
from callwright.providers.base import ChatMessage, EngineSpec, ErrorCategory, ProviderError
from callwright.providers.llm import local

pytestmark = pytest.mark.engines

SYSTEM = ChatMessage(
    role="system",
    content=(
        "You are a polite phone agent for Acme Telecom. Answer in one short sentence. "
        "Facts: our office opens at 9 am and closes at 6 pm. The cheapest plan is the "
        "Basic plan at 12 dollars a month."
    ),
)


async def test_answers_with_a_fact_from_the_system_prompt(local_llm: Any) -> None:
    messages = [SYSTEM, ChatMessage(role="user", content="How much is your cheapest plan?")]
    reply = "".join([d async for d in local_llm.stream(messages, max_tokens=60)])
    assert "12" in reply, reply
    messages = [SYSTEM, ChatMessage(role="user", content="What time does your office open?")]
    reply = "".join([d async for d in local_llm.stream(messages, max_tokens=60)])
    assert "9" in reply, reply


async def test_complete_json_matches_the_schema(local_llm: Any) -> None:
    schema = {
        "type": "object",
        "properties": {
            "summary": {"type": "string"},
            "classification": {
                "type": "string",
                "enum": ["interested", "not_interested", "call_back_later", "wrong_number"],
            },
            "callback_hour": {"type": "integer", "minimum": 0, "maximum": 23},
        },
        "required": ["summary", "classification", "callback_hour"],
        "additionalProperties": False,
    }
    transcript = (
        "Agent: Hi, this is Acme Telecom about our new fibre plan.\n"
        "Customer: I'm driving right now, please call me back tomorrow at 5 pm."
    )
    result = await local_llm.complete_json(
        [
            ChatMessage(role="system", content="Summarise the call and classify its outcome."),
            ChatMessage(role="user", content=transcript),
        ],
        schema=schema,
        max_tokens=120,
    )
    assert set(result) == {"summary", "classification", "callback_hour"}
    assert isinstance(result["summary"], str) and result["summary"]
    assert result["classification"] in schema["properties"]["classification"]["enum"]  # type: ignore[index]
    assert isinstance(result["callback_hour"], int) and 0 <= result["callback_hour"] <= 23


async def test_aclose_stops_generation_early(local_llm: Any) -> None:
    messages = [
        ChatMessage(role="system", content="You are a storyteller."),
        ChatMessage(role="user", content="Tell me a very long story about a cat and a dog."),
    ]
    stream = local_llm.stream(messages, max_tokens=400)
    received = [await anext(stream) for _ in range(5)]
    assert all(received)
    started = time.perf_counter()
    await stream.aclose()
    close_s = time.perf_counter() - started
    produced = local_llm.last_stream_chunks
    assert produced < 20, produced  # 400 were allowed; it stopped within a few tokens
    assert close_s < 1.0
    # The single slot is free again: a new request is answered promptly.
    quick = [SYSTEM, ChatMessage(role="user", content="Say hello.")]
    assert "".join([d async for d in local_llm.stream(quick, max_tokens=8)])


async def test_cancelling_the_consumer_task_stops_generation(local_llm: Any) -> None:
    messages = [ChatMessage(role="user", content="Tell me a very long story about a dog.")]
    got: list[str] = []
    three = asyncio.Event()

    async def consume() -> None:
        async for delta in local_llm.stream(messages, max_tokens=400):
            got.append(delta)
            if len(got) == 3:
                three.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(three.wait(), timeout=60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert local_llm.last_stream_chunks < 20, local_llm.last_stream_chunks
    produced = local_llm.last_stream_chunks
    await asyncio.sleep(0.3)
    assert local_llm.last_stream_chunks == produced  # nothing more is generated


async def test_streams_from_two_calls_are_served_in_turn(local_llm: Any) -> None:
    other = registry.create("llm", EngineSpec("local"))
    question = [SYSTEM, ChatMessage(role="user", content="When do you close?")]

    async def reply(engine: Any) -> str:
        return "".join([d async for d in engine.stream(question, max_tokens=30)])

    first, second = await asyncio.gather(reply(local_llm), reply(other))
    assert first == second  # greedy decoding: same question, same answer
    assert "6" in first, first


async def test_bad_request_is_translated(local_llm: Any) -> None:
    with pytest.raises(ProviderError) as excinfo:
        await local_llm.complete_json(
            [SYSTEM, ChatMessage(role="user", content="hi")],
            schema={"type": "object", "properties": {"x": {"type": "no-such-type"}}},
            max_tokens=10,
        )
    assert excinfo.value.category is ErrorCategory.BAD_REQUEST
    assert "no-such-type" in str(excinfo.value)


def runtime_of(engine: Any) -> Any:
    assert isinstance(engine, local.LocalLLM)
    return engine._runtime


def test_loopback_http_port_needs_the_random_key(local_llm: Any) -> None:
    url = f"{runtime_of(local_llm).server.listening_address}/v1/models"
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(url, timeout=5)
    assert excinfo.value.code == 401


async def test_openai_provider_against_real_llama_cpp_server(local_llm: Any) -> None:
    """llama.cpp's own OpenAI-compatible HTTP server (the one llama-server users run)."""
    runtime = runtime_of(local_llm)
    options = {"base_url": f"{runtime.server.listening_address}/v1", "model": "qwen"}
    remote = registry.create("llm", EngineSpec("openai", {**options, "api_key": runtime.api_key}))
    try:
        messages = [SYSTEM, ChatMessage(role="user", content="What time does your office open?")]
        reply = "".join([d async for d in remote.stream(messages, max_tokens=40, temperature=0)])
        assert "9" in reply, reply
        result = await remote.complete_json(
            messages,
            schema={
                "type": "object",
                "properties": {"opening_hour": {"type": "integer"}},
                "required": ["opening_hour"],
            },
            max_tokens=30,
        )
        assert isinstance(result["opening_hour"], int)
        stream = remote.stream(
            [ChatMessage(role="user", content="Tell me a very long story.")], max_tokens=300
        )
        assert [await anext(stream) for _ in range(3)]
        await stream.aclose()  # the server stops when the connection closes
        quick = [SYSTEM, ChatMessage(role="user", content="Say hello.")]
        assert "".join([d async for d in remote.stream(quick, max_tokens=8)])
    finally:
        await remote.aclose()
    wrong = registry.create("llm", EngineSpec("openai", {**options, "api_key": "wrong"}))
    try:
        with pytest.raises(ProviderError) as excinfo:
            await wrong.complete_json(messages, schema={"type": "object"})
        assert excinfo.value.category is ErrorCategory.AUTH
    finally:
        await wrong.aclose()


def test_missing_model_file_is_not_installed(tmp_path: Any) -> None:
    with pytest.raises(ProviderError) as excinfo:
        registry.create("llm", EngineSpec("local", {"model_path": str(tmp_path / "none.gguf")}))
    assert excinfo.value.category is ErrorCategory.NOT_INSTALLED
