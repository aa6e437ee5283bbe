"""The searched text as a stored generated column (PostgreSQL only).

Every candidate row of a search is tested with LIKE against its searched text. The text
came from ``crm_search_text(...)`` (migration 0004), a plpgsql function called once per
row: about 2 µs each, 2 to 3 ms of a search that finds 1,100 candidates among a million
contacts, more than the index scan and the heap visits together. PostgreSQL now keeps
the text in a column, written with the row; the trigram and gram indexes are built on
the column, and ANALYZE keeps statistics of it, which the planner reads to price LIKE
(the reason 0004 declared the function costly: a cheap-looking expression made it read
whole groups instead of the index).

The column is not declared in crmgraph.persistence.tables: SQLite has none, and there
the same text is spelled inline in the query.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SEARCHED = {
    "customer_relations_contacts": (
        ("first_name", "last_name", "email", "description"),
        "ix_trgm_contacts_search",
        "ix_grams_contacts_search",
    ),
    "customer_relations_organizations": (
        ("name", "description"),
        "ix_trgm_organizations_search",
        "ix_grams_organizations_search",
    ),
}


def _text(columns: tuple[str, ...]) -> str:
    # The same text as crm_search_text(...): lower-cased, NULL as empty, joined by spaces;
    # spelled with immutable operators, as a generated column requires.
    return "lower(" + " || ' ' || ".join(f"coalesce({c}::text, '')" for c in columns) + ")"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, (columns, trigram, gram) in SEARCHED.items():
        op.execute(f"DROP INDEX IF EXISTS {trigram}")
        op.execute(f"DROP INDEX IF EXISTS {gram}")
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN search_text text"
            f" GENERATED ALWAYS AS ({_text(columns)}) STORED"
        )
        # Must stay what crmgraph.persistence.crm_lists renders for PostgreSQL.
        _index(table, trigram, gram, "search_text")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, (columns, trigram, gram) in SEARCHED.items():
        op.execute(f"DROP INDEX IF EXISTS {trigram}")
        op.execute(f"DROP INDEX IF EXISTS {gram}")
        op.execute(f"ALTER TABLE {table} DROP COLUMN search_text")
        _index(table, trigram, gram, f"crm_search_text({', '.join(columns)})")


def _index(table: str, trigram: str, gram: str, searched: str) -> None:
    """The trigram and gram indexes of ``table`` on the ``searched`` text, then its
    statistics (the planner prices LIKE and the gram condition from them)."""
    op.execute(f"CREATE INDEX {trigram} ON {table} USING gin ({searched} gin_trgm_ops)")
    op.execute(f"CREATE INDEX {gram} ON {table} USING gin (crm_search_grams({searched}))")
    op.execute(f"ANALYZE {table}")
