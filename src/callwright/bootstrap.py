"""The composition root: settings in, a container of live collaborators out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from callwright.api.ratelimit import RateLimiter
from callwright.db.engine import create_engine, session_factory
from callwright.db.migrate import upgrade
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.voices import VoiceEntry
from callwright.services import voices
from callwright.services.voices import VoicePreviews
from callwright.settings import Settings


@dataclass(frozen=True, slots=True)
class Container:
    settings: Settings
    engine: AsyncEngine
    uow: SessionFactory
    rate_limiter: RateLimiter
    voices: tuple[VoiceEntry, ...]
    voice_previews: VoicePreviews


@asynccontextmanager
async def container(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Container]:
    """Open everything the platform needs; close it all on exit."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.resolved_database_url())
    try:
        if migrate:
            await upgrade(engine)
        yield Container(
            settings=settings,
            engine=engine,
            uow=session_factory(engine),
            rate_limiter=RateLimiter(
                rate_per_s=settings.rate_limit_per_s, burst=settings.rate_limit_burst
            ),
            voices=voices.installed(),
            voice_previews=VoicePreviews(cache_dir=settings.data_dir / "voice-previews"),
        )
    finally:
        await engine.dispose()
