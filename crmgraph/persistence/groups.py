"""Groups, projects, memberships and the effective access levels they give."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Subquery

from crmgraph.domain.groups import Group, Project, ancestor_paths
from crmgraph.domain.pagination import Page, PageArgs
from crmgraph.persistence.queries import SortKey, fetch_page, like_pattern
from crmgraph.persistence.tables import group_members, groups, project_members, projects
from crmgraph.persistence.unit_of_work import is_unique_violation


class PathTaken(Exception):
    pass


def to_group(row: Any) -> Group:
    m = row._mapping
    return Group(
        id=m["id"],
        parent_id=m["parent_id"],
        path=m["path"],
        name=m["name"],
        full_path=m["full_path"],
        crm_enabled=m["crm_enabled"],
        crm_source_group_id=m["crm_source_group_id"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def to_project(row: Any) -> Project:
    m = row._mapping
    return Project(
        id=m["id"],
        group_id=m["group_id"],
        path=m["path"],
        name=m["name"],
        full_path=m["full_path"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


GROUP_COLUMNS = tuple(groups.c)
PROJECT_COLUMNS = tuple(c for c in projects.c if c.name != "last_issue_iid")


def is_self_or_descendant(
    child_path: ColumnElement[str], parent_path: ColumnElement[str]
) -> ColumnElement[bool]:
    """``child_path`` is ``parent_path`` or lies below it (no LIKE: paths may hold ``_``)."""
    return or_(
        child_path == parent_path,
        func.substr(child_path, 1, func.length(parent_path) + 1) == parent_path + "/",
    )


async def group_by_full_path(conn: AsyncConnection, full_path: str) -> Group | None:
    stmt = select(*GROUP_COLUMNS).where(func.lower(groups.c.full_path) == full_path.lower())
    row = (await conn.execute(stmt)).first()
    return None if row is None else to_group(row)


async def group_chain_by_path(conn: AsyncConnection, full_path: str) -> list[Group]:
    """The group at ``full_path`` and its ancestors, the group first; empty when absent."""
    paths = [path.lower() for path in ancestor_paths(full_path)]
    stmt = select(*GROUP_COLUMNS).where(func.lower(groups.c.full_path).in_(paths))
    found = {row.full_path.lower(): to_group(row) for row in (await conn.execute(stmt)).all()}
    if paths[-1] not in found:
        return []
    return [found[path] for path in reversed(paths) if path in found]


async def groups_by_ids(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, Group]:
    rows = (await conn.execute(select(*GROUP_COLUMNS).where(groups.c.id.in_(ids)))).all()
    return {row.id: to_group(row) for row in rows}


async def project_by_full_path(conn: AsyncConnection, full_path: str) -> Project | None:
    stmt = select(*PROJECT_COLUMNS).where(func.lower(projects.c.full_path) == full_path.lower())
    row = (await conn.execute(stmt)).first()
    return None if row is None else to_project(row)


async def projects_by_ids(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, Project]:
    rows = (await conn.execute(select(*PROJECT_COLUMNS).where(projects.c.id.in_(ids)))).all()
    return {row.id: to_project(row) for row in rows}


async def full_path_taken(conn: AsyncConnection, full_path: str) -> bool:
    """Groups and projects share one namespace of full paths."""
    lowered = full_path.lower()
    in_groups = select(groups.c.id).where(func.lower(groups.c.full_path) == lowered)
    in_projects = select(projects.c.id).where(func.lower(projects.c.full_path) == lowered)
    row = (await conn.execute(union_all(in_groups, in_projects).limit(1))).first()
    return row is not None


async def create_group(
    conn: AsyncConnection,
    *,
    parent: Group | None,
    path: str,
    name: str,
    full_path: str,
    now: datetime,
) -> Group:
    stmt = (
        insert(groups)
        .values(
            parent_id=None if parent is None else parent.id,
            path=path,
            name=name,
            full_path=full_path,
            created_at=now,
            updated_at=now,
        )
        .returning(*GROUP_COLUMNS)
    )
    try:
        async with conn.begin_nested():
            row = (await conn.execute(stmt)).one()
    except IntegrityError as exc:
        if is_unique_violation(exc):
            raise PathTaken(full_path) from exc
        raise
    return to_group(row)


async def update_group(
    conn: AsyncConnection, group_id: int, values: dict[str, Any], now: datetime
) -> Group:
    stmt = (
        update(groups)
        .where(groups.c.id == group_id)
        .values(**values, updated_at=now)
        .returning(*GROUP_COLUMNS)
    )
    return to_group((await conn.execute(stmt)).one())


async def create_project(
    conn: AsyncConnection, *, group: Group, path: str, name: str, now: datetime
) -> Project:
    full_path = f"{group.full_path}/{path}"
    stmt = (
        insert(projects)
        .values(
            group_id=group.id,
            path=path,
            name=name,
            full_path=full_path,
            created_at=now,
            updated_at=now,
        )
        .returning(*PROJECT_COLUMNS)
    )
    try:
        async with conn.begin_nested():
            row = (await conn.execute(stmt)).one()
    except IntegrityError as exc:
        if is_unique_violation(exc):
            raise PathTaken(full_path) from exc
        raise
    return to_project(row)


async def group_projects_page(
    conn: AsyncConnection, group_id: int, search: str | None, page: PageArgs
) -> Page[Project]:
    stmt = select(*PROJECT_COLUMNS).where(projects.c.group_id == group_id)
    if search:
        pattern = like_pattern(search.lower())
        stmt = stmt.where(
            or_(
                func.lower(projects.c.name).like(pattern, escape="\\"),
                func.lower(projects.c.path).like(pattern, escape="\\"),
            )
        )
    keys = (SortKey(projects.c.name, "name"), SortKey(projects.c.id, "id"))
    return (await fetch_page(conn, stmt, keys, page)).map(to_project)


# ------------------------------------------------------------------ memberships


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


def descendant_project_ids(group: Group) -> Any:
    """A select of the ids of projects in ``group`` and all its descendants."""
    return (
        select(projects.c.id)
        .join(groups, groups.c.id == projects.c.group_id)
        .where(is_self_or_descendant(groups.c.full_path, literal(group.full_path)))
    )
