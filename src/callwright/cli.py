"""The ``callwright`` command: serve, migrate, keys."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

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


async def _first_start(settings: Settings) -> None:
    from callwright.bootstrap import container
    from callwright.services import workspaces

    async with container(settings) as c:
        init_key = settings.init_api_key.get_secret_value() if settings.init_api_key else None
        created = await workspaces.ensure_default(
            c.uow,
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
    asyncio.run(_first_start(settings))
    uvicorn.run(
        create_app(settings, migrate=False),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level="info",
    )
    return 0


def _migrate(_: argparse.Namespace) -> int:
    from callwright.bootstrap import container

    async def run() -> None:
        async with container(Settings()):
            pass

    asyncio.run(run())
    print("database is up to date")
    return 0


def _keys_create(args: argparse.Namespace) -> int:
    from callwright.bootstrap import container
    from callwright.services import workspaces

    async def run() -> str:
        async with container(Settings()) as c:
            row, key = await workspaces.create_key(c.uow, args.workspace, args.name)
        return f"{row.id}  {key}"

    print(asyncio.run(run()))
    return 0


def _keys_list(_: argparse.Namespace) -> int:
    from callwright.bootstrap import container
    from callwright.services import workspaces

    async def run() -> list[str]:
        async with container(Settings()) as c:
            rows = await workspaces.list_keys(c.uow)
        return [
            f"{r.id}  {r.hint:<16} {r.name:<12} workspace={r.workspace_id} "
            f"{'revoked' if r.revoked_at else 'active'}"
            for r in rows
        ]

    print("\n".join(asyncio.run(run())) or "no keys")
    return 0


def _keys_revoke(args: argparse.Namespace) -> int:
    from callwright.bootstrap import container
    from callwright.services import workspaces

    async def run() -> None:
        async with container(Settings()) as c:
            await workspaces.revoke_key(c.uow, args.key_id)

    asyncio.run(run())
    print(f"revoked {args.key_id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
