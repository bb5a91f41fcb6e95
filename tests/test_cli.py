"""The `callwright` command: first start, INIT_API_KEY, and key management."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.api.test_schemathesis import _free_port, _wait_ready


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callwright.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "callwright.cli", "serve", "--port", str(port)],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    _wait_ready(base, proc)
    return proc, base


def test_first_start_prints_a_key_once_and_keys_commands_work(tmp_path: Path) -> None:
    env = {"CALLWRIGHT_DATA_DIR": str(tmp_path), "CALLWRIGHT_DATABASE_URL": ""}
    proc, base = serve(env, tmp_path / "first.log")
    try:
        log = (tmp_path / "first.log").read_text()
        keys = re.findall(r"cwk_[A-Za-z0-9_-]{20,}", log)
        assert len(keys) == 1
        r = httpx.get(f"{base}/ca/api/v0/workspace", headers={"X-API-KEY": keys[0]})
        assert r.status_code == 200
        assert r.json()["workspace_info"]["name"] == "Default Workspace"
        numbers = httpx.get(f"{base}/ca/api/v0/workspace/numbers", headers={"X-API-KEY": keys[0]})
        assert numbers.json()["workspace_numbers"][0]["provider"] == "sim"
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    # A second start creates nothing and prints no key.
    proc, base = serve(env, tmp_path / "second.log")
    proc.terminate()
    proc.wait(timeout=10)
    assert "cwk_" not in (tmp_path / "second.log").read_text()

    created = run_cli("keys", "create", "--name", "ci", env=env)
    assert created.returncode == 0, created.stderr
    key_id, new_key = created.stdout.split()
    listing = run_cli("keys", "list", env=env)
    assert key_id in listing.stdout and new_key not in listing.stdout
    assert listing.stdout.count("active") == 2
    revoked = run_cli("keys", "revoke", key_id, env=env)
    assert revoked.returncode == 0
    assert "revoked" in run_cli("keys", "list", env=env).stdout
    missing = run_cli("keys", "revoke", "no-such-id", env=env)
    assert missing.returncode == 1 and "No API key" in missing.stderr


@pytest.mark.postgres
def test_init_api_key_on_postgres(tmp_path: Path, empty_pg_database_url: str) -> None:
    key = "7251cb4b-3373-43a4-844c-b27a1d45e0c9"
    env = {
        "CALLWRIGHT_DATA_DIR": str(tmp_path),
        "CALLWRIGHT_DATABASE_URL": empty_pg_database_url,
        "CALLWRIGHT_INIT_API_KEY": key,
    }
    assert run_cli("migrate", env=env).returncode == 0
    proc, base = serve(env, tmp_path / "serve.log")
    try:
        assert "cwk_" not in (tmp_path / "serve.log").read_text()  # the given key is not echoed
        r = httpx.get(f"{base}/ca/api/v0/workspace", headers={"X-API-KEY": key})
        assert r.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
