"""Plans PostgreSQL picks for statements the code under test sends, and the contact
page most plan tests read."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import event

from crmgraph.domain.contacts import ContactWithOrganization
from crmgraph.domain.pagination import Page, PageArgs
from crmgraph.persistence import contacts as contacts_repo
from crmgraph.persistence.unit_of_work import Database


async def plan_of(db: Database, work: Any, explain: str = "EXPLAIN") -> str:
    """The plan PostgreSQL picks for the last statement ``work(conn)`` sends."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with db.connect() as conn:
            await work(conn)
            statement, parameters = sent[-1]
            rows = await conn.exec_driver_sql(f"{explain} {statement}", parameters)
            # Text lines, or one JSON document that psycopg has already parsed.
            return "\n".join(
                row[0] if isinstance(row[0], str) else json.dumps(row[0]) for row in rows
            )
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", capture)


async def contacts_by_name(
    conn: Any, group_id: int, page: PageArgs, search: str | None = None
) -> Page[ContactWithOrganization]:
    """A page of the group's contacts in the default order (last name), all states."""
    return await contacts_repo.contacts_page(
        conn, group_id, ids=None, search=search, state=None, sort="LAST_NAME_ASC", page=page
    )
