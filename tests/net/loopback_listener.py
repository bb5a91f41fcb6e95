"""A real loopback listener that counts connections (tests/net helper)."""

from __future__ import annotations

import socket
from dataclasses import dataclass


@dataclass
class CountingListener:
    """Listening TCP sockets on 127.0.0.1 and ::1 (same port) that nobody accepts from.

    The kernel completes handshakes into the backlog whether or not we accept, so
    draining the backlog at the end counts every connection ever made to it.
    """

    port: int
    sockets: list[socket.socket]

    def drain(self) -> int:
        count = 0
        for sock in self.sockets:
            sock.setblocking(False)
            while True:
                try:
                    conn, _ = sock.accept()
                except BlockingIOError:
                    break
                conn.close()
                count += 1
        return count


def bind_pair() -> list[socket.socket]:
    for _ in range(50):
        v4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        v4.bind(("127.0.0.1", 0))
        port = v4.getsockname()[1]
        v6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            v6.bind(("::1", port))
        except OSError:
            v4.close()
            v6.close()
            continue
        v4.listen(256)
        v6.listen(256)
        return [v4, v6]
    raise RuntimeError("could not bind the same port on 127.0.0.1 and ::1")
