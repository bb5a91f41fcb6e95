"""WebRTC VAD (``webrtcvad-wheels``): the near-zero-cost fallback detector.

It gives a hard decision per 20 ms frame, reported as probability 0.0 or 1.0. The GMM
detector needs no model file and keeps negligible per-call state, so each call gets its
own ``webrtcvad.Vad``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from callwright.providers.base import FRAME_BYTES, SAMPLE_RATE_HZ, ErrorCategory, ProviderError


class WebRtcConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # 0 = least aggressive at filtering out non-speech, 3 = most aggressive.
    mode: int = Field(default=3, ge=0, le=3)


class WebRtcDetector:
    """Per-call detector. Satisfies ``VoiceActivityDetector``."""

    def __init__(self, *, vad_class: Any, mode: int) -> None:
        self._vad_class = vad_class
        self._mode = mode
        self._vad = vad_class(mode)

    def reset(self) -> None:
        self._vad = self._vad_class(self._mode)

    def speech_probability(self, frame: bytes) -> float:
        """1.0 if the 20 ms frame (640 bytes at 16 kHz) is speech, else 0.0."""
        if len(frame) != FRAME_BYTES:
            raise ProviderError(
                f"webrtc VAD needs 20 ms frames of {FRAME_BYTES} bytes, got {len(frame)}",
                category=ErrorCategory.BAD_REQUEST,
            )
        return 1.0 if self._vad.is_speech(frame, SAMPLE_RATE_HZ) else 0.0


class WebRtcProvider:
    name = "webrtc"
    kind = "vad"
    extra = "engines"

    def config_model(self) -> type[BaseModel]:
        return WebRtcConfig

    def create(self, config: BaseModel) -> WebRtcDetector:
        assert isinstance(config, WebRtcConfig)
        try:
            import webrtcvad
        except ImportError as exc:
            raise ProviderError(
                "vad provider 'webrtc' needs webrtcvad-wheels: pip install 'callwright[engines]'",
                category=ErrorCategory.NOT_INSTALLED,
            ) from exc
        return WebRtcDetector(vad_class=webrtcvad.Vad, mode=config.mode)


PROVIDER = WebRtcProvider()
