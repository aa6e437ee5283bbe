"""``crmgraph``: serve, migrate, seed, manage users and tokens, export the schema."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError

from crmgraph.domain.users import Scope
from crmgraph.mutations import accounts
from crmgraph.persistence.engine import DatabaseUrlError, parse_database_url
from crmgraph.persistence.unit_of_work import Database, DatabaseUnavailable
from crmgraph.settings import Settings


class CliError(Exception):
    """Printed as one line on stderr, with exit status 1."""


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env().with_database(getattr(args, "database_url", None))
    try:
        parse_database_url(settings.database_url)
    except DatabaseUrlError as exc:
        raise CliError(str(exc)) from None
    sqlite_file = settings.sqlite_file()
    if sqlite_file is not None:
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    return settings


def _run_db(settings: Settings, work: Callable[[Database], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        db = Database.from_url(settings.database_url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(main())


def _now() -> datetime:
    return datetime.now(UTC)


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from crmgraph import serving

    settings = _settings(args)
    os.environ["CRMGRAPH_DATABASE_URL"] = settings.database_url
    # The workers read their settings from the environment: --log-level reaches our own
    # loggers (the access log among them) as well as uvicorn's.
    level = args.log_level or settings.log_level.lower()
    os.environ["CRMGRAPH_LOG_LEVEL"] = level.upper()
    settings.token_secret()  # made once here, so that every worker reads the same file
    config = {
        "app": "crmgraph.app:app_from_env",
        "factory": True,
        "host": args.host,
        "port": args.port,
        "loop": "uvloop",
        "http": "httptools",
        "log_level": level,
    }
    if args.workers > 1 and serving.reuse_port_supported():
        # One listening socket per worker: see crmgraph/serving.py.
        try:
            supervisor = serving.Supervisor(config, args.workers)
        except OSError as exc:
            raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
        supervisor.run()
        return
    uvicorn.run(**config, workers=args.workers)


def cmd_migrate(args: argparse.Namespace) -> None:
    from crmgraph.persistence.migrate import upgrade_url

    settings = _settings(args)
    upgrade_url(settings.database_url)
    print(f"migrated {_redact(settings.database_url)} to the latest revision")


def cmd_seed(args: argparse.Namespace) -> None:
    from crmgraph import seed

    settings = _settings(args)
    secret = settings.token_secret()

    async def work(db: Database) -> seed.DemoTokens:
        if await seed.is_empty(db):
            await seed.load_demo_world(db)
            print("loaded the demo world (group acme, projects acme/web, acme/support/helpdesk)")
        else:
            print("the database already has data: kept as it is")
        return await seed.issue_demo_tokens(db, secret, _now())

    if args.bench:
        _seed_bench(settings, args.scale)
        return
    if not args.demo:
        raise CliError("nothing to seed: pass --demo or --bench")
    tokens = _run_db(settings, work)
    print("\nDemo tokens (send as 'Authorization: Bearer <token>'):")
    for issued in tokens.tokens:
        print(f"  {issued.user.username:<11} {issued.token}")


def _seed_bench(settings: Settings, scale: float) -> None:
    from crmgraph import bench_seed

    if scale <= 0:
        raise CliError("--scale must be positive")

    async def work(db: Database) -> dict[str, Any] | None:
        if await bench_seed.bench_exists(db):
            return None
        return await bench_seed.load_bench(db, scale)

    counts = _run_db(settings, work)
    if counts is None:
        print(f"group {bench_seed.ROOT!r} exists already: kept as it is")
    else:
        print("loaded benchmark data: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def cmd_users_create(args: argparse.Namespace) -> None:
    settings = _settings(args)
    user = _run_db(
        settings,
        lambda db: accounts.create_user(
            db,
            username=args.username,
            name=args.name,
            email=args.email,
            admin=args.admin,
            now=_now(),
        ),
    )
    print(f"created user {user.username} (id {user.id}{', admin' if user.admin else ''})")


def _expiry(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise CliError(f"--expires-at takes a date like 2027-01-31, not {value!r}") from None
    return datetime.combine(day, time.min, tzinfo=UTC)


def cmd_tokens_create(args: argparse.Namespace) -> None:
    settings = _settings(args)
    issued = _run_db(
        settings,
        lambda db: accounts.issue_token(
            db,
            username=args.username,
            secret=settings.token_secret(),
            scope=Scope(args.scope),
            name=args.name,
            expires_at=_expiry(args.expires_at),
            now=_now(),
        ),
    )
    print(issued.token)
    print(
        f"token {issued.record.id} for {issued.user.username}, scope {args.scope}; "
        "it is shown only now",
        file=sys.stderr,
    )


def cmd_tokens_revoke(args: argparse.Namespace) -> None:
    settings = _settings(args)
    target = args.token
    by_id = target.isdigit()
    revoked = _run_db(
        settings,
        lambda db: accounts.revoke_token(
            db,
            token_id=int(target) if by_id else None,
            token=None if by_id else target,
            secret=settings.token_secret(),
            now=_now(),
        ),
    )
    print(f"revoked token {revoked.id}")


def cmd_schema_export(args: argparse.Namespace) -> None:
    from crmgraph.schema.root import build_schema

    print(build_schema().as_str())


def cmd_quick_actions_parse(args: argparse.Namespace) -> None:
    from crmgraph.domain.quick_actions import parse_quick_actions, to_dict

    text = args.text if args.text is not None else sys.stdin.read()
    print(json.dumps(to_dict(parse_quick_actions(text)), indent=2, ensure_ascii=False))


def _redact(url: str) -> str:
    return parse_database_url(url).render_as_string(hide_password=True)


LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crmgraph", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--database-url", help="default: $CRMGRAPH_DATABASE_URL or var/crmgraph.db")
        return p

    serve = with_db(sub.add_parser("serve", help="serve GraphQL and GraphiQL over HTTP"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--log-level",
        type=str.lower,
        choices=LOG_LEVELS,
        help="for crmgraph's logs and uvicorn's (default: $CRMGRAPH_LOG_LEVEL or info)",
    )
    serve.set_defaults(func=cmd_serve)

    with_db(sub.add_parser("migrate", help="upgrade the database to the latest revision"))
    sub.choices["migrate"].set_defaults(func=cmd_migrate)

    seed = with_db(sub.add_parser("seed", help="load demo data and print demo tokens"))
    seed.add_argument("--demo", action="store_true", help="the demo company (if empty)")
    seed.add_argument("--bench", action="store_true", help="benchmark data (group 'bench')")
    seed.add_argument("--scale", type=float, default=1.0, help="benchmark size (1: 10k contacts)")
    seed.set_defaults(func=cmd_seed)

    users = sub.add_parser("users", help="manage users").add_subparsers(
        dest="action", required=True
    )
    create = with_db(users.add_parser("create", help="create a user"))
    create.add_argument("username")
    create.add_argument("--name")
    create.add_argument("--email")
    create.add_argument("--admin", action="store_true")
    create.set_defaults(func=cmd_users_create)

    tokens = sub.add_parser("tokens", help="personal access tokens").add_subparsers(
        dest="action", required=True
    )
    token_create = with_db(tokens.add_parser("create", help="create a token; prints it once"))
    token_create.add_argument("username")
    token_create.add_argument("--scope", choices=[s.value for s in Scope], default="api")
    token_create.add_argument("--expires-at", help="expiry date, YYYY-MM-DD")
    token_create.add_argument("--name", default="cli")
    token_create.set_defaults(func=cmd_tokens_create)
    revoke = with_db(tokens.add_parser("revoke", help="revoke a token by id or by its value"))
    revoke.add_argument("token", help="token id (number) or the token itself")
    revoke.set_defaults(func=cmd_tokens_revoke)

    schema = sub.add_parser("schema", help="the GraphQL schema").add_subparsers(
        dest="action", required=True
    )
    schema.add_parser("export", help="print the SDL").set_defaults(func=cmd_schema_export)

    quick = sub.add_parser("quick-actions", help="quick actions").add_subparsers(
        dest="action", required=True
    )
    parse = quick.add_parser("parse", help="parse text (argument or stdin) and print JSON")
    parse.add_argument("text", nargs="?")
    parse.set_defaults(func=cmd_quick_actions_parse)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (CliError, accounts.AccountError) as exc:
        print(f"crmgraph: {exc}", file=sys.stderr)
        return 1
    except (DatabaseUnavailable, OperationalError, DBAPIError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        print(f"crmgraph: cannot use the database: {reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
