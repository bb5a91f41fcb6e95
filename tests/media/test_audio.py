"""G.711 codecs (bit-exact with audioop), streaming resampler, framer, WAV helpers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from callwright.media import audio

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

ALL_PCM = np.arange(65536, dtype=np.int32).astype(np.uint16).view(np.int16).astype("<i2").tobytes()
ALL_CODES = bytes(range(256))


def test_ulaw_encode_matches_audioop_for_every_sample() -> None:
    assert audio.pcm16_to_ulaw(ALL_PCM) == audioop.lin2ulaw(ALL_PCM, 2)


def test_alaw_encode_matches_audioop_for_every_sample() -> None:
    assert audio.pcm16_to_alaw(ALL_PCM) == audioop.lin2alaw(ALL_PCM, 2)


def test_decoders_match_audioop_for_every_code() -> None:
    assert audio.ulaw_to_pcm16(ALL_CODES) == audioop.ulaw2lin(ALL_CODES, 2)
    assert audio.alaw_to_pcm16(ALL_CODES) == audioop.alaw2lin(ALL_CODES, 2)


def test_round_trip_keeps_every_decoded_value() -> None:
    for enc, dec in (
        (audio.pcm16_to_ulaw, audio.ulaw_to_pcm16),
        (audio.pcm16_to_alaw, audio.alaw_to_pcm16),
    ):
        decoded = dec(ALL_CODES)
        assert dec(enc(decoded)) == decoded


def _tone(freq_hz: float, rate_hz: int, seconds: float) -> bytes:
    t = np.arange(int(rate_hz * seconds)) / rate_hz
    return (np.sin(2 * np.pi * freq_hz * t) * 12000).astype("<i2").tobytes()


def _peak_hz(pcm: bytes, rate_hz: int) -> float:
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / rate_hz)[int(np.argmax(spectrum))])


@pytest.mark.parametrize(("src", "dst"), [(8000, 16000), (16000, 8000), (48000, 16000)])
def test_stream_resampler_is_continuous_across_odd_chunks(src: int, dst: int) -> None:
    pcm = _tone(440.0, src, 1.0)
    r = audio.StreamResampler(in_rate_hz=src, out_rate_hz=dst)
    out = bytearray()
    step = 2 * 157  # odd-sized chunks
    for i in range(0, len(pcm), step):
        out += r.process(pcm[i : i + step])
    out += r.flush()
    assert abs(len(out) // 2 - dst) <= 2
    assert _peak_hz(bytes(out), dst) == pytest.approx(440.0, abs=2.0)
    one_shot = audio.resample(pcm, in_rate_hz=src, out_rate_hz=dst)
    a = np.frombuffer(bytes(out), dtype="<i2").astype(np.int32)
    b = np.frombuffer(one_shot, dtype="<i2").astype(np.int32)
    n = min(a.size, b.size)
    # streaming and one-shot agree away from the edges (no clicks at chunk boundaries)
    assert np.max(np.abs(a[200 : n - 200] - b[200 : n - 200])) < 200


def test_same_rate_resampler_is_identity() -> None:
    r = audio.StreamResampler(in_rate_hz=16000, out_rate_hz=16000)
    assert r.process(b"\x01\x02" * 10) == b"\x01\x02" * 10
    assert r.flush() == b""


def test_framer_cuts_exact_frames_and_pads_the_tail() -> None:
    f = audio.Framer()
    data = bytes(range(256)) * 10  # 2560 bytes
    frames: list[bytes] = []
    for i in range(0, len(data), 333):
        frames.extend(f.push(data[i : i + 333]))
    assert all(len(fr) == 640 for fr in frames)
    assert b"".join(frames) == data[: 640 * 4]
    assert f.flush() is None
    frames = list(f.push(b"\x07" * 100))
    assert frames == []
    tail = f.flush()
    assert tail == b"\x07" * 100 + bytes(540)
    with pytest.raises(ValueError):
        audio.Framer(frame_bytes=3)


def test_wav_round_trip_and_channel_split() -> None:
    left = _tone(300, 16000, 0.1)
    right = _tone(900, 16000, 0.1)
    inter = np.empty(len(left), dtype="<i2")
    inter[0::2] = np.frombuffer(left, dtype="<i2")
    inter[1::2] = np.frombuffer(right, dtype="<i2")
    wav = audio.pcm_to_wav(inter.tobytes(), sample_rate_hz=16000, channels=2)
    pcm, rate, channels = audio.wav_to_pcm(wav)
    assert (rate, channels) == (16000, 2)
    assert audio.stereo_channels(pcm) == (left, right)
    assert audio.rms(left) > 8000 and audio.rms(b"") == 0.0
