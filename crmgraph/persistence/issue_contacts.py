"""Links between issues and contacts, and the group facts CRM rules need."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    delete,
    exists,
    insert,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Subquery

from crmgraph.domain.contacts import ContactWithOrganization
from crmgraph.domain.groups import Group
from crmgraph.domain.pagination import Page, PageArgs
from crmgraph.persistence.contact_rows import (
    CONTACT_COLUMNS,
    CONTACTS_ORGANIZATION,
    JOINED_ORGANIZATION,
    LEAN_CONTACT_COLUMNS,
    LEAN_JOINED_ORGANIZATION,
    to_contact_with_organization,
)
from crmgraph.persistence.groups import (
    GROUP_COLUMNS,
    MEMBERSHIP,
    USER_GROUP_MEMBERSHIP,
    is_self_or_descendant,
    memberships,
    to_group,
)
from crmgraph.persistence.keyset import SortKey
from crmgraph.persistence.queries import fetch_pages
from crmgraph.persistence.tables import (
    contacts,
    group_members,
    groups,
    issue_contacts,
    issues,
    organizations,
    projects,
)

LINK_ORDER = (SortKey(issue_contacts.c.id, "link"),)


_TARGET = groups.alias("target")
_GROUP_CHAINS = (
    select(
        _TARGET.c.id.label("target_id"),
        *GROUP_COLUMNS,
        MEMBERSHIP,
    )
    .select_from(
        groups.join(
            _TARGET, is_self_or_descendant(_TARGET.c.full_path, groups.c.full_path)
        ).outerjoin(group_members, USER_GROUP_MEMBERSHIP)
    )
    .where(_TARGET.c.id.in_(bindparam("ids", expanding=True)))
)


async def group_chains_with_memberships(
    conn: AsyncConnection, group_ids: Sequence[int], user_id: int | None
) -> tuple[dict[int, list[Group]], dict[int, int]]:
    """Each group with its ancestors (the group first, the root last), and the user's
    direct access level in the groups of those chains they are a member of; one query."""
    chains: dict[int, list[Group]] = {gid: [] for gid in group_ids}
    parameters = {"ids": list(group_ids), "user_id": user_id}
    rows = (await conn.execute(_GROUP_CHAINS, parameters)).all()
    for row in rows:
        chains[row.target_id].append(to_group(row))
    for chain in chains.values():
        chain.sort(key=lambda group: group.depth, reverse=True)
    return chains, memberships(rows)


async def group_chains(conn: AsyncConnection, group_ids: Sequence[int]) -> dict[int, list[Group]]:
    """Each group with its ancestors, the group first and the root last, in one query."""
    chains, _ = await group_chains_with_memberships(conn, group_ids, None)
    return chains


async def is_named_as_source(conn: AsyncConnection, group_id: int) -> bool:
    stmt = select(exists().where(groups.c.crm_source_group_id == group_id))
    return bool((await conn.execute(stmt)).scalar())


async def issues_below_have_contacts(conn: AsyncConnection, group: Group) -> bool:
    """Whether any issue of a project in the group or its descendants has a contact."""
    stmt = select(
        exists()
        .where(issue_contacts.c.issue_id == issues.c.id)
        .where(issues.c.project_id == projects.c.id)
        .where(projects.c.group_id == groups.c.id)
        .where(is_self_or_descendant(groups.c.full_path, literal(group.full_path)))
    )
    return bool((await conn.execute(stmt)).scalar())


async def linked_contact_ids(conn: AsyncConnection, issue_id: int) -> set[int]:
    stmt = select(issue_contacts.c.contact_id).where(issue_contacts.c.issue_id == issue_id)
    return set((await conn.execute(stmt)).scalars())


async def link(
    conn: AsyncConnection, issue_id: int, contact_ids: Sequence[int], now: datetime
) -> None:
    if contact_ids:
        await conn.execute(
            insert(issue_contacts),
            [{"issue_id": issue_id, "contact_id": cid, "created_at": now} for cid in contact_ids],
        )


async def unlink(conn: AsyncConnection, issue_id: int, contact_ids: Sequence[int]) -> None:
    if contact_ids:
        await conn.execute(
            delete(issue_contacts).where(
                issue_contacts.c.issue_id == issue_id, issue_contacts.c.contact_id.in_(contact_ids)
            )
        )


#: The links of an issue, numbered in ``fetch_pages`` before the contacts are joined.
LINKS = select(issue_contacts.c.contact_id)


def _with_contacts(links: Subquery) -> Select[Any]:
    """Each numbered link's contact with its organization (contact and organization
    columns first, in the order ``to_contact_with_organization`` reads them)."""
    return _joined(links, CONTACT_COLUMNS, JOINED_ORGANIZATION)


def _with_lean_contacts(links: Subquery) -> Select[Any]:
    """As ``_with_contacts``, without the timestamps (see ``contacts_page``)."""
    return _joined(links, LEAN_CONTACT_COLUMNS, LEAN_JOINED_ORGANIZATION)


def _joined(links: Subquery, contact: Sequence[Any], organization: Sequence[Any]) -> Select[Any]:
    return select(*contact, *organization, links).select_from(
        links.join(contacts, contacts.c.id == links.c.contact_id).outerjoin(
            organizations, CONTACTS_ORGANIZATION
        )
    )


async def issue_contacts_pages(
    conn: AsyncConnection, issue_ids: Sequence[int], page: PageArgs, *, lean: bool = False
) -> dict[int, Page[ContactWithOrganization]]:
    """Contacts of many issues, with their organizations, in one query, in link order;
    ``lean``: without timestamps."""
    parent = issue_contacts.c.issue_id
    expand = _with_lean_contacts if lean else _with_contacts
    pages = await fetch_pages(conn, LINKS, parent, issue_ids, LINK_ORDER, page, expand)
    return {issue_id: p.map(to_contact_with_organization) for issue_id, p in pages.items()}


def linked_to_contact(contact_id: int) -> ColumnElement[bool]:
    """Issue filter: linked to this contact."""
    return exists().where(
        issue_contacts.c.issue_id == issues.c.id, issue_contacts.c.contact_id == contact_id
    )


def linked_to_organization(organization_id: int) -> ColumnElement[bool]:
    """Issue filter: linked to any contact of this organization."""
    return exists().where(
        issue_contacts.c.issue_id == issues.c.id,
        issue_contacts.c.contact_id == contacts.c.id,
        contacts.c.organization_id == organization_id,
    )
