"""The database away: 503 quickly, readiness fails, and the service recovers by itself."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from crmgraph.app import create_app, database_url
from crmgraph.domain.roles import AccessLevel
from crmgraph.persistence.unit_of_work import Database
from crmgraph.settings import Settings
from tests.world import SECRET, World

UNAVAILABLE = {"errors": [{"message": "Service unavailable: the database cannot be reached"}]}
CLOSED_PORT = "postgresql+psycopg://postgres@127.0.0.1:1/nothing"
GROUP = '{ group(fullPath: "acme") { fullPath } }'
#: What "quickly" means here: refused connections fail at once, far below this.
QUICK = 2.0
APP_NAME = "crmgraph-terminate-test"


async def call(
    app: object, method: str, path: str, *, token: str | None = None, query: str | None = None
) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://crmgraph.test") as client:
        if query is None:
            return await client.request(method, path, headers=headers)
        return await client.request(method, path, headers=headers, json={"query": query})


@pytest.fixture
async def dead() -> AsyncIterator[Database]:
    db = Database.from_url(database_url(Settings(database_url=CLOSED_PORT)))
    yield db
    await db.dispose()


async def test_an_anonymous_query_answers_503_quickly(dead: Database) -> None:
    app = create_app(Settings(secret="s"), db=dead)
    started = time.monotonic()
    response = await call(app, "POST", "/api/graphql", query=GROUP)
    assert time.monotonic() - started < QUICK
    assert (response.status_code, response.json()) == (503, UNAVAILABLE)


async def test_a_token_that_cannot_be_checked_answers_503(dead: Database) -> None:
    app = create_app(Settings(secret="s"), db=dead)
    response = await call(app, "POST", "/api/graphql", token="crmpat-x", query=GROUP)
    assert (response.status_code, response.json()) == (503, UNAVAILABLE)


async def test_rest_routes_answer_503_too(dead: Database) -> None:
    app = create_app(Settings(secret="s"), db=dead)
    response = await call(app, "GET", "/acme/web/-/autocomplete_sources/contacts", token="t")
    assert (response.status_code, response.json()) == (503, UNAVAILABLE)
    readiness = await call(app, "GET", "/-/readiness")
    assert readiness.status_code == 503
    assert (await call(app, "GET", "/-/health")).status_code == 200


async def test_a_batch_answers_503_as_a_whole(dead: Database) -> None:
    app = create_app(Settings(secret="s"), db=dead)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t.test") as client:
        response = await client.post(
            "/api/graphql", json=[{"query": "{ __typename }"}, {"query": GROUP}]
        )
    assert (response.status_code, response.json()) == (503, UNAVAILABLE)


def test_postgresql_urls_get_a_short_connect_timeout_and_a_statement_timeout() -> None:
    url = make_url(database_url(Settings(database_url=CLOSED_PORT, request_timeout_seconds=30)))
    assert url.query["connect_timeout"] == "3"
    assert url.query["options"] == "-c statement_timeout=31000"
    mine = "postgresql+psycopg://u@h/db?connect_timeout=9&options=-c%20search_path%3Dx"
    kept = make_url(database_url(Settings(database_url=mine)))
    assert (kept.query["connect_timeout"], kept.query["options"]) == ("9", "-c search_path=x")
    assert database_url(Settings(database_url="sqlite+aiosqlite:///x.db")).endswith("x.db")


class Proxy:
    """A TCP relay in front of PostgreSQL that can be stopped and started again: stopping
    it is PostgreSQL going away (open connections drop, new ones are refused)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.close()
        await self.server.wait_closed()
        self.writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
        except OSError:
            writer.close()
            return
        self.writers.update((writer, upstream_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


async def test_postgresql_going_away_and_coming_back_needs_no_restart(world: World) -> None:
    if world.db.dialect != "postgresql":
        pytest.skip("a server that goes away is PostgreSQL's case")
    acme = await world.group("acme")
    owner = await world.user("owner")
    await world.member(acme, owner, AccessLevel.OWNER)
    token = await world.token(owner)
    real = make_url(world.db.engine.url)
    proxy = Proxy(real.port or 5432)
    await proxy.start()
    through = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    db = Database.from_url(database_url(Settings(database_url=through)))
    app = create_app(Settings(secret=SECRET, token_cache_seconds=0), db=db)
    try:
        up = await call(app, "POST", "/api/graphql", token=token, query=GROUP)
        assert up.json() == {"data": {"group": {"fullPath": "acme"}}}

        await proxy.stop()
        for _ in range(3):
            started = time.monotonic()
            down = await call(app, "POST", "/api/graphql", token=token, query=GROUP)
            assert time.monotonic() - started < QUICK
            assert (down.status_code, down.json()) == (503, UNAVAILABLE)
        assert (await call(app, "GET", "/-/readiness")).status_code == 503

        await proxy.start()  # same port: PostgreSQL is back
        assert (await call(app, "GET", "/-/readiness")).status_code == 200
        back = await call(app, "POST", "/api/graphql", token=token, query=GROUP)
        assert back.json() == {"data": {"group": {"fullPath": "acme"}}}
    finally:
        await db.dispose()
        with contextlib.suppress(Exception):
            await proxy.stop()


async def test_terminated_connections_are_replaced_by_the_pool(world: World) -> None:
    if world.db.dialect != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    acme = await world.group("acme")
    owner = await world.user("owner")
    await world.member(acme, owner, AccessLevel.OWNER)
    token = await world.token(owner)
    # Named, so that only this pool's connections are terminated, not the suite's.
    named = make_url(world.db.engine.url).update_query_dict({"application_name": APP_NAME})
    url = named.render_as_string(hide_password=False)
    db = Database.from_url(database_url(Settings(database_url=url)))
    app = create_app(Settings(secret=SECRET, token_cache_seconds=0), db=db)
    try:
        # Several requests at once, so that the pool holds several connections.
        warm = await asyncio.gather(
            *(call(app, "POST", "/api/graphql", token=token, query=GROUP) for _ in range(4))
        )
        assert {r.status_code for r in warm} == {200}
        async with world.db.connect() as conn:
            killed = await conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND application_name = :name"
                ),
                {"name": APP_NAME},
            )
            assert killed.scalar_one() >= 1
        # The dead connections are found when used, and the query runs once more on
        # fresh ones: the client never notices.
        for _ in range(3):
            response = await call(app, "POST", "/api/graphql", token=token, query=GROUP)
            assert response.json() == {"data": {"group": {"fullPath": "acme"}}}
    finally:
        await db.dispose()


async def test_a_mutation_that_meets_a_dead_connection_is_not_run_again(world: World) -> None:
    if world.db.dialect != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    owner = await world.user("owner")
    token = await world.token(owner)
    named = make_url(world.db.engine.url).update_query_dict({"application_name": APP_NAME})
    db = Database.from_url(database_url(Settings(database_url=named.render_as_string(False))))
    app = create_app(Settings(secret=SECRET, token_cache_seconds=0), db=db)
    create = 'mutation { groupCreate(input: {path: "globex", name: "Globex"}) { errors } }'
    try:
        assert (await call(app, "POST", "/api/graphql", token=token, query=GROUP)).is_success
        async with world.db.connect() as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = :name"
                ),
                {"name": APP_NAME},
            )
        first = await call(app, "POST", "/api/graphql", token=token, query=create)
        assert (first.status_code, first.json()) == (503, UNAVAILABLE)
        again = await call(app, "POST", "/api/graphql", token=token, query=create)
        assert again.json() == {"data": {"groupCreate": {"errors": []}}}
    finally:
        await db.dispose()
