"""Setting an issue's CRM contacts: issueSetCrmContacts, its input, payload and mode enum."""

from __future__ import annotations

import enum
from typing import Annotated

import strawberry

from crmgraph.domain.crm import OperationMode
from crmgraph.mutations import issue_contacts as issue_contact_writes
from crmgraph.schema.arguments import Info
from crmgraph.schema.issues import Issue
from crmgraph.schema.mutation_base import CLIENT_MUTATION_ID, ERRORS, INPUT
from crmgraph.schema.scalars import CustomerRelationsContactID


@strawberry.enum(name="MutationOperationMode", description="How a list argument is applied.")
class MutationOperationMode(enum.Enum):
    REPLACE = "REPLACE"
    APPEND = "APPEND"
    REMOVE = "REMOVE"


@strawberry.input(description="Set the contacts of an issue.")
class IssueSetCrmContactsInput:
    client_mutation_id: str | None = strawberry.field(default=None, description=CLIENT_MUTATION_ID)
    project_path: strawberry.ID = strawberry.field(description="Full path of the project.")
    iid: str = strawberry.field(description="IID of the issue.")
    contact_ids: list[CustomerRelationsContactID] = strawberry.field(
        description="Global IDs of the contacts to replace, add or remove."
    )
    operation_mode: MutationOperationMode | None = strawberry.field(
        default=None, description="REPLACE (default), APPEND or REMOVE."
    )


@strawberry.type(description="Result of setting an issue's contacts.")
class IssueSetCrmContactsPayload:
    client_mutation_id: str | None = strawberry.field(description=CLIENT_MUTATION_ID)
    issue: Issue | None = strawberry.field(description="The issue, also when there are errors.")
    errors: list[str] = strawberry.field(description=ERRORS)


async def issue_set_crm_contacts(
    info: Info, input: Annotated[IssueSetCrmContactsInput, strawberry.argument(description=INPUT)]
) -> IssueSetCrmContactsPayload | None:
    mode = OperationMode[(input.operation_mode or MutationOperationMode.REPLACE).value]
    out = await issue_contact_writes.set_issue_contacts(
        info.context,
        project_path=input.project_path,
        iid=input.iid,
        contact_ids=list(input.contact_ids),
        mode=mode,
    )
    return IssueSetCrmContactsPayload(
        client_mutation_id=input.client_mutation_id, issue=out.value, errors=out.errors
    )


@strawberry.type
class IssueContactMutation:
    issue_set_crm_contacts = strawberry.mutation(
        resolver=issue_set_crm_contacts,
        description="Replace, add or remove the contacts of an issue, in one transaction.",
    )
