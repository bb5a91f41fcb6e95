"""Fixtures for the outbound-HTTP tests: real loopback listeners."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loopback_listener import CountingListener, bind_pair


@pytest.fixture
def counting_listener() -> Iterator[CountingListener]:
    socks = bind_pair()
    listener = CountingListener(port=socks[0].getsockname()[1], sockets=socks)
    try:
        yield listener
    finally:
        for sock in socks:
            sock.close()
