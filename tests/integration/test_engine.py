"""Sessions the engine opens on PostgreSQL."""

from __future__ import annotations

from datetime import UTC
from urllib.parse import quote

from sqlalchemy import text

from crmgraph.persistence.unit_of_work import Database


async def test_times_are_read_in_utc_and_the_urls_own_options_are_kept(
    postgresql_url: str,
) -> None:
    options = quote("-c TimeZone=Asia/Tokyo -c statement_timeout=4321")
    db = Database.from_url(f"{postgresql_url}?options={options}")
    try:
        async with db.connect() as conn:
            moment = (await conn.execute(text("SELECT now()"))).scalar_one()
            timeout = (await conn.execute(text("SHOW statement_timeout"))).scalar_one()
    finally:
        await db.dispose()
    # timezone.utc itself, not a zone psycopg converts every value into.
    assert moment.tzinfo is UTC
    assert timeout == "4321ms"
