"""Projects and the issues in them."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crmgraph.domain import groups as domain_groups
from crmgraph.domain.roles import AccessLevel as Role
from crmgraph.resolvers import projects as project_reads
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
from crmgraph.schema.connection_types import connection_types
from crmgraph.schema.connections import page_args
from crmgraph.schema.directives import protected
from crmgraph.schema.enums import state_filter
from crmgraph.schema.issues import Issue, IssueConnection
from crmgraph.schema.lookahead import (
    json_contacts_plan,
    keep_json_contacts,
    prefetch_issue_contacts,
)


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
        plan = json_contacts_plan(info)
        # The contacts as written JSON are read with the page where the filter allows.
        page, found = await project_reads.issues(
            info.context,
            root,
            state=state_filter(state),
            search=search,
            page=page_args(first, last, after, before),
            crm_contact_id=crm_contact_id,
            crm_organization_id=crm_organization_id,
            contacts_json=None if plan is None else (plan.selection.fields, plan.limit),
        )
        if found is None or plan is None:
            await prefetch_issue_contacts(info, page.items)
        elif page.items:
            await keep_json_contacts(info.context, page.items, plan, found)
        return IssueConnection(page=page)


ProjectEdge, ProjectConnection = connection_types(Project, "Project", "projects")

# Imported last, as in schema/groups.py: Group and Project refer to each other.
from crmgraph.schema.groups import Group  # noqa: E402
