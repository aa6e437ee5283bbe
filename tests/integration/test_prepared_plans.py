"""Which statements PostgreSQL keeps one plan for once psycopg has prepared them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from crmgraph.domain.pagination import PageArgs
from crmgraph.persistence import contacts as contacts_repo
from crmgraph.persistence.unit_of_work import Database
from tests.plans import contacts_by_name
from tests.world import World

#: psycopg prepares a statement at its fifth run; PostgreSQL weighs a generic plan after
#: five custom ones.
RUNS = 15


async def _generic_plans(db: Database, work: Any) -> dict[str, int]:
    """Run ``work(conn)`` RUNS times on one connection; its prepared statements' generic
    plans, by statement text."""
    url = db.engine.url.render_as_string(hide_password=False)
    private = Database.from_url(url, pool_size=1)
    try:
        async with private.connect() as conn:
            for _ in range(RUNS):
                await work(conn)
            rows = await conn.execute(
                text("SELECT statement, generic_plans FROM pg_prepared_statements")
            )
            return {statement: plans for statement, plans in rows}
    finally:
        await private.dispose()


async def test_a_contact_list_without_words_keeps_one_plan(world: World, db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("prepared statements and their plans are PostgreSQL's")
    acme = await world.group("acme")
    # Analyzed, as autovacuum keeps it: a LIMIT parameter is then priced as a tenth of
    # the group, and the generic plan loses to every custom one.
    await world.many_contacts(acme, 2000)

    async def listed(conn: Any) -> None:
        page = await contacts_by_name(conn, acme.id, PageArgs.of(first=3))
        assert len(page.items) == 3

    plans = await _generic_plans(db, listed)
    [kept] = [n for sql, n in plans.items() if "customer_relations_contacts" in sql]
    # Its plan is the same for any group; with the limit as a parameter PostgreSQL planned
    # every run anew.
    assert kept > 0


async def test_contact_pages_after_any_cursor_keep_one_plan(world: World, db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("prepared statements and their plans are PostgreSQL's")
    acme = await world.group("acme")
    await world.many_contacts(acme, 2000)
    async with db.connect() as conn:
        first = await contacts_by_name(conn, acme.id, PageArgs.of(first=RUNS))
    cursors = iter(first.cursors[:RUNS])
    expected = iter([*first.items[1:], None])

    async def listed(conn: Any) -> None:
        page = await contacts_by_name(conn, acme.id, PageArgs.of(first=1, after=next(cursors)))
        following = next(expected)
        if following is not None:
            assert [c.id for c in page.items] == [following.id]

    plans = await _generic_plans(db, listed)
    [kept] = [n for sql, n in plans.items() if "customer_relations_contacts" in sql]
    # One statement for every cursor, its values parameters and its limit written out.
    assert kept > 0


async def test_organization_pages_send_one_statement_for_any_group_and_cursor(
    world: World, db: Database
) -> None:
    seen: dict[str, list[str]] = {}
    for path in ("acme", "beta"):
        group = await world.group(path)
        for name in ("Alpha", "Bravo", "Charlie"):
            await world.organization(group, f"{name} {path}")
        async with db.connect() as conn:
            first = await contacts_repo.organizations_page(
                conn, group.id, ids=None, search=None, state=None, sort="NAME_ASC",
                page=PageArgs.of(first=2),
            )  # fmt: skip
            db.counter.reset()
            rest = await contacts_repo.organizations_page(
                conn, group.id, ids=None, search=None, state=None, sort="NAME_ASC",
                page=PageArgs.of(first=2, after=first.cursors[-1]),
            )  # fmt: skip
        seen[path] = [o.name for o in [*first.items, *rest.items]] + db.counter.statements
    assert seen["acme"][:3] == ["Alpha acme", "Bravo acme", "Charlie acme"]
    assert seen["beta"][:3] == ["Alpha beta", "Bravo beta", "Charlie beta"]
    # One text for both groups and cursors (psycopg prepares it, PostgreSQL keeps its
    # plan), the limit written into it.
    [statement] = set(seen["acme"][3:] + seen["beta"][3:])
    assert "LIMIT 3" in statement
