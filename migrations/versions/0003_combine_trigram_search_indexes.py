"""One trigram index per searched table instead of one per column (PostgreSQL only).

A search word must match some column; the query now tests it against the columns joined
by spaces (a word holds no space, so this is the same test), and one GIN index on that
expression answers it with one index scan instead of a BitmapOr of four: at a million
contacts a surname search went from about 39 ms to 7 ms in the database.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COMBINED = {
    "ix_trgm_contacts_search": (
        "customer_relations_contacts",
        ("first_name", "last_name", "email", "description"),
    ),
    "ix_trgm_organizations_search": ("customer_relations_organizations", ("name", "description")),
}
PER_COLUMN = {
    "ix_trgm_contacts_first_name": ("customer_relations_contacts", "first_name"),
    "ix_trgm_contacts_last_name": ("customer_relations_contacts", "last_name"),
    "ix_trgm_contacts_email": ("customer_relations_contacts", "email"),
    "ix_trgm_contacts_description": ("customer_relations_contacts", "description"),
    "ix_trgm_organizations_name": ("customer_relations_organizations", "name"),
    "ix_trgm_organizations_description": ("customer_relations_organizations", "description"),
}


def _joined(columns: tuple[str, ...]) -> str:
    # Was the expression persistence.contacts rendered then (see migration 0004).
    return " || ' ' || ".join(f"coalesce({column}, '')" for column in columns)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, (table, columns) in COMBINED.items():
        op.execute(
            f"CREATE INDEX {name} ON {table} USING gin (lower({_joined(columns)}) gin_trgm_ops)"
        )
    for name in PER_COLUMN:
        op.execute(f"DROP INDEX IF EXISTS {name}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, (table, column) in PER_COLUMN.items():
        op.execute(f"CREATE INDEX {name} ON {table} USING gin (lower({column}) gin_trgm_ops)")
    for name in COMBINED:
        op.execute(f"DROP INDEX IF EXISTS {name}")
