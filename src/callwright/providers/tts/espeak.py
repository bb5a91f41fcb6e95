"""Text-to-speech with the ``espeak-ng`` program (Debian package ``espeak-ng``).

Robotic but tiny, instant, and the only offline voice for Hindi. Each ``synthesize`` runs
``espeak-ng --stdout -v VOICE -s WPM`` as an asyncio subprocess (text on stdin, so no
argument quoting issues) and streams its WAV output, resampled from 22.05 kHz to 16 kHz,
while it is still being produced. Closing the iterator kills the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import struct
from collections.abc import AsyncGenerator

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from callwright.providers.base import SAMPLE_RATE_HZ, ErrorCategory, ProviderError

BINARY = "espeak-ng"
_READ_BYTES = 8192


class EspeakConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    voice: str = Field(default="en-us", pattern=r"^(espeak:)?[A-Za-z0-9][A-Za-z0-9_+\-]{0,39}$")
    rate_wpm: int = Field(default=165, ge=80, le=450)


class EspeakTTS:
    """Per-call synthesizer. Satisfies ``TextToSpeech``."""

    def __init__(self, *, binary: str, voice: str, rate_wpm: int) -> None:
        self._argv = [binary, "--stdout", "-v", voice, "-s", str(rate_wpm)]

    async def synthesize(self, text: str) -> AsyncGenerator[bytes, None]:
        if not text.strip():
            return
        import soxr

        try:
            process = await asyncio.create_subprocess_exec(
                *self._argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise ProviderError(
                f"cannot run {self._argv[0]}: {exc}", category=ErrorCategory.NOT_INSTALLED
            ) from exc
        assert process.stdin is not None and process.stdout is not None
        stderr_task = asyncio.create_task(_read_all(process.stderr))
        try:
            process.stdin.write(text.encode("utf-8"))
            await process.stdin.drain()
            process.stdin.close()
            sample_rate_hz, leftover = await _read_wav_header(process.stdout)
            resampler = soxr.ResampleStream(sample_rate_hz, SAMPLE_RATE_HZ, 1, dtype="int16")
            pending = leftover
            while True:
                chunk = await process.stdout.read(_READ_BYTES)
                pending += chunk
                usable = len(pending) - len(pending) % 2
                if usable or not chunk:
                    samples = np.frombuffer(pending[:usable], dtype="<i2")
                    pending = pending[usable:]
                    out = resampler.resample_chunk(samples, last=not chunk)
                    if out.size:
                        yield out.astype("<i2").tobytes()
                if not chunk:
                    break
            if await process.wait() != 0:
                raise ProviderError(
                    f"espeak-ng failed: {(await stderr_task).strip()}",
                    category=ErrorCategory.INTERNAL,
                )
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
            stderr_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stderr_task


async def _read_all(stream: asyncio.StreamReader | None) -> str:
    return (await stream.read()).decode("utf-8", "replace") if stream is not None else ""


async def _read_wav_header(stdout: asyncio.StreamReader) -> tuple[int, bytes]:
    """Parse the RIFF header espeak-ng writes (its sizes are placeholders when streaming);
    return the sample rate and any PCM bytes read past the ``data`` chunk header."""
    buffer = b""
    while True:
        chunk = await stdout.read(_READ_BYTES)
        buffer += chunk
        data_at = buffer.find(b"data", 12)
        if data_at >= 0 and len(buffer) >= data_at + 8:
            break
        if not chunk:
            # espeak-ng prints an error and writes nothing for an unknown voice.
            raise ProviderError(
                "espeak-ng produced no audio (unknown voice?)", category=ErrorCategory.BAD_REQUEST
            )
    fmt_at = buffer.find(b"fmt ", 12)
    if not buffer.startswith(b"RIFF") or fmt_at < 0:
        raise ProviderError("espeak-ng wrote no WAV header", category=ErrorCategory.INTERNAL)
    channels, sample_rate_hz = struct.unpack_from("<HI", buffer, fmt_at + 10)
    bits = struct.unpack_from("<H", buffer, fmt_at + 22)[0]
    if channels != 1 or bits != 16:
        raise ProviderError(
            f"espeak-ng wrote {channels} channels of {bits}-bit audio, expected mono 16-bit",
            category=ErrorCategory.INTERNAL,
        )
    return sample_rate_hz, buffer[data_at + 8 :]


class EspeakProvider:
    name = "espeak"
    kind = "tts"
    extra = "engines"

    def config_model(self) -> type[BaseModel]:
        return EspeakConfig

    def create(self, config: BaseModel) -> EspeakTTS:
        assert isinstance(config, EspeakConfig)
        binary = shutil.which(BINARY)
        if binary is None:
            raise ProviderError(
                "tts provider 'espeak' needs the espeak-ng program: apt-get install espeak-ng",
                category=ErrorCategory.NOT_INSTALLED,
            )
        voice = config.voice.removeprefix("espeak:")
        return EspeakTTS(binary=binary, voice=voice, rate_wpm=config.rate_wpm)


PROVIDER = EspeakProvider()
