"""Fixtures for the jobs tests: a system database on SQLite (per test) or PostgreSQL (one
uniquely named database per session, dropped at the end; tests isolate by executor id and
application version)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from jobs_testkit import PG_ADMIN, make_config, psql

from callwright.jobs.dbos_system import DbosJobsConfig


@pytest.fixture(scope="session")
def pg_jobs_url() -> Iterator[str]:
    name = f"callwright_jobs_{uuid.uuid4().hex[:10]}"
    try:
        psql(f"CREATE DATABASE {name}")
    except (OSError, subprocess.SubprocessError) as e:
        pytest.skip(f"PostgreSQL not available: {e}")
    base = PG_ADMIN.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def system_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    url: str = request.getfixturevalue("pg_jobs_url")
    return url


@pytest.fixture
def jobs_config(system_db_url: str) -> DbosJobsConfig:
    config: DbosJobsConfig = make_config(system_db_url)
    return config
