"""Users, groups, projects, issues and notes."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crmgraph.context import RequestContext
from crmgraph.domain import groups as domain_groups
from crmgraph.domain import issues as domain_issues
from crmgraph.domain.roles import AccessLevel as Role
from crmgraph.resolvers import crm as crm_reads
from crmgraph.resolvers import groups as group_reads
from crmgraph.resolvers import issues as issue_reads
from crmgraph.resolvers import projects as project_reads
from crmgraph.resolvers.visibility import Scope
from crmgraph.schema.connection_types import connection_types
from crmgraph.schema.connections import AFTER, BEFORE, FIRST, LAST, page_args
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
from crmgraph.schema.enums import IssuableState, IssueState, state_filter
from crmgraph.schema.execution import READY
from crmgraph.schema.lookahead import (
    asks_for_timestamps,
    prefetch_issue_contacts,
    ready_contacts,
)
from crmgraph.schema.scalars import (
    CustomerRelationsContactID,
    CustomerRelationsOrganizationID,
    Time,
)

Info = strawberry.Info[RequestContext, None]
First = Annotated[int | None, strawberry.argument(description=FIRST)]
Last = Annotated[int | None, strawberry.argument(description=LAST)]
After = Annotated[str | None, strawberry.argument(description=AFTER)]
Before = Annotated[str | None, strawberry.argument(description=BEFORE)]
Search = Annotated[str | None, strawberry.argument(description="Text to search for.")]
CrmContactArg = Annotated[
    str | None,
    strawberry.argument(description="Only issues linked to this contact (numeric ID)."),
]
CrmOrganizationArg = Annotated[
    str | None,
    strawberry.argument(
        description="Only issues linked to a contact of this organization (numeric ID)."
    ),
]
StateArg = Annotated[
    IssuableState | None, strawberry.argument(description="Only issues in this state.")
]


@strawberry.type(name="UserCore", description="A user of the service.")
class UserCore:
    gid: strawberry.ID = strawberry.field(name="id", description="Global ID of the user.")

    username: str = strawberry.field(description="Username of the user; unique.")
    name: str = strawberry.field(description="Human-readable name of the user.")


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


@protected(Role.GUEST, Scope.PROJECT, name="Project", description="A project of a group.")
class Project:
    gid: strawberry.ID = strawberry.field(name="id", description="Global ID of the project.")

    full_path: strawberry.ID = strawberry.field(description="Full path of the project.")
    path: str = strawberry.field(description="Path of the project within its group.")
    name: str = strawberry.field(description="Name of the project.")

    @strawberry.field(description="Group the project belongs to.")
    async def group(
        self, root: strawberry.Parent[domain_groups.Project], info: Info
    ) -> Group | None:
        return await project_reads.group(info.context, root)

    @strawberry.field(description="One issue of the project, by its iid.")
    async def issue(
        self,
        root: strawberry.Parent[domain_groups.Project],
        info: Info,
        iid: Annotated[str, strawberry.argument(description='IID of the issue, e.g. "1".')],
    ) -> Issue | None:
        return await project_reads.issue_by_iid(info.context, root, iid)

    @strawberry.field(description="Issues of the project, newest first.")
    async def issues(
        self,
        root: strawberry.Parent[domain_groups.Project],
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
        page = await project_reads.issues(
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


@protected(Role.GUEST, Scope.PROJECT, name="Issue", description="An issue of a project.")
class Issue:
    @classmethod
    def is_type_of(cls, obj: object, info: object) -> bool:
        """Resolvers hand out domain issues; this lets unions (Issuable) recognise them."""
        return isinstance(obj, domain_issues.Issue)

    gid: strawberry.ID = strawberry.field(name="id", description="Global ID of the issue.")

    iid: str = strawberry.field(description="Internal ID of the issue, unique within its project.")

    title: str = strawberry.field(description="Title of the issue.")
    description: str | None = strawberry.field(description="Description of the issue.")

    state: IssueState = strawberry.field(description="State of the issue.")

    confidential: bool = strawberry.field(
        description="Whether only Reporters and above (and the author) may see the issue."
    )

    @strawberry.field(description="User who created the issue.")
    async def author(self, root: strawberry.Parent[domain_issues.Issue], info: Info) -> UserCore:
        user = await issue_reads.author(info.context, root.author_id)
        assert user is not None, "an issue's author always exists (foreign key)"
        return user

    project_id: int = strawberry.field(description="ID of the issue's project.")

    created_at: Time = strawberry.field(description="When the issue was created.")
    updated_at: Time = strawberry.field(description="When the issue was last changed.")

    @strawberry.field(
        description="Contacts linked to the issue, in the order they were added.",
        # On an issue list the answer is usually loaded with the page (schema/lookahead.py).
        metadata={READY: ready_contacts},
    )
    async def customer_relations_contacts(
        self,
        root: strawberry.Parent[domain_issues.Issue],
        info: Info,
        first: First = None,
        last: Last = None,
        after: After = None,
        before: Before = None,
    ) -> ContactConnection | None:
        page = await crm_reads.issue_contacts(
            info.context, root, page_args(first, last, after, before)
        )
        return ContactConnection(page=page)

    @strawberry.field(description="Comments and system notes on the issue, oldest first.")
    async def notes(
        self,
        root: strawberry.Parent[domain_issues.Issue],
        info: Info,
        first: First = None,
        last: Last = None,
        after: After = None,
        before: Before = None,
    ) -> NoteConnection:
        page = await issue_reads.notes(info.context, root, page_args(first, last, after, before))
        return NoteConnection(page=page)


@strawberry.type(name="Note", description="A comment on an issue, or a note the system wrote.")
class Note:
    gid: strawberry.ID = strawberry.field(name="id", description="Global ID of the note.")

    body: str = strawberry.field(description="Content of the note.")
    system: bool = strawberry.field(description="Whether the service wrote the note itself.")

    @strawberry.field(description="User who wrote the note.")
    async def author(self, root: strawberry.Parent[domain_issues.Note], info: Info) -> UserCore:
        user = await issue_reads.author(info.context, root.author_id)
        assert user is not None, "a note's author always exists (foreign key)"
        return user

    created_at: Time = strawberry.field(description="When the note was written.")


ProjectEdge, ProjectConnection = connection_types(Project, "Project", "projects")
IssueEdge, IssueConnection = connection_types(Issue, "Issue", "issues")
NoteEdge, NoteConnection = connection_types(Note, "Note", "notes")
