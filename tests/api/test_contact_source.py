"""The contact source of a group and the CRM switch, changed by ``groupUpdate`` over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from crmgraph.domain.contacts import Contact
from crmgraph.domain.errors import RESOURCE_NOT_AVAILABLE
from crmgraph.domain.groups import Group
from crmgraph.domain.ids import to_gid
from crmgraph.domain.issues import Issue
from crmgraph.domain.roles import AccessLevel
from crmgraph.persistence import groups as groups_repo
from crmgraph.persistence import issue_contacts as links_repo
from tests.world import Response, World

GROUP_UPDATE = """
mutation($input: GroupUpdateInput!) {
  groupUpdate(input: $input) {
    clientMutationId errors group { fullPath crmEnabled crmSourceGroup { fullPath } }
  }
}
"""
CONTACTS = "query($path: ID!) { group(fullPath: $path) { contacts { nodes { firstName } } } }"
SET_CONTACTS = """
mutation($input: IssueSetCrmContactsInput!) {
  issueSetCrmContacts(input: $input) { errors issue { customerRelationsContacts { nodes { id } } } }
}
"""
CONTACT_CREATE = """
mutation($input: CustomerRelationsContactCreateInput!) {
  contactCreate(input: $input) { errors contact { firstName } }
}
"""
SELF = "Contact source cannot be the group itself"
NOT_FOUND = "Contact source group not found or you do not have Developer access to it"
HAS_CONTACTS = (
    "Contact source cannot be changed when issues already have contacts assigned "
    "from a different source."
)


@dataclass
class Crm:
    """acme (CRM root, contact Ann) with acme/web, acme/support/desk, acme/support/tier2/deep
    and the empty subgroup acme/crm; partners (a root, contact Pia) and secret (contact Sam).
    olga owns acme, is a Developer of partners and a Reporter of secret; mia maintains acme."""

    world: World
    groups: dict[str, Group]
    tokens: dict[str, str]
    people: dict[str, Contact]
    issues: dict[str, Issue]

    async def update(self, path: str, who: str = "olga", **fields: Any) -> Response:
        input = {"clientMutationId": "gu", "fullPath": path, **fields}
        return await self.world.gql(GROUP_UPDATE, {"input": input}, token=self.tokens[who])

    async def payload(self, path: str, **fields: Any) -> dict[str, Any]:
        response = await self.update(path, **fields)
        assert response.error_messages == []
        payload: dict[str, Any] = response.data["groupUpdate"]
        assert payload["clientMutationId"] == "gu"
        return payload

    async def stored(self, path: str) -> Group:
        async with self.world.db.connect() as conn:
            group = await groups_repo.group_by_full_path(conn, path)
        assert group is not None
        return group

    async def source_of(self, path: str) -> str | None:
        source_id = (await self.stored(path)).crm_source_group_id
        return next((g.full_path for g in self.groups.values() if g.id == source_id), None)

    async def names(self, path: str) -> list[str]:
        response = await self.world.gql(CONTACTS, {"path": path}, token=self.tokens["olga"])
        assert response.error_messages == []
        return [node["firstName"] for node in response.data["group"]["contacts"]["nodes"]]

    async def set_contacts(self, issue: str, *people: str) -> Response:
        project, iid = issue.split("#")
        ids = [to_gid("CustomerRelations::Contact", self.people[p].id) for p in people]
        input = {"projectPath": project, "iid": iid, "contactIds": ids}
        return await self.world.gql(SET_CONTACTS, {"input": input}, token=self.tokens["olga"])

    async def linked(self, issue: str) -> set[str]:
        async with self.world.db.connect() as conn:
            ids = await links_repo.linked_contact_ids(conn, self.issues[issue].id)
        return {name for name, c in self.people.items() if c.id in ids}


@pytest.fixture
async def crm(world: World) -> Crm:
    acme = await world.group("acme")
    support = await world.group("support", acme)
    tier2 = await world.group("tier2", support)
    groups = {
        "acme": acme,
        "acme/support": support,
        "acme/support/tier2": tier2,
        "acme/crm": await world.group("crm", acme),
        "partners": await world.group("partners"),
        "secret": await world.group("secret"),
    }
    olga, mia = await world.user("olga"), await world.user("mia")
    await world.member(acme, olga, AccessLevel.OWNER)
    await world.member(groups["partners"], olga, AccessLevel.DEVELOPER)
    await world.member(groups["secret"], olga, AccessLevel.REPORTER)
    await world.member(acme, mia, AccessLevel.MAINTAINER)
    people = {
        "ann": await world.contact(acme, "Ann", "Lee", "ann@example.com"),
        "pia": await world.contact(groups["partners"], "Pia", "Source", "pia@example.com"),
        "sam": await world.contact(groups["secret"], "Sam", "Hidden", "sam@example.com"),
    }
    issues = {}
    for name, group in (("acme/web", acme), ("acme/support/desk", support)):
        issues[f"{name}#1"] = await world.issue(
            await world.project(group, name.split("/")[-1]), olga
        )
    issues["acme/support/tier2/deep#1"] = await world.issue(
        await world.project(tier2, "deep"), olga
    )
    tokens = {"olga": await world.token(olga), "mia": await world.token(mia)}
    return Crm(world, groups, tokens, people, issues)


async def test_an_owner_names_a_contact_source_for_a_subgroup(crm: Crm) -> None:
    payload = await crm.payload("acme/support", crmSourceGroupPath="partners")
    assert payload["errors"] == []
    assert payload["group"] == {
        "fullPath": "acme/support", "crmEnabled": True, "crmSourceGroup": {"fullPath": "partners"},
    }  # fmt: skip
    assert await crm.source_of("acme/support") == "partners"
    for path in ("acme/support", "acme/support/tier2"):
        assert await crm.names(path) == ["Pia"]
    assert await crm.names("acme") == ["Ann"]


async def test_issues_below_the_source_take_its_contacts(crm: Crm) -> None:
    await crm.payload("acme/support", crmSourceGroupPath="partners")
    refused = await crm.set_contacts("acme/support/desk#1", "ann")
    ann = crm.people["ann"].id
    assert refused.data["issueSetCrmContacts"]["errors"] == [
        f"Issue customer relations contacts {ann}: {RESOURCE_NOT_AVAILABLE}"
    ]
    done = await crm.set_contacts("acme/support/desk#1", "pia")
    assert done.data["issueSetCrmContacts"]["errors"] == []
    assert await crm.linked("acme/support/desk#1") == {"pia"}


async def test_a_subgroup_named_as_source_may_hold_contacts(crm: Crm) -> None:
    input = {
        "groupId": to_gid("Group", crm.groups["acme/crm"].id),
        "firstName": "Cy",
        "lastName": "Do",
    }

    async def create() -> dict[str, Any]:
        response = await crm.world.gql(CONTACT_CREATE, {"input": input}, token=crm.tokens["olga"])
        return dict(response.data["contactCreate"])

    assert (await create())["errors"] == [
        "contacts can only be added to root groups and groups configured as CRM targets"
    ]
    await crm.payload("acme/support", crmSourceGroupPath="acme/crm")
    assert await create() == {"errors": [], "contact": {"firstName": "Cy"}}
    assert await crm.names("acme/support") == ["Cy"]


async def test_an_empty_path_clears_the_source_back_to_the_root_group(crm: Crm) -> None:
    await crm.world.set_group(
        crm.groups["acme/support"], crm_source_group_id=crm.groups["partners"].id
    )
    assert await crm.names("acme/support") == ["Pia"]
    payload = await crm.payload("acme/support", crmSourceGroupPath="")
    assert (payload["errors"], payload["group"]["crmSourceGroup"]) == ([], None)
    assert await crm.source_of("acme/support") is None
    assert await crm.names("acme/support") == ["Ann"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("acme/support", SELF),
        ("secret", NOT_FOUND),  # exists, but olga is only a Reporter there
        ("nowhere", NOT_FOUND),  # does not exist: the same message
    ],
)
async def test_a_source_that_is_not_allowed_changes_nothing(
    crm: Crm, source: str, message: str
) -> None:
    payload = await crm.payload("acme/support", crmSourceGroupPath=source)
    assert payload["errors"] == [message]
    assert await crm.source_of("acme/support") is None
    assert await crm.names("acme/support") == ["Ann"]


@pytest.mark.parametrize(
    ("group", "linked_issue"),
    [
        ("acme/support", "acme/support/desk#1"),
        ("acme/support", "acme/support/tier2/deep#1"),
        ("acme", "acme/support/desk#1"),
    ],
)
async def test_no_source_change_while_issues_below_have_contacts(
    crm: Crm, group: str, linked_issue: str
) -> None:
    await crm.world.link(crm.issues[linked_issue], crm.people["ann"])
    payload = await crm.payload(group, crmSourceGroupPath="partners")
    assert payload["errors"] == [HAS_CONTACTS]
    assert await crm.source_of(group) is None
    assert await crm.linked(linked_issue) == {"ann"}


async def test_clearing_a_source_whose_contacts_are_in_use_is_refused(crm: Crm) -> None:
    await crm.world.set_group(
        crm.groups["acme/support"], crm_source_group_id=crm.groups["partners"].id
    )
    await crm.world.link(crm.issues["acme/support/desk#1"], crm.people["pia"])
    payload = await crm.payload("acme/support", crmSourceGroupPath="")
    assert payload["errors"] == [HAS_CONTACTS]
    assert await crm.source_of("acme/support") == "partners"


async def test_an_issue_elsewhere_with_contacts_does_not_block_the_change(crm: Crm) -> None:
    await crm.world.link(crm.issues["acme/web#1"], crm.people["ann"])
    payload = await crm.payload("acme/support", crmSourceGroupPath="partners")
    assert payload["errors"] == []
    assert await crm.source_of("acme/support") == "partners"


@pytest.mark.parametrize("fields", [{"crmSourceGroupPath": "partners"}, {"crmEnabled": False}])
async def test_a_maintainer_may_not_change_crm_settings(crm: Crm, fields: dict[str, Any]) -> None:
    response = await crm.update("acme/support", "mia", **fields)
    assert response.error_messages == [RESOURCE_NOT_AVAILABLE]
    assert response.data == {"groupUpdate": None}
    stored = await crm.stored("acme/support")
    assert (stored.crm_source_group_id, stored.crm_enabled) == (None, True)


async def test_crm_switched_off_in_the_crm_group_hides_and_disables_everything(crm: Crm) -> None:
    payload = await crm.payload("acme", crmEnabled=False)
    assert (payload["errors"], payload["group"]["crmEnabled"]) == ([], False)
    assert (await crm.stored("acme")).crm_enabled is False
    assert await crm.names("acme") == []
    assert await crm.names("acme/support") == []
    for issue in ("acme/web#1", "acme/support/desk#1"):
        response = await crm.set_contacts(issue, "ann")
        assert (response.error_messages, response.data) == (
            ["Feature disabled"], {"issueSetCrmContacts": None},
        )  # fmt: skip
        assert await crm.linked(issue) == set()


async def test_crm_enabled_is_not_inherited_by_subgroups(crm: Crm) -> None:
    payload = await crm.payload("acme/support", crmEnabled=False)
    assert payload["group"]["crmEnabled"] is False
    assert (await crm.stored("acme")).crm_enabled is True
    # Lists come from the CRM group (acme), whose own switch is on.
    assert await crm.names("acme") == ["Ann"]
    assert await crm.names("acme/support") == ["Ann"]
    disabled = await crm.set_contacts("acme/support/desk#1", "ann")
    assert disabled.error_messages == ["Feature disabled"]
    assert await crm.linked("acme/support/desk#1") == set()
    # tier2's own switch is on; its parent's is not inherited.
    deep = await crm.set_contacts("acme/support/tier2/deep#1", "ann")
    assert deep.data["issueSetCrmContacts"]["errors"] == []
    allowed = await crm.set_contacts("acme/web#1", "ann")
    assert allowed.data["issueSetCrmContacts"]["errors"] == []
    assert await crm.linked("acme/web#1") == {"ann"}
