"""Property-based fuzzing of our own OpenAPI with schemathesis, against a real server process:
no request may cause a server error, and every response must match the documented schema."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

API_KEY = "cwk_schemathesis_test_key_0123456789abcdefghij"
CHECKS = [
    checks.not_a_server_error,
    checks.response_schema_conformance,
    checks.content_type_conformance,
    checks.status_code_conformance,
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("schemathesis")
    url = "" if request.param == "sqlite" else request.getfixturevalue("pg_database_url")
    port = _free_port()
    env = {
        **os.environ,
        "CALLWRIGHT_DATA_DIR": str(data_dir),
        "CALLWRIGHT_DATABASE_URL": url,
        "CALLWRIGHT_INIT_API_KEY": API_KEY,
        "CALLWRIGHT_RATE_LIMIT_PER_S": "0",
    }
    log = (data_dir / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "callwright.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
        server_log = Path(log.name).read_text()
        assert "Traceback" not in server_log, server_log[-3000:]


def _wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise TimeoutError("server did not start")


def test_api_never_errors_and_matches_its_schema(server: str) -> None:
    api = schemathesis.openapi.from_url(f"{server}/openapi.json")
    failures: dict[str, str] = {}
    operations = 0
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
        )
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=server, headers={"X-API-KEY": API_KEY}, checks=CHECKS)

        try:
            fuzz()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures[operation.label] = str(exc)[:2000]
    assert operations >= 15
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
