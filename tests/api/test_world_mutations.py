"""Mutations on the world: groups, members and projects (issues and notes: test_issue_mutations)."""

from __future__ import annotations

from typing import Any

import pytest

from crmgraph.domain.errors import RESOURCE_NOT_AVAILABLE
from crmgraph.domain.groups import PATH_MESSAGE
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import User
from tests.world import World

LAST_OWNER = "A root group must keep at least one Owner"
ROLES = ["owner", "maintainer", "developer", "reporter", "guest", "stranger"]
Result = tuple[dict[str, Any] | None, list[str]]


class Api:
    """Runs mutations as one of the users of the world, by name."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.users: dict[str, User] = {}
        self.tokens: dict[str, str] = {}

    async def token(self, who: str) -> str:
        if who not in self.tokens:
            self.tokens[who] = await self.world.token(self.users[who])
        return self.tokens[who]

    async def __call__(self, who: str, name: str, selection: str = "", /, **fields: Any) -> Result:
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

    async def group(self, who: str, path: str) -> dict[str, Any] | None:
        query = "query($p: ID!) { group(fullPath: $p) { name crmEnabled } }"
        response = await self.world.gql(query, {"p": path}, token=await self.token(who))
        found: dict[str, Any] | None = response.data["group"]
        return found

    async def can_create_project(self, who: str, path: str) -> bool:
        payload, _ = await self(
            who, "projectCreate", "project { id }", groupPath="acme", path=path, name=path
        )
        return payload is not None and payload["project"] is not None


@pytest.fixture
async def api(world: World) -> Api:
    """acme with one member per role (stranger and newbie: none) and project acme/web."""
    acme = await world.group("acme")
    await world.project(acme, "web")
    api = Api(world)
    for name in [*ROLES, "newbie"]:
        user = await world.user(name)
        if name.upper() in AccessLevel.__members__:
            await world.member(acme, user, AccessLevel[name.upper()])
        api.users[name] = user
    return api


OK: Result = ({"errors": []}, [])
REFUSED: Result = (None, [RESOURCE_NOT_AVAILABLE])


# ------------------------------------------------------------------ groupCreate


async def test_creator_of_a_root_group_becomes_its_owner(api: Api) -> None:
    created = await api(
        "newbie", "groupCreate", "group { fullPath name parent { id } }", path="newco", name="NewCo"
    )
    assert created == (
        {"errors": [], "group": {"fullPath": "newco", "name": "NewCo", "parent": None}},
        [],
    )
    made_owner = await api(
        "newbie", "groupMemberSet", fullPath="newco", username="stranger", accessLevel="OWNER"
    )
    assert made_owner == OK


@pytest.mark.parametrize("who", ROLES)
async def test_subgroups_need_maintainer_of_the_parent(api: Api, who: str) -> None:
    created = await api(
        who,
        "groupCreate",
        "group { fullPath parent { fullPath } }",
        path="support",
        name="Support",
        parentPath="acme",
    )
    if who in ("owner", "maintainer"):
        group = {"fullPath": "acme/support", "parent": {"fullPath": "acme"}}
        assert created == ({"errors": [], "group": group}, [])
    else:
        assert created == REFUSED
        assert await api.group("owner", "acme/support") is None


INVALID_PATHS = [
    ("", "Path can't be blank"),
    ("bad path", PATH_MESSAGE),
    ("-dash", PATH_MESSAGE),
    ("repo.git", PATH_MESSAGE),
    ("feed.atom", PATH_MESSAGE),
    ("a/b", PATH_MESSAGE),
    ("x" * 256, "Path is too long (maximum is 255 characters)"),
]


async def test_invalid_group_path_is_a_payload_error(api: Api) -> None:
    for path, message in INVALID_PATHS:
        created = await api("owner", "groupCreate", "group { id }", path=path, name="Fine")
        assert created == ({"errors": [message], "group": None}, []), path


async def test_duplicate_path_ignoring_case_is_taken(api: Api) -> None:
    assert await api("owner", "groupCreate", path="sub", name="Sub", parentPath="acme") == OK
    # Groups and projects share one namespace of full paths.
    for path, parent in [("ACME", None), ("Acme", None), ("WEB", "acme"), ("Sub", "acme")]:
        created = await api(
            "owner", "groupCreate", "group { id }", path=path, name="X", parentPath=parent
        )
        taken = ({"errors": ["Path has already been taken"], "group": None}, [])
        assert created == taken, (path, parent)


# ------------------------------------------------------------------ groupUpdate

UNCHANGED = {"name": "Acme", "crmEnabled": True}


async def test_owner_changes_name_and_crm_switch(api: Api) -> None:
    updated = await api(
        "owner",
        "groupUpdate",
        "group { name crmEnabled }",
        fullPath="acme",
        name="  Acme Inc  ",
        crmEnabled=False,
    )
    assert updated == ({"errors": [], "group": {"name": "Acme Inc", "crmEnabled": False}}, [])
    assert await api.group("guest", "acme") == {"name": "Acme Inc", "crmEnabled": False}


@pytest.mark.parametrize("who", ["maintainer", "developer", "guest", "stranger"])
async def test_only_owners_update_a_group(api: Api, who: str) -> None:
    updated = await api(
        who, "groupUpdate", "group { name }", fullPath="acme", name="Mine", crmEnabled=False
    )
    assert updated == REFUSED
    assert await api.group("owner", "acme") == UNCHANGED


async def test_blank_group_name_is_refused_and_nothing_changes(api: Api) -> None:
    for name in ["", "   ", None]:
        updated = await api(
            "owner",
            "groupUpdate",
            "group { name crmEnabled }",
            fullPath="acme",
            name=name,
            crmEnabled=False,
        )
        assert updated == ({"errors": ["Name can't be blank"], "group": UNCHANGED}, []), name
        assert await api.group("owner", "acme") == UNCHANGED


# ------------------------------------------------------------------ members

ABOVE_OWN = "You cannot give the Owner role: it is above your own access level"


@pytest.mark.parametrize(
    ("who", "level", "outcome"),
    [
        ("maintainer", "MAINTAINER", OK),
        ("maintainer", "GUEST", OK),
        ("maintainer", "OWNER", ({"errors": [ABOVE_OWN]}, [])),
        ("owner", "OWNER", OK),
        ("developer", "GUEST", REFUSED),
        ("guest", "GUEST", REFUSED),
        ("stranger", "GUEST", REFUSED),
    ],
)
async def test_maintainers_manage_members_up_to_their_own_level(
    api: Api, who: str, level: str, outcome: Result
) -> None:
    set_member = await api(
        who, "groupMemberSet", fullPath="acme", username="newbie", accessLevel=level
    )
    assert set_member == outcome
    became_maintainer = outcome == OK and level != "GUEST"
    assert await api.can_create_project("newbie", "p1") is became_maintainer
    assert (await api.group("newbie", "acme") is not None) is (outcome == OK)


@pytest.mark.parametrize(
    ("name", "path", "level"),
    [
        ("groupMemberSet", "acme", "GUEST"),
        ("projectMemberSet", "acme/web", "GUEST"),
        ("groupMemberRemove", "acme", None),
    ],
)
async def test_unknown_user_is_a_payload_error(
    api: Api, name: str, path: str, level: str | None
) -> None:
    extra = {} if level is None else {"accessLevel": level}
    result = await api("owner", name, fullPath=path, username="nobody", **extra)
    assert result == ({"errors": ["User nobody not found"]}, [])


async def test_the_last_owner_of_a_root_group_cannot_be_removed_or_demoted(api: Api) -> None:
    last = ({"errors": [LAST_OWNER]}, [])
    assert await api("owner", "groupMemberRemove", fullPath="acme", username="owner") == last
    demote = {"fullPath": "acme", "username": "owner", "accessLevel": "MAINTAINER"}
    assert await api("owner", "groupMemberSet", **demote) == last
    assert await api.can_create_project("owner", "still-owner")
    promote = {"fullPath": "acme", "username": "newbie", "accessLevel": "OWNER"}
    assert await api("owner", "groupMemberSet", **promote) == OK
    assert await api("owner", "groupMemberSet", **demote) == OK
    assert await api("newbie", "groupMemberRemove", fullPath="acme", username="owner") == OK
    assert await api.group("owner", "acme") is None


async def test_maintainer_removes_members_below_but_not_owners(api: Api) -> None:
    assert await api("maintainer", "groupMemberRemove", fullPath="acme", username="guest") == OK
    assert await api.group("guest", "acme") is None
    refused = await api("maintainer", "groupMemberRemove", fullPath="acme", username="owner")
    assert refused == ({"errors": ["You cannot remove a member above your own level"]}, [])
    assert await api.group("owner", "acme") is not None


# ------------------------------------------------------------------ projects


@pytest.mark.parametrize("who", ROLES)
async def test_projects_are_created_by_maintainers_and_above(api: Api, who: str) -> None:
    created = await api(
        who,
        "projectCreate",
        "project { fullPath name group { fullPath } }",
        groupPath="acme",
        path="api",
        name="API",
    )
    if who in ("owner", "maintainer"):
        project = {"fullPath": "acme/api", "name": "API", "group": {"fullPath": "acme"}}
        assert created == ({"errors": [], "project": project}, [])
    else:
        assert created == REFUSED
        assert await api("owner", "projectCreate", groupPath="acme", path="api", name="A") == OK


async def test_duplicate_project_path_is_taken(api: Api) -> None:
    for path in ["web", "WEB", "Web"]:
        created = await api(
            "owner", "projectCreate", "project { id }", groupPath="acme", path=path, name="Again"
        )
        taken = ({"errors": ["Path has already been taken"], "project": None}, [])
        assert created == taken, path


async def test_project_member_sees_the_project_but_not_its_group(api: Api) -> None:
    member = {"fullPath": "acme/web", "username": "newbie", "accessLevel": "REPORTER"}
    assert await api("maintainer", "projectMemberSet", **member) == OK
    seen = await api.world.gql(
        '{ project(fullPath: "acme/web") { fullPath group { id } } '
        'group(fullPath: "acme") { id } }',
        token=await api.token("newbie"),
    )
    assert seen.data == {"project": {"fullPath": "acme/web", "group": None}, "group": None}


@pytest.mark.parametrize(
    ("who", "level", "outcome"),
    [
        ("developer", "GUEST", REFUSED),
        ("stranger", "GUEST", REFUSED),
        ("maintainer", "OWNER", ({"errors": [ABOVE_OWN]}, [])),
    ],
)
async def test_project_members_are_managed_by_maintainers_up_to_their_level(
    api: Api, who: str, level: str, outcome: Result
) -> None:
    member = {"fullPath": "acme/web", "username": "newbie", "accessLevel": level}
    assert await api(who, "projectMemberSet", **member) == outcome
    seen = await api.world.gql(
        '{ project(fullPath: "acme/web") { id } }', token=await api.token("newbie")
    )
    assert seen.data == {"project": None}
