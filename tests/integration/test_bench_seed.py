"""``crmgraph seed --bench``: the benchmark world, its sizes and its addressable paths."""

from __future__ import annotations

import pytest
from sqlalchemy import Table, func, select, text

from crmgraph import bench_seed
from crmgraph.persistence import tables as t
from crmgraph.persistence.unit_of_work import Database

SCALE = 0.02  # 20 organizations, 200 contacts, 1,000 issues


async def _count(db: Database, table: Table) -> int:
    async with db.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_the_bench_world_has_the_sizes_of_its_scale(db: Database) -> None:
    assert not await bench_seed.bench_exists(db)
    loaded = await bench_seed.load_bench(db, SCALE)
    counted = {
        "organizations": await _count(db, t.organizations),
        "contacts": await _count(db, t.contacts),
        "issues": await _count(db, t.issues),
        "links": await _count(db, t.issue_contacts),
    }
    assert counted == {key: loaded[key] for key in counted}
    assert (counted["organizations"], counted["contacts"], counted["issues"]) == (20, 200, 1000)
    # About 2.5 contacts per issue, as 125,000 links for 50,000 issues at scale 1.
    assert 2_000 <= counted["links"] <= 3_000
    assert await bench_seed.bench_exists(db)


async def test_outside_tools_find_the_root_group_and_its_twenty_projects(db: Database) -> None:
    await bench_seed.load_bench(db, SCALE)
    async with db.connect() as conn:
        root = (
            await conn.execute(select(t.groups.c.id).where(t.groups.c.full_path == "bench"))
        ).scalar_one()
        paths = (
            await conn.execute(select(t.projects.c.full_path).where(t.projects.c.group_id == root))
        ).scalars()
        assert sorted(paths) == sorted(f"bench/p{n}" for n in range(1, 21))


async def test_on_postgresql_the_load_leaves_no_pending_trigram_entries(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("GIN pending lists are PostgreSQL's")
    await bench_seed.load_bench(db, SCALE)
    async with db.connect() as conn:
        # The number of pending-list pages merged now: none, VACUUM merged them already.
        pending = await conn.execute(
            text(
                "SELECT gin_clean_pending_list('ix_trgm_contacts_search'::regclass), "
                "gin_clean_pending_list('ix_trgm_organizations_search'::regclass), "
                "gin_clean_pending_list('ix_grams_contacts_search'::regclass), "
                "gin_clean_pending_list('ix_grams_organizations_search'::regclass)"
            )
        )
        assert pending.one() == (0, 0, 0, 0)
