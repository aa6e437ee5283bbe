"""Issue lists' contacts written as JSON by PostgreSQL give the answer the object path gives."""

from __future__ import annotations

from typing import Any

import pytest

import crmgraph.schema.lookahead as lookahead
from crmgraph.domain.groups import Group
from crmgraph.domain.roles import AccessLevel
from crmgraph.persistence import issues as issues_repo
from crmgraph.persistence.unit_of_work import Database
from tests.world import World

FIELDS = (
    "id firstName lastName email phone description active "
    "organization { id name defaultRate description active }"
)


def _issues(
    contacts: str, *, issues_path: str = 'project(fullPath: "acme/web")', variables: str = ""
) -> str:
    return (
        f"query{variables} {{ " + issues_path + " { issues(first: 20) { nodes { iid "
        + contacts + " } } } }"
    )  # fmt: skip


WRITTEN = {
    "every plain field": _issues("customerRelationsContacts { nodes { " + FIELDS + " } }"),
    "aliases and type names": _issues(
        "people: customerRelationsContacts { list: nodes { __typename key: id name: firstName "
        "org: organization { __typename rate: defaultRate label: name } } }"
    ),
    "one field": _issues("customerRelationsContacts { nodes { email } }"),
    "the group's issue list": _issues(
        "customerRelationsContacts { nodes { " + FIELDS + " } }",
        issues_path='group(fullPath: "acme")',
    ),
}
NOT_WRITTEN = {
    "a fragment": _issues("customerRelationsContacts { nodes { ...c } }")
    + " fragment c on CustomerRelationsContact { id firstName }",
    "a directive": _issues(
        "customerRelationsContacts { nodes { id email @include(if: $on) } }",
        variables="($on: Boolean = true)",
    ),
    "page info": _issues("customerRelationsContacts { nodes { id } pageInfo { hasNextPage } }"),
    "timestamps": _issues("customerRelationsContacts { nodes { id createdAt } }"),
    "arguments": _issues("customerRelationsContacts(first: 1) { nodes { id } }"),
    "edges": _issues("customerRelationsContacts { edges { node { id } } }"),
}


@pytest.fixture
async def root(world: World) -> Group:
    return await world.group("acme")


@pytest.fixture
async def token(world: World, root: Group) -> str:
    """Issues whose contacts have every kind of value the answer can hold."""
    project = await world.project(root, "web")
    reader = await world.user("reader")
    await world.member(root, reader, AccessLevel.REPORTER)
    rates = ["120.50", "0", None, "1234567890123456.78", "0.01"]
    organizations = [
        await world.organization(root, name, default_rate=rate, description=text)
        for name, rate, text in zip(
            ['Quote "Co"', "Back\\slash", "Tab\there", "Ünïcödé ✓", "Line\u2028sep"],
            rates,
            [None, "multi\nline", "", "<b>html</b>", "emoji 🎉"],
            strict=True,
        )
    ]
    contacts = [
        await world.contact(
            root,
            first,
            "Last",
            email,
            organization=organizations[n] if n < len(organizations) else None,
            phone=None if n % 2 else f"+1 555 {n}",
            description="\x01control" if n == 3 else None,
            active=n != 2,
        )
        for n, (first, email) in enumerate(
            [("Ann", "ann@example.com"), ('Bo "B"', None), ("Cy\\", "cy@x.io"),
             ("Dee", "d@x.io"), ("Eve", None), ("Fay", "f@x.io")]
        )
    ]  # fmt: skip
    for n in range(8):
        issue = await world.issue(project, reader, f"Issue {n}")
        await world.link(issue, *contacts[n % 6 : n % 6 + n % 4])
    return await world.token(reader)


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the lists whose contacts were written as JSON."""
    written: list[int] = []
    original = lookahead.contacts_as_json

    async def counted(*args: Any, **kwargs: Any) -> Any:
        written.append(1)
        return await original(*args, **kwargs)

    monkeypatch.setattr(lookahead, "contacts_as_json", counted)
    return written


async def _both(
    world: World, monkeypatch: pytest.MonkeyPatch, token: str, query: str
) -> tuple[Any, Any]:
    """The answer as served, then with the JSON path turned off."""
    served = await world.gql(query, token=token)
    assert served.error_messages == []
    monkeypatch.setattr(lookahead, "json_selection", lambda field: None)
    objects = await world.gql(query, token=token)
    assert objects.error_messages == []
    return served.data, objects.data


@pytest.mark.parametrize("query", WRITTEN.values(), ids=WRITTEN.keys())
async def test_written_contacts_answer_as_the_objects_do(
    world: World, db: Database, token: str, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    written = _spy(monkeypatch)
    served, objects = await _both(world, monkeypatch, token, query)
    assert served == objects
    assert any(issue_contacts(node) for node in _nodes(served)), (
        "the fixture links contacts to the issues"
    )
    # PostgreSQL writes the JSON; elsewhere the objects answer.
    assert written == ([1] if db.dialect == "postgresql" else [])


@pytest.mark.parametrize("query", NOT_WRITTEN.values(), ids=NOT_WRITTEN.keys())
async def test_selections_beyond_plain_fields_are_answered_by_objects(
    world: World, token: str, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    written = _spy(monkeypatch)
    served, objects = await _both(world, monkeypatch, token, query)
    assert served == objects
    assert written == []


async def test_a_linked_contact_of_a_group_the_reader_cannot_see_is_left_out(
    world: World, root: Group, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Links are only made within the issue's CRM group; this one is stored directly, so
    # that only the contact guard stands between the reader and the contact.
    hidden = await world.contact(await world.group("elsewhere"), "Hidden", "Person")
    project = await world.project(root, "extra")
    issue = await world.issue(project, await world.user("author"), "Mixed")
    await world.link(issue, hidden)
    query = _issues(
        "customerRelationsContacts { nodes { firstName } }",
        issues_path='project(fullPath: "acme/extra")',
    )
    served, objects = await _both(world, monkeypatch, token, query)
    assert served == objects
    assert _nodes(served) == [{"iid": "1", "customerRelationsContacts": {"nodes": []}}]


async def test_a_reader_without_crm_access_gets_no_written_contacts(
    world: World, token: str
) -> None:
    outsider = await world.user("outsider")
    project = await world.project(await world.group("open"), "web")
    await world.member(project, outsider, AccessLevel.GUEST)
    query = WRITTEN["every plain field"]
    response = await world.gql(query, token=await world.token(outsider))
    # Not a member of acme: its project is not found at all; nothing leaks.
    assert response.data["project"] is None


def _nodes(data: Any) -> list[Any]:
    root = data.get("project") or data.get("group")
    return list(root["issues"]["nodes"])


def issue_contacts(node: dict[str, Any]) -> list[Any]:
    connection = node.get("customerRelationsContacts") or node.get("people") or {}
    return list(connection.get("nodes") or connection.get("list") or [])


async def test_lists_asking_for_different_pages_of_contacts_each_get_their_own(
    world: World, token: str
) -> None:
    query = (
        '{ project(fullPath: "acme/web") { '
        "one: issues(first: 20) { nodes { iid customerRelationsContacts(first: 1) "
        "{ nodes { id } } } } "
        "two: issues(first: 20) { nodes { iid customerRelationsContacts(first: 2) "
        "{ nodes { id } } } } } }"
    )
    response = await world.gql(query, token=token)
    assert response.error_messages == []
    for alias, most in (("one", 1), ("two", 2)):
        counts = [
            len(node["customerRelationsContacts"]["nodes"])
            for node in response.data["project"][alias]["nodes"]
        ]
        assert max(counts) == most


# ---------------------------------------------- a project's list with its contacts


LISTED = (
    "query($state: IssuableState, $search: String, $after: String, $first: Int, $last: Int) "
    '{ project(fullPath: "beta/app") { issues(state: $state, search: $search, after: $after, '
    "first: $first, last: $last) { nodes { iid customerRelationsContacts { nodes { id email "
    "organization { name } } } } pageInfo { hasNextPage endCursor } } } }"
)


@pytest.fixture
async def beta(world: World, root: Group) -> Group:
    """A group whose contacts come from acme."""
    return await world.set_group(await world.group("beta"), crm_source_group_id=root.id)


@pytest.fixture
async def guest_token(world: World, root: Group, beta: Group) -> str:
    """A project in beta read by a guest of beta (who sees confidential issues only when
    they wrote them) who is a reporter in acme (who reads the contacts). Issues, oldest
    first: open, confidential by someone else, confidential by the guest, closed, open
    without contacts."""
    acme = root
    project = await world.project(beta, "app")
    guest = await world.user("guest")
    author = await world.user("author")
    await world.member(beta, guest, AccessLevel.GUEST)
    await world.member(acme, guest, AccessLevel.REPORTER)
    await world.member(beta, author, AccessLevel.DEVELOPER)
    org = await world.organization(acme, "Initech")
    people = [
        await world.contact(acme, f"P{n}", "Lee", f"p{n}@x.io", organization=org if n else None)
        for n in range(3)
    ]
    first = await world.issue(project, author, "Open")
    await world.link(first, people[0], people[1])
    await world.link(await world.issue(project, author, "Secret", confidential=True), people[2])
    await world.link(await world.issue(project, guest, "Mine", confidential=True), people[1])
    closed = await world.issue(project, author, "Closed")
    await world.link(closed, people[2])
    async with world.db.transaction() as conn:
        await issues_repo.update_issue(conn, closed.id, {"state": "closed"}, world.now())
    await world.issue(project, author, "Open, no contacts")
    return await world.token(guest)


def _iids(data: Any) -> list[str]:
    return [node["iid"] for node in data["project"]["issues"]["nodes"]]


@pytest.mark.parametrize(
    ("state", "iids"),
    [(None, ["5", "4", "3", "1"]), ("opened", ["5", "3", "1"]), ("closed", ["4"])],
)
async def test_a_project_list_reads_its_contacts_in_the_statement_of_its_page(
    world: World,
    db: Database,
    guest_token: str,
    monkeypatch: pytest.MonkeyPatch,
    state: str | None,
    iids: list[str],
) -> None:
    written = _spy(monkeypatch)
    db.counter.reset()
    served = await world.gql(LISTED, {"state": state}, token=guest_token)
    statements = list(db.counter.statements)
    assert served.error_messages == []
    # Another user's confidential issue stays hidden; the guest's own shows.
    assert _iids(served.data) == iids
    monkeypatch.setattr(lookahead, "json_selection", lambda field: None)
    objects = await world.gql(LISTED, {"state": state}, token=guest_token)
    assert served.data == objects.data
    assert any(issue_contacts(node) for node in _nodes(served.data))
    if db.dialect == "postgresql":
        assert written == [1]
        [page] = [sql for sql in statements if "FROM issues" in sql]
        assert "contacts_json" in page
        # Both limits written out (the default 100 contacts, 100 issues and one more), so
        # that PostgreSQL keeps one plan for the statement.
        assert "LIMIT 100" in page and "LIMIT 101" in page
        assert not any("customer_relations_contacts" in sql for sql in statements if sql != page)


async def test_pages_of_a_project_list_after_a_cursor_and_from_the_end_answer_as_objects(
    world: World, guest_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def pages() -> list[Any]:
        first = await world.gql(LISTED, {"first": 2}, token=guest_token)
        cursor = first.data["project"]["issues"]["pageInfo"]["endCursor"]
        after = await world.gql(LISTED, {"first": 2, "after": cursor}, token=guest_token)
        last = await world.gql(LISTED, {"last": 3}, token=guest_token)
        return [first.data, after.data, last.data]

    served = await pages()
    assert [_iids(page) for page in served] == [["5", "4"], ["3", "1"], ["4", "3", "1"]]
    monkeypatch.setattr(lookahead, "json_selection", lambda field: None)
    assert served == await pages()


async def test_a_searched_project_list_reads_its_contacts_apart_with_the_same_answer(
    world: World, db: Database, guest_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = _spy(monkeypatch)
    served = await world.gql(LISTED, {"search": "open"}, token=guest_token)
    assert _iids(served.data) == ["5", "1"]
    monkeypatch.setattr(lookahead, "json_selection", lambda field: None)
    objects = await world.gql(LISTED, {"search": "open"}, token=guest_token)
    assert served.data == objects.data
    assert issue_contacts(_nodes(served.data)[1]) != []
    assert written == ([1] if db.dialect == "postgresql" else [])


async def test_a_reader_of_the_issues_without_crm_access_sees_them_without_contacts(
    world: World, beta: Group, guest_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    developer = await world.user("developer")
    await world.member(beta, developer, AccessLevel.REPORTER)
    app = 'project(fullPath: "beta/app")'
    query = _issues("customerRelationsContacts { nodes { id } }", issues_path=app)
    served = await world.gql(query, token=await world.token(developer))
    monkeypatch.setattr(lookahead, "json_selection", lambda field: None)
    objects = await world.gql(query, token=await world.token(developer))
    assert served.data == objects.data
    # Reporter in beta, nothing in acme, where beta's contacts live.
    assert len(_nodes(served.data)) == 5
    assert all(issue_contacts(node) == [] for node in _nodes(served.data))
