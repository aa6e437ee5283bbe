"""An issue's contacts as GitLab's sidebar, issue lists and editors use them, over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from crmgraph.app import schema
from crmgraph.authz.actor import Actor
from crmgraph.context import RequestContext
from crmgraph.domain.contacts import Contact
from crmgraph.domain.errors import RESOURCE_NOT_AVAILABLE
from crmgraph.domain.groups import Group
from crmgraph.domain.ids import to_gid
from crmgraph.domain.issues import Issue
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import Scope, User
from crmgraph.events import EventBus
from crmgraph.persistence import issue_contacts as links_repo
from crmgraph.persistence import issues as issues_repo
from tests.world import World

SIDEBAR = """query issueCrmContacts($id: IssueID!) { issue(id: $id) {
  id customerRelationsContacts { nodes { id firstName organization { name } } } } }"""
SET_CONTACTS = """mutation issueSetCrmContacts($input: IssueSetCrmContactsInput!) {
  issueSetCrmContacts(input: $input) {
    clientMutationId errors issue { id customerRelationsContacts { nodes { id } } } } }"""
NOTES = "query($id: IssueID!) { issue(id: $id) { updatedAt notes { nodes { body system } } } }"
PROJECT_ISSUES = """query($path: ID!, $contact: String, $org: String) { project(fullPath: $path) {
  issues(crmContactId: $contact, crmOrganizationId: $org) { nodes { title } } } }"""
GROUP_ISSUES = PROJECT_ISSUES.replace("project(", "group(")
SUBSCRIPTION = """subscription($id: IssuableID!) { issueCrmContactsUpdated(issuableId: $id) {
  ... on Issue { id customerRelationsContacts { nodes { id } } } } }"""
LIMIT = "You can only add up to 6 contacts at one time"
INSUFFICIENT = "You have insufficient permissions to set customer relations contacts for this issue"


def gid(contact: Contact) -> str:
    return to_gid("CustomerRelations::Contact", contact.id)


@dataclass
class Crm:
    """acme (CRM root) with acme/web and acme/support/desk; Initech employs Ann and Bob;
    Cyd is inactive; Zoe belongs to another root. Issues: web#1 "one", web#2 "two",
    desk#1 "desk"."""

    world: World
    groups: dict[str, Group]
    users: dict[str, User]
    tokens: dict[str, str]
    people: dict[str, Contact]
    issues: dict[str, Issue]

    def nodes(self, *people: str) -> list[dict[str, str]]:
        return [{"id": gid(self.people[p])} for p in people]

    def input(self, *people: str, mode: str | None = None) -> dict[str, Any]:
        """Variables as GitLab's sidebar sends them (no operationMode for a REPLACE)."""
        ids = [gid(self.people[p]) for p in people]
        input = {"projectPath": "acme/web", "iid": "1", "contactIds": ids, "clientMutationId": "c1"}
        return input if mode is None else {**input, "operationMode": mode}

    async def assign(self, who: str, *people: str, mode: str | None = None) -> Any:
        variables = {"input": self.input(*people, mode=mode)}
        return await self.world.gql(SET_CONTACTS, variables, token=self.tokens[who])

    async def sidebar(self, who: str, issue: str = "one") -> list[dict[str, Any]]:
        issue_id = to_gid("Issue", self.issues[issue].id)
        response = await self.world.gql(SIDEBAR, {"id": issue_id}, token=self.tokens[who])
        assert response.error_messages == []
        assert response.data["issue"]["id"] == issue_id
        nodes: list[dict[str, Any]] = response.data["issue"]["customerRelationsContacts"]["nodes"]
        return nodes

    async def linked(self, issue: str = "one") -> set[str]:
        async with self.world.db.connect() as conn:
            ids = await links_repo.linked_contact_ids(conn, self.issues[issue].id)
        return {name for name, c in self.people.items() if c.id in ids}

    async def autocomplete(self, token: str, iid: str) -> httpx.Response:
        return await self.world.http(
            "GET",
            "/acme/web/-/autocomplete_sources/contacts",
            params={"type": "Issue", "type_id": iid},
            headers={"Authorization": f"Bearer {token}"},
        )

    async def titles(self, who: str, query: str, path: str, **filters: str) -> list[str]:
        response = await self.world.gql(query, {"path": path, **filters}, token=self.tokens[who])
        assert response.error_messages == []
        root = response.data["project" if query is PROJECT_ISSUES else "group"]
        return sorted(node["title"] for node in root["issues"]["nodes"])


@pytest.fixture
async def crm(world: World) -> Crm:
    root = await world.group("acme")
    support = await world.group("support", root)
    web, desk = await world.project(root, "web"), await world.project(support, "desk")
    users = {name: await world.user(name) for name in ("reporter", "guest", "stranger")}
    users["admin"] = await world.user("admin", admin=True)
    await world.member(root, users["reporter"], AccessLevel.REPORTER)
    await world.member(root, users["guest"], AccessLevel.GUEST)
    initech = await world.organization(root, "Initech")
    people = {
        "ann": await world.contact(root, "Ann", "Lee", "ann@example.com", organization=initech),
        "bob": await world.contact(root, "Bob", "Ray", "bob@example.com", organization=initech),
        "cyd": await world.contact(root, "Cyd", "Abbot", "cyd@example.com", active=False),
        "dan": await world.contact(root, "Dan", "Zed", None),
        "zoe": await world.contact(await world.group("other"), "Zoe", "Lee", "zoe@example.com"),
    }
    author = users["reporter"]
    issues = {
        "one": await world.issue(web, author, "one"),
        "two": await world.issue(web, author, "two"),
        "desk": await world.issue(desk, author, "desk"),
    }
    tokens = {name: await world.token(user) for name, user in users.items()}
    return Crm(world, {"acme": root, "acme/support": support}, users, tokens, people, issues)


async def test_the_sidebar_lists_linked_contacts_with_their_organization(crm: Crm) -> None:
    await crm.world.link(crm.issues["one"], crm.people["bob"], crm.people["dan"])
    assert await crm.sidebar("reporter") == [
        {"id": gid(crm.people["bob"]), "firstName": "Bob", "organization": {"name": "Initech"}},
        {"id": gid(crm.people["dan"]), "firstName": "Dan", "organization": None},
    ]


async def test_a_guest_sees_the_issue_but_not_its_contacts(crm: Crm) -> None:
    await crm.world.link(crm.issues["one"], crm.people["ann"])
    assert await crm.sidebar("guest") == []


@pytest.mark.parametrize("group", ["acme", "acme/support"])
@pytest.mark.parametrize("who", ["reporter", "admin"])
async def test_crm_off_on_the_projects_group_hides_contacts_from_everyone(
    crm: Crm, group: str, who: str
) -> None:
    issue = "one" if group == "acme" else "desk"
    await crm.world.link(crm.issues[issue], crm.people["ann"])
    assert len(await crm.sidebar(who, issue)) == 1
    await crm.world.set_group(crm.groups[group], crm_enabled=False)
    assert await crm.sidebar(who, issue) == []


async def test_replace_is_the_default_mode(crm: Crm) -> None:
    await crm.world.link(crm.issues["one"], crm.people["ann"])
    response = await crm.assign("reporter", "bob", "dan")
    contacts = {"nodes": crm.nodes("bob", "dan")}
    issue = {"id": to_gid("Issue", crm.issues["one"].id), "customerRelationsContacts": contacts}
    expected = {"clientMutationId": "c1", "errors": [], "issue": issue}
    assert response.data["issueSetCrmContacts"] == expected
    assert await crm.linked() == {"bob", "dan"}


@pytest.mark.parametrize(
    ("mode", "given", "expected"),
    [
        ("REPLACE", ["bob"], {"bob"}),
        ("APPEND", ["bob", "ann", "bob"], {"ann", "bob"}),
        ("REMOVE", ["ann", "dan"], set()),
        ("REPLACE", [], set()),
    ],
)
async def test_operation_modes(crm: Crm, mode: str, given: list[str], expected: set[str]) -> None:
    await crm.world.link(crm.issues["one"], crm.people["ann"])
    response = await crm.assign("reporter", *given, mode=mode)
    payload = response.data["issueSetCrmContacts"]
    assert payload["errors"] == []
    nodes = payload["issue"]["customerRelationsContacts"]["nodes"]
    assert sorted(nodes, key=str) == sorted(crm.nodes(*expected), key=str)
    assert await crm.linked() == expected


async def test_more_than_six_new_contacts_are_refused(crm: Crm) -> None:
    for n in range(4):
        crm.people[f"p{n}"] = await crm.world.contact(crm.groups["acme"], f"P{n}", "Extra")
    response = await crm.assign(
        "reporter", "ann", "bob", "dan", "p0", "p1", "p2", "p3", mode="APPEND"
    )
    payload = response.data["issueSetCrmContacts"]
    assert payload["errors"] == [LIMIT]
    assert payload["issue"]["customerRelationsContacts"]["nodes"] == []
    assert await crm.linked() == set()


async def test_foreign_and_inactive_contacts_are_refused_one_message_each(crm: Crm) -> None:
    response = await crm.assign("reporter", "zoe", "ann", "cyd", mode="APPEND")
    zoe, cyd = crm.people["zoe"].id, crm.people["cyd"].id
    assert response.data["issueSetCrmContacts"]["errors"] == [
        f"Issue customer relations contacts {zoe}: {RESOURCE_NOT_AVAILABLE}",
        f"Issue customer relations contacts {cyd}: inactive contacts cannot be added to issues",
    ]
    issue = response.data["issueSetCrmContacts"]["issue"]
    assert issue == {
        "id": to_gid("Issue", crm.issues["one"].id),
        "customerRelationsContacts": {"nodes": []},
    }
    assert await crm.linked() == set()


@pytest.mark.parametrize(
    ("who", "errors", "top_level"),
    [("guest", [INSUFFICIENT], []), ("stranger", None, [RESOURCE_NOT_AVAILABLE])],
)
async def test_guests_and_strangers_set_no_contacts(
    crm: Crm, who: str, errors: list[str] | None, top_level: list[str]
) -> None:
    response = await crm.assign(who, "ann")
    assert response.error_messages == top_level
    payload = response.data["issueSetCrmContacts"]
    assert (payload and payload["errors"]) == errors
    assert await crm.linked() == set()


async def test_crm_off_is_feature_disabled_and_changes_nothing(crm: Crm) -> None:
    await crm.world.link(crm.issues["one"], crm.people["ann"])
    await crm.world.set_group(crm.groups["acme"], crm_enabled=False)
    response = await crm.assign("reporter", "bob")
    assert (response.error_messages, response.data) == (
        ["Feature disabled"], {"issueSetCrmContacts": None},
    )  # fmt: skip
    assert await crm.linked() == {"ann"}


async def test_a_change_writes_a_system_note_and_moves_updated_at(crm: Crm) -> None:
    await crm.world.link(crm.issues["one"], crm.people["ann"])
    issue_id = to_gid("Issue", crm.issues["one"].id)
    before = (await crm.world.gql(NOTES, {"id": issue_id}, token=crm.tokens["reporter"])).data
    await crm.assign("reporter", "bob")
    await crm.assign("reporter", "bob", mode="APPEND")  # a no-op: no note, no new updatedAt
    after = (await crm.world.gql(NOTES, {"id": issue_id}, token=crm.tokens["reporter"])).data
    assert before["issue"]["notes"]["nodes"] == []
    assert after["issue"]["notes"]["nodes"] == [
        {"body": "added 1 contact and removed 1 contact", "system": True}
    ]
    assert after["issue"]["updatedAt"] > before["issue"]["updatedAt"]
    async with crm.world.db.connect() as conn:
        stored = await issues_repo.issue_by_iid(conn, crm.issues["one"].project_id, 1)
    assert stored is not None and stored.updated_at > crm.issues["one"].updated_at


@pytest.mark.parametrize(
    ("query", "path", "filters", "expected"),
    [
        (PROJECT_ISSUES, "acme/web", {"contact": "ann"}, ["one"]),
        (PROJECT_ISSUES, "acme/web", {"org": "initech"}, ["one", "two"]),
        (PROJECT_ISSUES, "acme/web", {"contact": "dan"}, []),
        (GROUP_ISSUES, "acme", {"contact": "ann"}, ["desk", "one"]),
        (GROUP_ISSUES, "acme", {"org": "initech"}, ["desk", "one", "two"]),
        (GROUP_ISSUES, "acme/support", {"contact": "ann"}, ["desk"]),
    ],
)
async def test_issue_lists_filtered_by_contact_or_organization(
    crm: Crm, query: str, path: str, filters: dict[str, str], expected: list[str]
) -> None:
    await crm.world.link(crm.issues["one"], crm.people["ann"])
    await crm.world.link(crm.issues["two"], crm.people["bob"])
    await crm.world.link(crm.issues["desk"], crm.people["ann"], crm.people["bob"])
    organization_id = crm.people["ann"].organization_id
    numeric = {
        key: str(organization_id if value == "initech" else crm.people[value].id)
        for key, value in filters.items()
    }
    assert await crm.titles("reporter", query, path, **numeric) == expected
    # A guest may not read the CRM: the filtered list is empty, not everything.
    assert await crm.titles("guest", query, path, **numeric) == []
    unfiltered = {"acme/web": ["one", "two"], "acme": ["desk", "one", "two"]}
    assert await crm.titles("guest", query, path) == unfiltered.get(path, ["desk"])


async def test_autocomplete_lists_active_and_linked_contacts_with_set(crm: Crm) -> None:
    await crm.world.link(crm.issues["one"], crm.people["bob"], crm.people["cyd"])
    response = await crm.autocomplete(crm.tokens["reporter"], "1")
    assert response.status_code == 200

    cyd = crm.people["cyd"]
    first = {"id": cyd.id, "email": cyd.email, "first_name": "Cyd", "last_name": "Abbot"}
    assert response.json()[0] == {**first, "state": "inactive", "set": True}
    assert [(e["first_name"], e["state"], e["set"]) for e in response.json()] == [
        ("Cyd", "inactive", True), ("Ann", "active", False), ("Bob", "active", True),
        ("Dan", "active", False),
    ]  # fmt: skip
    other = await crm.autocomplete(crm.tokens["reporter"], "2")
    assert [(e["first_name"], e["set"]) for e in other.json()] == [
        ("Ann", False), ("Bob", False), ("Dan", False),
    ]  # fmt: skip


@pytest.mark.parametrize(("token", "status"), [("guest", 404), ("stranger", 404), ("bad", 401)])
async def test_autocomplete_refuses_users_without_crm_read(
    crm: Crm, token: str, status: int
) -> None:
    response = await crm.autocomplete(crm.tokens.get(token, "glpat-nonsense"), "1")
    assert response.status_code == status
    if status == 401:
        assert response.json() == {"errors": [{"message": "Invalid token"}]}


class ListeningBus(EventBus):
    """An EventBus that says when a subscriber has started listening."""

    def __init__(self) -> None:
        super().__init__()
        self.listening = asyncio.Event()

    @asynccontextmanager
    async def subscribe(self, topic: str, key: int) -> AsyncIterator[asyncio.Queue[int]]:
        async with super().subscribe(topic, key) as queue:
            self.listening.set()
            yield queue


@asynccontextmanager
async def subscribed(crm: Crm) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """``issueCrmContactsUpdated`` on web#1 through the built schema; yields a function that
    appends contacts by ``issueSetCrmContacts`` on the same EventBus and returns the event."""
    events, built = ListeningBus(), schema()
    actor = Actor(crm.users["reporter"], frozenset({Scope.API}))

    def context() -> RequestContext:
        return RequestContext.build(crm.world.db, actor, None, events)

    variables = {"id": to_gid("Issue", crm.issues["one"].id)}
    stream: Any = await built.subscribe(SUBSCRIPTION, variables, context_value=context())
    pending: list[asyncio.Future[Any]] = []

    async def received_after(*people: str) -> Any:
        pending.append(asyncio.ensure_future(anext(stream)))
        await asyncio.wait_for(events.listening.wait(), 5)
        input = crm.input(*people, mode="APPEND")
        done = await built.execute(SET_CONTACTS, {"input": input}, context_value=context())
        assert done.errors is None
        return await asyncio.wait_for(pending[-1], 5)

    try:
        yield received_after
    finally:
        for future in pending:
            future.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await stream.aclose()


def event(crm: Crm, *people: str) -> dict[str, Any]:
    issue = {"id": to_gid("Issue", crm.issues["one"].id)}
    return {
        "issueCrmContactsUpdated": {
            **issue,
            "customerRelationsContacts": {"nodes": crm.nodes(*people)},
        }
    }


async def test_subscribers_receive_the_issue_with_its_new_contacts(crm: Crm) -> None:
    async with subscribed(crm) as received_after:
        received = await received_after("ann")
        assert (received.errors, received.data) == (None, event(crm, "ann"))


async def test_every_later_change_reaches_the_subscriber_with_current_contacts(crm: Crm) -> None:
    async with subscribed(crm) as received_after:
        await received_after("ann")
        received = await received_after("bob")
        assert (received.errors, received.data) == (None, event(crm, "ann", "bob"))
