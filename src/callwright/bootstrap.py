"""The composition root: settings in, a container of live collaborators out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine

from callwright.api.ratelimit import RateLimiter
from callwright.db.engine import create_engine, session_factory
from callwright.db.migrate import upgrade
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.voices import VoiceEntry
from callwright.jobs.port import JobRunner, QueueSpec
from callwright.jobs.registry import JobRegistry
from callwright.knowledge.retriever import EmbedderSource, Retriever
from callwright.media.clock import MediaClock
from callwright.net.safe_client import ClientLimits, SafeHTTPClient
from callwright.net.ssrf import AddressPolicy
from callwright.providers.base import Telephony
from callwright.providers.telephony.twilio_gateway import TwilioGateway
from callwright.services import voices
from callwright.services.analysis import Analyst
from callwright.services.analytics_rollup import AnalyticsRollup
from callwright.services.calls import CALL_JOB, CALL_QUEUE
from callwright.services.dialing import ANALYSIS_JOB, Dialer
from callwright.services.dispatcher import Dispatcher
from callwright.services.engines import EngineSource, RegistryEngines
from callwright.services.events import CallEvents
from callwright.services.inbound import InboundCalls
from callwright.services.knowledge import KB_INGEST_JOB, KB_QUEUE, KnowledgeBases
from callwright.services.knowledge import requeue_pending as requeue_knowledge
from callwright.services.knowledge_ingest import KnowledgeIngester
from callwright.services.pacer import PACER_JOB, Pacer
from callwright.services.recovery import requeue_unfinished
from callwright.services.telephony import TelephonyDirectory
from callwright.services.twilio_inbound import TwilioInbound
from callwright.services.voices import VoicePreviews
from callwright.services.web_calls import WebCalls
from callwright.services.webhook_delivery import (
    WEBHOOK_JOB,
    WEBHOOK_QUEUE,
    Clock,
    SystemClock,
    WebhookDeliverer,
)
from callwright.services.webhook_relay import WebhookRelay
from callwright.settings import Settings
from callwright.storage.recordings import RecordingStore, load_or_create_secret
from callwright.webhooks.retry import RetrySchedule

if TYPE_CHECKING:  # imported lazily: the CLI's quick commands never load DBOS
    from callwright.jobs.dbos_runner import DbosJobRunner
    from callwright.jobs.memory import MemoryJobRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Container:
    settings: Settings
    engine: AsyncEngine
    uow: SessionFactory
    rate_limiter: RateLimiter
    voices: tuple[VoiceEntry, ...]
    voice_previews: VoicePreviews
    recordings: RecordingStore
    jobs: JobRunner
    telephony: TelephonyDirectory
    dispatcher: Dispatcher
    pacer: Pacer
    webhooks: WebhookDeliverer
    webhook_relay: WebhookRelay
    web_calls: WebCalls  # browser calls (dashboard and widget), run by the dialer's parts
    inbound: InboundCalls  # calls to our numbers (SIP, Twilio), run by the dialer's parts
    knowledge: KnowledgeBases
    twilio: TwilioGateway

    def wake_after_new_call(self) -> None:
        """A call row just committed: dispatch it and send its call_started without delay."""
        self.dispatcher.wake()
        self.webhook_relay.wake()


@dataclass(frozen=True, slots=True)
class Overrides:
    """Stand-ins for tests: engines and carriers that cannot or need not run for real."""

    engines: EngineSource | None = None
    telephony: dict[str, Telephony] | None = None
    memory_jobs: bool = False
    webhook_clock: Clock | None = None  # tests compress time
    webhook_schedule: RetrySchedule | None = None
    webhook_policy: AddressPolicy | None = None


@asynccontextmanager
async def database(settings: Settings, *, migrate: bool = True) -> AsyncIterator[AsyncEngine]:
    """The migrated database alone, for commands that need nothing else (``keys``)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.resolved_database_url())
    try:
        if migrate:
            await upgrade(engine)
        yield engine
    finally:
        await _settled(engine)
        await engine.dispose()


async def _settled(engine: AsyncEngine, timeout_s: float = 2.0) -> None:
    """Give transactions that are still rolling back (SQLAlchemy shields them from a cancel)
    time to return their connections: disposal leaves checked-out connections open, and one
    left inside a SQLite write transaction holds the database's write lock until the process
    ends."""
    pool: Any = engine.pool
    for _ in range(int(timeout_s / 0.02)):
        if not pool.checkedout():
            return
        await asyncio.sleep(0.02)
    log.warning("%d database connections still in use at shutdown", pool.checkedout())


@asynccontextmanager
async def container(
    settings: Settings, *, migrate: bool = True, overrides: Overrides | None = None
) -> AsyncIterator[Container]:
    """Open everything the platform needs, start the job worker; close it all on exit."""
    overrides = overrides or Overrides()
    async with AsyncExitStack() as stack:
        engine = await stack.enter_async_context(database(settings, migrate=migrate))
        uow = session_factory(engine)
        secret = (
            settings.secret_key.get_secret_value().encode()
            if settings.secret_key
            else load_or_create_secret(settings.data_dir / "secret_key")
        )
        recordings = RecordingStore(root=settings.data_dir / "recordings", secret=secret)
        twilio = TwilioGateway(public_url=settings.base_url(), secret=secret)
        stack.push_async_callback(twilio.aclose)
        telephony = TelephonyDirectory(
            data_dir=settings.data_dir,
            overrides=overrides.telephony,
            provider_options={
                "twilio": {"gateway": twilio},
                "sip": {
                    "bind_host": settings.sip_bind_host,
                    "rtp_port_min": settings.sip_rtp_port_min,
                    "rtp_port_max": settings.sip_rtp_port_max,
                    **(
                        {"contact_host": settings.sip_contact_host}
                        if settings.sip_contact_host
                        else {}
                    ),
                },
            },
        )
        stack.push_async_callback(telephony.aclose)
        engines = overrides.engines or RegistryEngines()

        registry = JobRegistry()
        registry.add_queue(
            QueueSpec(name=CALL_QUEUE, worker_concurrency=settings.max_concurrent_calls)
        )
        registry.add_handler(CALL_JOB, lambda ctx, payload: dialer.run(ctx, payload))
        registry.add_handler(ANALYSIS_JOB, lambda ctx, payload: analyst.run(ctx, payload))
        registry.add_handler(PACER_JOB, lambda ctx, payload: pacer.run(ctx, payload))
        # User-supplied URLs (webhooks, knowledge-base pages) go through one address policy.
        url_policy = overrides.webhook_policy or AddressPolicy(
            allow_loopback=settings.webhook_allow_loopback,
            allow_private=settings.webhook_allow_private,
            allow_http=settings.webhook_allow_http,
        )
        embedders = EmbedderSource(enabled=settings.knowledge_dense)
        ingester = KnowledgeIngester(
            uow=uow,
            http=SafeHTTPClient(
                policy=url_policy,
                limits=ClientLimits(total_timeout_s=20.0, max_response_bytes=2 * 1024 * 1024),
            ),
            embedders=embedders,
        )
        registry.add_queue(QueueSpec(name=KB_QUEUE, worker_concurrency=1))
        registry.add_handler(KB_INGEST_JOB, ingester.run)
        webhooks = WebhookDeliverer(
            uow=uow,
            client=SafeHTTPClient(
                policy=url_policy,
                limits=ClientLimits(total_timeout_s=settings.webhook_timeout_s),
            ),
            clock=overrides.webhook_clock or SystemClock(),
            schedule=overrides.webhook_schedule or RetrySchedule(),
        )
        registry.add_queue(
            QueueSpec(
                name=WEBHOOK_QUEUE,
                partition_concurrency=settings.webhook_endpoint_concurrency,
                # Each poll of a partitioned queue is several queries (four when idle): at
                # 0.05 s an idle server spent 15-20 % of a core polling, at 0.1 s 11.6 %.
                polling_interval_s=0.1,
            )
        )
        registry.add_handler(WEBHOOK_JOB, webhooks.run)
        # Built now, started below once every handler's service exists: DBOS resumes
        # recovered jobs the moment it launches.
        jobs = _job_runner(settings, registry, overrides)
        relay = WebhookRelay(
            uow=uow, enqueue=jobs.enqueue, interval_s=settings.webhook_relay_interval_s
        )
        events = CallEvents(recordings=recordings, base_url=settings.base_url(), wake=relay.wake)
        knowledge = KnowledgeBases(
            uow=uow,
            enqueue=jobs.enqueue,
            retriever=Retriever(uow=uow, embedders=embedders),
            url_policy=url_policy,
        )
        pacer = Pacer(
            uow=uow,
            enqueue=jobs.enqueue,
            backlog=settings.dispatch_backlog,
            workspace_default_cap=settings.workspace_max_concurrent_calls,
        )
        dispatcher = Dispatcher(
            uow=uow,
            enqueue=jobs.enqueue,
            backlog=settings.dispatch_backlog,
            workspace_default_cap=settings.workspace_max_concurrent_calls,
            stale_after_s=settings.stale_dispatch_s,
        )

        def line_freed(campaign_id: str | None) -> None:
            if campaign_id is None:
                dispatcher.wake()
            else:
                pacer.line_freed(campaign_id)

        dialer = Dialer(
            uow=uow,
            engines=engines,
            telephony=telephony,
            recordings=recordings,
            credits_per_minute=settings.credits_per_minute,
            enqueue=jobs.enqueue,
            ring_timeout_s=settings.ring_timeout_s,
            events=events,
            clock=await stack.enter_async_context(MediaClock.running()),
            knowledge=knowledge,
            line_freed=line_freed,
        )
        analyst = Analyst(uow=uow, engines=engines, events=events)
        inbound = InboundCalls(
            dialer=dialer, workspace_default_cap=settings.workspace_max_concurrent_calls
        )
        twilio.inbound = TwilioInbound(uow=uow, calls=inbound)
        await stack.enter_async_context(jobs)
        if settings.sip_inbound:
            await inbound.listen(telephony)  # each live SIP account's user agent answers
        await requeue_unfinished(uow, jobs.enqueue)
        await requeue_knowledge(uow, jobs.enqueue)
        dispatching = asyncio.create_task(dispatcher.run(), name="call-dispatcher")
        stack.push_async_callback(_cancel, dispatching)
        relaying = asyncio.create_task(relay.run(), name="webhook-relay")
        stack.push_async_callback(_cancel, relaying)
        rolling_up = asyncio.create_task(AnalyticsRollup(uow=uow).run(), name="analytics-rollup")
        stack.push_async_callback(_cancel, rolling_up)
        yield Container(
            settings=settings,
            engine=engine,
            uow=uow,
            rate_limiter=RateLimiter(
                rate_per_s=settings.rate_limit_per_s, burst=settings.rate_limit_burst
            ),
            voices=voices.installed(),
            voice_previews=VoicePreviews(cache_dir=settings.data_dir / "voice-previews"),
            recordings=recordings,
            jobs=jobs,
            telephony=telephony,
            dispatcher=dispatcher,
            pacer=pacer,
            webhooks=webhooks,
            webhook_relay=relay,
            web_calls=WebCalls(dialer=dialer),
            inbound=inbound,
            knowledge=knowledge,
            twilio=twilio,
        )


CANCEL_GRACE_S = 10.0


async def _cancel(task: asyncio.Task[None]) -> None:
    """Cancel a background loop and wait for it, but never hold up shutdown for long: a
    loop stuck in a driver call is left to the engine's disposal, which closes its sockets."""
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=CANCEL_GRACE_S)
    if not done:
        log.error("%s did not stop within %.0f s of cancel", task.get_name(), CANCEL_GRACE_S)
        return
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _job_runner(
    settings: Settings, registry: JobRegistry, overrides: Overrides
) -> DbosJobRunner | MemoryJobRunner:
    """The job runner, built but not started (``async with`` starts it)."""
    if overrides.memory_jobs:
        from callwright.jobs.memory import MemoryJobRunner

        return MemoryJobRunner(registry=registry)
    from callwright.jobs.dbos_runner import build_dbos_runner
    from callwright.jobs.dbos_system import DbosJobsConfig, system_database_url_for

    url = system_database_url_for(
        app_database_url=settings.database_url, data_dir=settings.data_dir
    )
    distributed = url.startswith("postgresql")
    role = "worker" if settings.run_jobs else "api"
    config = DbosJobsConfig(
        system_database_url=url,
        # Embedded: one process, and a restart under the same id resumes its work.
        executor_id=settings.worker_id
        or (f"{socket.gethostname()}-{role}" if distributed else "local"),
        application_version=settings.jobs_version,
        heartbeat_interval_s=settings.jobs_heartbeat_s,
        executor_silence_s=settings.jobs_silence_s,
        listen_queues=None if settings.run_jobs else (),  # API-only nodes just enqueue
    )
    return build_dbos_runner(config=config, registry=registry)
