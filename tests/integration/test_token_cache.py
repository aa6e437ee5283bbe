"""The token cache spares the lookup, but never outlives revocation by more than its time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crmgraph.context import TokenCache, authenticate
from crmgraph.domain.users import token_digest
from crmgraph.mutations.accounts import revoke_token
from crmgraph.persistence.unit_of_work import Database
from tests.world import SECRET, World


async def test_a_cached_token_needs_no_database_lookup(world: World, db: Database) -> None:
    token = await world.token(await world.user("cara"))
    cache = TokenCache(seconds=60)
    first = await authenticate(db, SECRET, token, datetime.now(UTC), cache)
    db.counter.reset()
    again = await authenticate(db, SECRET, token, datetime.now(UTC), cache)
    assert first is not None and again == first
    assert db.counter.count == 0


async def test_revocation_shows_once_the_cache_time_has_passed(world: World, db: Database) -> None:
    token = await world.token(await world.user("dora"))
    cache = TokenCache(seconds=0.05)
    assert await authenticate(db, SECRET, token, datetime.now(UTC), cache) is not None
    await revoke_token(db, token=token, secret=SECRET, now=world.now())
    stale = cache.get(token_digest(token, SECRET))
    assert stale is not None  # within the cache time the old answer may still be used
    cache._entries[token_digest(token, SECRET)] = (0.0, *stale)  # the time has passed
    assert await authenticate(db, SECRET, token, datetime.now(UTC), cache) is None


async def test_expiry_is_checked_even_for_a_cached_token(world: World, db: Database) -> None:
    expires = datetime.now(UTC) + timedelta(hours=1)
    token = await world.token(await world.user("emil"), expires_at=expires)
    cache = TokenCache(seconds=60)
    assert await authenticate(db, SECRET, token, datetime.now(UTC), cache) is not None
    later = expires + timedelta(seconds=1)
    assert await authenticate(db, SECRET, token, later, cache) is None


async def test_unknown_tokens_are_not_cached(world: World, db: Database) -> None:
    cache = TokenCache(seconds=60)
    assert await authenticate(db, SECRET, "crmpat-nope", datetime.now(UTC), cache) is None
    assert cache.get(token_digest("crmpat-nope", SECRET)) is None


def test_a_zero_time_cache_keeps_nothing() -> None:
    cache = TokenCache(seconds=0)
    cache.put("digest", object(), object())  # type: ignore[arg-type]
    assert cache.get("digest") is None
