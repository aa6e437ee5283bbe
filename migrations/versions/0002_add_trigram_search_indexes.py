"""Trigram indexes for contact and organization search (PostgreSQL only).

Search is a case-insensitive substring match (``lower(col) LIKE '%word%'``), which a
B-tree cannot serve; pg_trgm GIN indexes on the lower-cased columns can. SQLite keeps
scanning the group's rows, which is fine at the sizes it is meant for.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_trgm_contacts_first_name": ("customer_relations_contacts", "first_name"),
    "ix_trgm_contacts_last_name": ("customer_relations_contacts", "last_name"),
    "ix_trgm_contacts_email": ("customer_relations_contacts", "email"),
    "ix_trgm_contacts_description": ("customer_relations_contacts", "description"),
    "ix_trgm_organizations_name": ("customer_relations_organizations", "name"),
    "ix_trgm_organizations_description": ("customer_relations_organizations", "description"),
    "ix_trgm_issues_title": ("issues", "title"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, column) in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {table} USING gin (lower({column}) gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
