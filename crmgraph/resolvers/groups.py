"""Reading groups and what hangs off them. Visibility of single objects is the schema
guard's job (``@requiresRole``); lists are filtered here, in SQL, so pages stay full."""

from __future__ import annotations

from dataclasses import replace

from crmgraph.authz.abilities import Ability, allowed
from crmgraph.context import RequestContext
from crmgraph.domain.groups import Group, Project
from crmgraph.domain.issues import Issue, IssueState
from crmgraph.domain.pagination import Page, PageArgs
from crmgraph.domain.roles import AccessLevel
from crmgraph.persistence import groups as groups_repo
from crmgraph.persistence import issues as issues_repo
from crmgraph.persistence import members as members_repo
from crmgraph.persistence.issues import IssueFilter
from crmgraph.resolvers.crm import issue_crm_filter


async def group_by_full_path(ctx: RequestContext, full_path: str) -> Group | None:
    """The group, with its ancestor chain and the actor's levels along it primed: CRM
    fields, parents and the guards need them next."""
    async with ctx.db.connect() as conn:
        chain, memberships = await groups_repo.group_chain_by_path(
            conn, full_path, ctx.actor.user_id
        )
    for depth, group in enumerate(chain):
        ctx.loaders.prime(ctx.loaders.groups, group.id, group)
        ctx.loaders.prime(ctx.loaders.group_chains, group.id, chain[depth:])
    ctx.loaders.know_levels(chain, memberships)
    return chain[0] if chain else None


async def parent(ctx: RequestContext, group: Group) -> Group | None:
    return None if group.parent_id is None else await ctx.loaders.group(group.parent_id)


async def projects(
    ctx: RequestContext, group: Group, search: str | None, page: PageArgs
) -> Page[Project]:
    if not allowed(await ctx.group_level(group.id), Ability.READ_GROUP):
        return Page.empty()
    async with ctx.db.connect() as conn:
        return await groups_repo.group_projects_page(conn, group.id, search, page)


async def issues(
    ctx: RequestContext,
    group: Group,
    *,
    state: IssueState | None,
    search: str | None,
    page: PageArgs,
    crm_contact_id: str | None = None,
    crm_organization_id: str | None = None,
) -> Page[Issue]:
    """Issues of every project in the group and its descendants that the actor may read."""
    level = await ctx.group_level(group.id)
    if not allowed(level, Ability.READ_GROUP):
        return Page.empty()
    crm = await issue_crm_filter(ctx, group.id, crm_contact_id, crm_organization_id)
    if crm is None:
        return Page.empty()
    flt = IssueFilter(state=state, search=search)
    if not allowed(level, Ability.READ_CONFIDENTIAL_ISSUES):
        assert ctx.actor.user_id is not None
        flt = IssueFilter(
            state=state,
            search=search,
            confidential_visible_to=ctx.actor.user_id,
            confidential_projects=members_repo.projects_with_level_at_least(
                ctx.actor.user_id, AccessLevel.REPORTER
            ),
        )
    flt = replace(flt, extra=crm.extra)
    async with ctx.db.connect() as conn:
        return await issues_repo.issues_page(
            conn, groups_repo.descendant_project_ids(group), flt, page
        )


async def crm_source_group(ctx: RequestContext, group: Group) -> Group | None:
    source = group.crm_source_group_id
    return None if source is None else await ctx.loaders.group(source)
