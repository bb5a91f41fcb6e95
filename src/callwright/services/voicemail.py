"""Answering-machine detection: listen to the first thing the far end says."""

from __future__ import annotations

import asyncio
import re
import time

from callwright.media.frames import FinalTranscript, Frame
from callwright.providers.base import MediaStream

# Phrases of voicemail greetings; one of them in the callee's first words means a machine.
_GREETING = re.compile(
    r"leave (a|your) (message|name)|after the (beep|tone)|not available"
    r"|can'?t (come|get) to the phone|voice ?mail|mailbox|record your message"
    r"|unable to (take|answer)",
    re.IGNORECASE,
)
LISTEN_S = 20.0


class VoicemailWatch:
    """A session observer: when the callee's first utterances sound like a voicemail greeting,
    hang up (Ringg's voicemail ``action: hangup``) and remember it for the call's status."""

    def __init__(self, *, stream: MediaStream, enabled: bool, listen_s: float = LISTEN_S) -> None:
        self._stream = stream
        self._enabled = enabled
        self._deadline = time.monotonic() + listen_s
        self.detected = False
        self._hangup: asyncio.Task[None] | None = None

    def on_frame(self, frame: Frame) -> None:
        if not self._enabled or self.detected or not isinstance(frame, FinalTranscript):
            return
        if time.monotonic() > self._deadline:
            self._enabled = False
            return
        if _GREETING.search(frame.text):
            self.detected = True
            self._hangup = asyncio.get_running_loop().create_task(self._stream.hangup())


def is_voicemail_greeting(text: str) -> bool:
    return bool(_GREETING.search(text))
