"""One phone call: transport in -> VAD -> STT -> turn manager -> LLM -> TTS -> transport out.

Fixed slots, not a processor graph. Per call there is one receive task that runs VAD and
the turn logic inline on each inbound frame, short-lived tasks for slow work (STT, one
reply's LLM+TTS), and no per-call timer: the shared :class:`MediaClock` calls
:meth:`CallSession.on_tick` every 20 ms, which sends one agent frame, records one stereo
frame and evaluates the call rules. All tasks belong to the session's TaskGroup and end
with the call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Sequence
from typing import Any, Protocol

from callwright.media.clock import MediaClock
from callwright.media.config import CallResult, EndReason, SessionConfig, TurnLatency
from callwright.media.conversation import Conversation
from callwright.media.frames import (
    AgentAudio,
    AudioSent,
    FinalTranscript,
    Frame,
    HangUp,
    Interrupt,
    SpeechStarted,
    SpeechStopped,
)
from callwright.media.metrics import TurnTiming
from callwright.media.playout import Playout
from callwright.media.prompting import fill_placeholders, is_goodbye, system_prompt
from callwright.media.recorder import StereoRecorder
from callwright.media.reply import Reply, ReplyKind, generate, speak_text
from callwright.media.rules import CallRuleClock, RuleAction
from callwright.media.turns import (
    BargeIn,
    Endpointer,
    UtteranceEnded,
    UtterancePaused,
    UtteranceStarted,
    classify_barge_in,
)
from callwright.media.vad_batch import BatchedVAD
from callwright.providers.base import FRAME_BYTES, MediaStream, ProviderError

log = logging.getLogger(__name__)

INTERIM_RECHECK_MS = 700  # a long backchannel-looking utterance is re-checked this often
HANGUP_DRAIN_S = 0.2  # let the far end play its last buffered frames before hanging up


class FrameObserver(Protocol):
    def on_frame(self, frame: Frame) -> None:
        """Called synchronously for each event frame of the call; must not block."""
        ...


class CallSession:
    """Runs one connected call to its end and returns a :class:`CallResult`."""

    def __init__(
        self,
        *,
        config: SessionConfig,
        stream: MediaStream,
        clock: MediaClock | None = None,
        observers: Sequence[FrameObserver] = (),
        vad_batcher: BatchedVAD | None = None,
    ) -> None:
        self.config = config
        self._stream = stream
        self._clock = clock
        self._observers = tuple(observers)
        self._vad_batcher = vad_batcher
        self._engines = config.engines
        self._turn_cfg = config.turns
        self._endpointer = Endpointer(config.turns)
        self._recorder: StereoRecorder | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._tg: asyncio.TaskGroup | None = None
        self._ended = asyncio.Event()
        self._reply_closed = asyncio.Event()
        self._end_reason: EndReason | None = None
        self._error: str | None = None
        self._t_start = 0.0
        self._rules: CallRuleClock | None = None
        self._conv = Conversation(
            system_prompt=system_prompt(config.system_prompt, config.variables)
        )
        self._latencies: list[TurnLatency] = []
        self._reply: Reply | None = None
        self._turn_no = 0
        self._playout = Playout(stream=stream, recorder=None)
        self._hangup_after_reply: EndReason | None = None
        # barge-in bookkeeping for the utterance in progress while the agent is busy
        self._barge_active = False
        self._barge_cleared = False  # an interim transcript showed a backchannel: keep talking
        self._pending_end: tuple[EndReason, float] | None = None
        self._interim_task: asyncio.Task[Any] | None = None
        self._next_interim_ms = 0.0
        self._spec: tuple[int, asyncio.Task[str]] | None = None
        self.interruptions = 0
        self.false_interruptions = 0

    # ------------------------------------------------------------------ lifecycle

    async def run(self) -> CallResult:
        """Run the call until hang-up, idle timeout, max length, goodbye or error."""
        self._t_start = time.monotonic()
        self._rules = CallRuleClock(self.config.rules, start_s=self._t_start)
        self._engines.vad.reset()
        if self.config.record:
            self._recorder = StereoRecorder(path=self.config.recording_path)
        self._playout = Playout(stream=self._stream, recorder=self._recorder)
        try:
            return await self._run()
        finally:
            if self._recorder is not None:
                self._recorder.close()  # idempotent; finalises the WAV even when cancelled

    async def _run(self) -> CallResult:
        clock = self._clock
        try:
            async with asyncio.TaskGroup() as tg:
                self._tg = tg
                if clock is None:
                    clock = MediaClock()
                    self._spawn(clock.run())
                clock.attach(self)
                self._spawn(self._receive_loop())
                intro = fill_placeholders(self.config.intro_message, self.config.variables)
                if intro.strip():
                    self._say(intro, ReplyKind.INTRO, interruptible=True)
                else:
                    self._rules.waiting_for_caller(self._t_start)  # type: ignore[union-attr]
                await self._ended.wait()
                clock.detach(self)
                for task in list(self._tasks):
                    task.cancel()
        except* Exception as group:
            log.error("call %s failed", self.config.call_id, exc_info=group.exceptions[0])
            self._finish(EndReason.ERROR, error=repr(group.exceptions[0]))
        finally:
            if clock is not None:
                clock.detach(self)
        if self._reply is not None:
            self._close_reply(self._reply, time.monotonic(), heard_only=True)
        if self._end_reason is not EndReason.CALLER_HANGUP:
            try:
                await self._stream.hangup()
            except Exception:  # the far end may already be gone
                log.warning("hang-up of call %s failed", self.config.call_id, exc_info=True)
        return self._result()

    def _result(self) -> CallResult:
        wav = self._recorder.close() if self._recorder is not None else None
        return CallResult(
            call_id=self.config.call_id,
            end_reason=self._end_reason or EndReason.ERROR,
            duration_s=round(time.monotonic() - self._t_start, 3),
            transcript=self._conv.transcript(),
            turn_latencies=tuple(self._latencies),
            recording_wav=wav,
            recording_path=self.config.recording_path if self.config.record else None,
            error=self._error,
            interruptions=self.interruptions,
            false_interruptions=self.false_interruptions,
        )

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

    def on_tick_error(self, exc: BaseException) -> None:
        self._finish(EndReason.ERROR, error=repr(exc))

    # ------------------------------------------------------------------ inbound path

    async def _receive_loop(self) -> None:
        receive = self._stream.receive
        while True:
            frame = await receive()
            if frame is None:
                self._finish(EndReason.CALLER_HANGUP)
                return
            if self._ended.is_set():
                return
            if len(frame) != FRAME_BYTES:  # the port promises 20 ms frames; be strict but kind
                frame = frame[:FRAME_BYTES].ljust(FRAME_BYTES, b"\0")
            self._on_caller_frame(frame, time.monotonic())

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

    def _say(
        self, text: str, kind: ReplyKind, *, interruptible: bool, then: EndReason | None = None
    ) -> None:
        """Speak a fixed line; optionally end the call once it has played."""
        reply = Reply(turn=0, kind=kind, interruptible=interruptible)
        self._reply = reply
        self._hangup_after_reply = then
        reply.task = self._spawn(speak_text(reply, text, tts=self._engines.tts, emit=self._enqueue))

    # ------------------------------------------------------------------ outbound path

    def _enqueue(self, frame: AgentAudio) -> None:
        reply = self._reply
        if reply is None or reply.cancelled or frame.turn != reply.turn:
            return  # late frame of a reply that was interrupted
        sent = self._playout.push(frame)
        if sent is not None:
            self._account(sent, time.monotonic())

    def _account(self, frame: AgentAudio, now: float) -> None:
        reply = self._reply
        if reply is not None and frame.turn == reply.turn and reply.on_sent(frame, now):
            self._emit(AudioSent(frame.turn, now, True))

    def on_tick(self, now_s: float, scheduled_s: float) -> None:
        """The media clock's 20 ms beat: play, record, apply the call rules."""
        paused = self._playout.paused_since
        if paused is None:
            sent = self._playout.tick()
            if sent is not None:
                self._account(sent, now_s)
        elif (
            not self._endpointer.in_speech
            and now_s - paused > self._turn_cfg.false_interruption_timeout_ms / 1000.0
        ):
            self._resume()  # nobody decided in time: it was not an interruption
        if self._recorder is not None:
            self._recorder.tick()
        reply = self._reply
        if reply is not None and reply.played_out and not self._playout.pending:
            self._close_reply(reply, now_s, heard_only=False)
            self._after_reply(reply, now_s)
            reply = None
        if self._pending_end is not None:
            if now_s >= self._pending_end[1]:
                self._finish(self._pending_end[0])
            return
        assert self._rules is not None
        action = self._rules.check(
            now_s, agent_busy=reply is not None or self._endpointer.in_speech
        )
        if action is not None:
            self._apply_rule(action, now_s)

    def _apply_rule(self, action: RuleAction, now: float) -> None:
        rules = self.config.rules
        if action is RuleAction.IDLE_WARNING:
            self._say(rules.idle_warning_text, ReplyKind.IDLE_WARNING, interruptible=True)
        elif action is RuleAction.IDLE_END:
            if rules.idle_end_text.strip():
                self._say(
                    rules.idle_end_text,
                    ReplyKind.IDLE_END,
                    interruptible=False,
                    then=EndReason.IDLE_TIMEOUT,
                )
            else:
                self._finish(EndReason.IDLE_TIMEOUT)
        elif action is RuleAction.WRAP_UP:
            self._drop_reply(now, force=True)
            self._say(
                rules.wrap_up_text,
                ReplyKind.WRAP_UP,
                interruptible=False,
                then=EndReason.MAX_DURATION,
            )
        elif action is RuleAction.HARD_STOP:
            self._finish(EndReason.MAX_DURATION)

    def _after_reply(self, reply: Reply, now: float) -> None:
        assert self._rules is not None
        if self._hangup_after_reply is not None and reply.kind in (
            ReplyKind.WRAP_UP,
            ReplyKind.IDLE_END,
        ):
            self._pending_end = (self._hangup_after_reply, now + HANGUP_DRAIN_S)
            return
        if (
            reply.kind is ReplyKind.ANSWER
            and self.config.rules.end_on_goodbye
            and (is_goodbye(reply.text) or self._conv.caller_said_goodbye)
        ):
            self._pending_end = (EndReason.AGENT_HANGUP, now + HANGUP_DRAIN_S)
            return
        if reply.kind is not ReplyKind.IDLE_WARNING:
            self._rules.caller_active()  # a fresh idle period starts now
        self._rules.waiting_for_caller(now)

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
