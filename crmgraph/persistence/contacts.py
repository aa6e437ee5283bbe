"""Contacts and organizations: lists in every sort order, state counts, lookups by id and
email, writes. The columns they read and the row mappers are in ``contact_rows``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Subquery

from crmgraph.domain.contacts import Contact, ContactWithOrganization, Organization, StateFilter
from crmgraph.domain.pagination import Page, PageArgs
from crmgraph.persistence.contact_rows import (
    CONTACT_COLUMNS,
    LEAN_CONTACT_COLUMNS,
    LEAN_ORGANIZATION_COLUMNS,
    ORGANIZATION_COLUMNS,
    to_contact,
    to_contact_with_organization,
    to_organization,
    with_organizations,
    with_organizations_of,
)
from crmgraph.persistence.crm_lists import (
    CONTACT_SEARCH,
    ORGANIZATION_SEARCH,
    contact_order,
    finds_all_first,
    organization_order,
    search_words,
    state_condition,
    words_match,
    words_match_by_name,
)
from crmgraph.persistence.gram_stats import CONTACT_GRAMS, ORGANIZATION_GRAMS, gram_frequencies
from crmgraph.persistence.queries import fetch_page, fetch_page_by_shape
from crmgraph.persistence.tables import contacts, organizations
from crmgraph.persistence.unit_of_work import write_one

EMAIL_INDEX = "ix_customer_relations_contacts_group_id_lower_email"
NAME_INDEX = "ix_customer_relations_organizations_group_id_lower_name"


class EmailTaken(Exception):
    pass


class NameTaken(Exception):
    pass


def _state_values(values: dict[str, Any]) -> dict[str, Any]:
    """Domain ``active`` ⇄ the stored ``state`` column."""
    out = dict(values)
    if "active" in out:
        out["state"] = "active" if out.pop("active") else "inactive"
    return out


def _contacts_query(
    group_id: Any,
    ids: Sequence[int] | None,
    words: Sequence[Any],
    state: StateFilter | None,
    columns: Sequence[Any] = CONTACT_COLUMNS,
) -> Select[Any]:
    """Contacts of a group (an id or a parameter) matching the ``words`` conditions."""
    stmt = select(*columns).where(contacts.c.group_id == group_id)
    if ids is not None:
        stmt = stmt.where(contacts.c.id.in_(ids))
    return stmt.where(and_(True, *words, *state_condition(contacts, state)))


def _organizations_query(
    group_id: Any,
    ids: Sequence[int] | None,
    words: Sequence[Any],
    state: StateFilter | None,
    columns: Sequence[Any] = ORGANIZATION_COLUMNS,
) -> Select[Any]:
    """Organizations of a group (an id or a parameter) matching the ``words`` conditions."""
    stmt = select(*columns).where(organizations.c.group_id == group_id)
    if ids is not None:
        stmt = stmt.where(organizations.c.id.in_(ids))
    return stmt.where(and_(True, *words, *state_condition(organizations, state)))


async def _searched(
    conn: AsyncConnection, search: str | None, index: str
) -> tuple[list[str], Mapping[str, float]]:
    """A search's words and how common slices are in the gram ``index`` (no statistics
    are read without words)."""
    words = search_words(search)
    return words, (await gram_frequencies(conn, index) if words else {})


async def contacts_page(
    conn: AsyncConnection,
    group_id: int,
    *,
    ids: Sequence[int] | None,
    search: str | None,
    state: StateFilter | None,
    sort: str,
    page: PageArgs,
    lean: bool = False,
) -> Page[ContactWithOrganization]:
    """``lean``: without timestamps (None), for queries that do not ask for them."""
    columns = LEAN_CONTACT_COLUMNS if lean else CONTACT_COLUMNS
    keys = contact_order(sort)
    words, common = await _searched(conn, search, CONTACT_GRAMS)
    filter_first = finds_all_first(words, common)
    if ids is not None or any(key.column.table is organizations for key in keys):
        conditions = words_match(search, CONTACT_SEARCH, common)
        stmt = with_organizations(
            _contacts_query(group_id, ids, conditions, state, columns), lean=lean
        )
        found = await fetch_page(conn, stmt, keys, page, filter_first=filter_first)
        return found.map(to_contact_with_organization)
    # The statement is the same for every group and words of the same shape, and the
    # organizations are joined to the cut page, not to every match.
    conditions, params, word_shape = words_match_by_name(words, CONTACT_SEARCH, common)

    def build() -> Select[Any]:
        return _contacts_query(bindparam("group_id"), None, conditions, state, columns)

    def expand(rows: Subquery) -> Select[Any]:
        return with_organizations_of(rows, lean=lean)

    shape = ("contacts", sort, lean, state, word_shape)
    params["group_id"] = group_id
    found = await fetch_page_by_shape(
        conn,
        shape,
        build,
        keys,
        page,
        params,
        filter_first=filter_first,
        expand=expand,
        # A list without words has one good plan for every group (the group's name-order
        # index, read to the limit): PostgreSQL keeps it rather than planning each run
        # (0.2-0.3 ms of Q1's 1 ms). A search's plan depends on its words: planned anew.
        limit_in_text=not words,
    )
    return found.map(to_contact_with_organization)


async def organizations_page(
    conn: AsyncConnection,
    group_id: int,
    *,
    ids: Sequence[int] | None,
    search: str | None,
    state: StateFilter | None,
    sort: str,
    page: PageArgs,
    lean: bool = False,
) -> Page[Organization]:
    """``lean``: without timestamps (None), for queries that do not ask for them."""
    columns = LEAN_ORGANIZATION_COLUMNS if lean else ORGANIZATION_COLUMNS
    keys = organization_order(sort)
    words, common = await _searched(conn, search, ORGANIZATION_GRAMS)
    filter_first = finds_all_first(words, common)
    if ids is not None:
        conditions = words_match(search, ORGANIZATION_SEARCH, common)
        stmt = _organizations_query(group_id, ids, conditions, state, columns)
        found = await fetch_page(conn, stmt, keys, page, filter_first=filter_first)
        return found.map(to_organization)
    # Built once per shape, as the contact list is (contacts_page).
    conditions, params, word_shape = words_match_by_name(words, ORGANIZATION_SEARCH, common)

    def build() -> Select[Any]:
        return _organizations_query(bindparam("group_id"), None, conditions, state, columns)

    params["group_id"] = group_id
    found = await fetch_page_by_shape(
        conn,
        ("organizations", sort, lean, state, word_shape),
        build,
        keys,
        page,
        params,
        filter_first=filter_first,
        limit_in_text=not words,
    )
    return found.map(to_organization)


async def _state_counts(conn: AsyncConnection, table: Any, stmt: Select[Any]) -> dict[str, int]:
    inner = stmt.with_only_columns(table.c.state).subquery()
    rows = (await conn.execute(select(inner.c.state, func.count()).group_by(inner.c.state))).all()
    counts = {"active": 0, "inactive": 0}
    counts.update({state: int(n) for state, n in rows})
    counts["all"] = counts["active"] + counts["inactive"]
    return counts


async def contact_state_counts(
    conn: AsyncConnection, group_id: int, search: str | None
) -> dict[str, int]:
    _, common = await _searched(conn, search, CONTACT_GRAMS)
    stmt = _contacts_query(group_id, None, words_match(search, CONTACT_SEARCH, common), None)
    return await _state_counts(conn, contacts, stmt)


async def organization_state_counts(
    conn: AsyncConnection, group_id: int, search: str | None
) -> dict[str, int]:
    _, common = await _searched(conn, search, ORGANIZATION_GRAMS)
    conditions = words_match(search, ORGANIZATION_SEARCH, common)
    stmt = _organizations_query(group_id, None, conditions, None)
    return await _state_counts(conn, organizations, stmt)


# ------------------------------------------------------------------ by id


async def contacts_by_ids(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, Contact]:
    rows = (await conn.execute(select(*CONTACT_COLUMNS).where(contacts.c.id.in_(ids)))).all()
    return {row.id: to_contact(row) for row in rows}


async def organizations_by_ids(
    conn: AsyncConnection, ids: Sequence[int]
) -> dict[int, Organization]:
    stmt = select(*ORGANIZATION_COLUMNS).where(organizations.c.id.in_(ids))
    return {row.id: to_organization(row) for row in (await conn.execute(stmt)).all()}


async def contacts_by_emails(
    conn: AsyncConnection, group_id: int, emails: Sequence[str]
) -> dict[str, Contact]:
    """Contacts of a CRM group by lower-cased email."""
    lowered = sorted({email.lower() for email in emails})
    stmt = select(*CONTACT_COLUMNS).where(
        contacts.c.group_id == group_id, func.lower(contacts.c.email).in_(lowered)
    )
    rows = (await conn.execute(stmt)).all()
    return {row.email.lower(): to_contact(row) for row in rows}


# ------------------------------------------------------------------ writes


async def create_contact(
    conn: AsyncConnection, *, group_id: int, values: dict[str, Any], now: datetime
) -> Contact:
    stmt = (
        insert(contacts)
        .values(group_id=group_id, created_at=now, updated_at=now, **_state_values(values))
        .returning(*CONTACT_COLUMNS)
    )
    return to_contact(await write_one(conn, stmt, EmailTaken, EMAIL_INDEX))


async def update_contact(
    conn: AsyncConnection, contact_id: int, values: dict[str, Any], now: datetime
) -> Contact:
    stmt = (
        update(contacts)
        .where(contacts.c.id == contact_id)
        .values(updated_at=now, **_state_values(values))
        .returning(*CONTACT_COLUMNS)
    )
    return to_contact(await write_one(conn, stmt, EmailTaken, EMAIL_INDEX))


async def create_organization(
    conn: AsyncConnection, *, group_id: int, values: dict[str, Any], now: datetime
) -> Organization:
    stmt = (
        insert(organizations)
        .values(group_id=group_id, created_at=now, updated_at=now, **_state_values(values))
        .returning(*ORGANIZATION_COLUMNS)
    )
    return to_organization(await write_one(conn, stmt, NameTaken, NAME_INDEX))


async def update_organization(
    conn: AsyncConnection, organization_id: int, values: dict[str, Any], now: datetime
) -> Organization:
    stmt = (
        update(organizations)
        .where(organizations.c.id == organization_id)
        .values(updated_at=now, **_state_values(values))
        .returning(*ORGANIZATION_COLUMNS)
    )
    return to_organization(await write_one(conn, stmt, NameTaken, NAME_INDEX))


async def autocomplete_contacts(
    conn: AsyncConnection, group_id: int, also: set[int]
) -> list[Contact]:
    """Active contacts of the group plus the ``also`` ids, by name."""
    stmt = (
        select(*CONTACT_COLUMNS)
        .where(contacts.c.group_id == group_id)
        .where(or_(contacts.c.state == "active", contacts.c.id.in_(sorted(also))))
        .order_by(contacts.c.last_name, contacts.c.first_name, contacts.c.id)
    )
    return [to_contact(row) for row in (await conn.execute(stmt)).all()]
