"""One phone call: transport in -> VAD -> STT -> turn manager -> LLM -> TTS -> transport out.

Fixed slots, not a processor graph. Per call there is one receive task that runs VAD and
the turn logic inline on each inbound frame, short-lived tasks for slow work (STT, one
reply's LLM+TTS), and no per-call timer: the shared :class:`MediaClock` calls
:meth:`CallSession.on_tick` every 20 ms, which sends one agent frame, records one stereo
frame and evaluates the call rules. All tasks belong to the session's TaskGroup and end
with the call. What happens when the caller speaks lives in listening.py (the base class).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from callwright.media.clock import MediaClock
from callwright.media.config import CallResult, EndReason, SessionConfig, TurnLatency
from callwright.media.conversation import Conversation
from callwright.media.frames import AgentAudio, AudioSent
from callwright.media.listening import FrameObserver, Listening
from callwright.media.playout import Playout
from callwright.media.prompting import fill_placeholders, is_goodbye, system_prompt
from callwright.media.recorder import StereoRecorder
from callwright.media.reply import Reply, ReplyKind, speak_text
from callwright.media.rules import CallRuleClock, RuleAction
from callwright.media.turns import Endpointer
from callwright.media.vad_batch import BatchedVAD
from callwright.providers.base import FRAME_BYTES, MediaStream

log = logging.getLogger(__name__)

HANGUP_DRAIN_S = 0.2  # let the far end play its last buffered frames before hanging up


class CallSession(Listening):
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
