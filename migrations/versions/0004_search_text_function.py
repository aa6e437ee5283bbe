"""Search through a function the planner knows to be costly (PostgreSQL only).

The trigram indexes of 0003 are built on ``lower(coalesce(a, '') || ' ' || ...)``. The
planner prices that expression like any cheap operator, so on a group of ten thousand
contacts it preferred reading every row and evaluating it (11.6 ms) to the index
(0.9 ms). The same text now comes from ``crm_search_text(...)``, declared with a high
COST: scanning every row is then priced as what it is, and searches use the index at
every size. The function is plpgsql so that the planner does not inline it (an inlined
SQL function would lose its COST).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SEARCHED = {
    "ix_trgm_contacts_search": (
        "customer_relations_contacts",
        ("first_name", "last_name", "email", "description"),
    ),
    "ix_trgm_organizations_search": ("customer_relations_organizations", ("name", "description")),
}

CREATE_FUNCTION = """
CREATE FUNCTION crm_search_text(VARIADIC parts text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 1000
AS $$ BEGIN RETURN lower(array_to_string(parts, ' ', '')); END $$
"""


def _index(name: str, expression: str) -> str:
    table, _ = SEARCHED[name]
    return f"CREATE INDEX {name} ON {table} USING gin ({expression} gin_trgm_ops)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(CREATE_FUNCTION)
    for name, (_, columns) in SEARCHED.items():
        op.execute(f"DROP INDEX IF EXISTS {name}")
        # Must stay the expression crmgraph.persistence.crm_lists renders for PostgreSQL.
        op.execute(_index(name, f"crm_search_text({', '.join(columns)})"))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, (_, columns) in SEARCHED.items():
        op.execute(f"DROP INDEX IF EXISTS {name}")
        joined = " || ' ' || ".join(f"coalesce({column}, '')" for column in columns)
        op.execute(_index(name, f"lower({joined})"))
    op.execute("DROP FUNCTION crm_search_text(text[])")
