"""GitLab's web client creating and changing contacts and organizations, over HTTP.

The variables are the ones GitLab's CRM forms send: every input key present, with
``null`` for the empty ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from crmgraph.domain.contacts import Contact, Organization
from crmgraph.domain.errors import RESOURCE_NOT_AVAILABLE
from crmgraph.domain.groups import Group
from crmgraph.domain.ids import to_gid
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import Scope
from crmgraph.persistence.contact_rows import (
    CONTACT_COLUMNS,
    ORGANIZATION_COLUMNS,
    to_contact,
    to_organization,
)
from crmgraph.persistence.tables import contacts, organizations
from tests.world import Response, World

CONTACT = "__typename id firstName lastName email phone description active organization { id name }"
ORGANIZATION = "__typename id name defaultRate description active"
CONTACT_CREATE = ["customerRelationsContactCreate", "contactCreate"]
CONTACT_UPDATE = ["customerRelationsContactUpdate", "contactUpdate"]
ORGANIZATION_CREATE = ["customerRelationsOrganizationCreate", "organizationCreate"]
ORGANIZATION_UPDATE = ["customerRelationsOrganizationUpdate", "organizationUpdate"]
CONTACT_REFUSED = "contacts can only be added to root groups and groups configured as CRM targets"
ORG_NOT_FOUND = "The specified organization was not found or does not belong to this group"


def is_contact(mutation: str) -> bool:
    return "contact" in mutation.lower()


def contact_gid(contact_id: int) -> str:
    return to_gid("CustomerRelations::Contact", contact_id)


def organization_gid(organization_id: int) -> str:
    return to_gid("CustomerRelations::Organization", organization_id)


@dataclass
class Crm:
    """``acme`` (CRM root, organization Initech, contact Ann) with subgroup ``acme/support``;
    ``other`` is another root with organization Globex. ``dev`` is a Developer of acme."""

    world: World
    root: Group
    sub: Group
    token: str
    read_only: str
    initech: Organization
    globex: Organization
    ann: Contact

    async def mutate(self, name: str, input: dict[str, Any], token: str | None = None) -> Response:
        short = name.removeprefix("customerRelations")  # both names share the input type
        input_type = f"CustomerRelations{short[0].upper()}{short[1:]}Input"
        selection = CONTACT if is_contact(name) else ORGANIZATION
        field = "contact" if is_contact(name) else "organization"
        return await self.world.gql(
            f"mutation($input: {input_type}!) {{ {name}(input: $input) "
            f"{{ clientMutationId errors {field} {{ {selection} }} }} }}",
            {"input": {"clientMutationId": "gitlab-web", **input}},
            token=token or self.token,
        )

    async def payload(self, name: str, input: dict[str, Any]) -> dict[str, Any]:
        response = await self.mutate(name, input)
        assert response.error_messages == []
        payload: dict[str, Any] = response.data[name]
        assert payload.pop("clientMutationId") == "gitlab-web"
        return payload

    def new_contact(self, **values: Any) -> dict[str, Any]:
        """Every key of GitLab's contact form; null for the empty ones."""
        return {
            "groupId": to_gid("Group", self.root.id), "firstName": "Bob", "lastName": "Ray",
            "email": None, "phone": None, "description": None, "organizationId": None, **values,
        }  # fmt: skip

    def new_organization(self, **values: Any) -> dict[str, Any]:
        """Every key of GitLab's organization form."""
        group_id = to_gid("Group", self.root.id)
        return {
            "groupId": group_id,
            "name": "Hooli",
            "defaultRate": None,
            "description": None,
            **values,
        }

    def new_record(self, mutation: str, **values: Any) -> dict[str, Any]:
        return (self.new_contact if is_contact(mutation) else self.new_organization)(**values)

    async def contacts(self) -> list[Contact]:
        async with self.world.db.connect() as conn:
            rows = await conn.execute(select(*CONTACT_COLUMNS).order_by(contacts.c.id))
            return [to_contact(row) for row in rows.all()]

    async def organizations(self) -> list[Organization]:
        stmt = select(*ORGANIZATION_COLUMNS).order_by(organizations.c.id)
        async with self.world.db.connect() as conn:
            return [to_organization(row) for row in (await conn.execute(stmt)).all()]


@pytest.fixture
async def crm(world: World) -> Crm:
    root = await world.group("acme")
    sub = await world.group("support", root)
    other = await world.group("other")
    dev = await world.user("dev")
    await world.member(root, dev, AccessLevel.DEVELOPER)
    initech = await world.organization(root, "Initech")
    globex = await world.organization(other, "Globex")
    ann = await world.contact(root, "Ann", "Lee", "ann@example.com", organization=initech)
    token, read_only = await world.token(dev), await world.token(dev, scope=Scope.READ_API)
    return Crm(world, root, sub, token, read_only, initech, globex, ann)


def contact_node(contact_id: int, **values: Any) -> dict[str, Any]:
    """A contact as GitLab's ContactFragment reads it: Bob Ray unless ``values`` say otherwise."""
    node = {"__typename": "CustomerRelationsContact", "id": contact_gid(contact_id)}
    empty = {"email": None, "phone": None, "description": None, "organization": None}
    return {**node, "firstName": "Bob", "lastName": "Ray", "active": True, **empty, **values}


def organization_node(organization_id: int, **values: Any) -> dict[str, Any]:
    node = {"__typename": "CustomerRelationsOrganization", "id": organization_gid(organization_id)}
    return {
        **node,
        "name": "Hooli",
        "defaultRate": None,
        "description": None,
        "active": True,
        **values,
    }


@pytest.mark.parametrize("name", CONTACT_CREATE)
@pytest.mark.parametrize("filled", [True, False], ids=["values", "nulls"])
async def test_create_contact_with_every_key_stores_it(crm: Crm, name: str, filled: bool) -> None:
    values: dict[str, Any] = {
        "email": "bob@example.com", "phone": "555-0100", "description": "Met at the fair",
        "organizationId": organization_gid(crm.initech.id),
    } if filled else {}  # fmt: skip
    payload = await crm.payload(name, crm.new_contact(firstName=" Bob ", **values))
    stored = (await crm.contacts())[-1]
    if filled:
        organization = {"id": organization_gid(crm.initech.id), "name": "Initech"}
        values = {**values, "organization": organization}
        del values["organizationId"]
    assert payload == {"errors": [], "contact": contact_node(stored.id, **values)}
    assert (stored.group_id, stored.first_name, stored.email, stored.organization_id) == (
        crm.root.id, "Bob", values.get("email"), crm.initech.id if filled else None,
    )  # fmt: skip


@pytest.mark.parametrize("name", CONTACT_UPDATE)
async def test_update_contact_with_every_key_clears_with_null_and_toggles_active(
    crm: Crm, name: str
) -> None:
    kim = await crm.world.contact(crm.root, "Kim", "Ko", "kim@example.com")
    every_key = {
        "id": contact_gid(crm.ann.id), "firstName": "Anna", "lastName": "Lee", "email": None,
        "phone": None, "description": None, "organizationId": None, "active": False,
    }  # fmt: skip
    payload = await crm.payload(name, every_key)
    expected = contact_node(crm.ann.id, firstName="Anna", lastName="Lee", active=False)
    assert payload == {"errors": [], "contact": expected}
    stored = (await crm.contacts())[0]
    assert (stored.first_name, stored.email, stored.phone, stored.organization_id) == (
        "Anna", None, None, None,
    )  # fmt: skip
    assert stored.active is False
    again = await crm.payload(name, {**every_key, "email": "ANN@example.com", "active": True})
    assert (again["errors"], again["contact"]["active"]) == ([], True)
    assert [(c.email, c.active) for c in await crm.contacts()] == [
        ("ANN@example.com", True), ("kim@example.com", kim.active),
    ]  # fmt: skip


@pytest.mark.parametrize("name", ORGANIZATION_CREATE)
async def test_create_organization_with_every_key_keeps_a_fractional_rate(
    crm: Crm, name: str
) -> None:
    payload = await crm.payload(name, crm.new_organization(defaultRate=110.5))
    stored = (await crm.organizations())[-1]
    expected = organization_node(stored.id, defaultRate=110.5)
    assert payload == {"errors": [], "organization": expected}
    assert (stored.group_id, stored.default_rate) == (crm.root.id, Decimal("110.50"))


@pytest.mark.parametrize("name", ORGANIZATION_UPDATE)
async def test_update_organization_with_every_key_null_clears_the_rate(crm: Crm, name: str) -> None:
    org = await crm.world.organization(crm.root, "Hooli", default_rate="99.99", description="x")
    every_key = {
        "id": organization_gid(org.id), "name": "Hooli Inc", "defaultRate": 110.5,
        "description": "Big", "active": False,
    }  # fmt: skip
    first = await crm.payload(name, every_key)
    changed = {"name": "Hooli Inc", "defaultRate": 110.5, "description": "Big", "active": False}
    assert first == {"errors": [], "organization": organization_node(org.id, **changed)}
    cleared = await crm.payload(
        name, {**every_key, "defaultRate": None, "description": None, "active": True}
    )
    expected = organization_node(org.id, name="Hooli Inc")
    assert cleared == {"errors": [], "organization": expected}
    stored = next(o for o in await crm.organizations() if o.id == org.id)
    assert (stored.name, stored.default_rate, stored.description, stored.active) == (
        "Hooli Inc", None, None, True,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"firstName": ""}, ["First name can't be blank"]),
        ({"firstName": "   "}, ["First name can't be blank"]),
        ({"lastName": "x" * 256}, ["Last name is too long (maximum is 255 characters)"]),
        ({"phone": "1" * 33}, ["Phone is too long (maximum is 32 characters)"]),
        ({"email": "not-an-email"}, ["Email is invalid"]),
        ({"email": "a" * 250 + "@x.com"}, ["Email is too long (maximum is 255 characters)"]),
        ({"description": "d" * 1025}, ["Description is too long (maximum is 1024 characters)"]),
        ({"email": "ANN@Example.COM"}, ["Email has already been taken"]),
        (
            {"organizationId": "gid://gitlab/CustomerRelations::Organization/999999"},
            [ORG_NOT_FOUND],
        ),
    ],
)
async def test_create_contact_validation_errors_store_nothing(
    crm: Crm, values: dict[str, Any], expected: list[str]
) -> None:
    before = await crm.contacts()
    payload = await crm.payload("customerRelationsContactCreate", crm.new_contact(**values))
    assert payload == {"errors": expected, "contact": None}
    assert await crm.contacts() == before


async def test_several_validation_errors_come_back_together(crm: Crm) -> None:
    payload = await crm.payload(
        "contactCreate", crm.new_contact(firstName="", lastName="", email="nope")
    )
    assert sorted(payload["errors"]) == [
        "Email is invalid", "First name can't be blank", "Last name can't be blank",
    ]  # fmt: skip
    assert payload["contact"] is None


async def test_an_organization_of_another_group_is_refused(crm: Crm) -> None:
    payload = await crm.payload(
        "customerRelationsContactCreate",
        crm.new_contact(organizationId=organization_gid(crm.globex.id)),
    )
    assert payload == {"errors": [ORG_NOT_FOUND], "contact": None}
    update = await crm.payload(
        "customerRelationsContactUpdate",
        {"id": contact_gid(crm.ann.id), "organizationId": organization_gid(crm.globex.id)},
    )
    assert update["errors"] == [ORG_NOT_FOUND]
    assert (await crm.contacts())[0].organization_id == crm.initech.id


async def test_updating_to_a_taken_email_changes_nothing(crm: Crm) -> None:
    kim = await crm.world.contact(crm.root, "Kim", "Ko", "kim@example.com")
    payload = await crm.payload(
        "contactUpdate",
        {"id": contact_gid(kim.id), "firstName": "Kimmy", "email": "Ann@EXAMPLE.com"},
    )
    assert payload["errors"] == ["Email has already been taken"]
    assert [(c.first_name, c.email) for c in await crm.contacts()] == [
        ("Ann", "ann@example.com"), ("Kim", "kim@example.com"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"name": " "}, ["Name can't be blank"]),
        ({"name": "INITECH"}, ["Name has already been taken"]),
        ({"description": "d" * 1025}, ["Description is too long (maximum is 1024 characters)"]),
        ({"defaultRate": -1.0}, ["Default rate must be greater than or equal to 0"]),
    ],
)
async def test_create_organization_validation_errors_store_nothing(
    crm: Crm, values: dict[str, Any], expected: list[str]
) -> None:
    before = await crm.organizations()
    payload = await crm.payload(
        "customerRelationsOrganizationCreate", crm.new_organization(**values)
    )
    assert payload == {"errors": expected, "organization": None}
    assert await crm.organizations() == before


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("customerRelationsContactCreate", CONTACT_REFUSED),
        (
            "customerRelationsOrganizationCreate",
            "organizations can only be added to root groups and groups configured as CRM targets",
        ),
    ],
)
async def test_a_subgroup_that_is_no_crm_target_refuses_new_records(
    crm: Crm, name: str, message: str
) -> None:
    payload = await crm.payload(name, crm.new_record(name, groupId=to_gid("Group", crm.sub.id)))
    assert payload["errors"] == [message]
    assert payload.get("contact", payload.get("organization")) is None
    assert len(await crm.contacts()) == 1
    assert len(await crm.organizations()) == 2


@pytest.mark.parametrize(
    ("group_id", "message"),
    [
        ("gid://gitlab/Project/1", "does not represent an instance of Group"),
        ("acme", '"acme" is not a valid Global ID'),
    ],
)
async def test_a_bad_group_id_is_a_top_level_error(crm: Crm, group_id: str, message: str) -> None:
    response = await crm.mutate("contactCreate", crm.new_contact(groupId=group_id))
    assert len(response.error_messages) == 1
    assert message in response.error_messages[0]
    assert (response.body.get("data") or {}).get("contactCreate") is None
    assert len(await crm.contacts()) == 1


@pytest.mark.parametrize("name", [*CONTACT_CREATE, *ORGANIZATION_CREATE])
async def test_a_read_api_token_creates_nothing(crm: Crm, name: str) -> None:
    response = await crm.mutate(name, crm.new_record(name), token=crm.read_only)
    assert response.error_messages == [RESOURCE_NOT_AVAILABLE]
    assert response.data == {name: None}
    assert (len(await crm.contacts()), len(await crm.organizations())) == (1, 2)


async def test_a_read_api_token_changes_no_contact(crm: Crm) -> None:
    response = await crm.mutate(
        "customerRelationsContactUpdate",
        {"id": contact_gid(crm.ann.id), "firstName": "X", "active": False},
        token=crm.read_only,
    )
    assert response.error_messages == [RESOURCE_NOT_AVAILABLE]
    assert response.data == {"customerRelationsContactUpdate": None}
    assert await crm.contacts() == [crm.ann]
