"""All configuration, read from the environment (prefix ``CALLWRIGHT_``) or a ``.env`` file.

There is no module-level instance: the composition root builds one ``Settings`` and passes it on.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CALLWRIGHT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Path("./.callwright")
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means a SQLite file under data_dir. "
        "postgresql://… URLs are served through asyncpg.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    init_api_key: SecretStr | None = Field(
        default=None,
        description="When set and no workspace exists yet, the first start creates the default "
        "workspace with this API key.",
    )
    # Per API key: sustained requests per second and burst size. 0 disables the limit.
    rate_limit_per_s: float = 200.0
    rate_limit_burst: int = 400
    default_credits: float = 1000.0
    credits_per_minute: float = Field(default=1.5, ge=0, description="price of connected time")
    secret_key: SecretStr | None = Field(
        default=None,
        description="signs recording URLs; default: a random key kept in data_dir/secret_key",
    )
    public_url: str | None = Field(
        default=None, description="base URL in links we hand out (default http://HOST:PORT)"
    )
    worker_id: str | None = Field(
        default=None,
        description="this process's job executor id; a restart with the same id resumes its "
        "work (default: 'local' on SQLite, '<host>-<role>' on PostgreSQL)",
    )
    run_jobs: bool = Field(
        default=True, description="run calls and analysis here; false for API-only nodes"
    )
    jobs_version: str = Field(
        default="callwright-1",
        description="equal on every process; bump when a job's steps change incompatibly",
    )
    jobs_heartbeat_s: float = 10.0
    jobs_silence_s: float = Field(
        default=60.0, description="a worker silent this long has its jobs taken over"
    )
    ring_timeout_s: float = Field(default=30.0, gt=0, le=120, description="then: no answer")
    dispatch_backlog: int = Field(
        default=20, ge=1, description="due calls handed to the job queue ahead of the workers"
    )
    stale_dispatch_s: float = Field(
        default=30.0,
        ge=0,
        description="calls handed over this long with no job are enqueued again (0: never)",
    )
    max_concurrent_calls: int = Field(
        default=4, ge=1, description="calls one process runs at once (offline engines are heavy)"
    )
    workspace_max_concurrent_calls: int = Field(
        default=20, ge=1, description="default cap on a workspace's live calls (in and out)"
    )
    csv_max_bytes: int = Field(default=100 * 1024 * 1024, ge=1, description="contact CSV upload")
    csv_max_rows: int = Field(default=1_000_000, ge=1, description="contacts in one CSV")
    sip_bind_host: str = "0.0.0.0"
    sip_contact_host: str | None = None  # None: the local address that routes to the trunk
    sip_rtp_port_min: int = Field(default=20_000, ge=1024, le=65534)
    sip_rtp_port_max: int = Field(default=30_000, ge=1025, le=65535)
    sip_inbound: bool = True  # answer INVITEs on every SIP account's user agent
    sim_number: str = "+15550100000"
    webhook_allow_loopback: bool = Field(
        default=True,
        description="deliver webhooks to this machine (127.0.0.0/8, ::1); the embedded default",
    )
    webhook_allow_private: bool = Field(
        default=False, description="deliver webhooks to private networks (RFC 1918, CGNAT, ULA)"
    )
    webhook_allow_http: bool = Field(default=True, description="false: https endpoints only")
    webhook_timeout_s: float = Field(default=30.0, gt=0, le=60, description="per attempt")
    webhook_endpoint_concurrency: int = Field(
        default=8, ge=1, description="deliveries in flight per endpoint"
    )
    webhook_relay_interval_s: float = Field(
        default=0.25, gt=0, description="poll for events committed without a wake-up"
    )
    knowledge_dense: bool = Field(
        default=True,
        description="dense (embedding) retrieval beside full-text in knowledge bases, when "
        "the model package is installed; false: full-text only",
    )

    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def resolved_database_url(self) -> str:
        """The async SQLAlchemy URL to connect with."""
        url = self.database_url.strip()
        if not url:
            return f"sqlite+aiosqlite:///{(self.data_dir / 'callwright.db').resolve()}"
        if url.startswith(("postgresql://", "postgres://")):
            return "postgresql+asyncpg://" + url.split("://", 1)[1]
        if url.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
        return url
