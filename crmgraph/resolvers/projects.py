"""Reading projects and their issues."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from crmgraph.authz.abilities import Ability, allowed
from crmgraph.context import RequestContext
from crmgraph.domain.groups import Group, Project
from crmgraph.domain.issues import Issue, IssueState, parse_iid
from crmgraph.domain.pagination import Page, PageArgs
from crmgraph.persistence import groups as groups_repo
from crmgraph.persistence import issues as issues_repo
from crmgraph.persistence.issues import IssueFilter
from crmgraph.resolvers.crm import crm_group_for_project, issue_crm_filter


async def project_by_full_path(ctx: RequestContext, full_path: str) -> Project | None:
    """The project, with its group chain and the actor's levels primed: CRM fields,
    ``group`` and the guards need them next."""
    async with ctx.db.connect() as conn:
        found = await groups_repo.project_with_chain(conn, full_path, ctx.actor.user_id)
    if found is None:
        return None
    project, chain, memberships, project_membership = found
    ctx.loaders.prime(ctx.loaders.projects, project.id, project)
    for depth, group in enumerate(chain):
        ctx.loaders.prime(ctx.loaders.groups, group.id, group)
        ctx.loaders.prime(ctx.loaders.group_chains, group.id, chain[depth:])
    ctx.loaders.know_levels(chain, memberships, project, project_membership)
    return project


async def group(ctx: RequestContext, project: Project) -> Group | None:
    return await ctx.loaders.group(project.group_id)


async def issue_by_iid(ctx: RequestContext, project: Project, iid: str) -> Issue | None:
    number = parse_iid(iid)
    if number is None:
        return None
    async with ctx.db.connect() as conn:
        return await issues_repo.issue_by_iid(conn, project.id, number)


def issue_filter(
    ctx: RequestContext, level: int, state: IssueState | None, search: str | None
) -> IssueFilter:
    """Confidential issues stay hidden unless the level allows them or the actor wrote them."""
    if allowed(level, Ability.READ_CONFIDENTIAL_ISSUES):
        return IssueFilter(state=state, search=search)
    return IssueFilter(state=state, search=search, confidential_visible_to=ctx.actor.user_id or 0)


async def issues(
    ctx: RequestContext,
    project: Project,
    *,
    state: IssueState | None,
    search: str | None,
    page: PageArgs,
    crm_contact_id: str | None = None,
    crm_organization_id: str | None = None,
    contacts_json: tuple[Any, int] | None = None,
) -> tuple[Page[Issue], dict[int, tuple[str, list[int]]] | None]:
    """The project's issues the actor may see, newest first. With ``contacts_json``
    (fields, and how many contacts an issue), also each issue's contacts as
    ``crm.issues_contacts_json`` writes them, read with the page when the list's filter
    allows (PostgreSQL); the contacts are None when not read: the caller reads them."""
    flt = await _listed(ctx, project, state, search, crm_contact_id, crm_organization_id)
    if flt is None:
        return Page.empty(), None
    if contacts_json is None:
        return await _page(ctx, project, flt, page), None
    if await crm_group_for_project(ctx, project.id, Ability.READ_CRM_CONTACT) is None:
        # As crm.issues_contacts_json answers then: no issue shows contacts.
        return await _page(ctx, project, flt, page), {}
    fields, limit = contacts_json
    async with ctx.db.connect() as conn:
        found = await issues_repo.issues_page_with_contacts_json(
            conn, project.id, flt, page, fields, limit
        )
    return found or (await _page(ctx, project, flt, page), None)


async def _page(
    ctx: RequestContext, project: Project, flt: IssueFilter, page: PageArgs
) -> Page[Issue]:
    async with ctx.db.connect() as conn:
        return await issues_repo.issues_page(conn, [project.id], flt, page)


async def _listed(
    ctx: RequestContext,
    project: Project,
    state: IssueState | None,
    search: str | None,
    crm_contact_id: str | None,
    crm_organization_id: str | None,
) -> IssueFilter | None:
    """What the project's issue list shows the actor; None when nothing."""
    level = await ctx.project_level(project.id)
    if not allowed(level, Ability.READ_ISSUE):
        return None
    crm = await issue_crm_filter(ctx, project.group_id, crm_contact_id, crm_organization_id)
    if crm is None:
        return None
    return replace(issue_filter(ctx, level, state, search), extra=crm.extra)
