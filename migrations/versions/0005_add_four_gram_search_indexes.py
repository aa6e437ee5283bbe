"""Four-character-gram indexes beside the trigram ones (PostgreSQL only).

pg_trgm splits the text into words at every character that is not a letter or digit, so
a search for ``nakamura-lee`` asks its GIN index for the trigrams of ``nakamura`` and of
``lee``: each of them occurs in thousands of contacts, and the index scan intersects
those long posting lists (about 20 ms at a million contacts, the bulk of the search).
Four-character slices of the whole text, punctuation included (``ra-l``, ``a-le``), are
far rarer, and GIN walks the rarest first: the same search's index scan takes about
3 ms. Words of four characters or more are searched through these indexes; shorter ones
keep the trigram indexes.

``crm_search_grams`` holds every four-character slice of its text; the query
asks for the rows whose slices include all of the word's, and still tests the word with
LIKE, so the results are exactly those of LIKE alone (a word's slices are slices of every
text that contains the word).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

GRAM_INDEXES = {
    "ix_grams_contacts_search": (
        "customer_relations_contacts",
        ("first_name", "last_name", "email", "description"),
    ),
    "ix_grams_organizations_search": (
        "customer_relations_organizations",
        ("name", "description"),
    ),
}

# Evaluated once per row written and, for a query's word, once per plan; and for each
# row of a bitmap too large for work_mem, whose pages are rechecked (about 20 us a row,
# ten times LIKE: the planner prefers walking the sort order for words that common).
# Duplicates are left in: GIN stores each key once, and sorting them out took twice as
# long.
CREATE_FUNCTION = """
CREATE FUNCTION crm_search_grams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT ARRAY(SELECT substr(t, i, 4) FROM generate_series(1, length(t) - 3) AS i) $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(CREATE_FUNCTION)
    for name, (table, columns) in GRAM_INDEXES.items():
        # Must stay the expression crmgraph.persistence.crm_lists renders for PostgreSQL.
        text = f"crm_search_text({', '.join(columns)})"
        op.execute(f"CREATE INDEX {name} ON {table} USING gin (crm_search_grams({text}))")
        # Statistics of the new expression, without which the planner guessed that every
        # word is rare and read 900,000 rows to sort out 20 (2.1 s against 1.7 ms).
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in GRAM_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("DROP FUNCTION crm_search_grams(text)")
