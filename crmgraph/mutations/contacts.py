"""Creating and changing CRM contacts and organizations (spec §2, §3, §5).

The order of checks is GitLab's: permission (a top-level error), then the organization
(one payload error on its own), then the field validations with the CRM-group rule last,
as GitLab's model validations list them. Uniqueness is the database's unique indexes.
"""

from __future__ import annotations

from typing import Any

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncConnection

from crmgraph.authz.abilities import Ability, allowed
from crmgraph.context import RequestContext
from crmgraph.domain.contacts import (
    CONTACT_GROUP_REFUSED,
    EMAIL_TAKEN,
    NAME_TAKEN,
    ORGANIZATION_GROUP_REFUSED,
    ORGANIZATION_NOT_FOUND,
    Contact,
    ContactFields,
    Maybe,
    Organization,
    OrganizationFields,
    clean_contact,
    clean_organization,
)
from crmgraph.domain.crm import may_hold_crm_records
from crmgraph.domain.errors import ResourceNotAvailable
from crmgraph.domain.groups import Group
from crmgraph.mutations.outcome import Outcome
from crmgraph.persistence import contacts as contacts_repo
from crmgraph.persistence import issue_contacts as links_repo


async def create_contact(
    ctx: RequestContext, *, group_id: int, fields: ContactFields
) -> Outcome[Contact]:
    ctx.require_writer()
    group = await _crm_admin_group(ctx, group_id, Ability.ADMIN_CRM_CONTACT)
    cleaned, field_errors = clean_contact(fields, creating=True)

    async def create(conn: AsyncConnection) -> Outcome[Contact]:
        if not await _organization_belongs(conn, cleaned.organization_id, group.id):
            return Outcome.failed([ORGANIZATION_NOT_FOUND])
        errors = field_errors + await _group_refusal(conn, group, CONTACT_GROUP_REFUSED)
        if errors:
            return Outcome.failed(errors)
        try:
            contact = await contacts_repo.create_contact(
                conn, group_id=group.id, values=_values(cleaned), now=ctx.now()
            )
        except contacts_repo.EmailTaken:
            return Outcome.failed([EMAIL_TAKEN])
        return Outcome(contact)

    outcome = await ctx.db.run_in_transaction(create)
    _prime(ctx, ctx.loaders.contacts, outcome)
    return outcome


async def update_contact(
    ctx: RequestContext, *, contact_id: int, fields: ContactFields
) -> Outcome[Contact]:
    """Only the keys the client sent change; on failure the unchanged contact comes back."""
    ctx.require_writer()
    contact: Contact | None = await ctx.loaders.contacts.load(contact_id)
    if contact is None:
        raise ResourceNotAvailable()
    # A record's group is the CRM group that owns it, so that is where rights are measured.
    await _crm_admin_group(ctx, contact.group_id, Ability.ADMIN_CRM_CONTACT)
    cleaned, errors = clean_contact(fields)
    values = _values(cleaned)
    if not values:
        return Outcome(contact)

    async def update(conn: AsyncConnection) -> Outcome[Contact]:
        if not await _organization_belongs(conn, cleaned.organization_id, contact.group_id):
            return Outcome.failed([ORGANIZATION_NOT_FOUND], contact)
        if errors:
            return Outcome.failed(errors, contact)
        try:
            updated = await contacts_repo.update_contact(conn, contact.id, values, ctx.now())
        except contacts_repo.EmailTaken:
            return Outcome.failed([EMAIL_TAKEN], contact)
        return Outcome(updated)

    outcome = await ctx.db.run_in_transaction(update)
    _prime(ctx, ctx.loaders.contacts, outcome)
    return outcome


async def create_organization(
    ctx: RequestContext, *, group_id: int, fields: OrganizationFields
) -> Outcome[Organization]:
    ctx.require_writer()
    group = await _crm_admin_group(ctx, group_id, Ability.ADMIN_CRM_ORGANIZATION)
    cleaned, field_errors = clean_organization(fields, creating=True)

    async def create(conn: AsyncConnection) -> Outcome[Organization]:
        errors = field_errors + await _group_refusal(conn, group, ORGANIZATION_GROUP_REFUSED)
        if errors:
            return Outcome.failed(errors)
        try:
            organization = await contacts_repo.create_organization(
                conn, group_id=group.id, values=_values(cleaned), now=ctx.now()
            )
        except contacts_repo.NameTaken:
            return Outcome.failed([NAME_TAKEN])
        return Outcome(organization)

    outcome = await ctx.db.run_in_transaction(create)
    _prime(ctx, ctx.loaders.organizations, outcome)
    return outcome


async def update_organization(
    ctx: RequestContext, *, organization_id: int, fields: OrganizationFields
) -> Outcome[Organization]:
    """Only the keys the client sent change; on failure the unchanged organization comes back."""
    ctx.require_writer()
    organization = await ctx.loaders.organization(organization_id)
    if organization is None:
        raise ResourceNotAvailable()
    await _crm_admin_group(ctx, organization.group_id, Ability.ADMIN_CRM_ORGANIZATION)
    cleaned, errors = clean_organization(fields)
    if errors:
        return Outcome.failed(errors, organization)
    values = _values(cleaned)
    if not values:
        return Outcome(organization)

    async def update(conn: AsyncConnection) -> Outcome[Organization]:
        try:
            updated = await contacts_repo.update_organization(
                conn, organization.id, values, ctx.now()
            )
        except contacts_repo.NameTaken:
            return Outcome.failed([NAME_TAKEN], organization)
        return Outcome(updated)

    outcome = await ctx.db.run_in_transaction(update)
    _prime(ctx, ctx.loaders.organizations, outcome)
    return outcome


async def _crm_admin_group(ctx: RequestContext, group_id: int, ability: Ability) -> Group:
    """The group, if the actor holds ``ability`` there with CRM on; else the resource error."""
    group = await ctx.loaders.group(group_id)
    if group is None:
        raise ResourceNotAvailable()
    level = await ctx.group_level(group.id)
    if not allowed(level, ability, crm_enabled=group.crm_enabled):
        raise ResourceNotAvailable()
    return group


async def _organization_belongs(
    conn: AsyncConnection, organization_id: Maybe[int | None], group_id: int
) -> bool:
    """Absent or cleared passes; a given id must name an organization of ``group_id``."""
    if not isinstance(organization_id, int):
        return True
    # Read in the writing transaction, not through a loader whose answer may be older.
    found = await contacts_repo.organizations_by_ids(conn, [organization_id])
    organization = found.get(organization_id)
    return organization is not None and organization.group_id == group_id


async def _group_refusal(conn: AsyncConnection, group: Group, message: str) -> list[str]:
    named = await links_repo.is_named_as_source(conn, group.id)
    return [] if may_hold_crm_records(group, is_named_as_source=named) else [message]


def _prime(ctx: RequestContext, loader: DataLoader[Any, Any], outcome: Outcome[Any]) -> None:
    """After commit: later fields of this request see the record as written."""
    if outcome.value is not None and not outcome.errors:
        ctx.loaders.prime(loader, outcome.value.id, outcome.value)


def _values(fields: ContactFields | OrganizationFields) -> dict[str, object]:
    values = fields.provided()
    # As GitLab: ``active: null`` leaves the state alone; only true or false move it.
    if "active" in values and values["active"] is None:
        del values["active"]
    return values
