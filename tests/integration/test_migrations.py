"""The Alembic chain builds exactly the tables the code declares, on both databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from crmgraph.persistence.migrate import downgrade, upgrade
from crmgraph.persistence.tables import metadata
from crmgraph.persistence.unit_of_work import Database

ADMIN_URL = os.environ.get(
    "CRMGRAPH_TEST_POSTGRES_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# SQLite cannot reflect expression indexes, and the trigram indexes are PostgreSQL-only
# and not declared in the tables; both are checked by name instead.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression"),
]
EXPRESSION_INDEXES = {
    "ix_users_lower_username",
    "ix_groups_lower_full_path",
    "ix_projects_lower_full_path",
    "ix_customer_relations_organizations_group_id_lower_name",
    "ix_customer_relations_contacts_group_id_lower_email",
}


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('mig')}/m.db")
        yield db
        await db.dispose()
        return
    name = f"crmgraph_migration_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db = Database.from_url(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    yield db
    await db.dispose()
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# The search indexes of migrations 0002 to 0006 and the stored search text of 0006
# (PostgreSQL only, not declared in tables.py).
SEARCH_INDEXES = ("ix_trgm_", "ix_grams_")
SEARCH_TEXT = "search_text"


def _drift(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return [
        diff
        for diff in compare_metadata(context, metadata)
        if not (
            isinstance(diff, tuple)
            and diff[0] in ("add_index", "remove_index")
            and (diff[1].name in EXPRESSION_INDEXES or diff[1].name.startswith(SEARCH_INDEXES))
        )
        and not (
            isinstance(diff, tuple) and diff[0] == "remove_column" and diff[3].name == SEARCH_TEXT
        )
    ]


def _index_names(conn: Connection) -> set[str]:
    # Read from the catalog: SQLite's inspector leaves expression indexes out.
    if conn.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        sql = "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
    return {row[0] for row in conn.exec_driver_sql(sql)}


def _table_names(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) - {"alembic_version"}


async def test_upgrade_to_head_matches_the_declared_tables(empty_db: Database) -> None:
    async with empty_db.engine.connect() as conn:
        await conn.run_sync(upgrade)
        await conn.commit()
        assert await conn.run_sync(_drift) == []
        assert await conn.run_sync(_table_names) == set(metadata.tables)
        assert await conn.run_sync(_index_names) >= EXPRESSION_INDEXES


async def test_downgrade_to_base_removes_every_table(empty_db: Database) -> None:
    async with empty_db.engine.connect() as conn:
        await conn.run_sync(upgrade)
        await conn.commit()
        await conn.run_sync(downgrade)
        await conn.commit()
        assert await conn.run_sync(_table_names) == set()
