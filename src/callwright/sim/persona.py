"""A simulated callee acting out a :class:`PersonaSpec` on one :class:`Handset`.

It runs on its own 20 ms clock (absolute schedule): every tick it hears one frame of the
agent (through the μ-law line), feeds its VAD, and puts one frame of its own voice (or
silence) on the line. Agent utterances are cut by VAD + an end-of-speech silence and
transcribed with the STT engine; replies come from the script or keyword rules and are
spoken with the TTS engine. Everything it heard and said is timestamped
(``time.monotonic()``) in :class:`PersonaReport`, so tests can measure barge-in from the
callee's side: speech onset vs. the last audible agent frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from callwright.media.audio import rms
from callwright.providers.base import (
    FRAME_BYTES,
    FRAME_MS,
    SAMPLE_RATE_HZ,
    SpeechToText,
    TextToSpeech,
    VoiceActivityDetector,
)
from callwright.sim.line import PHONE_FRAME_BYTES, Handset, ulaw_rms
from callwright.sim.personas import (
    LEAVE_TAKING,
    Interjection,
    PersonaSpec,
    callee_name,
    cooperative_reply,
    is_goodbye,
)
from callwright.sim.report import (
    AUDIBLE_RMS,
    HeardUtterance,
    PersonaReport,
    SpeechKind,
    SpokenUtterance,
)

SILENT_FRAME = bytes(FRAME_BYTES)
SILENT_ULAW = b"\xff" * PHONE_FRAME_BYTES  # μ-law for 0
_TICK_S = FRAME_MS / 1000


@dataclass(frozen=True, slots=True)
class PersonaEngines:
    """The callee's ears and voice (VAD state is per call: build one set per call)."""

    vad: VoiceActivityDetector
    stt: SpeechToText
    tts: TextToSpeech


class _Speech:
    def __init__(self, kind: SpeechKind, text: str, frames: list[bytes]) -> None:
        self.kind, self.text, self.frames = kind, text, frames
        self.index = 0
        self.started = 0.0
        self.onset: float | None = None


class _Mouth:
    """Plays queued utterances one frame per tick and logs what was said when."""

    def __init__(self) -> None:
        self._queue: deque[_Speech] = deque()
        self._current: _Speech | None = None
        self.spoken: list[SpokenUtterance] = []
        self.idle = asyncio.Event()  # set while nothing is playing or queued
        self.idle.set()

    @property
    def speaking(self) -> bool:
        return self._current is not None or bool(self._queue)

    def say(self, speech: _Speech) -> None:
        self._queue.append(speech)
        self.idle.clear()

    def next_frame(self, now: float) -> bytes:
        if self._current is None:
            if not self._queue:
                return SILENT_FRAME
            self._current = self._queue.popleft()
            self._current.started = now
        speech = self._current
        frame = speech.frames[speech.index]
        speech.index += 1
        if speech.onset is None and rms(frame) >= AUDIBLE_RMS:
            speech.onset = now
        if speech.index >= len(speech.frames):
            self._finish(now, completed=True)
        return frame

    def stop(self, now: float) -> None:
        """Stop mid-sentence and forget what was queued."""
        self._queue.clear()
        if self._current is not None:
            self._finish(now, completed=False)
        self.idle.set()

    def _finish(self, now: float, *, completed: bool) -> None:
        s = self._current
        assert s is not None
        self.spoken.append(SpokenUtterance(s.kind, s.text, s.started, s.onset, now, completed))
        self._current = None
        if not self._queue:
            self.idle.set()


class Persona:
    """Acts out ``spec`` on ``handset`` until the line closes; :meth:`run` returns the report."""

    def __init__(
        self,
        *,
        spec: PersonaSpec,
        engines: PersonaEngines,
        handset: Handset,
        variables: Mapping[str, str] | None = None,
        endpoint_silence_ms: int = 700,
        speech_start_ms: int = 60,
        vad_threshold: float = 0.5,
        reply_delay_ms: int = 200,
        language: str = "en",
    ) -> None:
        self._spec = spec
        self._engines = engines
        self._handset = handset
        self._name = callee_name(spec, variables or {})
        self._endpoint_ticks = max(1, endpoint_silence_ms // FRAME_MS)
        self._start_ticks = max(1, speech_start_ms // FRAME_MS)
        self._threshold = vad_threshold
        self._reply_delay_s = reply_delay_ms / 1000
        self._language = language
        self._mouth = _Mouth()
        self._heard: list[HeardUtterance] = []
        self._levels: list[tuple[float, float]] = []
        self._utterances: asyncio.Queue[tuple[int, bytes, float, float] | None] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        # listening state
        self._preroll: deque[bytes] = deque(maxlen=10)
        self._run = 0
        self._run_start = 0.0
        self._in_speech = False
        self._speech_start = 0.0
        self._last_speech = 0.0
        self._silence = 0
        self._audio: list[bytes] = []
        self._agent_turns = 0
        self._overlap_ticks = 0
        self._reply_index = 0
        self._replies_given = 0
        self._unanswered = ""
        self._synth_cache: dict[str, list[bytes]] = {}
        self._interrupted_turns: set[int] = set()  # agent utterances we cut off
        self._agent_voice = asyncio.Event()  # set on every agent frame the VAD calls speech

    async def run(self) -> PersonaReport:
        answered = time.monotonic()
        spec = self._spec
        if spec.speaks and spec.greeting:
            self._spawn(self._say(SpeechKind.GREETING, spec.greeting, beep=spec.voicemail))
        if spec.speaks:  # synthesize scripted lines before they are needed, one at a time
            lines = [i.text for i in (spec.interrupt, spec.backchannel) if i is not None]
            self._spawn(self._warm([*lines, *spec.replies]))
        transcriber = asyncio.create_task(self._transcribe_loop())
        try:
            await self._clock()
            if self._in_speech:  # the agent hung up mid-utterance: still transcribe it
                self._end_utterance()
            self._utterances.put_nowait(None)
            await transcriber
        finally:
            transcriber.cancel()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(transcriber, *self._tasks, return_exceptions=True)
        self._mouth.stop(time.monotonic())
        return PersonaReport(
            persona=spec.name,
            answered_mono=answered,
            ended_mono=time.monotonic(),
            hung_up_by=self._handset.hung_up_by,
            heard=tuple(self._heard),
            spoken=tuple(self._mouth.spoken),
            agent_levels=tuple(self._levels),
        )

    # ------------------------------------------------------------------ the clock

    async def _clock(self) -> None:
        start = time.monotonic()
        tick = 0
        while not self._handset.closed:
            tick += 1
            delay = start + tick * _TICK_S - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)  # late ticks run back to back: no drift
            if self._handset.closed:
                break
            now = time.monotonic()
            ulaw = self._handset.hear()
            self._levels.append((now, ulaw_rms(ulaw) if ulaw is not None else 0.0))
            for frame in self._handset.decode(ulaw if ulaw is not None else SILENT_ULAW):
                self._listen(frame, now)
            self._handset.say(self._mouth.next_frame(now))

    # ------------------------------------------------------------------ listening

    def _listen(self, frame: bytes, now: float) -> None:
        speech = self._engines.vad.speech_probability(frame) >= self._threshold
        if not self._in_speech:
            self._preroll.append(frame)
            if speech:
                self._run += 1
                if self._run == 1:
                    self._run_start = now
            else:
                self._run = 0
            if self._run >= self._start_ticks:
                self._in_speech, self._speech_start, self._last_speech = True, self._run_start, now
                self._audio, self._silence, self._run = list(self._preroll), 0, 0
                self._agent_turns += 1
                self._on_agent_speech_start(self._agent_turns, self._run_start)
            return
        self._audio.append(frame)
        if speech:
            self._silence, self._last_speech = 0, now
            self._agent_voice.set()
        else:
            self._silence += 1
        self._yield_if_talked_over(now, speech)
        if self._silence >= self._endpoint_ticks:
            self._end_utterance()

    def _end_utterance(self) -> None:
        self._in_speech = False
        self._preroll.clear()
        turn = self._agent_turns
        self._utterances.put_nowait(
            (turn, b"".join(self._audio), self._speech_start, self._last_speech)
        )
        self._audio = []
        if self._spec.hangup_after_agent_turns == turn:
            self._spawn(self._hangup(delay_s=0.0))

    def _yield_if_talked_over(self, now: float, agent_speaking: bool) -> None:
        limit = self._spec.yield_after_ms
        if limit is None:
            return
        overlapping = agent_speaking and self._mouth.speaking
        self._overlap_ticks = self._overlap_ticks + 1 if overlapping else 0
        if self._overlap_ticks * FRAME_MS >= limit:
            self._mouth.stop(now)
            self._overlap_ticks = 0

    def _on_agent_speech_start(self, turn: int, onset: float) -> None:
        if not self._spec.speaks:
            return
        for kind, interjection in (
            (SpeechKind.INTERRUPT, self._spec.interrupt),
            (SpeechKind.BACKCHANNEL, self._spec.backchannel),
        ):
            if interjection is not None and _applies(interjection, turn):
                self._spawn(self._interject(kind, interjection, turn, onset))

    async def _interject(
        self, kind: SpeechKind, interjection: Interjection, turn: int, onset: float
    ) -> None:
        frames = await self._synth(interjection.text)
        await asyncio.sleep(max(0.0, onset + interjection.after_ms / 1000 - time.monotonic()))
        # Only over actual speech: if the agent is between words, wait for its next word;
        # if its utterance has ended, the moment has passed.
        while self._in_speech and self._agent_turns == turn and not self._mouth.speaking:
            if time.monotonic() - self._last_speech < 0.1:
                self._mouth.say(_Speech(kind, interjection.text, frames))
                if kind is SpeechKind.INTERRUPT:  # what we said answers this utterance
                    self._interrupted_turns.add(turn)
                return
            self._agent_voice.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._agent_voice.wait(), timeout=0.1)

    # ------------------------------------------------------------------ understanding, replying

    async def _transcribe_loop(self) -> None:
        while (item := await self._utterances.get()) is not None:
            turn, audio, start, end = item
            result = await self._engines.stt.transcribe(audio, language=self._language)
            text = result.text.strip()
            self._heard.append(HeardUtterance(turn, start, end, text))
            if not self._handset.closed and text:
                await self._respond(turn, text)

    async def _respond(self, turn: int, heard: str) -> None:
        spec = self._spec
        if spec.hangup_on_goodbye and is_goodbye(heard):
            self._spawn(self._hangup(delay_s=1.5))
            return
        if not spec.speaks or spec.voicemail or spec.hangup_after_agent_turns == turn:
            return
        if turn in self._interrupted_turns:
            return
        if self._in_speech:  # the agent is talking again: answer once it has finished
            self._unanswered = f"{self._unanswered} {heard}".strip()
            return
        heard, self._unanswered = f"{self._unanswered} {heard}".strip(), ""
        await asyncio.sleep(self._reply_delay_s)
        if self._in_speech:
            # The agent only paused mid-turn (say, between two sentences): hold the answer
            # until it has finished, as a person would.
            self._unanswered = heard
            return
        reply = self._next_reply(heard)
        if reply is None:
            return
        await self._say(SpeechKind.REPLY, reply)
        if spec.hangup_on_goodbye and is_goodbye(reply):
            # people hang up a moment after their own goodbye if the agent has not
            self._spawn(self._hangup_after_speaking(grace_s=2.5))

    def _next_reply(self, heard: str) -> str | None:
        spec = self._spec
        self._replies_given += 1
        if spec.patience_replies is not None and self._replies_given > spec.patience_replies:
            return LEAVE_TAKING
        if spec.replies and (self._reply_index < len(spec.replies) or spec.repeat_replies):
            reply = spec.replies[self._reply_index % len(spec.replies)]
            self._reply_index += 1
            return reply
        return cooperative_reply(heard, name=self._name) if spec.rule_replies else None

    async def _say(self, kind: SpeechKind, text: str, *, beep: bool = False) -> None:
        frames = list(await self._synth(text))
        if beep:
            frames += _silence_frames(0.4) + _beep_frames(hz=1000, seconds=0.5)
        self._mouth.say(_Speech(kind, text, frames))

    async def _warm(self, texts: list[str]) -> None:
        for text in texts:
            await self._synth(text)

    async def _synth(self, text: str) -> list[bytes]:
        cached = self._synth_cache.get(text)
        if cached is not None:
            return cached
        pcm = bytearray()
        async for chunk in self._engines.tts.synthesize(text):
            pcm += chunk
        pad = (-len(pcm)) % FRAME_BYTES
        pcm += bytes(pad)
        frames = [bytes(pcm[i : i + FRAME_BYTES]) for i in range(0, len(pcm), FRAME_BYTES)]
        self._synth_cache[text] = frames
        return frames

    async def _hangup(self, *, delay_s: float) -> None:
        if delay_s:
            await asyncio.sleep(delay_s)
        self._mouth.stop(time.monotonic())
        await self._handset.hangup()

    async def _hangup_after_speaking(self, *, grace_s: float) -> None:
        await self._mouth.idle.wait()
        await self._hangup(delay_s=grace_s)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _applies(interjection: Interjection, turn: int) -> bool:
    return not interjection.on_agent_turns or turn in interjection.on_agent_turns


def _silence_frames(seconds: float) -> list[bytes]:
    return [SILENT_FRAME] * math.ceil(seconds * 1000 / FRAME_MS)


def _beep_frames(*, hz: int, seconds: float) -> list[bytes]:
    t = np.arange(int(SAMPLE_RATE_HZ * seconds)) / SAMPLE_RATE_HZ
    tone = (0.3 * 32767 * np.sin(2 * math.pi * hz * t)).astype(np.int16).tobytes()
    tone += bytes((-len(tone)) % FRAME_BYTES)
    return [tone[i : i + FRAME_BYTES] for i in range(0, len(tone), FRAME_BYTES)]
