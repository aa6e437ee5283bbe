"""SQL for the CRM side of a group move: which contacts and organizations go along, their
copies in the target CRM group, and the removal of what stays behind.

Like persistence/moves.py, everything runs on the caller's connection inside the
caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from crmgraph.domain.contacts import Contact, Organization
from crmgraph.persistence.contact_rows import (
    CONTACT_COLUMNS,
    ORGANIZATION_COLUMNS,
    to_contact,
    to_organization,
)
from crmgraph.persistence.tables import (
    contacts,
    issue_contacts,
    issues,
    organizations,
    projects,
)


def _contacts_linked_in(group_ids: Sequence[int]) -> Select[Any]:
    """Ids of contacts linked to issues of projects directly in one of ``group_ids``."""
    return (
        select(issue_contacts.c.contact_id)
        .join(issues, issues.c.id == issue_contacts.c.issue_id)
        .join(projects, projects.c.id == issues.c.project_id)
        .where(projects.c.group_id.in_(group_ids))
    )


async def organizations_to_move(
    conn: AsyncConnection, source_id: int, target_id: int, linked_in: Sequence[int] | None
) -> list[tuple[Organization, int | None]]:
    """Organizations of ``source_id``, each with the id of the target's namesake (or None).

    ``linked_in``: only the organizations of contacts linked from issues of those groups;
    None takes them all.
    """
    namesake = organizations.alias("namesake")
    stmt = (
        select(*ORGANIZATION_COLUMNS, namesake.c.id.label("namesake_id"))
        .select_from(
            organizations.outerjoin(
                namesake,
                and_(
                    namesake.c.group_id == target_id,
                    func.lower(namesake.c.name) == func.lower(organizations.c.name),
                ),
            )
        )
        .where(organizations.c.group_id == source_id)
        .order_by(organizations.c.id)
    )
    if linked_in is not None:
        used = select(contacts.c.organization_id).where(
            contacts.c.id.in_(_contacts_linked_in(linked_in))
        )
        stmt = stmt.where(organizations.c.id.in_(used))
    rows = (await conn.execute(stmt)).all()
    return [(to_organization(row), row.namesake_id) for row in rows]


async def contacts_to_move(
    conn: AsyncConnection, source_id: int, target_id: int, linked_in: Sequence[int] | None
) -> list[tuple[Contact, int | None]]:
    """Contacts of ``source_id``, each with the id of the target's contact that has the same
    email ignoring case (or None; always None without an email)."""
    same_email = contacts.alias("same_email")
    stmt = (
        select(*CONTACT_COLUMNS, same_email.c.id.label("same_email_id"))
        .select_from(
            contacts.outerjoin(
                same_email,
                and_(
                    same_email.c.group_id == target_id,
                    contacts.c.email.isnot(None),
                    func.lower(same_email.c.email) == func.lower(contacts.c.email),
                ),
            )
        )
        .where(contacts.c.group_id == source_id)
        .order_by(contacts.c.id)
    )
    if linked_in is not None:
        stmt = stmt.where(contacts.c.id.in_(_contacts_linked_in(linked_in)))
    rows = (await conn.execute(stmt)).all()
    return [(to_contact(row), row.same_email_id) for row in rows]


def _state(active: bool) -> str:
    return "active" if active else "inactive"


async def copy_organizations(
    conn: AsyncConnection, group_id: int, originals: Sequence[Organization]
) -> list[int]:
    """Copies in ``group_id``; the new ids, in the order of ``originals``.

    Timestamps are kept, as GitLab does: a copy is the same organization in a new home.
    """
    rows = [
        {
            "group_id": group_id,
            "name": o.name,
            "default_rate": o.default_rate,
            "description": o.description,
            "state": _state(o.active),
            "created_at": o.created_at,
            "updated_at": o.updated_at,
        }
        for o in originals
    ]
    return await _inserted_ids(conn, organizations, rows)


async def copy_contacts(
    conn: AsyncConnection,
    group_id: int,
    originals: Sequence[Contact],
    organization_ids: Mapping[int, int],
) -> list[int]:
    """Copies in ``group_id`` with organizations mapped by ``organization_ids`` (old → new);
    the new ids, in the order of ``originals``."""
    rows = [
        {
            "group_id": group_id,
            "organization_id": (
                None if c.organization_id is None else organization_ids.get(c.organization_id)
            ),
            "first_name": c.first_name,
            "last_name": c.last_name,
            "email": c.email,
            "phone": c.phone,
            "description": c.description,
            "state": _state(c.active),
            "created_at": c.created_at,
            "updated_at": c.updated_at,
        }
        for c in originals
    ]
    return await _inserted_ids(conn, contacts, rows)


async def _inserted_ids(conn: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` into ``table``; the new ids, in the order of ``rows``."""
    if not rows:
        return []
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list((await conn.execute(stmt, rows)).scalars())


async def delete_crm_records(conn: AsyncConnection, group_id: int) -> None:
    """Every contact and organization of the group (their links go with them)."""
    await conn.execute(delete(contacts).where(contacts.c.group_id == group_id))
    await conn.execute(delete(organizations).where(organizations.c.group_id == group_id))
