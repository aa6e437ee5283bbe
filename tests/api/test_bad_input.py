"""Hostile and broken input over HTTP: a 4xx or an error message, never a 500 (both databases).

"Never a 500" includes GraphQL's own version of one: an error whose message is the masked
``Internal server error`` means an exception nobody expected, even under HTTP 200.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from crmgraph.domain.contacts import Contact
from crmgraph.domain.errors import RESOURCE_NOT_AVAILABLE
from crmgraph.domain.groups import Group
from crmgraph.domain.issues import Issue
from crmgraph.domain.roles import AccessLevel
from crmgraph.persistence.tables import contacts, issues, notes
from crmgraph.persistence.unit_of_work import SEARCH_TOO_LONG, UNSTORABLE_TEXT
from tests.consistency import check_consistency
from tests.world import World

MB = 1_000_000
INTERNAL = "Internal server error"
CREATE_ISSUE = """mutation($title: String!, $description: String) {
  createIssue(input: {projectPath: "acme/web", title: $title, description: $description}) {
    errors issue { iid } } }"""
CREATE_NOTE = """mutation($id: NoteableID!, $body: String!) {
  createNote(input: {noteableId: $id, body: $body}) { errors note { id } } }"""
CREATE_CONTACT = """mutation($group: GroupID!, $first: String!, $last: String!, $email: String,
    $phone: String, $description: String) {
  customerRelationsContactCreate(input: {groupId: $group, firstName: $first, lastName: $last,
    email: $email, phone: $phone, description: $description}) { errors contact { id } } }"""
CREATE_ORGANIZATION = """mutation($group: GroupID!, $name: String!, $rate: Float) {
  customerRelationsOrganizationCreate(input: {groupId: $group, name: $name, defaultRate: $rate}) {
    errors organization { id } } }"""
SET_CONTACTS = """mutation($path: ID!, $iid: String!, $ids: [CustomerRelationsContactID!]!) {
  issueSetCrmContacts(input: {projectPath: $path, iid: $iid, contactIds: $ids}) {
    errors issue { iid } } }"""
CONTACT_SEARCH = """query($search: String) { group(fullPath: "acme") {
  contacts(search: $search) { nodes { id } } } }"""
ISSUE_SEARCH = """query($search: String) { project(fullPath: "acme/web") {
  issues(search: $search) { nodes { id } } } }"""
ISSUE_BY_IID = (
    """query($iid: String!) { project(fullPath: "acme/web") { issue(iid: $iid) { id } } }"""
)
ISSUE_BY_ID = "query($id: IssueID!) { issue(id: $id) { id } }"
GROUP = "query($path: ID!) { group(fullPath: $path) { id } }"
ISSUES_FIRST = """query($first: Int) { project(fullPath: "acme/web") {
  issues(first: $first) { nodes { id } } } }"""
ISSUES_BY_CONTACT = """query($contact: String) { project(fullPath: "acme/web") {
  issues(crmContactId: $contact) { nodes { id } } } }"""
WHO = '{"query": "{ currentUser { username } }"}'


@dataclass
class Target:
    world: World
    token: str
    acme: Group
    issue: Issue
    contact: Contact

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def post(self, body: bytes | str, content_type: str | None = "application/json") -> Any:
        """Raw POST; an exception in the app comes back as the 500 a server would send."""
        headers = dict(self.headers)
        if content_type is not None:
            headers["Content-Type"] = content_type
        transport = httpx.ASGITransport(app=self.world.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t.test") as client:
            return await client.post("/api/graphql", content=body, headers=headers)

    async def gql(self, query: str, **variables: Any) -> dict[str, Any]:
        """A well-formed request with hostile variables; checks it was handled, not crashed."""
        response = await self.post(json.dumps({"query": query, "variables": variables}))
        return handled(response)


def handled(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        return {"status": response.status_code, "text": response.text}
    body: dict[str, Any] = response.json()
    messages = [e.get("message", "") for e in body.get("errors") or []]
    assert INTERNAL not in messages, body
    return body


def messages(body: dict[str, Any]) -> list[str]:
    return [e["message"] for e in body.get("errors") or []]


def payload_errors(body: dict[str, Any], field: str) -> list[str]:
    payload = (body.get("data") or {}).get(field) or {}
    return list(payload.get("errors") or [])


@pytest.fixture
async def target(world: World) -> Target:
    owner = await world.user("owner")
    acme = await world.group("acme")
    await world.member(acme, owner, AccessLevel.OWNER)
    web = await world.project(acme, "web")
    issue = await world.issue(web, owner)
    contact = await world.contact(acme, "Ann", "Lee", "ann@example.com")
    return Target(world, await world.token(owner), acme, issue, contact)


async def _count(target: Target, table: Any) -> int:
    async with target.world.db.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


# ------------------------------------------------------------------ oversized strings


async def test_a_one_megabyte_title_is_a_payload_error(target: Target) -> None:
    body = await target.gql(CREATE_ISSUE, title="x" * MB)
    assert payload_errors(body, "createIssue") == ["Title is too long (maximum is 255 characters)"]
    assert await _count(target, issues) == 1


async def test_oversized_descriptions_and_notes_are_payload_errors(target: Target) -> None:
    body = await target.gql(CREATE_ISSUE, title="t", description="x" * (2 * MB))
    assert payload_errors(body, "createIssue") == [
        "Description is too long (maximum is 1048576 characters)"
    ]
    body = await target.gql(CREATE_NOTE, id=target.issue.gid, body="x" * (MB + 1))
    assert payload_errors(body, "createNote") == [
        "Note is too long (maximum is 1000000 characters)"
    ]
    assert await _count(target, notes) == 0


async def test_oversized_contact_fields_are_payload_errors(target: Target) -> None:
    big = "x" * MB
    body = await target.gql(
        CREATE_CONTACT,
        group=target.acme.gid,
        first=big,
        last=big,
        email=big,
        phone=big,
        description=big,
    )
    errors = payload_errors(body, "customerRelationsContactCreate")
    assert "First name is too long (maximum is 255 characters)" in errors
    assert "Phone is too long (maximum is 32 characters)" in errors
    assert await _count(target, contacts) == 1


@pytest.mark.parametrize("query", [CONTACT_SEARCH, ISSUE_SEARCH], ids=["contacts", "issues"])
async def test_a_one_megabyte_search_finds_nothing_or_is_refused(
    target: Target, query: str
) -> None:
    body = await target.gql(query, search="x" * MB)
    # SQLite refuses LIKE patterns over 50,000 bytes; PostgreSQL simply matches nothing.
    assert messages(body) in ([], [SEARCH_TOO_LONG])


# ------------------------------------------------------------------ NUL and broken Unicode


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        (CREATE_ISSUE, {"title": "a\x00b"}, "createIssue"),
        (CREATE_ISSUE, {"title": "t", "description": "\x00"}, "createIssue"),
        (CREATE_CONTACT, {"first": "A\x00", "last": "L"}, "customerRelationsContactCreate"),
        (CREATE_CONTACT, {"first": "A", "last": "L", "email": "a\x00@x.io"}, None),
        (CREATE_ORGANIZATION, {"name": "Org\x00"}, "customerRelationsOrganizationCreate"),
        (CONTACT_SEARCH, {"search": "a\x00"}, None),
        (CONTACT_SEARCH, {"search": "long\x00word"}, None),
        (ISSUE_SEARCH, {"search": "\x00"}, None),
        (GROUP, {"path": "acme\x00"}, None),
        (ISSUE_BY_IID, {"iid": "1\x00"}, None),
        (SET_CONTACTS, {"path": "acme/web\x00", "iid": "1", "ids": []}, None),
    ],
    ids=[
        "title",
        "description",
        "contact",
        "email",
        "organization",
        "contact search",
        "long contact search",
        "issue search",
        "group path",
        "iid",
        "project path",
    ],
)
async def test_nul_characters_are_stored_or_refused_never_a_crash(
    target: Target, query: str, variables: dict[str, Any], field: str | None
) -> None:
    if query in (CREATE_CONTACT, CREATE_ORGANIZATION):
        variables = {"group": target.acme.gid, **variables}
    body = await target.gql(query, **variables)
    found = messages(body)
    # Absent things (a path with NUL names no project) are the usual resource error.
    assert found in ([], [UNSTORABLE_TEXT], [RESOURCE_NOT_AVAILABLE]), body
    if target.world.db.dialect == "postgresql" and field is not None:
        # PostgreSQL cannot store NUL in text: the write is refused and nothing is kept.
        assert found == [UNSTORABLE_TEXT]
    await check_consistency(target.world.db)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (CREATE_ISSUE, '{"title": "a\\ud800b"}'),
        (CREATE_NOTE, '{"id": "%(issue)s", "body": "\\udfff"}'),
        (ISSUE_SEARCH, '{"search": "\\ud800"}'),
        (GROUP, '{"path": "\\ud83d"}'),
    ],
    ids=["title", "note", "search", "path"],
)
async def test_unpaired_surrogates_are_refused_with_a_message(
    target: Target, query: str, variables: str
) -> None:
    # JSON may spell a lone surrogate; no database can store one as UTF-8.
    raw = variables % {"issue": target.issue.gid}
    body = handled(await target.post(f'{{"query": {json.dumps(query)}, "variables": {raw}}}'))
    assert messages(body) == [UNSTORABLE_TEXT]
    assert await _count(target, issues) == 1 and await _count(target, notes) == 0


# ------------------------------------------------------------------ numbers and ids


async def test_an_int_argument_out_of_range_is_a_graphql_error(target: Target) -> None:
    for value in (2**31, -(2**31) - 1, 2**63, 10**30, 1e300, 1.5, "1"):
        body = await target.gql(ISSUES_FIRST, first=value)
        assert body["data"] is None, value
        assert messages(body)[0].startswith("Variable '$first' has invalid value"), value


async def test_an_int_literal_out_of_range_is_a_graphql_error(target: Target) -> None:
    query = 'query { project(fullPath: "acme/web") { issues(first: %d) { nodes { id } } } }'
    body = await target.gql(query % 2**40)
    assert messages(body) == [f"Int cannot represent non 32-bit signed integer value: {2**40}"]


async def test_a_huge_or_malformed_iid_finds_nothing(target: Target) -> None:
    for iid in ("99999999999999999999", "-1", "0", "1e3", "0x1", "1.0"):
        body = await target.gql(ISSUE_BY_IID, iid=iid)
        assert body == {"data": {"project": {"issue": None}}}, iid


async def test_a_huge_or_malformed_crm_contact_filter_is_not_a_crash(target: Target) -> None:
    for contact in ("99999999999999999999", "-5", "abc", ""):
        body = await target.gql(ISSUES_BY_CONTACT, contact=contact)
        assert messages(body) == [] or body["data"]["project"]["issues"] is None, contact


MALFORMED_GIDS = [
    ("gid://gitlab/Issue/99999999999999999999", "is not a valid Global ID"),
    ("gid://gitlab/Issue/2147483648", "is not a valid Global ID"),
    ("gid://gitlab/Issue/0", "is not a valid Global ID"),
    ("gid://gitlab/Issue/-1", "is not a valid Global ID"),
    ("gid://gitlab/Issue/1/2", "is not a valid Global ID"),
    ("gid://gitlab/Issue/ 1", "is not a valid Global ID"),
    ("gid://gitlab/Issue/\uff11", "is not a valid Global ID"),
    ("gid://gitlab/Issue/", "is not a valid Global ID"),
    ("gid://gitlab/Issue", "is not a valid Global ID"),
    ("gid:/gitlab/Issue/1", "is not a valid Global ID"),
    ("Issue/1", "is not a valid Global ID"),
    ("", "is not a valid Global ID"),
    ("gid://gitlab/Group/1", "does not represent an instance of Issue"),
    ("gid://gitlab/issue/1", "does not represent an instance of Issue"),
    (7, "is not a valid Global ID"),
    ("gid://gitlab/Issue/" + "9" * 100_000, "is not a valid Global ID"),
]


async def test_a_malformed_global_id_is_named_in_the_error(target: Target) -> None:
    for value, message in MALFORMED_GIDS:
        body = await target.gql(ISSUE_BY_ID, id=value)
        assert body["data"] is None, value
        assert len(messages(body)) == 1 and message in messages(body)[0], value


async def test_malformed_contact_ids_in_a_mutation_change_nothing(target: Target) -> None:
    ids = [target.contact.gid, "gid://gitlab/CustomerRelations::Contact/1e9"]
    body = await target.gql(SET_CONTACTS, path="acme/web", iid="1", ids=ids)
    assert body["data"] is None
    assert "is not a valid Global ID" in messages(body)[0]
    body = await target.gql(SET_CONTACTS, path="acme/web", iid="1", ids=[target.issue.gid])
    assert "does not represent an instance of CustomerRelations::Contact" in messages(body)[0]
    await check_consistency(target.world.db)


async def test_an_absurd_default_rate_is_a_payload_error(target: Target) -> None:
    for rate in (1e300, -1e300, 1e16, -0.5, 0.001):
        body = await target.gql(CREATE_ORGANIZATION, group=target.acme.gid, name="Org", rate=rate)
        assert len(payload_errors(body, "customerRelationsOrganizationCreate")) == 1, rate


# ------------------------------------------------------------------ broken bodies and types


MALFORMED_BODIES = [
    "",
    "{",
    '{"query": "{ currentUser { username } }"',
    "{'query': '{ currentUser { username } }'}",
    '{"query": 5}',
    '{"query": ["{ currentUser { username } }"]}',
    '{"query": "{ currentUser { username } }", "variables": [1]}',
    '{"query": "{ currentUser { username } }", "variables": "x"}',
    '{"query": "{ currentUser { username } }", "extensions": 5}',
    "[]",
    "[1, 2]",
]


async def test_a_malformed_json_body_is_a_400(target: Target) -> None:
    for raw in MALFORMED_BODIES:
        response = await target.post(raw)
        assert 400 <= response.status_code < 500, (raw, response.text)


async def test_a_json_body_that_is_not_an_object_is_a_400(target: Target) -> None:
    for raw in ("null", '"query"', "5", "true"):
        response = await target.post(raw)
        assert 400 <= response.status_code < 500, (raw, response.text)


async def test_a_body_that_is_not_utf8_is_a_400(target: Target) -> None:
    body = b'{"query": "{ currentUser { username } }", "operationName": "\xff\xfe"}'
    response = await target.post(body)
    assert 400 <= response.status_code < 500, response.text


async def test_a_number_python_will_not_parse_is_a_400(target: Target) -> None:
    raw = '{"query": "{ currentUser { username } }", "variables": {"n": ' + "1" * 5000 + "}}"
    response = await target.post(raw)
    assert 400 <= response.status_code < 500, response.text


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_json_nested_too_deep_is_a_400(target: Target, method: str) -> None:
    """json.loads raises RecursionError (not a ValueError) past the interpreter's stack."""
    if method == "POST":
        response = await target.post(nested(100_000))
    else:
        transport = httpx.ASGITransport(app=target.world.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t.test") as client:
            response = await client.get(
                "/api/graphql",
                params={"query": "{ currentUser { username } }", "variables": nested(5_000)},
                headers=target.headers,
            )
    assert 400 <= response.status_code < 500, response.text


async def test_a_body_of_another_content_type_is_a_4xx(target: Target) -> None:
    for content_type in (
        None,
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=zz",
        "application/graphql",
        "image/png",
    ):
        response = await target.post(WHO, content_type=content_type)
        assert 400 <= response.status_code < 500, (content_type, response.text)


async def test_an_authorization_header_of_raw_bytes_is_a_401(target: Target) -> None:
    transport = httpx.ASGITransport(app=target.world.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t.test") as client:
        for value in (b"Bearer \xff\xfe", b"\x00", b"Bearer " + b"x" * 100_000):
            response = await client.post(
                "/api/graphql",
                content=WHO,
                headers=[(b"content-type", b"application/json"), (b"authorization", value)],
            )
            assert response.status_code == 401, response.text


@pytest.mark.parametrize(
    "raw",
    [
        '{"query": "query($id: IssueID!) { issue(id: $id) { id } }", '
        '"variables": {"id": "\\ud800"}}',
        '{"query": "mutation($m: String) { createIssue(input: {projectPath: \\"acme/web\\", '
        'title: \\"t\\", clientMutationId: $m}) { clientMutationId } }", '
        '"variables": {"m": "a\\udfffb"}}',
    ],
    ids=["global id in an error", "clientMutationId in a payload"],
)
async def test_a_lone_surrogate_echoed_back_is_not_a_crash(target: Target, raw: str) -> None:
    handled(await target.post(raw))
