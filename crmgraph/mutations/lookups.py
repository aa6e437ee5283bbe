"""Finding the target of a mutation, or failing with the resource error."""

from __future__ import annotations

from crmgraph.authz.abilities import Ability, allowed
from crmgraph.authz.policy import can_read_issue
from crmgraph.context import RequestContext
from crmgraph.domain.errors import ResourceNotAvailable
from crmgraph.domain.groups import Group, Project
from crmgraph.domain.issues import Issue, parse_iid
from crmgraph.domain.users import User
from crmgraph.persistence import groups as groups_repo
from crmgraph.persistence import issues as issues_repo
from crmgraph.persistence import users as users_repo


async def group_with(ctx: RequestContext, full_path: str, ability: Ability) -> tuple[Group, int]:
    """The group and the actor's level in it, if the actor has ``ability`` there."""
    async with ctx.db.connect() as conn:
        group = await groups_repo.group_by_full_path(conn, full_path)
    if group is None:
        raise ResourceNotAvailable()
    level = await ctx.group_level(group.id)
    if not allowed(level, ability):
        raise ResourceNotAvailable()
    return group, level


async def project_with(
    ctx: RequestContext, full_path: str, ability: Ability
) -> tuple[Project, int]:
    async with ctx.db.connect() as conn:
        project = await groups_repo.project_by_full_path(conn, full_path)
    if project is None:
        raise ResourceNotAvailable()
    level = await ctx.project_level(project.id)
    if not allowed(level, ability):
        raise ResourceNotAvailable()
    return project, level


async def readable_issue(ctx: RequestContext, project_path: str, iid: str) -> tuple[Issue, int]:
    """An issue the actor may read, found by project path and iid, with the project level."""
    project, level = await project_with(ctx, project_path, Ability.READ_ISSUE)
    number = parse_iid(iid)
    if number is None:
        raise ResourceNotAvailable()
    async with ctx.db.connect() as conn:
        issue = await issues_repo.issue_by_iid(conn, project.id, number)
    if issue is None or not can_read_issue(ctx.actor, level, issue):
        raise ResourceNotAvailable()
    return issue, level


async def readable_issue_by_id(ctx: RequestContext, issue_id: int) -> tuple[Issue, int]:
    issue = await ctx.loaders.issue(issue_id)
    if issue is None:
        raise ResourceNotAvailable()
    level = await ctx.project_level(issue.project_id)
    if not can_read_issue(ctx.actor, level, issue):
        raise ResourceNotAvailable()
    return issue, level


async def user_named(ctx: RequestContext, username: str) -> User | None:
    async with ctx.db.connect() as conn:
        return await users_repo.user_by_username(conn, username)
