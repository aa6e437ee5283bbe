"""CRM lists cost a constant number of SQL statements, whatever the page size."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from crmgraph.domain.contacts import ContactWithOrganization
from crmgraph.domain.roles import AccessLevel
from crmgraph.persistence.unit_of_work import Database
from tests.world import World

CONTACTS = (
    '{ group(fullPath: "acme") { contacts(first: %d) { nodes { id firstName email '
    "organization { id name defaultRate } } pageInfo { hasNextPage } } } }"
)
ISSUES = (
    '{ project(fullPath: "acme/web") { issues(first: %d) { nodes { iid author { username } '
    "customerRelationsContacts { nodes { id email organization { name } } } } } } }"
)


@pytest.fixture
async def token(world: World) -> str:
    """100 contacts over 30 organizations, 100 issues with 1 to 3 contacts each."""
    root = await world.group("acme")
    project = await world.project(root, "web")
    reader = await world.user("reader")
    await world.member(root, reader, AccessLevel.REPORTER)
    organizations = [await world.organization(root, f"Org {n}") for n in range(30)]
    contacts = [
        await world.contact(
            root,
            f"First{n}",
            f"Last{n:03d}",
            f"c{n}@example.com",
            organization=organizations[n % 30] if n % 4 else None,
        )
        for n in range(100)
    ]
    for n in range(100):
        issue = await world.issue(project, reader, f"Issue {n}")
        await world.link(issue, *contacts[n : n + 1 + n % 3])
    return await world.token(reader)


async def _statements(world: World, db: Database, query: str, token: str) -> int:
    db.counter.reset()
    response = await world.gql(query, token=token)
    assert response.error_messages == []
    return db.counter.count


async def test_listing_100_contacts_with_organizations_uses_constant_queries(
    world: World, db: Database, token: str
) -> None:
    ten = await _statements(world, db, CONTACTS % 10, token)
    hundred = await _statements(world, db, CONTACTS % 100, token)
    page = await world.gql(CONTACTS % 100, token=token)
    nodes = page.data["group"]["contacts"]["nodes"]
    assert len(nodes) == 100
    assert sum(node["organization"] is not None for node in nodes) == 75
    assert ten == hundred
    # The token, the group with its chain and the reader's memberships along it, the
    # contacts with their organizations: the access level needs no query of its own.
    assert hundred == 3


async def test_listing_100_issues_with_contacts_and_organizations_uses_constant_queries(
    world: World, db: Database, token: str
) -> None:
    ten = await _statements(world, db, ISSUES % 10, token)
    hundred = await _statements(world, db, ISSUES % 100, token)
    page = await world.gql(ISSUES % 100, token=token)
    nodes = page.data["project"]["issues"]["nodes"]
    assert len(nodes) == 100
    linked = sum(min(1 + n % 3, 100 - n) for n in range(100))  # as the fixture links them
    assert sum(len(n["customerRelationsContacts"]["nodes"]) for n in nodes) == linked
    assert ten == hundred
    # The token, the project with its chain and the reader's memberships (so neither the
    # project's level nor the CRM group's needs a query), issues, authors, contacts; on
    # PostgreSQL the issues' statement writes their contacts as JSON.
    assert hundred == (4 if db.dialect == "postgresql" else 5)


LIST = '{ project(fullPath: "acme/web") { issues(first: 12) { %s } } }'
SHAPES = {
    "nodes": LIST % "nodes { id CONTACTS }",
    "edges": LIST % "edges { node { id CONTACTS } }",
    "fragment": LIST % "nodes { ...Linked }" + " fragment Linked on Issue { id CONTACTS }",
    "inline": LIST % "nodes { ... on Issue { id CONTACTS } }",
}
LINKED = (
    "first: customerRelationsContacts { nodes { id email organization { name } } } "
    "one: customerRelationsContacts(first: 1) { nodes { id } pageInfo { hasNextPage } } "
    "lastTwo: customerRelationsContacts(last: 2) { edges { cursor node { id } } }"
)
ALONE = '{ project(fullPath: "acme/web") { issue(iid: "%s") { id ' + LINKED + " } } }"


def _issue_nodes(data: dict[str, object], shape: str) -> list[dict[str, object]]:
    issues = data["project"]["issues"]  # type: ignore[index]
    if shape == "edges":
        return [edge["node"] for edge in issues["edges"]]  # type: ignore[index]
    return list(issues["nodes"])  # type: ignore[index]


@pytest.mark.parametrize("shape", sorted(SHAPES))
async def test_issue_list_gives_each_issue_the_contacts_it_has_when_read_alone(
    world: World, token: str, shape: str
) -> None:
    listed = await world.gql(SHAPES[shape].replace("CONTACTS", LINKED), token=token)
    assert listed.error_messages == []
    issues = _issue_nodes(listed.data, shape)
    assert len(issues) == 12
    for issue in issues:
        iid = str(issue["id"]).rsplit("/", 1)[1]
        # Issue ids and iids run together in this world (one project, created in order).
        alone = await world.gql(ALONE % iid, token=token)
        assert alone.data["project"]["issue"] == issue
    # Not vacuous: these issues have 1 to 3 contacts each, with a second page after one.
    assert {len(i["first"]["nodes"]) for i in issues} == {1, 2, 3}  # type: ignore[index]
    assert any(i["one"]["pageInfo"]["hasNextPage"] for i in issues)  # type: ignore[index]


async def test_issue_list_with_several_contact_page_shapes_uses_constant_queries(
    world: World, db: Database, token: str
) -> None:
    query = (
        '{ project(fullPath: "acme/web") { issues(first: %d) { nodes { iid ' + LINKED + " } } } }"
    )
    ten = await _statements(world, db, query % 10, token)
    hundred = await _statements(world, db, query % 100, token)
    assert ten == hundred
    # token, project with its chain, two access levels, issues, one contact query per shape
    assert hundred <= 8


STAMPED_CONTACTS = (
    '{ group(fullPath: "acme") { contacts(first: 20) { nodes { id %s organization { id %s } } } } }'
)
STAMPED_ISSUES = (
    '{ project(fullPath: "acme/web") { issues(first: 20) { nodes { iid '
    "customerRelationsContacts { nodes { id %s organization { id %s } } } } } } }"
)


@pytest.mark.parametrize("query", [STAMPED_CONTACTS, STAMPED_ISSUES])
async def test_lists_read_timestamps_only_when_the_query_shows_them(
    world: World, db: Database, token: str, query: str
) -> None:
    db.counter.reset()
    lean = await world.gql(query % ("", ""), token=token)
    lean_sql = " ".join(db.counter.statements)
    db.counter.reset()
    stamped = await world.gql(query % ("createdAt", "updatedAt"), token=token)
    stamped_sql = " ".join(db.counter.statements)
    assert lean.error_messages == stamped.error_messages == []
    assert "customer_relations_contacts.created_at" not in lean_sql
    assert "customer_relations_contacts.created_at" in stamped_sql
    contacts = [
        contact
        for node in _nodes(stamped.data)
        for contact in node.get("customerRelationsContacts", {"nodes": [node]})["nodes"]
    ]
    organizations = [c["organization"] for c in contacts if c["organization"]]
    assert contacts and organizations
    assert all(c["createdAt"].endswith("Z") for c in contacts)
    assert all(o["updatedAt"].endswith("Z") for o in organizations)
    # The same contacts either way, only without the two fields.
    assert [c["id"] for c in contacts] == [
        c["id"]
        for node in _nodes(lean.data)
        for c in node.get("customerRelationsContacts", {"nodes": [node]})["nodes"]
    ]


async def test_an_issue_list_showing_only_issue_timestamps_reads_contacts_without_them(
    world: World, db: Database, token: str
) -> None:
    db.counter.reset()
    response = await world.gql(
        '{ project(fullPath: "acme/web") { issues(first: 20) { nodes { iid createdAt '
        "customerRelationsContacts { nodes { id organization { name } } } } } } }",
        token=token,
    )
    assert response.error_messages == []
    assert all(n["createdAt"] for n in response.data["project"]["issues"]["nodes"])
    contacts_sql = [s for s in db.counter.statements if "issue_customer_relations" in s]
    assert contacts_sql
    assert all("customer_relations_contacts.created_at" not in s for s in contacts_sql)


def _nodes(data: dict[str, Any]) -> list[dict[str, Any]]:
    owner = data.get("group") or data["project"]
    connection = owner.get("contacts") or owner["issues"]
    nodes: list[dict[str, Any]] = connection["nodes"]
    return nodes


def _alive(cls: type) -> int:
    return sum(isinstance(o, cls) for o in gc.get_objects())


async def test_what_a_request_loaded_is_freed_when_it_ends_without_the_garbage_collector(
    world: World, token: str
) -> None:
    # Left in a reference cycle, every row a request loaded waits for the collector, which
    # then spends its time walking them (most of its cost on a 100-issue page).
    await world.gql(ISSUES % 100, token=token)
    gc.collect()
    gc.disable()
    try:
        before = _alive(ContactWithOrganization)
        response = await world.gql(ISSUES % 100, token=token)
        after = _alive(ContactWithOrganization)
    finally:
        gc.enable()
    nodes = response.data["project"]["issues"]["nodes"]
    assert sum(len(n["customerRelationsContacts"]["nodes"]) for n in nodes) > 100
    assert after == before
