"""The μ-law line between the agent's MediaStream and the callee's handset."""

from __future__ import annotations

import asyncio

import numpy as np

from callwright.media.audio import pcm16_to_ulaw, rms
from callwright.providers.base import FRAME_BYTES, SAMPLE_RATE_HZ
from callwright.sim.line import PHONE_FRAME_BYTES, SimLine, ulaw_rms


def _tone(hz: float, seconds: float, amplitude: float = 0.3) -> bytes:
    t = np.arange(int(SAMPLE_RATE_HZ * seconds)) / SAMPLE_RATE_HZ
    return (amplitude * 32767 * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes()


def _frames(pcm: bytes) -> list[bytes]:
    return [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]


def _peak_hz(pcm: bytes) -> float:
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / SAMPLE_RATE_HZ)[int(np.argmax(spectrum))])


async def test_agent_audio_reaches_the_callee_as_mulaw_at_8khz() -> None:
    line = SimLine()
    for frame in _frames(_tone(440, 1.0)):
        line.agent.send(frame)
    heard = []
    while (ulaw := line.handset.hear()) is not None:
        heard.append(ulaw)
    # 1 s of 16 kHz PCM becomes 50 frames of 160 μ-law bytes, one per 20 ms frame sent
    assert all(len(u) == PHONE_FRAME_BYTES for u in heard)
    assert len(heard) == 50
    pcm16k = b"".join(f for u in heard for f in line.handset.decode(u))
    assert abs(_peak_hz(pcm16k) - 440) < 5
    assert 0.25 * 32767 / np.sqrt(2) < ulaw_rms(heard[25]) < 0.35 * 32767 / np.sqrt(2)


async def test_telephone_band_limits_what_survives() -> None:
    """A 6 kHz tone cannot cross an 8 kHz line (Nyquist 4 kHz): the path really resamples."""
    line = SimLine()
    for frame in _frames(_tone(6000, 0.5)):
        line.agent.send(frame)
    heard = []
    while (ulaw := line.handset.hear()) is not None:
        heard.append(ulaw)
    assert max(ulaw_rms(u) for u in heard[5:]) < 100


async def test_callee_audio_reaches_the_agent_as_16khz_frames() -> None:
    line = SimLine()
    for spoken in _frames(_tone(300, 0.5)):
        line.handset.say(spoken)
    await line.close(by="callee")
    received: list[bytes] = []
    while (frame := await line.agent.receive()) is not None:
        received.append(frame)
    assert all(len(f) == FRAME_BYTES for f in received)
    assert len(received) == 25
    pcm = b"".join(received)
    assert abs(_peak_hz(pcm) - 300) < 5
    # G.711 keeps the level (within the quantisation error)
    assert abs(rms(pcm[FRAME_BYTES * 5 :]) - rms(_tone(300, 0.5))) < 0.03 * rms(_tone(300, 0.5))
    assert await line.agent.receive() is None  # and stays ended


async def test_mulaw_on_the_line_is_g711() -> None:
    """The bytes on the wire are exactly what a G.711 encoder makes of the 8 kHz audio."""
    line = SimLine()
    silence = bytes(FRAME_BYTES)
    for _ in range(5):
        line.agent.send(silence)
    heard = [u for u in iter(line.handset.hear, None)]
    assert heard and all(u == pcm16_to_ulaw(bytes(2 * PHONE_FRAME_BYTES)) for u in heard)


async def test_clear_drops_audio_the_callee_has_not_heard() -> None:
    line = SimLine()
    for frame in _frames(_tone(440, 1.0)):
        line.agent.send(frame)
    first = line.handset.hear()
    assert first is not None
    line.agent.clear()
    assert line.handset.hear() is None
    assert len(line.clear_times_mono) == 1


async def test_hangup_from_either_side_ends_both() -> None:
    ended: list[str] = []

    async def on_hangup(by: str) -> None:
        ended.append(by)

    line = SimLine(on_hangup=on_hangup)
    receiver = asyncio.create_task(line.agent.receive())
    await asyncio.sleep(0)
    await line.handset.hangup()
    assert await asyncio.wait_for(receiver, 1) is None
    await line.agent.hangup()  # idempotent: the first side is the one recorded
    assert ended == ["callee"] and line.hung_up_by == "callee" and line.handset.closed
    line.agent.send(bytes(FRAME_BYTES))  # sending after the end is harmless
    assert line.handset.hear() is None


async def test_the_second_side_to_hang_up_returns_once_the_line_is_released() -> None:
    """The platform frees its cap slot when its hangup returns: that must not be before the
    network logged the callee's hangup (the dial log would show a line too many)."""
    released = asyncio.Event()
    calls: list[str] = []

    async def on_hangup(by: str) -> None:
        calls.append(by)
        await asyncio.sleep(0.05)  # the network's log write (fsync) takes a while
        released.set()

    line = SimLine(on_hangup=on_hangup)
    callee = asyncio.create_task(line.handset.hangup())
    await asyncio.sleep(0)  # the callee hung up first; its hook is still writing
    assert line.closed and not released.is_set()
    await line.agent.hangup()
    assert released.is_set()
    await callee
    assert calls == ["callee"] and line.hung_up_by == "callee"
