"""Write use-cases for contacts and organizations, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from crmgraph.authz.actor import Actor
from crmgraph.context import RequestContext
from crmgraph.domain.contacts import (
    CONTACT_GROUP_REFUSED,
    EMAIL_TAKEN,
    NAME_TAKEN,
    ORGANIZATION_GROUP_REFUSED,
    ORGANIZATION_NOT_FOUND,
    Contact,
    ContactFields,
    Organization,
    OrganizationFields,
)
from crmgraph.domain.errors import ReadOnlyToken, ResourceNotAvailable
from crmgraph.domain.groups import Group
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import Scope, User
from crmgraph.mutations.contacts import (
    create_contact,
    create_organization,
    update_contact,
    update_organization,
)
from crmgraph.persistence import groups as groups_repo
from crmgraph.persistence.tables import contacts, organizations
from crmgraph.persistence.unit_of_work import Database
from tests.world import World

ANN = ContactFields(first_name="Ann", last_name="Lee", email="ann@example.com")
ACME = OrganizationFields(name="Acme")
LONG = "x" * 256


def ctx_for(db: Database, user: User | None, scope: Scope = Scope.API) -> RequestContext:
    scopes = frozenset() if user is None else frozenset({scope})
    return RequestContext.build(db, Actor(user=user, scopes=scopes))


async def count(db: Database, table: Any) -> int:
    async with db.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def set_group(world: World, group: Group, **values: Any) -> Group:
    async with world.db.transaction() as conn:
        return await groups_repo.update_group(conn, group.id, values, world.now())


@dataclass
class Crm:
    """A root group ``acme`` with a developer, and a subgroup ``acme/support``."""

    world: World
    root: Group
    sub: Group
    dev: User

    def ctx(self, user: User | None = None, scope: Scope = Scope.API) -> RequestContext:
        return ctx_for(self.world.db, self.dev if user is None else user, scope)

    async def contact(self, fields: ContactFields = ANN, group: Group | None = None) -> Contact:
        outcome = await create_contact(self.ctx(), group_id=(group or self.root).id, fields=fields)
        assert outcome.errors == []
        assert outcome.value is not None
        return outcome.value

    async def organization(
        self, fields: OrganizationFields = ACME, group: Group | None = None
    ) -> Organization:
        outcome = await create_organization(
            self.ctx(), group_id=(group or self.root).id, fields=fields
        )
        assert outcome.errors == []
        assert outcome.value is not None
        return outcome.value


@pytest.fixture
async def crm(world: World) -> Crm:
    root = await world.group("acme")
    sub = await world.group("support", root)
    dev = await world.user("dev")
    await world.member(root, dev, AccessLevel.DEVELOPER)
    return Crm(world, root, sub, dev)


Create = Callable[[RequestContext, int], Awaitable[Any]]


async def _create_contact(ctx: RequestContext, group_id: int) -> Any:
    return await create_contact(ctx, group_id=group_id, fields=ANN)


async def _create_organization(ctx: RequestContext, group_id: int) -> Any:
    return await create_organization(ctx, group_id=group_id, fields=ACME)


@dataclass(frozen=True)
class Kind:
    """Contacts or organizations: how to create one, where it lands, the group refusal."""

    create: Create
    table: Any
    refusal: str


KINDS = [
    pytest.param(Kind(_create_contact, contacts, CONTACT_GROUP_REFUSED), id="contact"),
    pytest.param(
        Kind(_create_organization, organizations, ORGANIZATION_GROUP_REFUSED), id="organization"
    ),
]


# ------------------------------------------------------------------ who may create


@pytest.mark.parametrize(
    "level", [AccessLevel.DEVELOPER, AccessLevel.MAINTAINER, AccessLevel.OWNER]
)
async def test_developer_and_above_create_contact_in_root_group(
    crm: Crm, level: AccessLevel
) -> None:
    user = await crm.world.user("someone")
    await crm.world.member(crm.root, user, level)
    fields = ContactFields(
        first_name="  Ann ", last_name=" Lee", email=" Ann@Example.com ", phone=" 123 "
    )
    ctx = crm.ctx(user)

    outcome = await create_contact(ctx, group_id=crm.root.id, fields=fields)

    contact = outcome.value
    assert outcome.errors == []
    assert contact is not None
    assert (contact.group_id, contact.first_name, contact.last_name) == (crm.root.id, "Ann", "Lee")
    assert (contact.email, contact.phone, contact.active) == ("Ann@Example.com", "123", True)
    assert await ctx.loaders.contacts.load(contact.id) is contact


async def test_developer_creates_organization_with_rate_of_two_places(crm: Crm) -> None:
    fields = OrganizationFields(name=" Acme ", default_rate=Decimal("12.5"), description="Big")

    organization = await crm.organization(fields)

    assert (organization.name, organization.default_rate) == ("Acme", Decimal("12.50"))
    assert (organization.group_id, organization.description, organization.active) == (
        crm.root.id,
        "Big",
        True,
    )


async def test_instance_admin_creates_contact_without_membership(crm: Crm) -> None:
    admin = await crm.world.user("root", admin=True)

    outcome = await create_contact(crm.ctx(admin), group_id=crm.root.id, fields=ANN)

    assert outcome.errors == []
    assert outcome.value is not None


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "level", [AccessLevel.REPORTER, AccessLevel.PLANNER, AccessLevel.GUEST, None]
)
async def test_members_below_developer_and_strangers_cannot_create(
    crm: Crm, kind: Kind, level: AccessLevel | None
) -> None:
    user = await crm.world.user("someone")
    if level is not None:
        await crm.world.member(crm.root, user, level)

    with pytest.raises(ResourceNotAvailable):
        await kind.create(crm.ctx(user), crm.root.id)
    assert await count(crm.world.db, kind.table) == 0


@pytest.mark.parametrize("kind", KINDS)
async def test_developer_of_a_subgroup_only_cannot_create_in_the_root_group(
    crm: Crm, kind: Kind
) -> None:
    user = await crm.world.user("someone")
    await crm.world.member(crm.sub, user, AccessLevel.OWNER)

    with pytest.raises(ResourceNotAvailable):
        await kind.create(crm.ctx(user), crm.root.id)
    assert await count(crm.world.db, kind.table) == 0


@pytest.mark.parametrize("kind", KINDS)
async def test_read_api_token_and_anonymous_cannot_create(crm: Crm, kind: Kind) -> None:
    with pytest.raises(ReadOnlyToken):
        await kind.create(crm.ctx(scope=Scope.READ_API), crm.root.id)
    with pytest.raises(ReadOnlyToken):
        await kind.create(ctx_for(crm.world.db, None), crm.root.id)
    assert await count(crm.world.db, kind.table) == 0


@pytest.mark.parametrize("kind", KINDS)
async def test_unknown_group_is_a_resource_error(crm: Crm, kind: Kind) -> None:
    with pytest.raises(ResourceNotAvailable):
        await kind.create(crm.ctx(), 999_999)


@pytest.mark.parametrize("kind", KINDS)
async def test_crm_disabled_on_the_group_refuses_creation(crm: Crm, kind: Kind) -> None:
    await set_group(crm.world, crm.root, crm_enabled=False)

    with pytest.raises(ResourceNotAvailable):
        await kind.create(crm.ctx(), crm.root.id)
    assert await count(crm.world.db, kind.table) == 0


async def test_crm_disabled_on_the_group_refuses_updates(crm: Crm) -> None:
    contact = await crm.contact()
    organization = await crm.organization()
    await set_group(crm.world, crm.root, crm_enabled=False)

    with pytest.raises(ResourceNotAvailable):
        await update_contact(crm.ctx(), contact_id=contact.id, fields=ContactFields(phone="1"))
    with pytest.raises(ResourceNotAvailable):
        await update_organization(
            crm.ctx(), organization_id=organization.id, fields=OrganizationFields(name="New")
        )


# ------------------------------------------------------------------ which groups hold CRM records


@pytest.mark.parametrize("kind", KINDS)
async def test_subgroup_that_is_no_contact_source_refuses_records(crm: Crm, kind: Kind) -> None:
    outcome = await kind.create(crm.ctx(), crm.sub.id)

    assert (outcome.value, outcome.errors) == (None, [kind.refusal])
    assert await count(crm.world.db, kind.table) == 0


@pytest.mark.parametrize("kind", KINDS)
async def test_root_group_with_a_contact_source_of_its_own_refuses_records(
    crm: Crm, kind: Kind
) -> None:
    await set_group(crm.world, crm.root, crm_source_group_id=crm.sub.id)

    outcome = await kind.create(crm.ctx(), crm.root.id)

    assert (outcome.value, outcome.errors) == (None, [kind.refusal])


@pytest.mark.parametrize("kind", KINDS)
async def test_subgroup_named_as_contact_source_accepts_records(crm: Crm, kind: Kind) -> None:
    other = await crm.world.group("other")
    await set_group(crm.world, other, crm_source_group_id=crm.sub.id)

    outcome = await kind.create(crm.ctx(), crm.sub.id)

    assert outcome.errors == []
    assert outcome.value.group_id == crm.sub.id


async def test_group_rule_is_listed_after_field_errors_as_gitlab_does(crm: Crm) -> None:
    outcome = await create_contact(
        crm.ctx(), group_id=crm.sub.id, fields=ContactFields(first_name="Ann")
    )

    assert outcome.errors == ["Last name can't be blank", CONTACT_GROUP_REFUSED]


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (ContactFields(last_name="Lee"), ["First name can't be blank"]),
        (ContactFields(first_name="  ", last_name="Lee"), ["First name can't be blank"]),
        (ContactFields(first_name="Ann"), ["Last name can't be blank"]),
        (
            ContactFields(first_name=LONG, last_name="Lee"),
            ["First name is too long (maximum is 255 characters)"],
        ),
        (
            ContactFields(first_name="Ann", last_name=LONG),
            ["Last name is too long (maximum is 255 characters)"],
        ),
        (
            ContactFields(first_name="Ann", last_name="Lee", phone="1" * 33),
            ["Phone is too long (maximum is 32 characters)"],
        ),
        (ContactFields(first_name="Ann", last_name="Lee", email="ann@"), ["Email is invalid"]),
        (
            ContactFields(first_name="Ann", last_name="Lee", email="a" * 250 + "@x.com"),
            ["Email is too long (maximum is 255 characters)"],
        ),
        (
            ContactFields(first_name="Ann", last_name="Lee", description="d" * 1025),
            ["Description is too long (maximum is 1024 characters)"],
        ),
        (ContactFields(), ["First name can't be blank", "Last name can't be blank"]),
    ],
)
async def test_invalid_contact_is_refused_with_gitlab_messages_and_not_written(
    crm: Crm, fields: ContactFields, errors: list[str]
) -> None:
    outcome = await create_contact(crm.ctx(), group_id=crm.root.id, fields=fields)

    assert (outcome.value, outcome.errors) == (None, errors)
    assert await count(crm.world.db, contacts) == 0


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (OrganizationFields(), ["Name can't be blank"]),
        (OrganizationFields(name="  "), ["Name can't be blank"]),
        (OrganizationFields(name=LONG), ["Name is too long (maximum is 255 characters)"]),
        (
            OrganizationFields(name="Acme", description="d" * 1025),
            ["Description is too long (maximum is 1024 characters)"],
        ),
        (
            OrganizationFields(name="Acme", default_rate=Decimal("-1")),
            ["Default rate must be greater than or equal to 0"],
        ),
        (
            OrganizationFields(name="Acme", default_rate=Decimal("1.005")),
            ["Default rate must have at most 2 decimal places"],
        ),
    ],
)
async def test_invalid_organization_is_refused_with_gitlab_messages_and_not_written(
    crm: Crm, fields: OrganizationFields, errors: list[str]
) -> None:
    outcome = await create_organization(crm.ctx(), group_id=crm.root.id, fields=fields)

    assert (outcome.value, outcome.errors) == (None, errors)
    assert await count(crm.world.db, organizations) == 0


async def test_invalid_update_returns_the_unchanged_records(crm: Crm) -> None:
    contact = await crm.contact()
    organization = await crm.organization()

    contact_outcome = await update_contact(
        crm.ctx(), contact_id=contact.id, fields=ContactFields(first_name=None, phone="1" * 40)
    )
    organization_outcome = await update_organization(
        crm.ctx(), organization_id=organization.id, fields=OrganizationFields(name="")
    )

    assert contact_outcome.errors == [
        "Phone is too long (maximum is 32 characters)",
        "First name can't be blank",
    ]
    assert contact_outcome.value == contact
    assert organization_outcome.errors == ["Name can't be blank"]
    assert organization_outcome.value == organization
    fresh = crm.ctx()
    assert await fresh.loaders.contacts.load(contact.id) == contact
    assert await fresh.loaders.organization(organization.id) == organization


# ------------------------------------------------------------------ uniqueness


@pytest.mark.parametrize("email", ["ann@example.com", "ANN@example.COM", "Ann@Example.com"])
async def test_duplicate_email_in_any_case_is_taken(crm: Crm, email: str) -> None:
    await crm.contact()

    outcome = await create_contact(
        crm.ctx(),
        group_id=crm.root.id,
        fields=ContactFields(first_name="B", last_name="C", email=email),
    )

    assert (outcome.value, outcome.errors) == (None, [EMAIL_TAKEN])
    assert await count(crm.world.db, contacts) == 1


async def test_updating_to_a_taken_email_is_refused_and_keeps_the_contact(crm: Crm) -> None:
    await crm.contact()
    bob = await crm.contact(ContactFields(first_name="Bob", last_name="Ray", email="bob@x.org"))

    outcome = await update_contact(
        crm.ctx(), contact_id=bob.id, fields=ContactFields(email="ANN@example.com")
    )

    assert (outcome.value, outcome.errors) == (bob, [EMAIL_TAKEN])
    assert await crm.ctx().loaders.contacts.load(bob.id) == bob


async def test_same_email_in_another_crm_group_is_fine(crm: Crm) -> None:
    other = await crm.world.group("other")
    await crm.world.member(other, crm.dev, AccessLevel.DEVELOPER)
    await crm.contact()

    second = await crm.contact(group=other)

    assert second.email == ANN.email


async def test_contacts_without_email_are_fine(crm: Crm) -> None:
    for email in (None, "", "  "):
        await crm.contact(ContactFields(first_name="No", last_name="Mail", email=email))

    assert await count(crm.world.db, contacts) == 3


@pytest.mark.parametrize("name", ["Acme", "acme", " ACME "])
async def test_duplicate_organization_name_ignoring_case_is_taken(crm: Crm, name: str) -> None:
    await crm.organization()

    outcome = await create_organization(
        crm.ctx(), group_id=crm.root.id, fields=OrganizationFields(name=name)
    )

    assert (outcome.value, outcome.errors) == (None, [NAME_TAKEN])
    assert await count(crm.world.db, organizations) == 1


async def test_renaming_organization_to_a_taken_name_is_refused(crm: Crm) -> None:
    await crm.organization()
    globex = await crm.organization(OrganizationFields(name="Globex"))

    outcome = await update_organization(
        crm.ctx(), organization_id=globex.id, fields=OrganizationFields(name="ACME")
    )

    assert (outcome.value, outcome.errors) == (globex, [NAME_TAKEN])


async def test_renaming_organization_in_another_case_of_its_own_name_is_fine(crm: Crm) -> None:
    organization = await crm.organization()

    outcome = await update_organization(
        crm.ctx(), organization_id=organization.id, fields=OrganizationFields(name="ACME")
    )

    assert outcome.errors == []
    assert outcome.value is not None and outcome.value.name == "ACME"


async def test_twenty_concurrent_creates_with_one_email_make_one_contact(
    crm: Crm, db: Database
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite serializes writers (BEGIN IMMEDIATE): no race to lose")
    emails = [
        f"{'RACE' if i % 2 else 'race'}@Example.{'COM' if i % 3 else 'com'}" for i in range(20)
    ]

    outcomes = await asyncio.gather(
        *(
            create_contact(
                crm.ctx(),
                group_id=crm.root.id,
                fields=ContactFields(first_name="R", last_name=str(i), email=email),
            )
            for i, email in enumerate(emails)
        )
    )

    assert sum(outcome.value is not None for outcome in outcomes) == 1
    losers = [outcome for outcome in outcomes if outcome.value is None]
    assert [outcome.errors for outcome in losers] == [[EMAIL_TAKEN]] * 19
    async with db.connect() as conn:
        stmt = select(func.count()).where(func.lower(contacts.c.email) == "race@example.com")
        assert (await conn.execute(stmt)).scalar_one() == 1


# ------------------------------------------------------------------ updates


async def test_explicit_none_clears_email_and_absent_keys_are_kept(crm: Crm) -> None:
    contact = await crm.contact(
        ContactFields(first_name="Ann", last_name="Lee", email="ann@x.org", phone="123")
    )

    outcome = await update_contact(
        crm.ctx(), contact_id=contact.id, fields=ContactFields(email=None)
    )

    updated = outcome.value
    assert outcome.errors == []
    assert updated is not None
    assert (updated.email, updated.phone, updated.first_name) == (None, "123", "Ann")
    assert updated.updated_at >= contact.updated_at


async def test_update_without_keys_changes_nothing(crm: Crm) -> None:
    contact = await crm.contact()

    outcome = await update_contact(crm.ctx(), contact_id=contact.id, fields=ContactFields())

    assert (outcome.value, outcome.errors) == (contact, [])


async def test_explicit_none_clears_organization_rate_and_description(crm: Crm) -> None:
    organization = await crm.organization(
        OrganizationFields(name="Acme", default_rate=Decimal(5), description="Big")
    )

    outcome = await update_organization(
        crm.ctx(),
        organization_id=organization.id,
        fields=OrganizationFields(default_rate=None, description=None),
    )

    assert outcome.value is not None
    assert (outcome.value.name, outcome.value.default_rate, outcome.value.description) == (
        "Acme",
        None,
        None,
    )


async def test_active_false_deactivates_true_reactivates_and_none_is_ignored(crm: Crm) -> None:
    contact = await crm.contact()
    organization = await crm.organization()
    states = []
    # GraphQL may send ``active: null``; the field's type does not admit it.
    sequence: list[Any] = [False, None, True, None]

    for active in sequence:
        c = await update_contact(
            crm.ctx(), contact_id=contact.id, fields=ContactFields(active=active)
        )
        o = await update_organization(
            crm.ctx(), organization_id=organization.id, fields=OrganizationFields(active=active)
        )
        assert c.value is not None and o.value is not None
        states.append((c.value.active, o.value.active))

    assert states == [(False, False), (False, False), (True, True), (True, True)]


async def test_unknown_records_are_resource_errors(crm: Crm) -> None:
    with pytest.raises(ResourceNotAvailable):
        await update_contact(crm.ctx(), contact_id=999_999, fields=ContactFields(phone="1"))
    with pytest.raises(ResourceNotAvailable):
        await update_organization(
            crm.ctx(), organization_id=999_999, fields=OrganizationFields(name="X")
        )


@pytest.mark.parametrize("level", [AccessLevel.REPORTER, AccessLevel.PLANNER, None])
async def test_members_below_developer_cannot_update(crm: Crm, level: AccessLevel | None) -> None:
    contact = await crm.contact()
    organization = await crm.organization()
    user = await crm.world.user("someone")
    if level is not None:
        await crm.world.member(crm.root, user, level)

    with pytest.raises(ResourceNotAvailable):
        await update_contact(crm.ctx(user), contact_id=contact.id, fields=ContactFields(phone="1"))
    with pytest.raises(ResourceNotAvailable):
        await update_organization(
            crm.ctx(user), organization_id=organization.id, fields=OrganizationFields(name="X")
        )


async def test_read_api_token_cannot_update(crm: Crm) -> None:
    contact = await crm.contact()

    with pytest.raises(ReadOnlyToken):
        await update_contact(
            crm.ctx(scope=Scope.READ_API), contact_id=contact.id, fields=ContactFields(phone="1")
        )


# ------------------------------------------------------------------ a contact's organization


async def test_contact_takes_and_drops_an_organization_of_its_group(crm: Crm) -> None:
    organization = await crm.organization()
    contact = await crm.contact(
        ContactFields(first_name="Ann", last_name="Lee", organization_id=organization.id)
    )
    assert contact.organization_id == organization.id

    outcome = await update_contact(
        crm.ctx(), contact_id=contact.id, fields=ContactFields(organization_id=None)
    )

    assert outcome.value is not None and outcome.value.organization_id is None


async def test_organization_of_another_crm_group_is_refused(crm: Crm) -> None:
    other = await crm.world.group("other")
    await crm.world.member(other, crm.dev, AccessLevel.DEVELOPER)
    foreign = await crm.organization(group=other)
    contact = await crm.contact()

    created = await create_contact(
        crm.ctx(),
        group_id=crm.root.id,
        fields=ContactFields(first_name="B", last_name="C", organization_id=foreign.id),
    )
    updated = await update_contact(
        crm.ctx(), contact_id=contact.id, fields=ContactFields(organization_id=foreign.id)
    )
    unknown = await update_contact(
        crm.ctx(), contact_id=contact.id, fields=ContactFields(organization_id=999_999)
    )

    assert (created.value, created.errors) == (None, [ORGANIZATION_NOT_FOUND])
    assert (updated.value, updated.errors) == (contact, [ORGANIZATION_NOT_FOUND])
    assert (unknown.value, unknown.errors) == (contact, [ORGANIZATION_NOT_FOUND])
    assert await count(crm.world.db, contacts) == 1


async def test_organization_is_checked_before_fields_as_gitlab_does(crm: Crm) -> None:
    outcome = await create_contact(
        crm.ctx(), group_id=crm.root.id, fields=ContactFields(organization_id=999_999)
    )

    assert outcome.errors == [ORGANIZATION_NOT_FOUND]
