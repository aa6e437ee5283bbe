"""Contact and organization searches use the gram and trigram indexes on PostgreSQL."""

from __future__ import annotations

import json
import random
import re
import string
from typing import Any
from weakref import WeakKeyDictionary

import pytest
from sqlalchemy import insert

from crmgraph.domain.pagination import PageArgs
from crmgraph.persistence import contacts as contacts_repo
from crmgraph.persistence import gram_stats
from crmgraph.persistence.crm_lists import slices
from crmgraph.persistence.tables import contacts, organizations
from crmgraph.persistence.unit_of_work import Database
from tests.plans import contacts_by_name, plan_of
from tests.world import World


def _name(n: int) -> str:
    """Eight letters, the same for the same ``n``: slices as varied as real names'."""
    rng = random.Random(n)
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(8))


async def _searched_group(world: World, db: Database) -> int:
    """A group of 3,000 contacts and 3,000 organizations with varied names, analyzed:
    where reading every row costs more than the index, as a planner pricing the search
    as cheap once did (at 10,000 contacts 11.6 against 0.9 ms)."""
    group = await world.group("acme")
    async with db.transaction() as conn:
        await conn.execute(
            insert(organizations),
            [{"group_id": group.id, "name": _name(-n), "state": "active",
              "created_at": world.now(), "updated_at": world.now()} for n in range(SIZE)],
        )  # fmt: skip
        await conn.execute(
            insert(contacts),
            [{"group_id": group.id, "first_name": f"First{n}", "last_name": _name(n),
              "email": f"c{n}@example.com", "state": "active",
              "created_at": world.now(), "updated_at": world.now()} for n in range(SIZE)],
        )  # fmt: skip
        # As autovacuum leaves them: rows inserted into a GIN index wait in its pending
        # list, which every scan reads whole, and the planner prices that in.
        await conn.exec_driver_sql(
            "SELECT gin_clean_pending_list(indexrelid) FROM pg_stat_user_indexes"
            " WHERE indexrelname ~ '^ix_(trgm|grams)_'"
        )
        await conn.exec_driver_sql("ANALYZE customer_relations_contacts")
        await conn.exec_driver_sql("ANALYZE customer_relations_organizations")
    return group.id


SIZE = 3000


async def _search_plans(db: Database, group_id: int, contact: str, org: str) -> tuple[str, str]:
    page = PageArgs.of(first=20)
    contact_plan = await plan_of(
        db,
        lambda conn: contacts_by_name(conn, group_id, page, contact),
    )  # fmt: skip
    organization_plan = await plan_of(
        db,
        lambda conn: contacts_repo.organizations_page(
            conn, group_id, ids=None, search=org, state=None, sort="NAME_ASC", page=page
        ),
    )
    return contact_plan, organization_plan


@pytest.mark.postgres_only
async def test_searches_for_words_of_four_characters_or_more_use_the_gram_indexes(
    world: World, db: Database
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the gram indexes exist on PostgreSQL only")
    group_id = await _searched_group(world, db)
    contact_plan, organization_plan = await _search_plans(db, group_id, _name(12), _name(-12))
    assert "ix_grams_contacts_search" in contact_plan
    assert "ix_trgm_contacts_search" not in contact_plan
    assert "ix_grams_organizations_search" in organization_plan
    assert "ix_trgm_organizations_search" not in organization_plan


@pytest.mark.postgres_only
async def test_searches_for_shorter_words_use_the_trigram_indexes(
    world: World, db: Database
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the trigram indexes exist on PostgreSQL only")
    group_id = await _searched_group(world, db)
    contact_plan, organization_plan = await _search_plans(
        db, group_id, _name(12)[2:5], _name(-12)[2:5]
    )
    assert "ix_trgm_contacts_search" in contact_plan
    assert "ix_grams_contacts_search" not in contact_plan
    assert "ix_trgm_organizations_search" in organization_plan
    assert "ix_grams_organizations_search" not in organization_plan


@pytest.mark.postgres_only
async def test_a_deep_page_starts_its_index_scan_at_the_cursor(world: World, db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("plans are PostgreSQL's")
    group = await world.group("acme")
    await world.many_contacts(group, 2000)
    async with db.connect() as conn:
        first = await contacts_by_name(conn, group.id, PageArgs.of(first=100))
    after = PageArgs.of(first=100, after=first.end_cursor)
    plan = await plan_of(
        db,
        lambda conn: contacts_by_name(conn, group.id, after),
    )
    # The cursor is part of the index condition, not a filter over the rows before it.
    condition = next(line for line in plan.splitlines() if "Index Cond" in line)
    assert "ROW(" in condition and "Filter" not in plan


def _joins_to(node: dict[str, Any], table: str) -> list[dict[str, Any]]:
    """The plan nodes whose rows are joined to ``table``'s (the other side of each join)."""
    children = node.get("Plans", [])

    def reads(child: dict[str, Any]) -> bool:
        # Through the nodes that only keep the table's rows for the join.
        kept = child.get("Plans", []) if child["Node Type"] in {"Hash", "Memoize"} else []
        return child.get("Relation Name") == table or any(reads(k) for k in kept)

    found = [
        other for child in children if reads(child) for other in children if other is not child
    ]
    return found + [joined for child in children for joined in _joins_to(child, table)]


@pytest.mark.postgres_only
async def test_a_search_joins_organizations_to_its_page_not_to_every_match(
    world: World, db: Database
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("plans are PostgreSQL's")
    group = await world.group("acme")
    organization = await world.organization(group, "Initech")
    async with db.transaction() as conn:
        await conn.execute(
            insert(contacts),
            [{"group_id": group.id, "first_name": f"Match{n}", "last_name": f"Last{n:03d}",
              "organization_id": organization.id, "state": "active",
              "created_at": world.now(), "updated_at": world.now()} for n in range(100)],
        )  # fmt: skip
        await conn.exec_driver_sql("ANALYZE customer_relations_contacts")
    page = PageArgs.of(first=20)
    plan = await plan_of(
        db,
        lambda conn: contacts_by_name(conn, group.id, page, "match"),
        "EXPLAIN (ANALYZE, FORMAT JSON)",
    )  # fmt: skip
    [root] = json.loads(plan)
    joined = _joins_to(root["Plan"], "customer_relations_organizations")
    assert joined, "the organizations are joined"
    # The page's 21 rows (20 and one to tell whether more follow), not the 100 matches.
    assert [node["Actual Rows"] * node["Actual Loops"] for node in joined] == [21]


@pytest.fixture
def fresh_statistics(monkeypatch: pytest.MonkeyPatch) -> None:
    """Searches read the gram statistics anew: those read by earlier tests on this
    database are forgotten."""
    monkeypatch.setattr(gram_stats, "_LOADED", WeakKeyDictionary())


@pytest.mark.postgres_only
async def test_a_search_asks_the_gram_index_only_for_slices_that_are_not_common(
    world: World, db: Database, fresh_statistics: None
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the gram indexes exist on PostgreSQL only")
    group = await world.group("acme")
    async with db.transaction() as conn:
        await conn.execute(
            insert(contacts),
            [{"group_id": group.id, "first_name": f"First{n}",
              "last_name": "Commonwealth" if n % 100 == 0 else f"Common{n}",
              "state": "active", "created_at": world.now(), "updated_at": world.now()}
             for n in range(400)],
        )  # fmt: skip
        await conn.exec_driver_sql("ANALYZE customer_relations_contacts")
    page = PageArgs.of(first=20)
    async with db.connect() as conn:
        found = await contacts_by_name(conn, group.id, page, "commonwealth")
    assert [c.first_name for c in found.items] == ["First0", "First100", "First200", "First300"]
    [asked] = re.findall(r"@> ARRAY\[([^]]*)\]", db.counter.statements[-1])
    # Every contact holds "comm", "ommo" and "mmon"; the rest are in four of them.
    assert sorted(asked.replace("'", "").split(", ")) == sorted(slices("commonwealth")[3:])


@pytest.mark.postgres_only
async def test_a_word_most_contacts_hold_walks_the_sort_order_and_a_rare_one_does_not(
    world: World, db: Database, fresh_statistics: None
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the statistics are PostgreSQL's")
    group_id = await _searched_group(world, db)

    async def search(word: str) -> tuple[list[str], str]:
        """The last names found and the statement sent for them."""
        async with db.connect() as conn:
            found = await contacts_by_name(conn, group_id, PageArgs.of(first=20), word)
        return [contact.last_name for contact in found.items], db.counter.statements[-1]

    # Every contact's email holds "example": the first 20 by name, read in order.
    names, walked = await search("example")
    assert names == sorted(_name(n) for n in range(SIZE))[:20]
    names, filtered = await search(_name(12))
    assert names == [_name(12)]
    assert "OFFSET" not in walked
    assert "OFFSET" in filtered
