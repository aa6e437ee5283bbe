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


async def test_a_result_that_arrives_in_many_pieces_is_read_whole(postgresql_url: str) -> None:
    db = Database.from_url(postgresql_url)
    try:
        async with db.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT n, repeat(chr(65 + n % 26), 5000) "
                        "FROM generate_series(1, 200) AS n ORDER BY n"
                    )
                )
            ).all()
    finally:
        await db.dispose()
    # A megabyte: many reads of libpq's buffer, most of them without a wait.
    assert [n for n, _ in rows] == list(range(1, 201))
    assert all(letters == chr(65 + n % 26) * 5000 for n, letters in rows)
