"""GitLab's contact and organization mutations, each registered under its GitLab name and
crmgraph's short name; setting an issue's contacts is in ``issue_contact_mutations``."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from crmgraph.domain.contacts import (
    UNSET,
    Contact,
    ContactFields,
    OrganizationFields,
    decimal_from_float,
)
from crmgraph.mutations import contacts as contact_writes
from crmgraph.resolvers import crm as crm_reads
from crmgraph.schema.arguments import Info
from crmgraph.schema.crm import CustomerRelationsContact, CustomerRelationsOrganization
from crmgraph.schema.mutation_base import CLIENT_MUTATION_ID, ERRORS, INPUT
from crmgraph.schema.scalars import (
    CustomerRelationsContactID,
    CustomerRelationsOrganizationID,
    GroupID,
)


def _given(value: Any) -> Any:
    """strawberry's UNSET (key absent) becomes the domain's UNSET; None stays a clear."""
    return UNSET if value is strawberry.UNSET else value


async def _with_organization(info: Info, contact: Contact | None) -> Contact | None:
    return None if contact is None else await crm_reads.with_organization(info.context, contact)


def _rate(value: Any) -> Any:
    return value if value is strawberry.UNSET or value is None else decimal_from_float(value)


@strawberry.input(description="Create a contact in a group's CRM.")
class CustomerRelationsContactCreateInput:
    client_mutation_id: str | None = strawberry.field(default=None, description=CLIENT_MUTATION_ID)
    group_id: GroupID = strawberry.field(description="Group for the contact.")
    organization_id: CustomerRelationsOrganizationID | None = strawberry.field(
        default=strawberry.UNSET, description="Organization for the contact."
    )
    first_name: str = strawberry.field(description="First name of the contact.")
    last_name: str = strawberry.field(description="Last name of the contact.")
    phone: str | None = strawberry.field(
        default=strawberry.UNSET, description="Phone number of the contact."
    )
    email: str | None = strawberry.field(
        default=strawberry.UNSET, description="Email address of the contact."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Description of or notes for the contact."
    )


@strawberry.input(description="Change a contact; absent keys stay, null clears.")
class CustomerRelationsContactUpdateInput:
    client_mutation_id: str | None = strawberry.field(default=None, description=CLIENT_MUTATION_ID)
    id: CustomerRelationsContactID = strawberry.field(description="Global ID of the contact.")
    organization_id: CustomerRelationsOrganizationID | None = strawberry.field(
        default=strawberry.UNSET, description="Organization of the contact."
    )
    first_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="First name of the contact."
    )
    last_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Last name of the contact."
    )
    phone: str | None = strawberry.field(
        default=strawberry.UNSET, description="Phone number of the contact."
    )
    email: str | None = strawberry.field(
        default=strawberry.UNSET, description="Email address of the contact."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Description of or notes for the contact."
    )
    active: bool | None = strawberry.field(
        default=strawberry.UNSET, description="false makes the contact inactive, true active."
    )


@strawberry.type(description="Result of creating a contact.")
class CustomerRelationsContactCreatePayload:
    client_mutation_id: str | None = strawberry.field(description=CLIENT_MUTATION_ID)
    contact: CustomerRelationsContact | None = strawberry.field(description="The new contact.")
    errors: list[str] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of changing a contact.")
class CustomerRelationsContactUpdatePayload:
    client_mutation_id: str | None = strawberry.field(description=CLIENT_MUTATION_ID)
    contact: CustomerRelationsContact | None = strawberry.field(description="The contact.")
    errors: list[str] = strawberry.field(description=ERRORS)


@strawberry.input(description="Create an organization in a group's CRM.")
class CustomerRelationsOrganizationCreateInput:
    client_mutation_id: str | None = strawberry.field(default=None, description=CLIENT_MUTATION_ID)
    group_id: GroupID = strawberry.field(description="Group for the organization.")
    name: str = strawberry.field(description="Name of the organization.")
    default_rate: float | None = strawberry.field(
        default=strawberry.UNSET, description="Standard billing rate for the organization."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Description of or notes for the organization."
    )


@strawberry.input(description="Change an organization; absent keys stay, null clears.")
class CustomerRelationsOrganizationUpdateInput:
    client_mutation_id: str | None = strawberry.field(default=None, description=CLIENT_MUTATION_ID)
    id: CustomerRelationsOrganizationID = strawberry.field(
        description="Global ID of the organization."
    )
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Name of the organization."
    )
    default_rate: float | None = strawberry.field(
        default=strawberry.UNSET, description="Standard billing rate for the organization."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Description of or notes for the organization."
    )
    active: bool | None = strawberry.field(
        default=strawberry.UNSET, description="false makes the organization inactive, true active."
    )


@strawberry.type(description="Result of creating an organization.")
class CustomerRelationsOrganizationCreatePayload:
    client_mutation_id: str | None = strawberry.field(description=CLIENT_MUTATION_ID)
    organization: CustomerRelationsOrganization | None = strawberry.field(
        description="The new organization."
    )
    errors: list[str] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of changing an organization.")
class CustomerRelationsOrganizationUpdatePayload:
    client_mutation_id: str | None = strawberry.field(description=CLIENT_MUTATION_ID)
    organization: CustomerRelationsOrganization | None = strawberry.field(
        description="The organization (unchanged when there are errors)."
    )
    errors: list[str] = strawberry.field(description=ERRORS)


ContactCreateArg = Annotated[
    CustomerRelationsContactCreateInput, strawberry.argument(description=INPUT)
]
ContactUpdateArg = Annotated[
    CustomerRelationsContactUpdateInput, strawberry.argument(description=INPUT)
]
OrganizationCreateArg = Annotated[
    CustomerRelationsOrganizationCreateInput, strawberry.argument(description=INPUT)
]
OrganizationUpdateArg = Annotated[
    CustomerRelationsOrganizationUpdateInput, strawberry.argument(description=INPUT)
]


async def contact_create(
    info: Info, input: ContactCreateArg
) -> CustomerRelationsContactCreatePayload | None:
    fields = ContactFields(
        first_name=input.first_name,
        last_name=input.last_name,
        phone=_given(input.phone),
        email=_given(input.email),
        description=_given(input.description),
        organization_id=_given(input.organization_id),
    )
    out = await contact_writes.create_contact(info.context, group_id=input.group_id, fields=fields)
    return CustomerRelationsContactCreatePayload(
        client_mutation_id=input.client_mutation_id,
        contact=await _with_organization(info, out.value),
        errors=out.errors,
    )


async def contact_update(
    info: Info, input: ContactUpdateArg
) -> CustomerRelationsContactUpdatePayload | None:
    fields = ContactFields(
        first_name=_given(input.first_name),
        last_name=_given(input.last_name),
        phone=_given(input.phone),
        email=_given(input.email),
        description=_given(input.description),
        organization_id=_given(input.organization_id),
        active=UNSET if input.active is None else _given(input.active),
    )
    out = await contact_writes.update_contact(info.context, contact_id=input.id, fields=fields)
    return CustomerRelationsContactUpdatePayload(
        client_mutation_id=input.client_mutation_id,
        contact=await _with_organization(info, out.value),
        errors=out.errors,
    )


async def organization_create(
    info: Info, input: OrganizationCreateArg
) -> CustomerRelationsOrganizationCreatePayload | None:
    fields = OrganizationFields(
        name=input.name,
        default_rate=_given(_rate(input.default_rate)),
        description=_given(input.description),
    )
    out = await contact_writes.create_organization(
        info.context, group_id=input.group_id, fields=fields
    )
    return CustomerRelationsOrganizationCreatePayload(
        client_mutation_id=input.client_mutation_id, organization=out.value, errors=out.errors
    )


async def organization_update(
    info: Info, input: OrganizationUpdateArg
) -> CustomerRelationsOrganizationUpdatePayload | None:
    fields = OrganizationFields(
        name=_given(input.name),
        default_rate=_given(_rate(input.default_rate)),
        description=_given(input.description),
        active=UNSET if input.active is None else _given(input.active),
    )
    out = await contact_writes.update_organization(
        info.context, organization_id=input.id, fields=fields
    )
    return CustomerRelationsOrganizationUpdatePayload(
        client_mutation_id=input.client_mutation_id, organization=out.value, errors=out.errors
    )


CREATE_CONTACT = "Create a contact (Developers and above of the CRM group)."
UPDATE_CONTACT = "Change a contact (Developers and above of the CRM group)."
CREATE_ORGANIZATION = "Create an organization (Developers and above of the CRM group)."
UPDATE_ORGANIZATION = "Change an organization (Developers and above of the CRM group)."


@strawberry.type
class CrmMutation:
    customer_relations_contact_create = strawberry.mutation(
        resolver=contact_create, description=CREATE_CONTACT
    )
    contact_create = strawberry.mutation(resolver=contact_create, description=CREATE_CONTACT)
    customer_relations_contact_update = strawberry.mutation(
        resolver=contact_update, description=UPDATE_CONTACT
    )
    contact_update = strawberry.mutation(resolver=contact_update, description=UPDATE_CONTACT)
    customer_relations_organization_create = strawberry.mutation(
        resolver=organization_create, description=CREATE_ORGANIZATION
    )
    organization_create = strawberry.mutation(
        resolver=organization_create, description=CREATE_ORGANIZATION
    )
    customer_relations_organization_update = strawberry.mutation(
        resolver=organization_update, description=UPDATE_ORGANIZATION
    )
    organization_update = strawberry.mutation(
        resolver=organization_update, description=UPDATE_ORGANIZATION
    )
