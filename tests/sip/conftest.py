"""SIP tests on loopback: sipp and baresip as the far end, our user agent as callwright.

Every test that starts a user agent also checks it leaves nothing behind: no asyncio task
and no socket beyond those open before the test."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from callwright.providers import registry
from callwright.providers.base import EngineSpec
from callwright.providers.telephony.sip import SipTelephony

SCENARIOS = Path(__file__).parent / "scenarios"

needs_sipp = pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp (sip-tester) missing")
needs_baresip = pytest.mark.skipif(shutil.which("baresip") is None, reason="baresip missing")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rtp_range() -> tuple[int, int]:
    """A random slice of high ports (parallel test sessions must not collide)."""
    base = random.randrange(30_000, 60_000, 200)
    return base, base + 198


def open_sockets() -> int:
    return sum(
        1
        for fd in os.listdir("/proc/self/fd")
        if _readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    )


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


@dataclass
class Sipp:
    """One sipp process playing a scenario (UAS by default) on 127.0.0.1:``port``."""

    scenario: str
    port: int
    workdir: Path
    extra: tuple[str, ...] = ()
    remote: str | None = None  # host:port to call (sipp as a UAC)
    process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            "sipp",
            *([self.remote] if self.remote else []),
            "-sf",
            str(SCENARIOS / self.scenario),
            "-i",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-mp",
            str(free_udp_port()),
            "-m",
            "1",
            "-nostdin",
            "-trace_err",
            "-timeout",
            "15s",
            "-timeout_error",
            *self.extra,
            cwd=self.workdir,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        await asyncio.sleep(0.15)  # let it bind (our INVITE would be retransmitted anyway)

    async def wait(self, timeout_s: float = 15.0) -> int:
        """sipp's exit status: 0 when the scenario ran to its end as written."""
        assert self.process is not None
        async with asyncio.timeout(timeout_s):
            _, err = await self.process.communicate()
        rc = self.process.returncode
        assert rc is not None
        if rc != 0:
            logs = "".join(p.read_text() for p in self.workdir.glob("*_errors.log"))
            print(f"sipp exited {rc}: {err.decode(errors='replace')[-2000:]}\n{logs[-3000:]}")
        return rc

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()


@pytest.fixture
async def no_leaks() -> AsyncIterator[None]:
    """Fails the test if it leaves an asyncio task or a socket open."""
    sockets = open_sockets()
    yield
    await asyncio.sleep(0)
    me = asyncio.current_task()
    left = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
    assert left == [], f"tasks left behind: {left}"
    assert open_sockets() == sockets, "sockets left open"


@pytest.fixture
async def sipp(tmp_path: Path) -> AsyncIterator[Callable[..., Sipp]]:
    started: list[Sipp] = []

    def make(scenario: str, *extra: str, remote: str | None = None) -> Sipp:
        s = Sipp(
            scenario=scenario, port=free_udp_port(), workdir=tmp_path, extra=extra, remote=remote
        )
        started.append(s)
        return s

    yield make
    for s in started:
        s.kill()
        if s.process is not None:
            await s.process.wait()


def sip_telephony(trunk_port: int, **options: object) -> SipTelephony:
    """The ``sip`` provider built through the registry, as the platform builds it."""
    lo, hi = rtp_range()
    spec = EngineSpec(
        "sip",
        {
            "host": "127.0.0.1",
            "port": trunk_port,
            "bind_host": "127.0.0.1",
            "bind_port": 0,
            "rtp_port_min": lo,
            "rtp_port_max": hi,
            **options,
        },
    )
    telephony = registry.create("telephony", spec)
    assert isinstance(telephony, SipTelephony)
    return telephony
