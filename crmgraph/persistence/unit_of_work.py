"""The database handle: read connections, and the unit of work that alone commits."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from crmgraph.domain.errors import InvalidArgument, PublicError
from crmgraph.persistence.engine import StatementCounter, create_engine

T = TypeVar("T")

#: serialization_failure and deadlock_detected: PostgreSQL rolled the transaction back
#: and says that running it again may well succeed.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
WRITE_CONFLICT = "The change conflicted with concurrent changes and was not saved; try again"
UNSTORABLE_TEXT = "Text must not contain NUL characters or unpaired surrogates"
SEARCH_TOO_LONG = "The search text is too long"


class DatabaseUnavailable(Exception):
    """The database could not be reached."""


class WriteConflict(PublicError):
    """A transaction was rolled back for a serialization failure or a deadlock.

    Nothing was written. ``Database.run_in_transaction`` runs the work again a few
    times; only when every attempt conflicts does this reach the client, with a message
    that names no database internals.
    """

    def __init__(self) -> None:
        super().__init__(WRITE_CONFLICT)


class UnstorableText(InvalidArgument):
    """Text the database cannot store (NUL on PostgreSQL; lone surrogates on both)."""

    def __init__(self) -> None:
        super().__init__(UNSTORABLE_TEXT)


class SearchTooLong(InvalidArgument):
    """A search pattern past what the database accepts (SQLite: 50,000 bytes for LIKE)."""

    def __init__(self) -> None:
        super().__init__(SEARCH_TOO_LONG)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a conflicting unit of work is run again."""

    attempts: int = 5
    base_delay: float = 0.005
    max_delay: float = 0.25

    def delay(self, attempt: int) -> float:
        """Full jitter: colliding writers that slept the same time would collide again."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


class Database:
    def __init__(
        self, engine: AsyncEngine, counter: StatementCounter, retry: RetryPolicy | None = None
    ) -> None:
        self.engine = engine
        self.counter = counter
        self.retry = retry or RetryPolicy()
        #: Units of work run again after a conflict, since start (tests and metrics).
        self.retries = 0
        # On PostgreSQL the engine's connections autocommit (persistence/engine.py); a
        # transaction switches its connection for as long as it holds it.
        self._transaction_options: dict[str, Any] = (
            {"isolation_level": "READ COMMITTED"}
            if engine.dialect.name == "postgresql"
            else {"sqlite_begin": "IMMEDIATE"}
        )

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = 10) -> Database:
        engine, counter = create_engine(url, pool_size=pool_size)
        return cls(engine, counter)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads; each dataloader batch takes its own."""
        try:
            async with self.engine.connect() as conn:
                yield conn
        except (OSError, DBAPIError, UnicodeEncodeError) as exc:
            ours = _translated(exc)
            if ours is None:
                raise
            raise ours from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction: committed when the block ends normally, rolled back otherwise.

        A serialization failure or deadlock leaves as ``WriteConflict``; use
        ``run_in_transaction`` to have such work run again.
        """
        try:
            async with self.engine.connect() as conn:
                conn = await conn.execution_options(**self._transaction_options)
                async with conn.begin():
                    yield conn
        except (OSError, DBAPIError, UnicodeEncodeError) as exc:
            ours = _translated(exc)
            if ours is None:
                raise
            raise ours from exc

    async def run_in_transaction(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """``work`` in one transaction, run again (whole) when it loses a conflict.

        ``work`` may be called several times, each time on a fresh transaction: it must
        keep its results in what it returns, not in state outside that outlives an
        attempt. A connection failure is never retried here: a COMMIT that failed may
        still have been applied, and running the work again could apply it twice.
        """
        attempt = 1
        while True:
            try:
                async with self.transaction() as conn:
                    return await work(conn)
            except WriteConflict:
                if attempt >= self.retry.attempts:
                    raise
            self.retries += 1
            await asyncio.sleep(self.retry.delay(attempt))
            attempt += 1

    async def ping(self) -> bool:
        try:
            async with self.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
        except (DatabaseUnavailable, DBAPIError):
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


def _translated(exc: Exception) -> Exception | None:
    """The exception of ours that a failure in a connection block becomes, if any."""
    if _is_connection_failure(exc):
        return DatabaseUnavailable(str(exc))
    if is_retryable(exc):
        return WriteConflict()
    if _is_unstorable_text(exc):
        return UnstorableText()
    if isinstance(exc, OperationalError) and "pattern too complex" in str(exc.orig):
        return SearchTooLong()
    return None


def _is_connection_failure(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError) and "connect" in str(exc).lower()


def is_retryable(exc: BaseException) -> bool:
    """A serialization failure or deadlock: the database rolled back, try again."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    return getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def _is_unstorable_text(exc: BaseException) -> bool:
    # Both are raised by the driver while binding parameters, before anything is sent:
    # psycopg refuses NUL in text, and neither driver can encode a lone surrogate.
    if isinstance(exc, UnicodeEncodeError):
        return True
    return isinstance(exc, DBAPIError) and "NUL (0x00)" in str(exc.orig)


async def write_one(
    conn: AsyncConnection,
    stmt: Any,
    clash: Callable[[], Exception],
    index_name: str | None = None,
) -> Any:
    """Run an insert/update returning one row, in a savepoint; a unique-constraint failure
    (of ``index_name``, when given) raises ``clash()``: the database's own check, so
    concurrent writers cannot both get through."""
    try:
        async with conn.begin_nested():
            return (await conn.execute(stmt)).one()
    except IntegrityError as exc:
        if is_unique_violation(exc, index_name):
            raise clash() from exc
        raise


def is_unique_violation(exc: IntegrityError, index_name: str | None = None) -> bool:
    """Whether ``exc`` is a unique-constraint failure (optionally of one index)."""
    text = str(exc.orig).lower()
    unique = "unique" in text or "duplicate key" in text
    if not unique or index_name is None:
        return unique
    return index_name.lower() in text or _sqlite_index_columns_match(text, index_name)


def _sqlite_index_columns_match(text: str, index_name: str) -> bool:
    # SQLite names the columns ("index 'ix_...'" for expression indexes), not the constraint.
    return f"index '{index_name.lower()}'" in text
