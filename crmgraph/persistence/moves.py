"""SQL for moving issues, projects and groups: path rewrites, link re-pointing (the CRM
copies of a group move are in persistence/moves_crm.py).

Everything here runs on the caller's connection inside the caller's transaction; a move is
several of these statements, and only together do they leave a consistent world.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    String,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from crmgraph.domain.groups import Group, Project
from crmgraph.domain.issues import Issue
from crmgraph.persistence.groups import (
    GROUP_COLUMNS,
    PROJECT_COLUMNS,
    PathTaken,
    is_self_or_descendant,
    to_group,
    to_project,
)
from crmgraph.persistence.issues import ISSUE_COLUMNS, to_issue
from crmgraph.persistence.tables import (
    groups,
    issue_contacts,
    issues,
    notes,
    projects,
)
from crmgraph.persistence.unit_of_work import is_unique_violation, write_one


@dataclass(frozen=True, slots=True)
class Link:
    """One issue-contact link, by its own id so that it can be re-pointed or dropped."""

    id: int
    issue_id: int
    contact_id: int


def _for_update(conn: AsyncConnection, stmt: Select[Any]) -> Select[Any]:
    # SQLite's BEGIN IMMEDIATE already serializes writers; PostgreSQL needs row locks.
    return stmt.with_for_update() if conn.dialect.name == "postgresql" else stmt


# ------------------------------------------------------------------ groups and projects


async def lock_groups(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, Group]:
    """The groups as they stand now, locked in id order (so two moves never deadlock)."""
    stmt = select(*GROUP_COLUMNS).where(groups.c.id.in_(ids)).order_by(groups.c.id)
    rows = (await conn.execute(_for_update(conn, stmt))).all()
    return {row.id: to_group(row) for row in rows}


async def lock_project(conn: AsyncConnection, project_id: int) -> Project | None:
    stmt = select(*PROJECT_COLUMNS).where(projects.c.id == project_id)
    row = (await conn.execute(_for_update(conn, stmt))).first()
    return None if row is None else to_project(row)


async def subtree(conn: AsyncConnection, full_path: str) -> list[Group]:
    """The group at ``full_path`` and all its descendants."""
    stmt = select(*GROUP_COLUMNS).where(
        is_self_or_descendant(groups.c.full_path, literal(full_path))
    )
    return [to_group(row) for row in (await conn.execute(stmt)).all()]


async def rewrite_paths(
    conn: AsyncConnection, old_prefix: str, new_prefix: str, now: datetime
) -> None:
    """Give every group and project at or below ``old_prefix`` the new prefix.

    The caller has refused cycles and a taken new path; then no new path can equal an old
    one mid-update, so the unique indexes (checked row by row) never trip. Raises PathTaken
    when the new path was taken meanwhile; the transaction is then unusable and must end.
    """
    for table in (groups, projects):
        rest = func.substr(table.c.full_path, len(old_prefix) + 1, type_=String)
        stmt = (
            update(table)
            .where(is_self_or_descendant(table.c.full_path, literal(old_prefix)))
            .values(full_path=literal(new_prefix, String) + rest, updated_at=now)
        )
        try:
            await conn.execute(stmt)
        except IntegrityError as exc:
            # Only a path taken by a concurrent writer after the caller's check gets here.
            if is_unique_violation(exc):
                raise PathTaken(new_prefix) from exc
            raise


async def set_parent(
    conn: AsyncConnection, group_id: int, parent_id: int | None, now: datetime
) -> Group:
    stmt = (
        update(groups)
        .where(groups.c.id == group_id)
        .values(parent_id=parent_id, updated_at=now)
        .returning(*GROUP_COLUMNS)
    )
    return to_group((await conn.execute(stmt)).one())


async def move_project(
    conn: AsyncConnection, project_id: int, *, group_id: int, full_path: str, now: datetime
) -> Project:
    stmt = (
        update(projects)
        .where(projects.c.id == project_id)
        .values(group_id=group_id, full_path=full_path, updated_at=now)
        .returning(*PROJECT_COLUMNS)
    )
    row = await write_one(conn, stmt, lambda: PathTaken(full_path))
    return to_project(row)


# ------------------------------------------------------------------ issues and links


async def rehome_issue(
    conn: AsyncConnection, issue_id: int, *, project_id: int, iid: int, now: datetime
) -> Issue:
    stmt = (
        update(issues)
        .where(issues.c.id == issue_id)
        .values(project_id=project_id, iid=iid, updated_at=now)
        .returning(*ISSUE_COLUMNS)
    )
    return to_issue((await conn.execute(stmt)).one())


def _links() -> Select[Any]:
    return (
        select(issue_contacts.c.id, issue_contacts.c.issue_id, issue_contacts.c.contact_id)
        .join(issues, issues.c.id == issue_contacts.c.issue_id)
        .order_by(issue_contacts.c.id)
    )


async def links_of_project(conn: AsyncConnection, project_id: int) -> list[Link]:
    stmt = _links().where(issues.c.project_id == project_id)
    return [Link(*row) for row in (await conn.execute(stmt)).all()]


async def links_in_groups(conn: AsyncConnection, group_ids: Sequence[int]) -> list[Link]:
    """Links of the issues of every project directly in one of ``group_ids``."""
    stmt = _links().join(projects, projects.c.id == issues.c.project_id)
    stmt = stmt.where(projects.c.group_id.in_(group_ids))
    return [Link(*row) for row in (await conn.execute(stmt)).all()]


async def drop_links(conn: AsyncConnection, link_ids: Sequence[int]) -> None:
    if link_ids:
        await conn.execute(delete(issue_contacts).where(issue_contacts.c.id.in_(link_ids)))


async def repoint_links(conn: AsyncConnection, changes: Mapping[int, int]) -> None:
    """Point each link (by link id) at another contact: one statement, many parameter sets."""
    if not changes:
        return
    stmt = (
        update(issue_contacts)
        .where(issue_contacts.c.id == bindparam("link_id"))
        .values(contact_id=bindparam("new_contact_id"))
    )
    await conn.execute(
        stmt, [{"link_id": link, "new_contact_id": contact} for link, contact in changes.items()]
    )


async def add_system_notes(
    conn: AsyncConnection, bodies: Mapping[int, str], *, author_id: int, now: datetime
) -> None:
    """One system note per issue (issue id → body); the issues' ``updatedAt`` moves too."""
    if not bodies:
        return
    await conn.execute(
        insert(notes),
        [
            {
                "issue_id": issue_id,
                "author_id": author_id,
                "body": body,
                "system": True,
                "created_at": now,
                "updated_at": now,
            }
            for issue_id, body in bodies.items()
        ],
    )
    await conn.execute(update(issues).where(issues.c.id.in_(list(bodies))).values(updated_at=now))
