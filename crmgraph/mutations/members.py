"""Managing group and project members, up to one's own level."""

from __future__ import annotations

from crmgraph.authz.abilities import Ability
from crmgraph.authz.policy import can_assign_level
from crmgraph.context import RequestContext
from crmgraph.domain.roles import AccessLevel
from crmgraph.mutations.lookups import group_with, project_with, user_named
from crmgraph.mutations.outcome import Outcome
from crmgraph.persistence import members as members_repo

LAST_OWNER = "A root group must keep at least one Owner"


def _user_not_found(username: str) -> str:
    return f"User {username} not found"


def _above_own_level(level: AccessLevel) -> str:
    return f"You cannot give the {level.name.capitalize()} role: it is above your own access level"


async def set_group_member(
    ctx: RequestContext, *, full_path: str, username: str, level: AccessLevel
) -> Outcome[None]:
    ctx.require_writer()
    group, own = await group_with(ctx, full_path, Ability.ADMIN_GROUP_MEMBER)
    user = await user_named(ctx, username)
    if user is None:
        return Outcome.failed([_user_not_found(username)])
    if not can_assign_level(own, level):
        return Outcome.failed([_above_own_level(level)])
    async with ctx.db.transaction() as conn:
        current = await members_repo.direct_group_level(conn, group_id=group.id, user_id=user.id)
        if current is not None and current > own:
            return Outcome.failed(["You cannot change the role of a member above your own level"])
        if (
            group.is_root
            and current == AccessLevel.OWNER
            and level < AccessLevel.OWNER
            and await members_repo.count_owners(conn, group.id) == 1
        ):
            return Outcome.failed([LAST_OWNER])
        await members_repo.set_group_member(
            conn, group_id=group.id, user_id=user.id, level=level, now=ctx.now()
        )
    ctx.forget_levels()
    return Outcome(None)


async def remove_group_member(
    ctx: RequestContext, *, full_path: str, username: str
) -> Outcome[None]:
    ctx.require_writer()
    group, own = await group_with(ctx, full_path, Ability.ADMIN_GROUP_MEMBER)
    user = await user_named(ctx, username)
    if user is None:
        return Outcome.failed([_user_not_found(username)])
    async with ctx.db.transaction() as conn:
        current = await members_repo.direct_group_level(conn, group_id=group.id, user_id=user.id)
        if current is None:
            return Outcome.failed([f"{user.username} is not a direct member of {group.full_path}"])
        if current > own:
            return Outcome.failed(["You cannot remove a member above your own level"])
        if (
            group.is_root
            and current == AccessLevel.OWNER
            and await members_repo.count_owners(conn, group.id) == 1
        ):
            return Outcome.failed([LAST_OWNER])
        await members_repo.remove_group_member(conn, group_id=group.id, user_id=user.id)
    ctx.forget_levels()
    return Outcome(None)


async def set_project_member(
    ctx: RequestContext, *, full_path: str, username: str, level: AccessLevel
) -> Outcome[None]:
    ctx.require_writer()
    project, own = await project_with(ctx, full_path, Ability.ADMIN_PROJECT_MEMBER)
    user = await user_named(ctx, username)
    if user is None:
        return Outcome.failed([_user_not_found(username)])
    if not can_assign_level(own, level):
        return Outcome.failed([_above_own_level(level)])
    async with ctx.db.transaction() as conn:
        await members_repo.set_project_member(
            conn, project_id=project.id, user_id=user.id, level=level, now=ctx.now()
        )
    ctx.forget_levels()
    return Outcome(None)
