"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``CRMGRAPH_TEST_POSTGRES_URL`` (``.ci/run`` creates a fresh database
per run); without it a fresh database is created on 127.0.0.1:5432 for this session and
dropped afterwards. If PostgreSQL cannot be reached the run fails: it never skips.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from crmgraph.persistence.migrate import upgrade
from crmgraph.persistence.tables import metadata
from crmgraph.persistence.unit_of_work import Database
from tests.world import World

ADMIN_URL = os.environ.get(
    "CRMGRAPH_TEST_POSTGRES_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    given = os.environ.get("CRMGRAPH_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    name = f"crmgraph_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required for the test suite and cannot be reached: {exc}")
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("db") / "crmgraph.db"
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session", params=BACKENDS)
async def migrated_db(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    url = request.getfixturevalue(f"{request.param}_url")
    db = Database.from_url(url)
    async with db.engine.connect() as conn:
        await conn.run_sync(upgrade)
        await conn.commit()
    yield db
    await db.dispose()


async def _empty(db: Database) -> None:
    names = [t.name for t in reversed(metadata.sorted_tables)]
    async with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        else:
            # Subgroups point at their parents with ON DELETE RESTRICT: unhook them first.
            await conn.execute(
                text("UPDATE groups SET parent_id = NULL, crm_source_group_id = NULL")
            )
            for name in names:
                await conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
async def db(migrated_db: Database) -> AsyncIterator[Database]:
    """A migrated, empty database; emptied again after the test."""
    await _empty(migrated_db)
    migrated_db.counter.reset()
    yield migrated_db
    # A connection still out now was lost by the code under test: the garbage collector
    # would report it much later, in whichever test happens to be running then.
    pool = migrated_db.engine.pool
    assert isinstance(pool, QueuePool)
    checked_out = pool.checkedout()
    assert checked_out == 0, f"{checked_out} connection(s) not returned to the pool"
    await _empty(migrated_db)


@pytest.fixture
def world(db: Database) -> World:
    return World(db)
