"""The ``callwright`` command: serve, migrate, keys."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any

from callwright.domain.errors import DomainError
from callwright.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        result: int = args.func(args)
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="callwright", description=__doc__)
    sub = parser.add_subparsers()

    serve = sub.add_parser("serve", help="migrate the database and serve the platform")
    serve.add_argument("--host", help="bind address (default: CALLWRIGHT_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: CALLWRIGHT_PORT or 8000)")
    serve.set_defaults(func=_serve)

    simulate = sub.add_parser("simulate", help="call a simulated callee with a stored assistant")
    simulate.add_argument("--agent", required=True, help="assistant id")
    simulate.add_argument("--persona", help="callee persona: a catalogue name or a description")
    simulate.add_argument("--to", default="+14155550100", help="callee number on the sim network")
    simulate.set_defaults(func=_simulate)

    worker = sub.add_parser("worker", help="run calls and analysis jobs (no HTTP)")
    worker.set_defaults(func=_worker)

    migrate = sub.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(func=_migrate)

    keys = sub.add_parser("keys", help="manage API keys").add_subparsers()
    create = keys.add_parser("create", help="create a key (printed once)")
    create.add_argument("--name", default="cli")
    create.add_argument("--workspace", help="workspace id (default: the first workspace)")
    create.set_defaults(func=_keys_create)
    keys.add_parser("list", help="list keys (hints only)").set_defaults(func=_keys_list)
    revoke = keys.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(func=_keys_revoke)
    return parser


async def first_start(settings: Settings) -> None:
    from callwright.bootstrap import database
    from callwright.db.engine import session_factory
    from callwright.services import workspaces

    async with database(settings) as engine:
        uow = session_factory(engine)
        init_key = settings.init_api_key.get_secret_value() if settings.init_api_key else None
        created = await workspaces.ensure_default(
            uow,
            init_api_key=init_key,
            credits=settings.default_credits,
            sim_number=settings.sim_number,
        )
    if created is not None and init_key is None:
        print(
            "Created the default workspace. Its API key (shown only this once):\n"
            f"\n    {created.api_key}\n\n"
            "Use it as the X-API-KEY header; `callwright keys create` makes more.",
            flush=True,
        )


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from callwright.api.app import create_app

    settings = Settings()
    asyncio.run(first_start(settings))
    uvicorn.run(
        create_app(settings, migrate=False, freeze_heap=True),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level="info",
    )
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from callwright.db.engine import create_engine, session_factory
    from callwright.db.migrate import upgrade
    from callwright.knowledge.retriever import EmbedderSource, Retriever
    from callwright.services.engines import RegistryEngines
    from callwright.services.simulation import simulate

    async def run() -> list[str]:
        settings = Settings()
        engine = create_engine(settings.resolved_database_url())
        try:
            await upgrade(engine)
            uow = session_factory(engine)
            embedders = EmbedderSource(enabled=settings.knowledge_dense)
            sim = await simulate(
                uow,
                RegistryEngines(),
                agent_id=args.agent,
                to_number=args.to,
                persona=args.persona,
                data_dir=settings.data_dir,
                knowledge=Retriever(uow=uow, embedders=embedders),
            )
        finally:
            await engine.dispose()
        return _simulation_lines(sim)

    print("\n".join(asyncio.run(run())), flush=True)
    return 0


def _simulation_lines(sim: Any) -> list[str]:
    report = sim.report
    if report.result is None:
        return [f"outcome: {report.outcome.value} ({report.detail})"]
    lines: list[str] = []
    latencies = iter(report.result.turn_latencies)
    for turn in report.result.transcript:
        role, text = next(iter(turn.items()))
        line = f"{role}: {text}"
        if role == "bot" and len(lines) > 0:
            t = next(latencies, None)
            if t is not None:
                line += (
                    f"    [stt {_ms(t.transcript_ms)}, llm {_ms(t.first_token_ms)}, "
                    f"tts {_ms(t.first_tts_audio_ms)}, out {_ms(t.first_audio_out_ms)}]"
                )
        lines.append(line)
    result = report.result
    lines.append(f"outcome: {result.end_reason.value} after {result.duration_s:.1f} s")
    return lines


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def _worker(_: argparse.Namespace) -> int:
    import signal

    from callwright.bootstrap import container
    from callwright.media.runtime import tune_gc_for_media

    async def run() -> None:
        async with container(Settings().model_copy(update={"run_jobs": True})):
            tune_gc_for_media()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            print("worker running; Ctrl-C stops it", flush=True)
            await stop.wait()

    asyncio.run(run())
    return 0


def _migrate(_: argparse.Namespace) -> int:
    from callwright.bootstrap import database

    async def run() -> None:
        async with database(Settings()):
            pass

    asyncio.run(run())
    print("database is up to date")
    return 0


def _keys_create(args: argparse.Namespace) -> int:
    from callwright.bootstrap import database
    from callwright.db.engine import session_factory
    from callwright.services import workspaces

    async def run() -> str:
        async with database(Settings()) as engine:
            uow = session_factory(engine)
            row, key = await workspaces.create_key(uow, args.workspace, args.name)
        return f"{row.id}  {key}"

    print(asyncio.run(run()))
    return 0


def _keys_list(_: argparse.Namespace) -> int:
    from callwright.bootstrap import database
    from callwright.db.engine import session_factory
    from callwright.services import workspaces

    async def run() -> list[str]:
        async with database(Settings()) as engine:
            uow = session_factory(engine)
            rows = await workspaces.list_keys(uow)
        return [
            f"{r.id}  {r.hint:<16} {r.name:<12} workspace={r.workspace_id} "
            f"{'revoked' if r.revoked_at else 'active'}"
            for r in rows
        ]

    print("\n".join(asyncio.run(run())) or "no keys")
    return 0


def _keys_revoke(args: argparse.Namespace) -> int:
    from callwright.bootstrap import database
    from callwright.db.engine import session_factory
    from callwright.services import workspaces

    async def run() -> None:
        async with database(Settings()) as engine:
            uow = session_factory(engine)
            await workspaces.revoke_key(uow, args.key_id)

    asyncio.run(run())
    print(f"revoked {args.key_id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
