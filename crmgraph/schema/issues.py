"""Issues and the notes on them."""

from __future__ import annotations

import strawberry

from crmgraph.domain import issues as domain_issues
from crmgraph.domain.roles import AccessLevel as Role
from crmgraph.resolvers import crm as crm_reads
from crmgraph.resolvers import issues as issue_reads
from crmgraph.resolvers.visibility import Scope
from crmgraph.schema.arguments import After, Before, First, Info, Last
from crmgraph.schema.connection_types import connection_types
from crmgraph.schema.connections import page_args
from crmgraph.schema.crm import ContactConnection
from crmgraph.schema.directives import protected
from crmgraph.schema.enums import IssueState
from crmgraph.schema.execution import READY
from crmgraph.schema.lookahead import ready_contacts
from crmgraph.schema.scalars import Time
from crmgraph.schema.users import UserCore


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


IssueEdge, IssueConnection = connection_types(Issue, "Issue", "issues")
NoteEdge, NoteConnection = connection_types(Note, "Note", "notes")
