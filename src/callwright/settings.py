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
    sim_number: str = "+15550100000"

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
