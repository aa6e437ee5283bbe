"""Groups: their settings, their CRM lists and what they contain."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crmgraph.domain import groups as domain_groups
from crmgraph.domain.roles import AccessLevel as Role
from crmgraph.resolvers import crm as crm_reads
from crmgraph.resolvers import groups as group_reads
from crmgraph.resolvers.visibility import Scope
from crmgraph.schema.arguments import (
    After,
    Before,
    CrmContactArg,
    CrmOrganizationArg,
    First,
    Info,
    Last,
    Search,
    StateArg,
)
from crmgraph.schema.connections import page_args
from crmgraph.schema.crm import (
    ContactConnection,
    ContactSort,
    ContactState,
    ContactStateCounts,
    OrganizationConnection,
    OrganizationSort,
    OrganizationState,
    OrganizationStateCounts,
)
from crmgraph.schema.crm import state_filter as crm_state
from crmgraph.schema.directives import protected
from crmgraph.schema.enums import state_filter
from crmgraph.schema.issues import IssueConnection
from crmgraph.schema.lookahead import asks_for_timestamps, prefetch_issue_contacts
from crmgraph.schema.scalars import CustomerRelationsContactID, CustomerRelationsOrganizationID


@protected(Role.GUEST, Scope.GROUP, name="Group", description="A group of projects and people.")
class Group:
    gid: strawberry.ID = strawberry.field(name="id", description="Global ID of the group.")

    full_path: strawberry.ID = strawberry.field(description="Full path of the group.")
    path: str = strawberry.field(description="Path of the group, unique among its siblings.")
    name: str = strawberry.field(description="Name of the group.")
    crm_enabled: bool = strawberry.field(
        description="Whether customer relations are on for this group (not inherited)."
    )

    @strawberry.field(
        description="The group whose contacts this group uses; null means the root group."
    )
    async def crm_source_group(
        self, root: strawberry.Parent[domain_groups.Group], info: Info
    ) -> Group | None:
        return await group_reads.crm_source_group(info.context, root)

    @strawberry.field(description="Contacts of the group's CRM group.")
    async def contacts(
        self,
        root: strawberry.Parent[domain_groups.Group],
        info: Info,
        ids: Annotated[
            list[CustomerRelationsContactID] | None,
            strawberry.argument(description="Only contacts with these global IDs."),
        ] = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Words that must each match a name, the email or the description."
            ),
        ] = None,
        sort: Annotated[
            ContactSort | None, strawberry.argument(description="Order of the contacts.")
        ] = ContactSort.LAST_NAME_ASC,
        state: Annotated[
            ContactState | None, strawberry.argument(description="Only contacts in this state.")
        ] = None,
        first: First = None,
        last: Last = None,
        after: After = None,
        before: Before = None,
    ) -> ContactConnection | None:
        query = crm_reads.ListQuery(
            ids=ids,
            search=search,
            state=crm_state(state),
            sort=(sort or ContactSort.LAST_NAME_ASC).value,
            page=page_args(first, last, after, before),
            lean=not asks_for_timestamps(info.selected_fields),
        )
        page = await crm_reads.contacts(info.context, root, query)
        return ContactConnection(page=page)

    @strawberry.field(description="Number of contacts in each state, for the same search.")
    async def contact_state_counts(
        self,
        root: strawberry.Parent[domain_groups.Group],
        info: Info,
        search: Search = None,
        state: Annotated[
            ContactState | None, strawberry.argument(description="Accepted for GitLab clients.")
        ] = None,
    ) -> ContactStateCounts | None:
        counts = await crm_reads.contact_state_counts(info.context, root, search)
        return None if counts is None else ContactStateCounts(**counts)

    @strawberry.field(description="Organizations of the group's CRM group.")
    async def organizations(
        self,
        root: strawberry.Parent[domain_groups.Group],
        info: Info,
        ids: Annotated[
            list[CustomerRelationsOrganizationID] | None,
            strawberry.argument(description="Only organizations with these global IDs."),
        ] = None,
        search: Annotated[
            str | None,
            strawberry.argument(description="Words that must each match name or description."),
        ] = None,
        sort: Annotated[
            OrganizationSort | None, strawberry.argument(description="Order of the organizations.")
        ] = OrganizationSort.NAME_ASC,
        state: Annotated[
            OrganizationState | None,
            strawberry.argument(description="Only organizations in this state."),
        ] = None,
        first: First = None,
        last: Last = None,
        after: After = None,
        before: Before = None,
    ) -> OrganizationConnection | None:
        query = crm_reads.ListQuery(
            ids=ids,
            search=search,
            state=crm_state(state),
            sort=(sort or OrganizationSort.NAME_ASC).value,
            page=page_args(first, last, after, before),
            lean=not asks_for_timestamps(info.selected_fields),
        )
        page = await crm_reads.organizations(info.context, root, query)
        return OrganizationConnection(page=page)

    @strawberry.field(description="Number of organizations in each state, for the same search.")
    async def organization_state_counts(
        self,
        root: strawberry.Parent[domain_groups.Group],
        info: Info,
        search: Search = None,
        state: Annotated[
            OrganizationState | None,
            strawberry.argument(description="Accepted for GitLab clients."),
        ] = None,
    ) -> OrganizationStateCounts | None:
        counts = await crm_reads.organization_state_counts(info.context, root, search)
        return None if counts is None else OrganizationStateCounts(**counts)

    @strawberry.field(description="Parent group; null for a root group.")
    async def parent(
        self, root: strawberry.Parent[domain_groups.Group], info: Info
    ) -> Group | None:
        return await group_reads.parent(info.context, root)

    @strawberry.field(description="Projects directly in the group.")
    async def projects(
        self,
        root: strawberry.Parent[domain_groups.Group],
        info: Info,
        search: Search = None,
        first: First = None,
        last: Last = None,
        after: After = None,
        before: Before = None,
    ) -> ProjectConnection | None:
        page = await group_reads.projects(
            info.context, root, search, page_args(first, last, after, before)
        )
        return ProjectConnection(page=page)

    @strawberry.field(description="Issues of all projects in the group and its subgroups.")
    async def issues(
        self,
        root: strawberry.Parent[domain_groups.Group],
        info: Info,
        crm_contact_id: CrmContactArg = None,
        crm_organization_id: CrmOrganizationArg = None,
        state: StateArg = None,
        search: Search = None,
        first: First = None,
        last: Last = None,
        after: After = None,
        before: Before = None,
    ) -> IssueConnection | None:
        page = await group_reads.issues(
            info.context,
            root,
            state=state_filter(state),
            search=search,
            page=page_args(first, last, after, before),
            crm_contact_id=crm_contact_id,
            crm_organization_id=crm_organization_id,
        )
        await prefetch_issue_contacts(info, page.items)
        return IssueConnection(page=page)


# Group and Project refer to each other, so each module imports the other's type only once
# its own is defined: either module can then be imported first. (strawberry.lazy would
# keep the SDL but hide the type from install_guards, leaving Group.projects unguarded.)
from crmgraph.schema.projects import ProjectConnection  # noqa: E402
