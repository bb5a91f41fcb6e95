"""A baresip softphone for tests: plays a WAV as its microphone and records what it hears
(the ``sndfile`` module's ``*-dec.wav``). It auto-answers, and hangs up by itself when the
WAV ends (baresip's aufile source ends the call at end of file)."""

from __future__ import annotations

import asyncio
import random
import wave
from dataclasses import dataclass
from pathlib import Path

from tests.sip.conftest import free_udp_port

MODULES = "/usr/lib/baresip/modules"


def write_wav(path: Path, pcm: bytes, *, sample_rate_hz: int = 8000) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate_hz)
        w.writeframes(pcm)


def read_wav(path: Path) -> tuple[bytes, int]:
    with wave.open(str(path), "rb") as w:
        return w.readframes(w.getnframes()), w.getframerate()


@dataclass
class Baresip:
    workdir: Path
    source_wav: Path
    user: str = "callee"  # baresip answers INVITEs to this user only (404 otherwise)
    port: int = 0
    process: asyncio.subprocess.Process | None = None

    async def start(self, *, dial: str | None = None, quit_after_s: int = 90) -> None:
        self.port = self.port or free_udp_port()
        cfg = self.workdir / "baresip"
        (cfg / "rec").mkdir(parents=True, exist_ok=True)
        rtp = random.randrange(40_000, 60_000, 100)
        (cfg / "config").write_text(
            "\n".join(
                [
                    "poll_method epoll",
                    f"sip_listen 127.0.0.1:{self.port}",
                    f"audio_player aufile,{cfg / 'unused.wav'}",
                    f"audio_source aufile,{self.source_wav}",
                    f"audio_alert aufile,{cfg / 'unused.wav'}",
                    f"rtp_ports {rtp}-{rtp + 98}",
                    f"module_path {MODULES}",
                    "module g711.so",
                    "module aufile.so",
                    "module sndfile.so",
                    "module_app account.so",
                    "module_app menu.so",
                    f"snd_path {cfg / 'rec'}",
                    "",
                ]
            )
        )
        (cfg / "accounts").write_text(
            f"<sip:{self.user}@127.0.0.1:{self.port}>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA\n"
        )
        args = ["-f", str(cfg), "-t", str(quit_after_s)]
        if dial is not None:
            args += ["-e", f"/dial {dial}"]
        self.process = await asyncio.create_subprocess_exec(
            "baresip",
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert self.process.stdout is not None
        async with asyncio.timeout(10):  # wait until it listens
            while b"baresip is ready" not in await self.process.stdout.readline():
                pass

    def heard(self) -> tuple[bytes, int]:
        """What baresip heard (PCM16 and its rate), from its decoder dump."""
        files = sorted((self.workdir / "baresip" / "rec").glob("*-dec.wav"))
        assert files, "baresip recorded nothing"
        return read_wav(files[-1])

    async def stop(self) -> str:
        """End baresip; returns its console output (for failure messages)."""
        if self.process is None:
            return ""
        if self.process.returncode is None:
            self.process.terminate()
        out, _ = await self.process.communicate()
        return out.decode(errors="replace")[-3000:]
