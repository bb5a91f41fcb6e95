"""The listening half of a call: caller audio through VAD and endpointing to transcripts,
barge-in decisions, and the replies they start.

:class:`CallSession` (session.py) owns the state and the lifecycle and plays the agent's
audio; this base class holds what happens when the caller speaks. Split along the session's
own seam, so each file reads on its own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Coroutine
from typing import Any, Protocol

from callwright.media.config import EndReason, Engines, SessionConfig, TurnLatency, TurnSettings
from callwright.media.conversation import Conversation
from callwright.media.frames import (
    AgentAudio,
    FinalTranscript,
    Frame,
    HangUp,
    Interrupt,
    SpeechStarted,
    SpeechStopped,
)
from callwright.media.metrics import TurnTiming
from callwright.media.playout import Playout
from callwright.media.recorder import StereoRecorder
from callwright.media.reply import Reply, ReplyKind, generate
from callwright.media.rules import CallRuleClock
from callwright.media.turns import (
    BargeIn,
    Endpointer,
    UtteranceEnded,
    UtterancePaused,
    UtteranceStarted,
    classify_barge_in,
)
from callwright.media.vad_batch import BatchedVAD
from callwright.providers.base import ProviderError

log = logging.getLogger("callwright.media.session")

INTERIM_RECHECK_MS = 700  # a long backchannel-looking utterance is re-checked this often


class FrameObserver(Protocol):
    def on_frame(self, frame: Frame) -> None:
        """Called synchronously for each event frame of the call; must not block."""
        ...


class Listening(ABC):
    """State shared with :class:`CallSession`, which sets all of it in ``__init__``."""

    config: SessionConfig
    _engines: Engines
    _turn_cfg: TurnSettings
    _observers: tuple[FrameObserver, ...]
    _vad_batcher: BatchedVAD | None
    _endpointer: Endpointer
    _recorder: StereoRecorder | None
    _tasks: set[asyncio.Task[Any]]
    _tg: asyncio.TaskGroup | None
    _ended: asyncio.Event
    _reply_closed: asyncio.Event
    _end_reason: EndReason | None
    _error: str | None
    _rules: CallRuleClock | None
    _conv: Conversation
    _latencies: list[TurnLatency]
    _reply: Reply | None
    _turn_no: int
    _playout: Playout
    _barge_active: bool
    _barge_cleared: bool  # an interim transcript showed a backchannel: keep talking
    _pending_end: tuple[EndReason, float] | None
    _interim_task: asyncio.Task[Any] | None
    _next_interim_ms: float
    _spec: tuple[int, asyncio.Task[str]] | None
    interruptions: int
    false_interruptions: int

    @abstractmethod
    def _enqueue(self, frame: AgentAudio) -> None:
        """Queue one frame of agent speech for playout (the outbound path)."""

    # ------------------------------------------------------------------ tasks and events

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        assert self._tg is not None
        task = self._tg.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _finish(self, reason: EndReason, *, error: str | None = None) -> None:
        if self._end_reason is None:
            self._end_reason = reason
            self._error = error
            self._emit(HangUp(reason, time.monotonic()))
        self._ended.set()

    def _emit(self, frame: Frame) -> None:
        for observer in self._observers:
            observer.on_frame(frame)

    # ------------------------------------------------------------------ inbound path

    def _on_caller_frame(self, frame: bytes, now: float) -> None:
        if self._recorder is not None:
            self._recorder.caller(frame)
        if self._vad_batcher is not None:
            self._vad_batcher.submit(self._engines.vad, frame, now, self._on_speech_prob)
        else:
            self._on_speech_prob(frame, self._engines.vad.speech_probability(frame), now)

    def _on_speech_prob(self, frame: bytes, prob: float, now: float) -> None:
        if self._ended.is_set():
            return
        event = self._endpointer.push(frame, prob, now)
        if event is None:
            if self._barge_active and self._endpointer.in_speech:
                self._check_barge_in(now)
            return
        if isinstance(event, UtteranceStarted):
            assert self._rules is not None
            self._rules.caller_active()
            self._emit(SpeechStarted(event.onset_s))
            reply = self._reply
            self._barge_active = (
                reply is not None and reply.interruptible and self._turn_cfg.interruptible
            )
            self._barge_cleared = False
            self._next_interim_ms = float(self._turn_cfg.min_barge_in_ms)
            if self._spec is not None:
                self._spec[1].cancel()
                self._spec = None
        elif isinstance(event, UtterancePaused):
            if self._reply is None and self._spec is None:
                audio = self._endpointer.audio_so_far()
                self._spec = (event.version, self._spawn(self._transcribe(audio)))
        elif isinstance(event, UtteranceEnded):
            self._emit(SpeechStopped(event.end_s, event.speech_ms))
            self._on_utterance_end(event, now)

    def _check_barge_in(self, now: float) -> None:
        speech_ms = self._endpointer.speech_ms()
        if speech_ms >= self._next_interim_ms and (
            self._interim_task is None or self._interim_task.done()
        ):
            self._next_interim_ms = speech_ms + INTERIM_RECHECK_MS
            audio = self._endpointer.audio_so_far()
            self._interim_task = self._spawn(self._interim(audio, speech_ms))
        if (
            self._playout.paused_since is None
            and not self._barge_cleared
            and self._reply is not None
            and speech_ms >= self._turn_cfg.pause_after_ms
        ):
            self._playout.pause(now)  # stop talking while we find out what the caller said

    async def _transcribe(self, audio: bytes) -> str:
        try:
            result = await self._engines.stt.transcribe(audio, language=self.config.language)
        except ProviderError:
            log.warning(
                "STT failed on call %s; utterance dropped", self.config.call_id, exc_info=True
            )
            return ""
        return result.text.strip()

    async def _interim(self, audio: bytes, speech_ms: float) -> None:
        text = await self._transcribe(audio)
        if not self._barge_active or self._reply is None:
            return
        decision = classify_barge_in(
            text, speech_ms=speech_ms, settings=self._turn_cfg, final=False
        )
        log.debug("interim %r after %.0f ms: %s", text, speech_ms, decision.value)
        if decision is BargeIn.INTERRUPT:
            self._interrupt(time.monotonic())
        elif decision is BargeIn.IGNORE:
            self._barge_cleared = True
            self._resume()

    def _on_utterance_end(self, event: UtteranceEnded, now: float) -> None:
        spec, self._spec = self._spec, None
        if self._interim_task is not None:
            self._interim_task.cancel()
            self._interim_task = None
        if self._barge_active and self._reply is not None:
            # caller spoke over the agent and the agent has not been interrupted (yet)
            self._barge_active = False
            self._spawn(self._decide_overlap(event))
            return
        self._barge_active = False
        text_task = spec[1] if spec is not None and spec[0] == event.version else None
        if spec is not None and text_task is None:
            spec[1].cancel()
        if self._reply is not None:
            # an uninterruptible line is playing: answer once it has finished
            self._spawn(self._answer_later(event))
            return
        reply = self._new_answer(event)
        assert reply.timing is not None
        reply.timing.speculative = text_task is not None
        reply.task = self._spawn(self._answer(event, reply, text_task))

    def _new_answer(self, event: UtteranceEnded) -> Reply:
        self._turn_no += 1
        timing = TurnTiming(speech_end_s=event.end_s)
        timing.endpoint_s = event.decided_s
        reply = Reply(turn=self._turn_no, kind=ReplyKind.ANSWER, interruptible=True, timing=timing)
        self._reply = reply
        return reply

    async def _answer(
        self, event: UtteranceEnded, reply: Reply, text_task: asyncio.Task[str] | None
    ) -> None:
        text = await (text_task if text_task is not None else self._transcribe(event.audio))
        assert reply.timing is not None
        reply.timing.transcript_s = time.monotonic()
        await self._respond(event.onset_s, text, reply)

    async def _answer_later(self, event: UtteranceEnded) -> None:
        text = await self._transcribe(event.audio)
        while self._reply is not None:
            # Clear first: the event may still be set from an earlier reply, and waiting on a
            # set event would spin without ever yielding to the loop.
            self._reply_closed.clear()
            await self._reply_closed.wait()
        if self._ended.is_set() or self._pending_end is not None:
            return  # the line that played was the last one: the call is ending
        reply = self._new_answer(event)
        reply.task = asyncio.current_task()
        assert reply.timing is not None
        reply.timing.transcript_s = time.monotonic()
        await self._respond(event.onset_s, text, reply)

    async def _decide_overlap(self, event: UtteranceEnded) -> None:
        text = await self._transcribe(event.audio)
        decision = classify_barge_in(text, speech_ms=event.speech_ms, settings=self._turn_cfg)
        log.debug("overlap %r (%.0f ms): %s", text, event.speech_ms, decision.value)
        if decision is BargeIn.IGNORE or (
            decision is BargeIn.UNDECIDED and self._reply is not None
        ):
            # noise or a backchannel: not a turn; the agent carries on where it paused
            if text:
                self._conv.overheard(event.onset_s, text)
            self._resume()
            return
        self._interrupt(time.monotonic())
        reply = self._new_answer(event)
        reply.task = asyncio.current_task()
        assert reply.timing is not None
        reply.timing.transcript_s = time.monotonic()
        await self._respond(event.onset_s, text, reply)

    async def _respond(self, onset_s: float, text: str, reply: Reply) -> None:
        reply.stt_done = True
        self._emit(FinalTranscript(text, time.monotonic()))
        if not text:  # noise: nothing to answer
            if self._reply is reply:
                self._reply = None
                self._reply_closed.set()
                assert self._rules is not None
                self._rules.waiting_for_caller(time.monotonic())
            return
        self._conv.add_user(onset_s, text)
        if reply.cancelled or self._reply is not reply:
            return  # the caller kept talking; their next utterance continues this turn
        try:
            await generate(
                reply,
                self._conv.messages(),
                llm=self._engines.llm,
                tts=self._engines.tts,
                emit=self._enqueue,
                stream_sentences=self._turn_cfg.stream_sentences,
                max_tokens=self.config.llm_max_tokens,
                temperature=self.config.llm_temperature,
            )
        except ProviderError as exc:
            log.error("reply failed on call %s", self.config.call_id, exc_info=True)
            self._finish(EndReason.ERROR, error=f"{exc.category}: {exc}")

    # ------------------------------------------------------------------ barge-in

    def _resume(self) -> None:
        """A false interruption: carry on exactly where the agent paused."""
        if self._playout.resume():
            self.false_interruptions += 1

    def _interrupt(self, now: float) -> None:
        """The caller barged in: stop the agent, keep only what was heard."""
        reply = self._reply
        if reply is None or not reply.interruptible:
            return
        self.interruptions += 1
        self._barge_active = False
        self._emit(Interrupt(now))
        self._drop_reply(now, force=False)

    def _drop_reply(self, now: float, *, force: bool) -> None:
        reply = self._reply
        self._playout.flush()
        if reply is None:
            return
        reply.cancelled = True
        # Cancel the producer (closing the LLM stream) unless it still waits for the
        # caller's transcript, which must reach the history whatever happens.
        if (
            reply.task is not None
            and (reply.stt_done or force)
            and (reply.task is not asyncio.current_task())
        ):
            reply.task.cancel()
        self._close_reply(reply, now, heard_only=True)

    def _close_reply(self, reply: Reply, now: float, *, heard_only: bool) -> None:
        """Record the reply in the transcript and history; only heard text if cut short."""
        if self._reply is reply:
            self._reply = None
            self._reply_closed.set()
        if reply.turn and reply.timing is not None and reply.stt_done:
            self._latencies.append(reply.timing.latency())
        text = reply.heard_text() if heard_only else reply.text.strip()
        if not text:
            return
        self._conv.add_bot(reply.first_sent_s or now, text)
