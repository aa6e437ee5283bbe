"""Engines for the two supported databases, with a statement counter for tests and benches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from crmgraph.persistence.driver import EagerReadConnection

SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+psycopg")


class DatabaseUrlError(ValueError):
    pass


def parse_database_url(url: str) -> URL:
    """A checked URL; a plain ``postgresql://`` is taken to mean psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError(f"Could not parse database URL {url!r}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    if parsed.drivername not in SUPPORTED_DRIVERS:
        raise DatabaseUrlError(
            f"Unsupported database URL {url!r}: use sqlite+aiosqlite:///PATH "
            "or postgresql+psycopg://USER@HOST/DB"
        )
    return parsed


@dataclass
class StatementCounter:
    """Counts SQL statements sent, so tests can assert that batching holds."""

    count: int = 0
    statements: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.count = 0
        self.statements.clear()


def create_engine(url: str, *, pool_size: int = 10) -> tuple[AsyncEngine, StatementCounter]:
    parsed = parse_database_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.drivername.startswith("postgresql"):
        # No pre-ping: it costs a round trip per checkout; dead connections are detected
        # when used (and the pool is invalidated then).
        kwargs.update(pool_size=pool_size, max_overflow=pool_size)
        # Reads, most of the work, need no transaction: connections autocommit from the
        # moment they open, which saves BEGIN and ROLLBACK round trips and a switch of
        # mode at every checkout and return (70 us each time). Transactions ask for
        # theirs (unit_of_work.Database.transaction).
        kwargs.update(isolation_level="AUTOCOMMIT")
        # Sessions in UTC: psycopg then reads times with ``timezone.utc`` rather than a
        # ``ZoneInfo`` of the server's zone, which it converts every value into and which
        # makes each answer's time cost another conversion (an issue page's 300 times:
        # 0.15 ms less to read). Times are stored with their zone; only their reading
        # changes.
        given = parsed.query.get("options") or ()
        options = " ".join([*([given] if isinstance(given, str) else given), "-c TimeZone=UTC"])
        kwargs.update(
            connect_args={"options": options, "async_creator_fn": EagerReadConnection.connect}
        )
    else:
        kwargs.update(connect_args={"timeout": 30})
    engine = create_async_engine(parsed, **kwargs)
    counter = StatementCounter()

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("BEGIN"):
            return
        counter.count += 1
        counter.statements.append(statement)
        if len(counter.statements) > 1000:
            del counter.statements[:500]

    if parsed.drivername.startswith("sqlite"):

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # Let SQLAlchemy, not the driver, decide when a transaction starts (below).
            dbapi_connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers take the lock up front, so two writers never deadlock upgrading it.
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

    return engine, counter
