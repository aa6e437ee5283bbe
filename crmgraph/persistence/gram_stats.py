"""How common each four-character slice of the searched text is, read from PostgreSQL's
statistics on the gram indexes of migration 0005, so that a search asks those indexes
only for the slices that tell rows apart.

GIN reads the posting list of every slice it is asked for. A common slice (``naka`` in
13 % of a million contacts) costs as much to read as the whole rest of the search, and
rarely narrows what the word's rare slices found: ``nakamura-lee`` with all nine of its
slices took 3.2 ms in the index, with the four not among the commonest 1.1 ms, for the
same 1,079 rows.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection

#: Statistics change only when PostgreSQL analyzes the table; read them again this often.
REFRESH_SECONDS = 600.0
#: A slice in more of the rows than this is left out of the index condition ...
COMMON = 0.05
#: ... unless it is among the word's this many rarest slices.
KEEP = 2

#: The gram indexes of migration 0005, whose statistics are read together.
CONTACT_GRAMS = "ix_grams_contacts_search"
ORGANIZATION_GRAMS = "ix_grams_organizations_search"

_STATS = text(
    "SELECT tablename, most_common_elems::text::text[], most_common_elem_freqs"
    " FROM pg_stats WHERE schemaname = current_schema() AND tablename IN :indexes"
).bindparams(bindparam("indexes", expanding=True))


@dataclass(frozen=True)
class _Loaded:
    at: float
    by_index: Mapping[str, Mapping[str, float]]


#: Per engine (one database), so that tests' databases do not share statistics.
_LOADED: WeakKeyDictionary[Engine, _Loaded] = WeakKeyDictionary()


async def gram_frequencies(conn: AsyncConnection, index: str) -> Mapping[str, float]:
    """The share of rows holding each of the commonest slices in the gram ``index``;
    empty off PostgreSQL or before the table has statistics."""
    if conn.dialect.name != "postgresql":
        return {}
    engine = conn.engine.sync_engine
    loaded = _LOADED.get(engine)
    now = time.monotonic()
    if loaded is None or now - loaded.at > REFRESH_SECONDS:
        indexes = [CONTACT_GRAMS, ORGANIZATION_GRAMS]
        rows = (await conn.execute(_STATS, {"indexes": indexes})).all()
        # The frequencies list ends in three summary numbers, which zip leaves out.
        found = {
            name: dict(zip(elems or [], freqs or [], strict=False)) for name, elems, freqs in rows
        }
        loaded = _Loaded(now, found)
        _LOADED[engine] = loaded
    return loaded.by_index.get(index, {})


def telling_grams(grams: Sequence[str], frequencies: Mapping[str, Any]) -> list[str]:
    """The slices to ask the index for: all of them without statistics; else the rarest
    ``KEEP`` and every other one not in more than ``COMMON`` of the rows (a slice missing
    from the statistics is rarer than any in them)."""
    unique = list(dict.fromkeys(grams))
    if not frequencies:
        return unique
    ranked = sorted(unique, key=lambda gram: frequencies.get(gram, 0.0))
    return [g for n, g in enumerate(ranked) if n < KEEP or frequencies.get(g, 0.0) <= COMMON]
