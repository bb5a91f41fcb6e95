"""The voice catalogue: the voices of the TTS engines callwright ships, with stable UUIDs.

The one list of voices; services/voices.py narrows it to the engines installed here."""

from __future__ import annotations

from dataclasses import dataclass

from callwright.domain.ids import stable_id

_ENGLISH = ("en-US", "en-IN", "en-GB")


@dataclass(frozen=True, slots=True)
class VoiceEntry:
    key: str  # "<tts provider>:<voice>", what the TTS provider is configured with
    name: str
    languages: tuple[str, ...]
    gender: str

    @property
    def id(self) -> str:
        return stable_id(f"voice:{self.key}")

    @property
    def provider(self) -> str:
        return self.key.split(":", 1)[0]

    @property
    def voice(self) -> str:
        return self.key.split(":", 1)[1]


CATALOGUE: tuple[VoiceEntry, ...] = (
    VoiceEntry("piper:en_US-joe-medium", "Joe", _ENGLISH, "male"),
    VoiceEntry("espeak:en-us", "Espeak English (US)", ("en-US", "en-IN"), "male"),
    VoiceEntry("espeak:en-gb", "Espeak English (UK)", ("en-GB", "en-IN"), "male"),
    VoiceEntry("espeak:hi", "Espeak Hindi", ("hi-IN",), "male"),
    VoiceEntry("espeak:ta", "Espeak Tamil", ("ta-IN",), "male"),
    VoiceEntry("espeak:te", "Espeak Telugu", ("te-IN",), "male"),
    VoiceEntry("espeak:kn", "Espeak Kannada", ("kn-IN", "ka-IN"), "male"),
    VoiceEntry("espeak:mr", "Espeak Marathi", ("mr-IN",), "male"),
    VoiceEntry("espeak:gu", "Espeak Gujarati", ("gu-IN",), "male"),
    VoiceEntry("espeak:bn", "Espeak Bengali", ("bn-IN",), "male"),
    VoiceEntry("espeak:ar", "Espeak Arabic", ("ar-AE",), "male"),
)
DEFAULT_VOICE = CATALOGUE[0]


def find(voice_id: str) -> VoiceEntry | None:
    return next((v for v in CATALOGUE if v.id == voice_id or v.key == voice_id), None)
