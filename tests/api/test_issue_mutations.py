"""Mutations on issues and notes: createIssue, updateIssue, createNote."""

from __future__ import annotations

from typing import Any

import pytest

from crmgraph.domain.errors import RESOURCE_NOT_AVAILABLE
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import Scope, User
from tests.world import World

ROLES = ["owner", "maintainer", "developer", "reporter", "planner", "guest", "stranger"]
Result = tuple[dict[str, Any] | None, list[str]]
REFUSED: Result = (None, [RESOURCE_NOT_AVAILABLE])
ISSUE = "issue { iid title description confidential state author { username } }"


class Api:
    """Runs mutations and queries as one of the users of the world, by name."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.users: dict[str, User] = {}
        self.tokens: dict[str, str] = {}

    async def token(self, who: str | None) -> str | None:
        """``<name>_read_api`` is a read-only token of that user; None is anonymous."""
        if who is not None and who not in self.tokens:
            name, read_only = who.removesuffix("_read_api"), who.endswith("_read_api")
            scope = Scope.READ_API if read_only else Scope.API
            self.tokens[who] = await self.world.token(self.users[name], scope=scope)
        return None if who is None else self.tokens[who]

    async def __call__(
        self, who: str | None, name: str, selection: str, /, **fields: Any
    ) -> Result:
        """The payload (its echoed clientMutationId checked and removed) and top-level errors."""
        input_type = name[0].upper() + name[1:] + "Input"
        response = await self.world.gql(
            f"mutation($input: {input_type}!) "
            f"{{ {name}(input: $input) {{ clientMutationId errors {selection} }} }}",
            {"input": {"clientMutationId": f"cm-{name}", **fields}},
            token=await self.token(who),
        )
        payload = response.data[name]
        if payload is not None:
            assert payload.pop("clientMutationId") == f"cm-{name}"
        return payload, response.error_messages

    async def create(
        self, who: str | None, title: str, project: str = "acme/web", **more: Any
    ) -> Result:
        return await self(who, "createIssue", ISSUE, projectPath=project, title=title, **more)

    async def update(self, who: str, iid: str = "1", **changes: Any) -> Result:
        return await self(who, "updateIssue", ISSUE, projectPath="acme/web", iid=iid, **changes)

    async def read(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.world.gql(query, variables, token=await self.token("owner"))
        assert response.error_messages == []
        return response.data


@pytest.fixture
async def api(world: World) -> Api:
    """acme/web and acme/api; one member of acme per role (stranger: none)."""
    acme = await world.group("acme")
    await world.project(acme, "web")
    await world.project(acme, "api")
    api = Api(world)
    for name in ROLES:
        user = await world.user(name)
        if name != "stranger":
            await world.member(acme, user, AccessLevel[name.upper()])
        api.users[name] = user
    api.users["admin"] = await world.user("admin", admin=True)
    return api


def _issue(who: str, title: str, iid: str = "1", **fields: Any) -> dict[str, Any]:
    return {
        "iid": iid,
        "title": title,
        "description": None,
        "confidential": False,
        "state": "opened",
        "author": {"username": who},
        **fields,
    }


async def _titles(api: Api, project: str = "acme/web") -> list[str]:
    data = await api.read(
        "query($p: ID!) { project(fullPath: $p) { issues { nodes { title } } } }", p=project
    )
    return [node["title"] for node in data["project"]["issues"]["nodes"]]


# ------------------------------------------------------------------ createIssue


@pytest.mark.parametrize("who", ROLES)
async def test_guests_and_above_create_issues(api: Api, who: str) -> None:
    created = await api.create(who, "Broken", description="It broke", confidential=True)
    if who == "stranger":
        assert created == REFUSED
        assert await _titles(api) == []
    else:
        expected = _issue(who, "Broken", description="It broke", confidential=True)
        assert created == ({"errors": [], "issue": expected}, [])


@pytest.mark.parametrize("who", [None, "guest_read_api", "admin_read_api"])
async def test_anonymous_and_read_api_callers_cannot_create_issues(
    api: Api, who: str | None
) -> None:
    assert await api.create(who, "Nope") == REFUSED
    assert await _titles(api) == []


async def test_iids_count_from_one_in_each_project(api: Api) -> None:
    made = [
        await api.create("guest", title, project)
        for title, project in [
            ("w1", "acme/web"),
            ("a1", "acme/api"),
            ("w2", "acme/web"),
            ("w3", "acme/web"),
            ("a2", "acme/api"),
        ]
    ]
    assert [payload["issue"]["iid"] for payload, _ in made] == ["1", "1", "2", "3", "2"]
    assert await _titles(api, "acme/web") == ["w3", "w2", "w1"]
    assert await _titles(api, "acme/api") == ["a2", "a1"]


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("", "Title can't be blank"),
        ("   ", "Title can't be blank"),
        ("t" * 256, "Title is too long (maximum is 255 characters)"),
    ],
)
async def test_invalid_title_is_a_payload_error_and_nothing_is_created(
    api: Api, title: str, message: str
) -> None:
    assert await api.create("guest", title) == ({"errors": [message], "issue": None}, [])
    assert await _titles(api) == []


# ------------------------------------------------------------------ updateIssue


async def test_update_changes_only_the_fields_sent(api: Api) -> None:
    await api.create("owner", "Old", description="Keep me")
    steps: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"title": "  New  "}, {"title": "New"}),
        ({"confidential": True}, {"confidential": True}),
        ({"stateEvent": "CLOSE"}, {"state": "closed"}),
        ({"stateEvent": "CLOSE"}, {}),
        (
            {"description": "Changed", "stateEvent": "REOPEN"},
            {"description": "Changed", "state": "opened"},
        ),
        ({"confidential": False}, {"confidential": False}),
        ({}, {}),
        ({"description": None}, {"description": None}),
    ]
    expected = _issue("owner", "Old", description="Keep me")
    for changes, effect in steps:
        expected = {**expected, **effect}
        assert await api.update("developer", **changes) == ({"errors": [], "issue": expected}, [])
    data = await api.read('{ project(fullPath: "acme/web") { issue(iid: "1") { description } } }')
    assert data == {"project": {"issue": {"description": None}}}


async def test_absent_description_is_kept_and_explicit_null_clears_it(api: Api) -> None:
    await api.create("owner", "T", description="Text")
    kept, _ = await api.update("owner", title="T2")
    assert kept is not None and kept["issue"]["description"] == "Text"
    cleared, _ = await api.update("owner", description=None)
    assert cleared is not None and cleared["issue"]["description"] is None


async def test_blank_title_update_is_refused_and_nothing_changes(api: Api) -> None:
    await api.create("owner", "Stays", description="Same")
    result = await api.update("owner", title=" ", description="Other", confidential=True)
    original = _issue("owner", "Stays", description="Same")
    assert result == ({"errors": ["Title can't be blank"], "issue": original}, [])
    assert await _titles(api) == ["Stays"]


@pytest.mark.parametrize(
    ("author", "who", "confidential", "allowed"),
    [
        ("owner", "guest", False, False),
        ("owner", "planner", False, True),
        ("guest", "guest", False, True),
        ("guest", "guest", True, True),
        ("owner", "planner", True, False),
        ("owner", "reporter", True, True),
        ("owner", "stranger", False, False),
    ],
)
async def test_who_may_update_an_issue(
    api: Api, author: str, who: str, confidential: bool, allowed: bool
) -> None:
    await api.create(author, "Before", confidential=confidential)
    result = await api.update(who, title="After")
    if allowed:
        assert result == (
            {"errors": [], "issue": _issue(author, "After", confidential=confidential)},
            [],
        )
    else:
        assert result == REFUSED
        assert await _titles(api) == ["Before"]


async def test_updating_a_missing_issue_is_refused(api: Api) -> None:
    assert await api.update("owner", iid="9", title="X") == REFUSED
    assert await api.update("owner", iid="abc", title="X") == REFUSED
    assert await api.update("owner", iid="99999999999", title="X") == REFUSED


# ------------------------------------------------------------------ createNote

NOTE = "note { body system author { username } } quickActionsStatus { messages }"


async def _issue_gid(api: Api, author: str = "owner", confidential: bool = False) -> str:
    created, _ = await api(
        author,
        "createIssue",
        "issue { id }",
        projectPath="acme/web",
        title="Talk",
        confidential=confidential,
    )
    assert created is not None
    gid: str = created["issue"]["id"]
    return gid


async def _notes(api: Api, gid: str) -> list[dict[str, Any]]:
    data = await api.read(
        "query($id: IssueID!) { issue(id: $id) { notes { nodes "
        "{ body system author { username } } } } }",
        id=gid,
    )
    notes: list[dict[str, Any]] = data["issue"]["notes"]["nodes"]
    return notes


@pytest.mark.parametrize("who", ROLES)
async def test_guests_and_above_write_notes(api: Api, who: str) -> None:
    gid = await _issue_gid(api)
    result = await api(who, "createNote", NOTE, noteableId=gid, body="Looks bad")
    note = {"body": "Looks bad", "system": False, "author": {"username": who}}
    if who == "stranger":
        assert result == REFUSED
        assert await _notes(api, gid) == []
    else:
        assert result == ({"errors": [], "note": note, "quickActionsStatus": None}, [])
        assert await _notes(api, gid) == [note]


@pytest.mark.parametrize("body", ["", "  \n "])
async def test_blank_note_is_a_payload_error(api: Api, body: str) -> None:
    gid = await _issue_gid(api)
    result = await api("guest", "createNote", NOTE, noteableId=gid, body=body)
    assert result == (
        {"errors": ["Note can't be blank"], "note": None, "quickActionsStatus": None},
        [],
    )
    assert await _notes(api, gid) == []


@pytest.mark.parametrize(
    ("who", "allowed"), [("guest", False), ("planner", False), ("reporter", True)]
)
async def test_notes_on_confidential_issues_need_reporter(
    api: Api, who: str, allowed: bool
) -> None:
    gid = await _issue_gid(api, confidential=True)
    result = await api(who, "createNote", "note { body }", noteableId=gid, body="Hi")
    assert result == (({"errors": [], "note": {"body": "Hi"}}, []) if allowed else REFUSED)


async def test_note_on_a_missing_issue_is_refused(api: Api) -> None:
    result = await api(
        "owner", "createNote", "note { id }", noteableId="gid://gitlab/Issue/999", body="Hi"
    )
    assert result == REFUSED
