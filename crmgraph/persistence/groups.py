"""Groups, projects, memberships and the effective access levels they give."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from crmgraph.domain.groups import Group, Project, ancestor_paths
from crmgraph.domain.pagination import Page, PageArgs
from crmgraph.persistence.keyset import SortKey
from crmgraph.persistence.queries import fetch_page, like_pattern
from crmgraph.persistence.tables import group_members, groups, project_members, projects
from crmgraph.persistence.unit_of_work import write_one


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


#: The :user_id's membership in ``groups``' row (an outer join: NULL where none).
USER_GROUP_MEMBERSHIP = and_(
    group_members.c.group_id == groups.c.id, group_members.c.user_id == bindparam("user_id")
)
#: That membership's level, read beside the group's columns (see ``memberships``).
MEMBERSHIP = group_members.c.access_level.label("membership")


def memberships(rows: Sequence[Any], group_id: str = "id") -> dict[int, int]:
    """The user's direct level by group id, from rows that read ``MEMBERSHIP`` beside the
    group's id (in column ``group_id``); groups without a membership are left out."""
    return {row._mapping[group_id]: row.membership for row in rows if row.membership is not None}


# Path lookups run on most requests: built once, since building a statement and its
# cache key costs more CPU (0.17 ms) than SQLAlchemy's run of a ready one. They read the
# user's direct memberships along (none for :user_id NULL), so that the levels need no
# query of their own (persistence.members computes the same levels for any group).
_GROUPS_BY_PATHS = (
    select(*GROUP_COLUMNS, MEMBERSHIP)
    .select_from(groups.outerjoin(group_members, USER_GROUP_MEMBERSHIP))
    .where(func.lower(groups.c.full_path).in_(bindparam("paths", expanding=True)))
)
_PROJECT_WITH_CHAIN = (
    select(
        *PROJECT_COLUMNS,
        project_members.c.access_level.label("project_membership"),
        *(c.label(f"g_{c.name}") for c in GROUP_COLUMNS),
        MEMBERSHIP,
    )
    .select_from(
        projects.outerjoin(
            project_members,
            and_(
                project_members.c.project_id == projects.c.id,
                project_members.c.user_id == bindparam("user_id"),
            ),
        )
        .join(groups, func.lower(groups.c.full_path).in_(bindparam("group_paths", expanding=True)))
        .outerjoin(group_members, USER_GROUP_MEMBERSHIP)
    )
    .where(func.lower(projects.c.full_path) == bindparam("path"))
)


class GroupChain(NamedTuple):
    """A group and its ancestors (the group first), with the user's direct memberships."""

    chain: list[Group]
    #: Access level by group id, for the groups of the chain the user is a member of.
    memberships: dict[int, int]


class ProjectChain(NamedTuple):
    """A project, its group's chain, and the user's direct memberships in both."""

    project: Project
    chain: list[Group]
    memberships: dict[int, int]
    project_membership: int | None


async def group_chain_by_path(
    conn: AsyncConnection, full_path: str, user_id: int | None = None
) -> GroupChain:
    """The group at ``full_path`` and its ancestors; an empty chain when it is absent."""
    paths = [path.lower() for path in ancestor_paths(full_path)]
    rows = (await conn.execute(_GROUPS_BY_PATHS, {"paths": paths, "user_id": user_id})).all()
    found = {row.full_path.lower(): to_group(row) for row in rows}
    if paths[-1] not in found:
        return GroupChain([], {})
    chain = [found[path] for path in reversed(paths) if path in found]
    return GroupChain(chain, memberships(rows))


async def groups_by_ids(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, Group]:
    rows = (await conn.execute(select(*GROUP_COLUMNS).where(groups.c.id.in_(ids)))).all()
    return {row.id: to_group(row) for row in rows}


async def project_by_full_path(conn: AsyncConnection, full_path: str) -> Project | None:
    stmt = select(*PROJECT_COLUMNS).where(func.lower(projects.c.full_path) == full_path.lower())
    row = (await conn.execute(stmt)).first()
    return None if row is None else to_project(row)


async def project_with_chain(
    conn: AsyncConnection, full_path: str, user_id: int | None = None
) -> ProjectChain | None:
    """The project at ``full_path`` and its group's chain (the group first), in one query."""
    group_paths = [path.lower() for path in ancestor_paths(full_path)[:-1]]
    parameters = {"group_paths": group_paths, "path": full_path.lower(), "user_id": user_id}
    rows = (await conn.execute(_PROJECT_WITH_CHAIN, parameters)).all()
    if not rows:
        return None
    start = len(PROJECT_COLUMNS) + 1
    # GROUP_COLUMNS are Group's fields in order.
    chain = [Group(*row[start : start + len(GROUP_COLUMNS)]) for row in rows]
    chain.sort(key=lambda group: group.depth, reverse=True)
    first = rows[0]
    return ProjectChain(
        to_project(first), chain, memberships(rows, "g_id"), first.project_membership
    )


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
    row = await write_one(conn, stmt, lambda: PathTaken(full_path))
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
    row = await write_one(conn, stmt, lambda: PathTaken(full_path))
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


def descendant_project_ids(group: Group) -> Any:
    """A select of the ids of projects in ``group`` and all its descendants."""
    return (
        select(projects.c.id)
        .join(groups, groups.c.id == projects.c.group_id)
        .where(is_self_or_descendant(groups.c.full_path, literal(group.full_path)))
    )
