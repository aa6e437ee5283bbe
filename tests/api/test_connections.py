"""Connections: keyset pages over issues and notes, filters, cursors and ID arguments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from crmgraph.domain.groups import Project
from crmgraph.domain.pagination import encode_cursor
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import User
from crmgraph.persistence import issues as issues_repo
from tests.world import World

INVALID_CURSOR = "Please provide a valid cursor"
PAGE_ARGS = "$first: Int, $last: Int, $after: String, $before: String"
PAGE = "first: $first, last: $last, after: $after, before: $before"
CONNECTION = (
    "nodes { iid } edges { cursor node { iid } } "
    "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
)
ISSUES = (
    f"query($p: ID!, {PAGE_ARGS}, $state: IssuableState, $search: String) "
    f"{{ project(fullPath: $p) {{ issues({PAGE}, state: $state, search: $search) "
    f"{{ {CONNECTION} }} }} }}"
)
GROUP_ISSUES = (
    f'query({PAGE_ARGS}) {{ group(fullPath: "acme") {{ issues({PAGE}) {{ {CONNECTION} }} }} }}'
)
NOTES = (
    f"query($id: IssueID!, {PAGE_ARGS}) {{ issue(id: $id) {{ notes({PAGE}) "
    "{ nodes { body } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"
)


@dataclass
class Setup:
    world: World
    token: str
    owner: User
    web: Project
    api: Project

    async def issues(self, count: int, project: Project | None = None, **kw: Any) -> list[int]:
        """``count`` issues in one transaction, one second apart; returns their ids."""
        async with self.world.db.transaction() as conn:
            return [
                (
                    await issues_repo.create_issue(
                        conn,
                        project_id=(project or self.web).id,
                        title=kw.get("title", f"Issue {n}"),
                        description=None,
                        confidential=False,
                        author_id=self.owner.id,
                        now=kw.get("now") or self.world.now(),
                    )
                ).id
                for n in range(count)
            ]

    async def page(self, query: str = ISSUES, **variables: Any) -> dict[str, Any]:
        variables.setdefault("p", "acme/web")
        response = await self.world.gql(query, variables, token=self.token)
        assert response.error_messages == []
        data = response.data
        root = data.get("project") or data.get("group") or data["issue"]
        connection: dict[str, Any] = root.get("issues") or root["notes"]
        return connection

    async def errors(self, query: str = ISSUES, **variables: Any) -> list[str]:
        variables.setdefault("p", "acme/web")
        return (await self.world.gql(query, variables, token=self.token)).error_messages


@pytest.fixture
async def setup(world: World) -> Setup:
    owner = await world.user("owner")
    acme = await world.group("acme")
    await world.member(acme, owner, AccessLevel.OWNER)
    web, api = await world.project(acme, "web"), await world.project(acme, "api")
    return Setup(world, await world.token(owner), owner, web, api)


def iids(connection: dict[str, Any]) -> list[int]:
    found = [int(node["iid"]) for node in connection["nodes"]]
    assert [int(edge["node"]["iid"]) for edge in connection["edges"]] == found
    cursors = [edge["cursor"] for edge in connection["edges"]]
    info = connection["pageInfo"]
    assert (info["startCursor"], info["endCursor"]) == (
        (cursors[0], cursors[-1]) if cursors else (None, None)
    )
    return found


def flags(connection: dict[str, Any]) -> tuple[bool, bool]:
    return connection["pageInfo"]["hasPreviousPage"], connection["pageInfo"]["hasNextPage"]


async def test_first_after_walks_forward_newest_first(setup: Setup) -> None:
    await setup.issues(5)
    seen, after = [], None
    expected = [([5, 4], (False, True)), ([3, 2], (True, True)), ([1], (True, False))]
    for page_iids, page_flags in expected:
        page = await setup.page(first=2, after=after)
        assert (iids(page), flags(page)) == (page_iids, page_flags)
        seen += page_iids
        after = page["pageInfo"]["endCursor"]
    assert seen == [5, 4, 3, 2, 1]


async def test_last_before_walks_backward(setup: Setup) -> None:
    await setup.issues(5)
    before = None
    expected = [([2, 1], (True, False)), ([4, 3], (True, True)), ([5], (False, True))]
    for page_iids, page_flags in expected:
        page = await setup.page(last=2, before=before)
        assert (iids(page), flags(page)) == (page_iids, page_flags)
        before = page["pageInfo"]["startCursor"]


async def test_empty_cursors_mean_absent(setup: Setup) -> None:
    await setup.issues(3)
    assert iids(await setup.page(first=2, after="")) == [3, 2]
    assert iids(await setup.page(last=2, before="")) == [2, 1]
    assert iids(await setup.page(after="", before="")) == [3, 2, 1]


async def test_page_size_defaults_to_and_is_capped_at_100(setup: Setup) -> None:
    await setup.issues(105)
    for args in ({}, {"first": 500}, {"first": 100}):
        page = await setup.page(**args)
        assert iids(page) == list(range(105, 5, -1))
        assert flags(page) == (False, True)
    rest = await setup.page(first=500, after=page["pageInfo"]["endCursor"])
    assert (iids(rest), flags(rest)) == ([5, 4, 3, 2, 1], (True, False))
    assert iids(await setup.page(last=500)) == list(range(100, 0, -1))


async def test_ties_on_creation_time_are_ordered_by_id_and_never_skipped(setup: Setup) -> None:
    now = setup.world.now()
    await setup.issues(5, now=now)
    seen: list[int] = []
    page = await setup.page(first=2)
    while True:
        seen += iids(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        page = await setup.page(first=2, after=page["pageInfo"]["endCursor"])
    assert seen == [5, 4, 3, 2, 1]


async def test_group_issues_page_across_projects(setup: Setup) -> None:
    await setup.issues(2)
    await setup.issues(2, setup.api)
    page = await setup.page(GROUP_ISSUES, first=3)
    assert (iids(page), flags(page)) == ([2, 1, 2], (False, True))
    rest = await setup.page(GROUP_ISSUES, first=3, after=page["pageInfo"]["endCursor"])
    assert (iids(rest), flags(rest)) == ([1], (True, False))


async def test_state_filter(setup: Setup) -> None:
    ids = await setup.issues(5)
    async with setup.world.db.transaction() as conn:
        for issue_id in (ids[1], ids[3]):
            await issues_repo.update_issue(conn, issue_id, {"state": "closed"}, setup.world.now())
    assert iids(await setup.page(state="closed")) == [4, 2]
    assert iids(await setup.page(state="opened")) == [5, 3, 1]
    assert iids(await setup.page(state="all")) == [5, 4, 3, 2, 1]
    assert iids(await setup.page(state="closed", first=1)) == [4]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("printer", [3, 1]),
        ("PRINTER", [3, 1]),
        ("fire printer", [1]),
        ("broken", [2]),
        ("", [3, 2, 1]),
        ("%", []),
        ("_", []),
        ("nothing", []),
    ],
)
async def test_search_matches_every_word_ignoring_case(
    setup: Setup, search: str, expected: list[int]
) -> None:
    for title in ("Printer on fire", "Login broken", "printer jam"):
        await setup.issues(1, title=title)
    assert iids(await setup.page(search=search)) == expected


async def test_notes_page_oldest_first(setup: Setup) -> None:
    [issue_id] = await setup.issues(1)
    async with setup.world.db.transaction() as conn:
        for n in range(1, 6):
            await issues_repo.create_note(
                conn,
                issue_id=issue_id,
                author_id=setup.owner.id,
                body=f"n{n}",
                system=False,
                now=setup.world.now(),
            )
    gid = f"gid://gitlab/Issue/{issue_id}"
    bodies, after = [], None
    for expected in (["n1", "n2"], ["n3", "n4"], ["n5"]):
        page = await setup.page(NOTES, id=gid, first=2, after=after)
        assert [node["body"] for node in page["nodes"]] == expected
        bodies += expected
        after = page["pageInfo"]["endCursor"]
    assert (page["pageInfo"]["hasNextPage"], page["pageInfo"]["hasPreviousPage"]) == (False, True)
    last = await setup.page(NOTES, id=gid, last=2)
    assert [node["body"] for node in last["nodes"]] == ["n4", "n5"]


# Garbage, and well-formed cursors whose values do not fit the sort keys.
BAD_ISSUE_CURSORS = [
    "garbage",
    "!!!",
    encode_cursor([1]),
    encode_cursor(["x", "y"]),
    encode_cursor(["2026-11-22T10:00:00+00:00", "y"]),
    encode_cursor(["2026-11-22T10:00:00", 1]),
    encode_cursor([None, None]),
    encode_cursor([True, True]),
    encode_cursor([5, 5]),
    encode_cursor(["2026-11-22T10:00:00+00:00", 1.5]),
    encode_cursor(["2026-11-22T10:00:00+00:00", 2**31]),
]
BAD_NOTE_CURSORS = [
    "garbage",
    *(encode_cursor(v) for v in (["x"], [None], [1, 2], ["1"], [-(2**31) - 1])),
]


async def test_bad_cursors_are_refused_with_the_gitlab_message(setup: Setup) -> None:
    [issue_id] = await setup.issues(1)
    gid = f"gid://gitlab/Issue/{issue_id}"
    for arg in ("after", "before"):
        for cursor in BAD_ISSUE_CURSORS:
            for query in (ISSUES, GROUP_ISSUES):
                assert await setup.errors(query, **{arg: cursor}) == [INVALID_CURSOR], cursor
        for cursor in BAD_NOTE_CURSORS:
            assert await setup.errors(NOTES, id=gid, **{arg: cursor}) == [INVALID_CURSOR], cursor


async def test_negative_page_size_is_refused(setup: Setup) -> None:
    assert await setup.errors(first=-1) == ["Argument 'first' must be a non-negative integer"]
    assert await setup.errors(last=-5) == ["Argument 'last' must be a non-negative integer"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nope", '"nope" is not a valid Global ID'),
        ("gid://gitlab/Issue/x", '"gid://gitlab/Issue/x" is not a valid Global ID'),
        ("gid://gitlab/Note/1", '"gid://gitlab/Note/1" does not represent an instance of Issue'),
    ],
)
async def test_invalid_issue_ids_are_refused(setup: Setup, value: str, message: str) -> None:
    literal = await setup.world.gql(f'{{ issue(id: "{value}") {{ id }} }}', token=setup.token)
    variable = await setup.world.gql(
        "query($id: IssueID!) { issue(id: $id) { id } }", {"id": value}, token=setup.token
    )
    for response in (literal, variable):
        assert len(response.error_messages) == 1
        assert message in response.error_messages[0]


@pytest.mark.parametrize("number", ["2147483648", "999999999999999999", "²"])
async def test_ids_beyond_any_row_find_nothing(setup: Setup, number: str) -> None:
    """Larger than PostgreSQL's integer: never sent to the database, nothing is found."""
    await setup.issues(1)
    data = await setup.world.gql(
        'query($iid: String!) { project(fullPath: "acme/web") { issue(iid: $iid) { iid } } }',
        {"iid": number},
        token=setup.token,
    )
    assert (data.error_messages, data.data) == ([], {"project": {"issue": None}})
    if number.isascii():
        gid = f"gid://gitlab/Issue/{number}"
        response = await setup.world.gql(f'{{ issue(id: "{gid}") {{ id }} }}', token=setup.token)
        assert response.error_messages == [
            f"Expected value of type 'IssueID', but encountered error "
            f'\'"{gid}" is not a valid Global ID\'; found: "{gid}".'
        ]


@pytest.mark.parametrize("arg", ["crmContactId", "crmOrganizationId"])
async def test_crm_filters_with_ids_no_row_can_have_find_nothing(setup: Setup, arg: str) -> None:
    await setup.issues(1)
    query = (
        f'query($v: String) {{ project(fullPath: "acme/web") {{ issues({arg}: $v) '
        "{ nodes { iid } } } }"
    )
    for value in ["2147483648", "999999999999999999", "²", "abc", "-1"]:
        response = await setup.world.gql(query, {"v": value}, token=setup.token)
        assert response.error_messages == [], value
        assert response.data == {"project": {"issues": {"nodes": []}}}, value
