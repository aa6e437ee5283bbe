"""Reading contacts and organizations: lists of the CRM group, counts, an issue's contacts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from crmgraph.authz.abilities import Ability, allowed
from crmgraph.authz.policy import can_read_issue
from crmgraph.context import RequestContext
from crmgraph.domain.contacts import (
    Contact,
    ContactWithOrganization,
    Organization,
    StateFilter,
)
from crmgraph.domain.groups import Group
from crmgraph.domain.ids import parse_number
from crmgraph.domain.issues import Issue, parse_iid
from crmgraph.domain.pagination import Page, PageArgs
from crmgraph.persistence import contact_json
from crmgraph.persistence import contacts as contacts_repo
from crmgraph.persistence import groups as groups_repo
from crmgraph.persistence import issue_contacts as links_repo
from crmgraph.persistence import issues as issues_repo
from crmgraph.persistence.issues import IssueFilter
from crmgraph.resolvers.gathering import all_of

T = TypeVar("T")


async def readable_crm_group(ctx: RequestContext, group: Group, ability: Ability) -> Group | None:
    """The CRM group of ``group`` if the actor has ``ability`` there, else None."""
    crm = await ctx.crm_group(group.id)
    if crm is None or not allowed(await ctx.crm_level(crm), ability, crm_enabled=crm.crm_enabled):
        return None
    return crm


@dataclass(frozen=True)
class ListQuery:
    """The arguments every CRM list takes (GitLab's names, already converted)."""

    ids: Sequence[int] | None
    search: str | None
    state: StateFilter | None
    sort: str
    page: PageArgs
    #: Leave the timestamps out: the query does not show them.
    lean: bool = False


async def contacts(
    ctx: RequestContext, group: Group, query: ListQuery
) -> Page[ContactWithOrganization]:
    return await _listed(ctx, group, Ability.READ_CRM_CONTACT, contacts_repo.contacts_page, query)


async def organizations(ctx: RequestContext, group: Group, query: ListQuery) -> Page[Organization]:
    fetch = contacts_repo.organizations_page
    return await _listed(ctx, group, Ability.READ_CRM_ORGANIZATION, fetch, query)


async def contact_state_counts(
    ctx: RequestContext, group: Group, search: str | None
) -> dict[str, int] | None:
    fetch = contacts_repo.contact_state_counts
    return await _counted(ctx, group, Ability.READ_CRM_CONTACT, fetch, search)


async def organization_state_counts(
    ctx: RequestContext, group: Group, search: str | None
) -> dict[str, int] | None:
    fetch = contacts_repo.organization_state_counts
    return await _counted(ctx, group, Ability.READ_CRM_ORGANIZATION, fetch, search)


async def _listed(
    ctx: RequestContext,
    group: Group,
    ability: Ability,
    fetch: Callable[..., Awaitable[Page[T]]],
    query: ListQuery,
) -> Page[T]:
    """A list of the group's CRM group; empty, without an error, for those who may not read."""
    crm = await readable_crm_group(ctx, group, ability)
    if crm is None:
        return Page.empty()
    async with ctx.db.connect() as conn:
        return await fetch(
            conn, crm.id, ids=query.ids, search=query.search, state=query.state,
            sort=query.sort, page=query.page, lean=query.lean,
        )  # fmt: skip


async def _counted(
    ctx: RequestContext,
    group: Group,
    ability: Ability,
    fetch: Callable[[AsyncConnection, int, str | None], Awaitable[dict[str, int]]],
    search: str | None,
) -> dict[str, int] | None:
    """State counts of the CRM group; null for those who may not read (GitLab's habit)."""
    crm = await readable_crm_group(ctx, group, ability)
    if crm is None:
        return None
    async with ctx.db.connect() as conn:
        return await fetch(conn, crm.id, search)


async def with_organization(ctx: RequestContext, contact: Contact) -> ContactWithOrganization:
    organization = None
    if contact.organization_id is not None:
        organization = await ctx.loaders.organization(contact.organization_id)
    return _attach(contact, organization)


def _attach(contact: Contact, organization: Organization | None) -> ContactWithOrganization:
    values = {name: getattr(contact, name) for name in Contact.__dataclass_fields__}
    return ContactWithOrganization(**values, organization=organization)


async def crm_group_for_issue(ctx: RequestContext, issue: Issue, ability: Ability) -> Group | None:
    """The CRM group an issue's contacts come from, if CRM is on for the project's group
    and the actor has ``ability`` in the CRM group (asked once per project and request)."""
    return await crm_group_for_project(ctx, issue.project_id, ability)


async def crm_group_for_project(
    ctx: RequestContext, project_id: int, ability: Ability
) -> Group | None:
    """``crm_group_for_issue`` for the issues of one project."""
    key = (project_id, ability.value)
    if key not in ctx.project_crm_memo:
        # A task, so that the issues of one page asking at once share one answer.
        ctx.project_crm_memo[key] = asyncio.ensure_future(
            _crm_group_for_project(ctx, project_id, ability)
        )
    found: Group | None = await ctx.project_crm_memo[key]
    return found


async def _crm_group_for_project(
    ctx: RequestContext, project_id: int, ability: Ability
) -> Group | None:
    project = await ctx.loaders.project(project_id)
    if project is None:
        return None
    project_group = await ctx.loaders.group(project.group_id)
    if project_group is None or not project_group.crm_enabled:
        return None
    return await readable_crm_group(ctx, project_group, ability)


async def issue_contacts(
    ctx: RequestContext, issue: Issue, page: PageArgs
) -> Page[ContactWithOrganization]:
    if await crm_group_for_issue(ctx, issue, Ability.READ_CRM_CONTACT) is None:
        return Page.empty()
    return await ctx.loaders.issue_contacts_page(issue.id, page)


async def issues_contacts_pages(
    ctx: RequestContext, issues: Sequence[Issue], shapes: Iterable[PageArgs], *, lean: bool
) -> dict[tuple[int, PageArgs], Page[ContactWithOrganization]]:
    """``issue_contacts`` for a whole page of issues and each page shape, in one batch
    (``lean``: without timestamps, which the query does not show)."""
    keys = [(issue.id, shape) for shape in shapes for issue in issues]
    wanted = await _with_readable_contacts(ctx, issues)
    pages = await ctx.loaders.contacts_of_issues(wanted, shapes, lean=lean) if wanted else {}
    return {key: pages.get(key, Page.empty()) for key in keys}


#: The contact and organization fields ``issues_contacts_json`` can write.
JSON_CONTACT_FIELDS = frozenset(contact_json.CONTACT_FIELDS)
JSON_ORGANIZATION_FIELDS = frozenset(contact_json.ORGANIZATION_FIELDS)


async def issues_contacts_json(
    ctx: RequestContext, issues: Sequence[Issue], fields: Any, limit: int
) -> dict[int, tuple[str, list[int]]]:
    """The contacts of a page of issues as JSON text (persistence/contact_json.py) with
    their groups, for the issues whose contacts the actor may read; PostgreSQL only."""
    wanted = await _with_readable_contacts(ctx, issues)
    if not wanted:
        return {}
    async with ctx.db.connect() as conn:
        return await contact_json.contacts_json_of_issues(conn, wanted, fields, limit)


async def _with_readable_contacts(ctx: RequestContext, issues: Sequence[Issue]) -> list[int]:
    """The ids of ``issues`` whose CRM contacts the actor may read."""
    # The answer is per project: ask once for each project on the page.
    by_project = {issue.project_id: issue for issue in issues}
    ability = Ability.READ_CRM_CONTACT
    answers = await all_of([crm_group_for_issue(ctx, i, ability) for i in by_project.values()])
    readable = {project for project, crm in zip(by_project, answers, strict=True) if crm}
    return [issue.id for issue in issues if issue.project_id in readable]


def _numeric_id(value: str | None) -> int | None:
    """GitLab's UI sends these filters as numeric strings; anything else matches nothing."""
    if value is None:
        return None
    # 0 names no row; so does a number beyond the id column, which never reaches the database.
    return parse_number(value) or 0


async def issue_crm_filter(
    ctx: RequestContext, group_id: int, contact_id: str | None, organization_id: str | None
) -> IssueFilter | None:
    """Extra conditions for ``crmContactId`` / ``crmOrganizationId`` on an issue list of
    the group; None when the actor may not read that CRM group (the list is then empty —
    GitLab would silently ignore the filter and list everything)."""
    contact = _numeric_id(contact_id)
    organization = _numeric_id(organization_id)
    if contact is None and organization is None:
        return IssueFilter()
    group = await ctx.loaders.group(group_id)
    if group is None or await readable_crm_group(ctx, group, Ability.READ_CRM_CONTACT) is None:
        return None
    conditions = []
    if contact is not None:
        conditions.append(links_repo.linked_to_contact(contact))
    if organization is not None:
        conditions.append(links_repo.linked_to_organization(organization))
    return IssueFilter(extra=tuple(conditions))


async def autocomplete_contacts(
    ctx: RequestContext, project_path: str, iid: str | None
) -> list[dict[str, object]] | None:
    """GitLab's ``[contact:`` autocomplete source: the CRM group's active contacts and those
    already on the issue (``set``); None when the actor may not read them (answered 404)."""
    async with ctx.db.connect() as conn:
        project = await groups_repo.project_by_full_path(conn, project_path)
    if project is None or not allowed(await ctx.project_level(project.id), Ability.READ_ISSUE):
        return None
    group = await ctx.loaders.group(project.group_id)
    crm = None if group is None else await readable_crm_group(ctx, group, Ability.READ_CRM_CONTACT)
    if crm is None:
        return None
    linked: set[int] = set()
    number = None if iid is None else parse_iid(iid)
    async with ctx.db.connect() as conn:
        if number is not None:
            issue = await issues_repo.issue_by_iid(conn, project.id, number)
            level = await ctx.project_level(project.id)
            if issue is not None and can_read_issue(ctx.actor, level, issue):
                linked = await links_repo.linked_contact_ids(conn, issue.id)
        found = await contacts_repo.autocomplete_contacts(conn, crm.id, linked)
    return [
        {
            "id": c.id,
            "email": c.email,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "state": "active" if c.active else "inactive",
            "set": c.id in linked,
        }
        for c in found
    ]
