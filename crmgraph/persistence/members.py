"""Memberships and the effective access levels they give."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Subquery

from crmgraph.persistence.groups import is_self_or_descendant
from crmgraph.persistence.tables import group_members, groups, project_members, projects


async def set_group_member(
    conn: AsyncConnection, *, group_id: int, user_id: int, level: int, now: datetime
) -> None:
    await _upsert_member(conn, group_members, "group_id", group_id, user_id, level, now)


async def set_project_member(
    conn: AsyncConnection, *, project_id: int, user_id: int, level: int, now: datetime
) -> None:
    await _upsert_member(conn, project_members, "project_id", project_id, user_id, level, now)


async def _upsert_member(
    conn: AsyncConnection,
    table: Any,
    owner_column: str,
    owner_id: int,
    user_id: int,
    level: int,
    now: datetime,
) -> None:
    changed = await conn.execute(
        update(table)
        .where(table.c[owner_column] == owner_id, table.c.user_id == user_id)
        .values(access_level=level, updated_at=now)
    )
    if changed.rowcount == 0:
        await conn.execute(
            insert(table).values(
                {
                    owner_column: owner_id,
                    "user_id": user_id,
                    "access_level": level,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        )


async def remove_group_member(conn: AsyncConnection, *, group_id: int, user_id: int) -> bool:
    result = await conn.execute(
        delete(group_members).where(
            group_members.c.group_id == group_id, group_members.c.user_id == user_id
        )
    )
    return bool(result.rowcount)


async def direct_group_level(conn: AsyncConnection, *, group_id: int, user_id: int) -> int | None:
    stmt = select(group_members.c.access_level).where(
        group_members.c.group_id == group_id, group_members.c.user_id == user_id
    )
    return (await conn.execute(stmt)).scalar_one_or_none()


async def count_owners(conn: AsyncConnection, group_id: int) -> int:
    stmt = select(func.count()).where(
        group_members.c.group_id == group_id, group_members.c.access_level == 50
    )
    return int((await conn.execute(stmt)).scalar_one())


def _ancestor_memberships(user_id: Any) -> Subquery:
    """(group id, level) for every group and every membership of the user on its chain."""
    ancestor = groups.alias("ancestor")
    target = groups.alias("target")
    return (
        select(target.c.id.label("group_id"), group_members.c.access_level.label("level"))
        .select_from(group_members)
        .join(ancestor, ancestor.c.id == group_members.c.group_id)
        .join(target, is_self_or_descendant(target.c.full_path, ancestor.c.full_path))
        .where(group_members.c.user_id == user_id)
        .subquery()
    )


def _level_statements() -> tuple[Any, Any]:
    """The two level queries, built once: they run on almost every request, and building
    SQLAlchemy constructs costs more than executing the cached compiled form."""
    chain = _ancestor_memberships(bindparam("user_id"))
    ids: Any = bindparam("ids", expanding=True)
    by_group = (
        select(chain.c.group_id, func.max(chain.c.level))
        .where(chain.c.group_id.in_(ids))
        .group_by(chain.c.group_id)
    )
    via_groups = (
        select(projects.c.id.label("project_id"), chain.c.level)
        .join(chain, chain.c.group_id == projects.c.group_id)
        .where(projects.c.id.in_(ids))
    )
    direct = select(
        project_members.c.project_id, project_members.c.access_level.label("level")
    ).where(
        project_members.c.user_id == bindparam("user_id"), project_members.c.project_id.in_(ids)
    )
    both = union_all(via_groups, direct).subquery()
    by_project = select(both.c.project_id, func.max(both.c.level)).group_by(both.c.project_id)
    return by_group, by_project


_GROUP_LEVELS, _PROJECT_LEVELS = _level_statements()


async def group_levels(
    conn: AsyncConnection, user_id: int, group_ids: Sequence[int]
) -> dict[int, int]:
    """The user's effective level in each group: the highest on the group's chain."""
    rows = await conn.execute(_GROUP_LEVELS, {"user_id": user_id, "ids": list(group_ids)})
    found = {gid: level for gid, level in rows.all()}
    return {gid: found.get(gid, 0) for gid in group_ids}


async def project_levels(
    conn: AsyncConnection, user_id: int, project_ids: Sequence[int]
) -> dict[int, int]:
    """Effective level per project: its group chain and the project's own membership."""
    rows = await conn.execute(_PROJECT_LEVELS, {"user_id": user_id, "ids": list(project_ids)})
    found = {pid: level for pid, level in rows.all()}
    return {pid: found.get(pid, 0) for pid in project_ids}


def projects_with_level_at_least(user_id: int, level: int) -> Any:
    """A select of project ids where the user's effective level reaches ``level``."""
    chain = _ancestor_memberships(user_id)
    via_groups = (
        select(projects.c.id)
        .join(chain, chain.c.group_id == projects.c.group_id)
        .where(chain.c.level >= level)
    )
    direct = select(project_members.c.project_id).where(
        and_(project_members.c.user_id == user_id, project_members.c.access_level >= level)
    )
    return union_all(via_groups, direct)
