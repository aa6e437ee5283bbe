"""The database handle: read connections, and the unit of work that alone commits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from crmgraph.persistence.engine import StatementCounter, create_engine


class DatabaseUnavailable(Exception):
    """The database could not be reached."""


class Database:
    def __init__(self, engine: AsyncEngine, counter: StatementCounter) -> None:
        self.engine = engine
        self.counter = counter
        # Reads need no transaction: on PostgreSQL, autocommit saves the BEGIN and the
        # ROLLBACK round trips that every checkout would otherwise cost.
        self.read_engine = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
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
            async with self.read_engine.connect() as conn:
                yield conn
        except (OperationalError, OSError) as exc:
            if _is_connection_failure(exc):
                raise DatabaseUnavailable(str(exc)) from exc
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction: committed when the block ends normally, rolled back otherwise."""
        try:
            async with self.engine.connect() as conn:
                conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
                async with conn.begin():
                    yield conn
        except (OperationalError, OSError) as exc:
            if _is_connection_failure(exc):
                raise DatabaseUnavailable(str(exc)) from exc
            raise

    async def ping(self) -> bool:
        try:
            async with self.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
        except (DatabaseUnavailable, DBAPIError):
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


def _is_connection_failure(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return True
    if isinstance(exc, OperationalError):
        return getattr(exc, "connection_invalidated", False) or "connect" in str(exc).lower()
    return False


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
