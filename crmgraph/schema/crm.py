"""Contacts and organizations (GitLab's customer relations types)."""

from __future__ import annotations

import enum

import strawberry

from crmgraph.context import RequestContext
from crmgraph.domain.contacts import StateFilter
from crmgraph.domain.roles import AccessLevel as Role
from crmgraph.resolvers.visibility import Scope
from crmgraph.schema.connection_types import connection_types
from crmgraph.schema.directives import GUARDED_BY_PARENT, protected
from crmgraph.schema.scalars import Time

Info = strawberry.Info[RequestContext, None]


@strawberry.enum(name="CustomerRelationsContactState", description="State of contacts to list.")
class ContactState(enum.Enum):
    all = "all"
    active = "active"
    inactive = "inactive"


@strawberry.enum(
    name="CustomerRelationsOrganizationState", description="State of organizations to list."
)
class OrganizationState(enum.Enum):
    all = "all"
    active = "active"
    inactive = "inactive"


def state_filter(state: ContactState | OrganizationState | None) -> StateFilter | None:
    return None if state is None else StateFilter(state.value)


@strawberry.enum(name="ContactSort", description="Orders for contact lists; NULLs sort last.")
class ContactSort(enum.Enum):
    CREATED_ASC = "CREATED_ASC"
    CREATED_DESC = "CREATED_DESC"
    UPDATED_ASC = "UPDATED_ASC"
    UPDATED_DESC = "UPDATED_DESC"
    FIRST_NAME_ASC = "FIRST_NAME_ASC"
    FIRST_NAME_DESC = "FIRST_NAME_DESC"
    LAST_NAME_ASC = "LAST_NAME_ASC"
    LAST_NAME_DESC = "LAST_NAME_DESC"
    EMAIL_ASC = "EMAIL_ASC"
    EMAIL_DESC = "EMAIL_DESC"
    PHONE_ASC = "PHONE_ASC"
    PHONE_DESC = "PHONE_DESC"
    DESCRIPTION_ASC = "DESCRIPTION_ASC"
    DESCRIPTION_DESC = "DESCRIPTION_DESC"
    ORGANIZATION_ASC = "ORGANIZATION_ASC"
    ORGANIZATION_DESC = "ORGANIZATION_DESC"


@strawberry.enum(name="OrganizationSort", description="Orders for organization lists.")
class OrganizationSort(enum.Enum):
    CREATED_ASC = "CREATED_ASC"
    CREATED_DESC = "CREATED_DESC"
    UPDATED_ASC = "UPDATED_ASC"
    UPDATED_DESC = "UPDATED_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"
    DESCRIPTION_ASC = "DESCRIPTION_ASC"
    DESCRIPTION_DESC = "DESCRIPTION_DESC"
    DEFAULT_RATE_ASC = "DEFAULT_RATE_ASC"
    DEFAULT_RATE_DESC = "DEFAULT_RATE_DESC"


@protected(
    Role.PLANNER,
    Scope.CRM_GROUP,
    name="CustomerRelationsOrganization",
    description="A company that contacts belong to.",
)
class CustomerRelationsOrganization:
    gid: strawberry.ID = strawberry.field(name="id", description="Global ID of the organization.")

    name: str = strawberry.field(description="Name of the organization.")

    # A Decimal; GraphQL's Float serializes it.
    default_rate: float | None = strawberry.field(
        description="Standard billing rate for the organization."
    )

    description: str | None = strawberry.field(description="Description of the organization.")
    active: bool = strawberry.field(description="Whether the organization is active.")
    created_at: Time = strawberry.field(description="When the organization was created.")
    updated_at: Time = strawberry.field(description="When the organization was last changed.")


@protected(
    Role.PLANNER,
    Scope.CRM_GROUP,
    name="CustomerRelationsContact",
    description="A person that issues can be linked to.",
)
class CustomerRelationsContact:
    gid: strawberry.ID = strawberry.field(name="id", description="Global ID of the contact.")

    first_name: str = strawberry.field(description="First name of the contact.")
    last_name: str = strawberry.field(description="Last name of the contact.")
    email: str | None = strawberry.field(description="Email address of the contact.")
    phone: str | None = strawberry.field(description="Phone number of the contact.")
    description: str | None = strawberry.field(description="Description of the contact.")

    # Loaded with the contact (resolvers/crm.py), and in the contact's own CRM group, so
    # the contact's guard covers it too.
    organization: CustomerRelationsOrganization | None = strawberry.field(
        description="Organization the contact belongs to.", metadata={GUARDED_BY_PARENT: True}
    )

    active: bool = strawberry.field(description="Whether the contact is active.")
    created_at: Time = strawberry.field(description="When the contact was created.")
    updated_at: Time = strawberry.field(description="When the contact was last changed.")


@strawberry.type(description="Number of contacts in each state.")
class ContactStateCounts:
    all: int | None = strawberry.field(description="Number of contacts in any state.")
    active: int | None = strawberry.field(description="Number of active contacts.")
    inactive: int | None = strawberry.field(description="Number of inactive contacts.")


@strawberry.type(description="Number of organizations in each state.")
class OrganizationStateCounts:
    all: int | None = strawberry.field(description="Number of organizations in any state.")
    active: int | None = strawberry.field(description="Number of active organizations.")
    inactive: int | None = strawberry.field(description="Number of inactive organizations.")


ContactEdge, ContactConnection = connection_types(
    CustomerRelationsContact, "CustomerRelationsContact", "contacts"
)
OrganizationEdge, OrganizationConnection = connection_types(
    CustomerRelationsOrganization, "CustomerRelationsOrganization", "organizations"
)
