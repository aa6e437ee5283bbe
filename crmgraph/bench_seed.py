"""Benchmark data: ``crmgraph seed --bench --scale N``.

Scale 1 is one root group ``bench`` with projects ``bench/p1`` … ``bench/p20``, 1,000
organizations, 10,000 contacts, 50,000 issues and about 125,000 issue-contact links;
scale N multiplies the rows. PostgreSQL is filled with COPY, SQLite with batched inserts.
The data is deterministic (a fixed random seed), so runs compare. This module writes the
world; the rows themselves are made in ``bench_rows``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from crmgraph.bench_rows import (
    PROJECTS,
    BenchSize,
    contact_rows,
    issue_rows,
    link_pairs,
    organization_rows,
)
from crmgraph.domain.roles import AccessLevel
from crmgraph.persistence import tables as t
from crmgraph.persistence.unit_of_work import Database

ROOT = "bench"
BENCH_USER = "bench"


async def bench_exists(db: Database) -> bool:
    async with db.connect() as conn:
        stmt = select(t.groups.c.id).where(t.groups.c.full_path == ROOT)
        return (await conn.execute(stmt)).first() is not None


async def load_bench(db: Database, scale: float, *, now: datetime | None = None) -> dict[str, Any]:
    """Write the benchmark world; returns row counts and the time it took."""
    started = time.perf_counter()
    size = BenchSize.at(scale)
    clock = now or datetime.now(UTC)
    rng = random.Random(20261125)
    async with db.transaction() as conn:
        ids = _IdBlock(await _next_ids(conn))
        user_id, group_id, project_ids = await _world(conn, ids, clock)
        orgs = ids.take("customer_relations_organizations", size.organizations)
        await _copy(conn, t.organizations, organization_rows(orgs, group_id, clock, rng))
        contacts = ids.take("customer_relations_contacts", size.contacts)
        await _copy(conn, t.contacts, contact_rows(contacts, orgs, group_id, clock, rng))
        issues = ids.take("issues", size.issues)
        await _copy(conn, t.issues, issue_rows(issues, project_ids, user_id, clock, rng))
        links = list(link_pairs(issues, contacts, rng))
        link_ids = ids.take("issue_customer_relations_contacts", len(links))
        await _copy(
            conn,
            t.issue_contacts,
            (
                {"id": lid, "issue_id": i, "contact_id": c, "created_at": clock}
                for lid, (i, c) in zip(link_ids, links, strict=True)
            ),
        )
        per_project = size.issues // PROJECTS + 1
        await conn.execute(
            t.projects.update()
            .where(t.projects.c.id.in_(project_ids))
            .values(last_issue_iid=per_project)
        )
        await _reset_sequences(conn)
    await _vacuum(db)
    return {
        "organizations": size.organizations,
        "contacts": size.contacts,
        "issues": size.issues,
        "links": len(links),
        "seconds": round(time.perf_counter() - started, 1),
    }


class _IdBlock:
    """Ids handed out up front, so rows can reference each other before they are written."""

    def __init__(self, next_ids: dict[str, int]) -> None:
        self.next = next_ids

    def take(self, table: str, count: int) -> range:
        start = self.next[table]
        self.next[table] = start + count
        return range(start, start + count)


async def _next_ids(conn: AsyncConnection) -> dict[str, int]:
    names = [
        "users", "groups", "projects", "customer_relations_organizations",
        "customer_relations_contacts", "issues", "issue_customer_relations_contacts",
    ]  # fmt: skip
    out = {}
    for name in names:
        table = t.metadata.tables[name]
        out[name] = int((await conn.execute(select(func.max(table.c.id)))).scalar() or 0) + 1
    return out


async def _world(conn: AsyncConnection, ids: _IdBlock, now: datetime) -> tuple[int, int, list[int]]:
    user_id = ids.take("users", 1)[0]
    await conn.execute(
        insert(t.users).values(
            id=user_id, username=BENCH_USER, name="Bench Runner", email="bench@example.com",
            admin=False, created_at=now, updated_at=now,
        )
    )  # fmt: skip
    group_id = ids.take("groups", 1)[0]
    await conn.execute(
        insert(t.groups).values(
            id=group_id, path=ROOT, name="Bench", full_path=ROOT, created_at=now, updated_at=now
        )
    )
    await conn.execute(
        insert(t.group_members).values(
            group_id=group_id, user_id=user_id, access_level=int(AccessLevel.DEVELOPER),
            created_at=now, updated_at=now,
        )
    )  # fmt: skip
    project_ids = list(ids.take("projects", PROJECTS))
    await conn.execute(
        insert(t.projects),
        [
            {
                "id": pid, "group_id": group_id, "path": f"p{n}", "name": f"Project {n}",
                "full_path": f"{ROOT}/p{n}", "created_at": now, "updated_at": now,
            }
            for n, pid in enumerate(project_ids, start=1)
        ],
    )  # fmt: skip
    return user_id, group_id, project_ids


async def _copy(conn: AsyncConnection, table: Table, rows: Iterator[dict[str, Any]]) -> None:
    columns = [c.name for c in table.columns]
    if conn.dialect.name != "postgresql":
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == 5_000:
                await conn.execute(insert(table), batch)
                batch = []
        if batch:
            await conn.execute(insert(table), batch)
        return
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    async with driver.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            await copy.write_row([row.get(c) for c in columns])


async def _reset_sequences(conn: AsyncConnection) -> None:
    if conn.dialect.name != "postgresql":
        return
    for table in t.metadata.sorted_tables:
        await conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {table.name}), 1))"
            )
        )


async def _vacuum(db: Database) -> None:
    """VACUUM (ANALYZE) what was loaded: statistics for the planner, the visibility map
    for index-only scans, and the GIN indexes' pending lists merged. COPY leaves up to
    4 MB of trigram entries pending, which every search then scans row by row (at scale
    100 that was 1.6 ms of each search's 16 ms index scan)."""
    if db.dialect != "postgresql":
        return
    async with db.connect() as conn:  # autocommit: VACUUM cannot run in a transaction
        await conn.execute(text("VACUUM (ANALYZE)"))
