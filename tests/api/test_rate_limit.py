"""Guessing tokens: failed authentications are limited per client address."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from crmgraph.app import create_app
from crmgraph.ratelimit import FailedAttempts
from crmgraph.settings import Settings
from tests.world import SECRET, World

WHO = {"query": "{ currentUser { username } }"}
TOO_MANY = {"errors": [{"message": "Too many failed attempts"}]}
INVALID = {"errors": [{"message": "Invalid token"}]}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def ask(
    app: Any, token: str | None, address: str = "203.0.113.7", *, header: str = "Authorization"
) -> httpx.Response:
    headers = {}
    if token is not None:
        headers[header] = f"Bearer {token}" if header == "Authorization" else token
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://crmgraph.test") as client:
        return await client.post("/api/graphql", json=WHO, headers=headers)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(world: World, clock: Clock) -> Any:
    built = create_app(Settings(secret=SECRET, token_cache_seconds=0), db=world.db)
    built.state.failed_attempts.clock = clock
    return built


async def test_the_eleventh_bad_token_in_a_minute_is_429(app: Any, clock: Clock) -> None:
    for attempt in range(10):
        response = await ask(app, f"crmpat-guess-{attempt}")
        assert (response.status_code, response.json()) == (401, INVALID)
        clock.now += 1
    refused = await ask(app, "crmpat-guess-10")
    assert (refused.status_code, refused.json()) == (429, TOO_MANY)
    # The first failure leaves the window 60 s after it was made: 50 s from now.
    assert refused.headers["retry-after"] == "50"


async def test_while_blocked_even_the_right_token_is_refused(
    world: World, app: Any, clock: Clock
) -> None:
    token = await world.token(await world.user("ann"))
    for attempt in range(10):
        await ask(app, f"crmpat-guess-{attempt}")
    assert (await ask(app, token)).status_code == 429
    clock.now += 61
    response = await ask(app, token)
    assert response.json() == {"data": {"currentUser": {"username": "ann"}}}


async def test_other_addresses_and_anonymous_requests_are_not_limited(app: Any) -> None:
    for attempt in range(10):
        await ask(app, f"crmpat-guess-{attempt}")
    assert (await ask(app, "crmpat-guess")).status_code == 429
    assert (await ask(app, "crmpat-guess", address="198.51.100.9")).status_code == 401
    assert (await ask(app, None)).json() == {"data": {"currentUser": None}}


async def test_successful_requests_are_not_counted(world: World, app: Any) -> None:
    token = await world.token(await world.user("ann"))
    for _ in range(30):
        assert (await ask(app, token)).status_code == 200
    for attempt in range(10):
        assert (await ask(app, f"crmpat-guess-{attempt}")).status_code == 401
    assert (await ask(app, token)).status_code == 429


async def test_private_token_headers_count_too(app: Any) -> None:
    for attempt in range(10):
        response = await ask(app, f"crmpat-guess-{attempt}", header="PRIVATE-TOKEN")
        assert response.status_code == 401
    assert (await ask(app, "crmpat-x", header="PRIVATE-TOKEN")).status_code == 429


async def test_the_rest_autocomplete_route_is_limited_too(app: Any) -> None:
    for attempt in range(10):
        await ask(app, f"crmpat-guess-{attempt}")
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://crmgraph.test") as client:
        response = await client.get(
            "/acme/web/-/autocomplete_sources/contacts",
            headers={"Authorization": "Bearer crmpat-guess"},
        )
    assert (response.status_code, response.json()) == (429, TOO_MANY)


async def test_the_limit_and_window_are_settings(world: World) -> None:
    settings = Settings(
        secret=SECRET, token_cache_seconds=0, auth_failure_limit=2, auth_failure_window_seconds=5
    )
    app = create_app(settings, db=world.db)
    assert [(await ask(app, "crmpat-x")).status_code for _ in range(3)] == [401, 401, 429]
    unlimited = create_app(Settings(secret=SECRET, auth_failure_limit=0), db=world.db)
    assert {(await ask(unlimited, "crmpat-x")).status_code for _ in range(15)} == {401}
    assert Settings.from_env({"CRMGRAPH_AUTH_FAILURE_LIMIT": "3"}).auth_failure_limit == 3


def test_failures_leave_the_window_one_by_one() -> None:
    clock = Clock()
    limiter = FailedAttempts(3, 60, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("a") is None
        limiter.failed("a")
        clock.now += 10
    assert limiter.retry_after("a") == 30
    clock.now += 30  # the first failure has left the window
    assert limiter.retry_after("a") is None
    limiter.failed("a")
    assert limiter.retry_after("a") == 10


def test_memory_stays_bounded_under_a_flood_of_addresses() -> None:
    clock = Clock()
    limiter = FailedAttempts(3, 60, clock=clock, max_addresses=100)
    for n in range(1000):
        limiter.failed(f"10.0.{n // 256}.{n % 256}")
        assert len(limiter._failures) <= 100
    for n in range(100 - len(limiter._failures)):
        limiter.failed(f"10.1.0.{n}")
    clock.now += 61
    # A full table first forgets the addresses whose failures have all left the window.
    limiter.failed("10.9.9.9")
    assert list(limiter._failures) == ["10.9.9.9"]
