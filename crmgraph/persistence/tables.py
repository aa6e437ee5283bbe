"""Table definitions. Constraints here are what make bad states impossible."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)

from crmgraph.persistence.types import UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ACCESS_LEVELS = "access_level IN (10, 15, 20, 30, 40, 50)"


def _timestamps() -> list[Column[object]]:
    return [
        Column("created_at", UtcDateTime(), nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
    ]


users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    Column("email", String(255)),
    Column("admin", Boolean, nullable=False, server_default=text("false")),
    *_timestamps(),
)
Index("ix_users_lower_username", func.lower(users.c.username), unique=True)

personal_access_tokens = Table(
    "personal_access_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("token_digest", String(64), nullable=False, unique=True),
    Column("scopes", String(64), nullable=False),
    Column("expires_at", UtcDateTime()),
    Column("revoked_at", UtcDateTime()),
    Column("last_used_at", UtcDateTime()),
    *_timestamps(),
    CheckConstraint("scopes IN ('api', 'read_api')", name="scopes"),
)
Index("ix_personal_access_tokens_user_id", personal_access_tokens.c.user_id)

groups = Table(
    "groups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("parent_id", Integer, ForeignKey("groups.id", ondelete="RESTRICT")),
    Column("path", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    Column("full_path", String(2048), nullable=False),
    Column("crm_enabled", Boolean, nullable=False, server_default=text("true")),
    Column("crm_source_group_id", Integer, ForeignKey("groups.id", ondelete="SET NULL")),
    *_timestamps(),
    CheckConstraint("crm_source_group_id IS NULL OR crm_source_group_id <> id", name="source"),
)
Index("ix_groups_lower_full_path", func.lower(groups.c.full_path), unique=True)
Index("ix_groups_parent_id", groups.c.parent_id)

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="RESTRICT"), nullable=False),
    Column("path", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    Column("full_path", String(2048), nullable=False),
    Column("last_issue_iid", Integer, nullable=False, server_default=text("0")),
    *_timestamps(),
)
Index("ix_projects_lower_full_path", func.lower(projects.c.full_path), unique=True)
Index("ix_projects_group_id", projects.c.group_id)

group_members = Table(
    "group_members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("access_level", Integer, nullable=False),
    *_timestamps(),
    UniqueConstraint("group_id", "user_id"),
    CheckConstraint(ACCESS_LEVELS, name="access_level"),
)
Index("ix_group_members_user_id", group_members.c.user_id)

project_members = Table(
    "project_members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("access_level", Integer, nullable=False),
    *_timestamps(),
    UniqueConstraint("project_id", "user_id"),
    CheckConstraint(ACCESS_LEVELS, name="access_level"),
)
Index("ix_project_members_user_id", project_members.c.user_id)

issues = Table(
    "issues",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("iid", Integer, nullable=False),
    Column("title", String(255), nullable=False),
    Column("description", Text),
    Column("state", String(16), nullable=False, server_default=text("'opened'")),
    Column("confidential", Boolean, nullable=False, server_default=text("false")),
    Column("author_id", Integer, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False),
    *_timestamps(),
    Column("closed_at", UtcDateTime()),
    UniqueConstraint("project_id", "iid"),
    CheckConstraint("state IN ('opened', 'closed')", name="state"),
    CheckConstraint("iid > 0", name="iid"),
)
Index("ix_issues_project_id_created_at_id", issues.c.project_id, issues.c.created_at, issues.c.id)
Index("ix_issues_author_id", issues.c.author_id)

notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("issue_id", Integer, ForeignKey("issues.id", ondelete="CASCADE"), nullable=False),
    Column("author_id", Integer, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False),
    Column("body", Text, nullable=False),
    Column("system", Boolean, nullable=False, server_default=text("false")),
    *_timestamps(),
)
Index("ix_notes_issue_id_id", notes.c.issue_id, notes.c.id)
Index("ix_notes_author_id", notes.c.author_id)

organizations = Table(
    "customer_relations_organizations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("default_rate", Numeric(18, 2)),
    Column("description", String(1024)),
    Column("state", String(16), nullable=False, server_default=text("'active'")),
    *_timestamps(),
    CheckConstraint("state IN ('active', 'inactive')", name="state"),
    CheckConstraint("default_rate IS NULL OR default_rate >= 0", name="default_rate"),
)
Index(
    "ix_customer_relations_organizations_group_id_lower_name",
    organizations.c.group_id,
    func.lower(organizations.c.name),
    unique=True,
)

contacts = Table(
    "customer_relations_contacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column(
        "organization_id",
        Integer,
        ForeignKey("customer_relations_organizations.id", ondelete="SET NULL"),
    ),
    Column("first_name", String(255), nullable=False),
    Column("last_name", String(255), nullable=False),
    Column("email", String(255)),
    Column("phone", String(32)),
    Column("description", String(1024)),
    Column("state", String(16), nullable=False, server_default=text("'active'")),
    *_timestamps(),
    CheckConstraint("state IN ('active', 'inactive')", name="state"),
)
Index(
    "ix_customer_relations_contacts_group_id_lower_email",
    contacts.c.group_id,
    func.lower(contacts.c.email),
    unique=True,
    postgresql_where=contacts.c.email.isnot(None),
    sqlite_where=contacts.c.email.isnot(None),
)
Index(
    "ix_customer_relations_contacts_group_id_last_name_first_name_id",
    contacts.c.group_id,
    contacts.c.last_name,
    contacts.c.first_name,
    contacts.c.id,
)
Index("ix_customer_relations_contacts_organization_id", contacts.c.organization_id)

issue_contacts = Table(
    "issue_customer_relations_contacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("issue_id", Integer, ForeignKey("issues.id", ondelete="CASCADE"), nullable=False),
    Column(
        "contact_id",
        Integer,
        ForeignKey("customer_relations_contacts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("issue_id", "contact_id"),
)
Index("ix_issue_customer_relations_contacts_contact_id", issue_contacts.c.contact_id)
