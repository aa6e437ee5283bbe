"""Issues and their notes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, insert, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Subquery

from crmgraph.domain.issues import Issue, IssueState, Note
from crmgraph.domain.pagination import Page, PageArgs
from crmgraph.persistence import contact_json
from crmgraph.persistence.builders import slot_builder
from crmgraph.persistence.keyset import SortKey
from crmgraph.persistence.queries import (
    fetch_page,
    fetch_page_by_shape,
    fetch_pages,
    like_pattern,
)
from crmgraph.persistence.tables import issues, notes, projects

ISSUE_COLUMNS = tuple(issues.c)
NOTE_COLUMNS = tuple(c for c in notes.c if c.name != "updated_at")
ISSUE_ORDER = (
    SortKey.timestamp(issues.c.created_at, "created_at", descending=True),
    SortKey(issues.c.id, "id", descending=True),
)
NOTE_ORDER = (SortKey(notes.c.id, "id"),)


#: Issue states by their stored value: a dict lookup, where calling the enum costs more
#: than the rest of building an issue.
_STATES = {state.value: state for state in IssueState}
_issue = slot_builder(Issue)


def to_issue(row: Any) -> Issue:
    """A row of ISSUE_COLUMNS (possibly followed by more), read by position (hot path)."""
    (id_, project_id, iid, title, description, state, confidential, author_id, created, updated,
     closed) = row[:11]  # fmt: skip
    return _issue(
        id_, project_id, iid, title, description, _STATES[state], confidential, author_id,
        created, updated, closed,
    )  # fmt: skip


def to_note(row: Any) -> Note:
    m = row._mapping
    return Note(
        id=m["id"],
        issue_id=m["issue_id"],
        author_id=m["author_id"],
        body=m["body"],
        system=m["system"],
        created_at=m["created_at"],
    )


@dataclass(frozen=True)
class IssueFilter:
    """What an issue list asks for, with the caller's visibility already decided."""

    state: IssueState | None = None
    search: str | None = None
    #: None: every issue is visible; else the non-confidential ones, the user's own,
    #: and those in projects where the user may read confidential issues.
    confidential_visible_to: int | None = None
    confidential_projects: Any = None
    extra: tuple[ColumnElement[bool], ...] = ()


async def allocate_iid(conn: AsyncConnection, project_id: int) -> int:
    """Next iid of the project; the row update serializes concurrent creators."""
    stmt = (
        update(projects)
        .where(projects.c.id == project_id)
        .values(last_issue_iid=projects.c.last_issue_iid + 1)
        .returning(projects.c.last_issue_iid)
    )
    return int((await conn.execute(stmt)).scalar_one())


async def create_issue(
    conn: AsyncConnection,
    *,
    project_id: int,
    title: str,
    description: str | None,
    confidential: bool,
    author_id: int,
    now: datetime,
) -> Issue:
    iid = await allocate_iid(conn, project_id)
    stmt = (
        insert(issues)
        .values(
            project_id=project_id,
            iid=iid,
            title=title,
            description=description,
            confidential=confidential,
            author_id=author_id,
            state=IssueState.OPENED.value,
            created_at=now,
            updated_at=now,
        )
        .returning(*ISSUE_COLUMNS)
    )
    return to_issue((await conn.execute(stmt)).one())


async def update_issue(
    conn: AsyncConnection, issue_id: int, values: dict[str, Any], now: datetime
) -> Issue:
    stmt = (
        update(issues)
        .where(issues.c.id == issue_id)
        .values(**values, updated_at=now)
        .returning(*ISSUE_COLUMNS)
    )
    return to_issue((await conn.execute(stmt)).one())


async def issues_by_ids(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, Issue]:
    rows = (await conn.execute(select(*ISSUE_COLUMNS).where(issues.c.id.in_(ids)))).all()
    return {row.id: to_issue(row) for row in rows}


async def issue_by_iid(
    conn: AsyncConnection, project_id: int, iid: int, *, for_update: bool = False
) -> Issue | None:
    stmt = select(*ISSUE_COLUMNS).where(issues.c.project_id == project_id, issues.c.iid == iid)
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(key_share=True)
    row = (await conn.execute(stmt)).first()
    return None if row is None else to_issue(row)


async def lock_issue(conn: AsyncConnection, issue_id: int) -> Issue | None:
    """The issue, locked until commit so that changes to it take turns.

    NO KEY UPDATE, not UPDATE: inserting a note or a link already holds KEY SHARE on the
    issue, and upgrading that to UPDATE while another writer does the same deadlocks.
    """
    stmt = select(*ISSUE_COLUMNS).where(issues.c.id == issue_id)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(key_share=True)
    row = (await conn.execute(stmt)).first()
    return None if row is None else to_issue(row)


def _filtered(stmt: Select[Any], flt: IssueFilter) -> Select[Any]:
    state = None if flt.state is None else flt.state.value
    stmt = stmt.where(*_shown(flt, state, flt.confidential_visible_to))
    if flt.search:
        words = flt.search.lower().split()
        for word in words:
            pattern = like_pattern(word)
            stmt = stmt.where(
                or_(
                    func.lower(issues.c.title).like(pattern, escape="\\"),
                    func.lower(func.coalesce(issues.c.description, "")).like(pattern, escape="\\"),
                )
            )
    for condition in flt.extra:
        stmt = stmt.where(condition)
    return stmt


def _shown(flt: IssueFilter, state: Any, visible_to: Any) -> list[ColumnElement[bool]]:
    """The conditions of ``flt``'s state and of the confidential rule, comparing with
    ``state`` and ``visible_to``: the filter's own values, or parameters standing for
    them."""
    conditions: list[ColumnElement[bool]] = []
    if flt.state is not None:
        conditions.append(issues.c.state == state)
    if flt.confidential_visible_to is not None:
        visible = [issues.c.confidential.is_(False), issues.c.author_id == visible_to]
        if flt.confidential_projects is not None:
            visible.append(issues.c.project_id.in_(flt.confidential_projects))
        conditions.append(or_(*visible))
    return conditions


async def issues_page(
    conn: AsyncConnection, project_ids: Any, flt: IssueFilter, page: PageArgs
) -> Page[Issue]:
    """Issues of the given projects (a list or a select of ids), newest first."""
    stmt = _filtered(select(*ISSUE_COLUMNS).where(issues.c.project_id.in_(project_ids)), flt)
    return (await fetch_page(conn, stmt, ISSUE_ORDER, page)).map(to_issue)


async def issues_page_with_contacts_json(
    conn: AsyncConnection,
    project_id: int,
    flt: IssueFilter,
    page: PageArgs,
    fields: contact_json.Fields,
    contacts_limit: int,
) -> tuple[Page[Issue], dict[int, tuple[str, list[int]]]] | None:
    """``issues_page`` of one project with each issue's first ``contacts_limit``
    contacts as JSON text of ``fields`` and their groups, as
    ``contact_json.contacts_json_of_issues`` answers, from the same statement
    (PostgreSQL only). None when ``flt`` asks for more than a state and the confidential
    rule: the caller then reads the two apart."""
    if flt.search or flt.extra or flt.confidential_projects is not None:
        return None
    # The finished statement is built once per shape (persistence/queries.py): with the
    # contacts in it, building it took longer than PostgreSQL takes to run it.
    visible_to = flt.confidential_visible_to is not None
    shape = ("issues with contacts", flt.state is not None, visible_to, fields, contacts_limit)
    params = {
        "project_id": project_id,
        "state": None if flt.state is None else flt.state.value,
        "visible_to": flt.confidential_visible_to,
    }
    rows = await fetch_page_by_shape(
        conn,
        shape,
        lambda: _by_name(flt),
        ISSUE_ORDER,
        page,
        params,
        expand=lambda cut: _with_contacts_json(cut, fields, contacts_limit),
        limit_in_text=True,
    )
    found = {
        issue_id: (text, groups or [])
        for issue_id, text, groups in map(_ID_AND_CONTACTS, rows.items)
    }
    return rows.map(to_issue), found


#: The issue's id and its contacts' text and groups from a row of ``_with_contacts_json``,
#: by position (the issue's columns first, the contacts' two last): a Row's attribute
#: costs about 0.8 µs, a quarter of a millisecond for a page of 100.
_ID_AND_CONTACTS = itemgetter(0, -2, -1)


def _by_name(flt: IssueFilter) -> Select[Any]:
    """The issues of the project ``:project_id`` in state ``:state`` and, with the
    confidential rule, visible to user ``:visible_to``."""
    # Equality, not ANY(array): only then does PostgreSQL read the (project_id,
    # created_at, id) index in order; with an array it sorted all the project's issues.
    stmt = select(*ISSUE_COLUMNS).where(issues.c.project_id == bindparam("project_id"))
    return stmt.where(*_shown(flt, bindparam("state"), bindparam("visible_to")))


def _with_contacts_json(cut: Subquery, fields: contact_json.Fields, limit: int) -> Select[Any]:
    beside = contact_json.contacts_json_beside(cut.c.id, fields, limit)
    return select(cut, beside.c.contacts_json, beside.c.contact_groups).select_from(
        cut.outerjoin(beside, true())
    )


async def create_note(
    conn: AsyncConnection,
    *,
    issue_id: int,
    author_id: int,
    body: str,
    system: bool,
    now: datetime,
) -> Note:
    stmt = (
        insert(notes)
        .values(
            issue_id=issue_id,
            author_id=author_id,
            body=body,
            system=system,
            created_at=now,
            updated_at=now,
        )
        .returning(*NOTE_COLUMNS)
    )
    return to_note((await conn.execute(stmt)).one())


ALL_NOTES = select(*NOTE_COLUMNS).where(true())


async def notes_pages(
    conn: AsyncConnection, issue_ids: Sequence[int], page: PageArgs
) -> dict[int, Page[Note]]:
    pages = await fetch_pages(conn, ALL_NOTES, notes.c.issue_id, issue_ids, NOTE_ORDER, page)
    return {issue_id: p.map(to_note) for issue_id, p in pages.items()}
