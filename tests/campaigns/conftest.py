"""Campaign tests run on the calling platform (real API, sim network, memory jobs)."""

from tests.calls.conftest import app, platform  # noqa: F401
