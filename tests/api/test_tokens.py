"""Personal access tokens: headers, refusals, scopes, and what the database keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from crmgraph.domain.errors import RESOURCE_NOT_AVAILABLE
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import Scope, User, new_token, token_digest
from crmgraph.mutations.accounts import revoke_token
from crmgraph.persistence import tables
from crmgraph.persistence import users as users_repo
from tests.world import SECRET, World

INVALID_TOKEN_BODY = b'{"errors":[{"message":"Invalid token"}]}'
WHO = "{ currentUser { username } }"


async def _post(world: World, query: str, headers: dict[str, str]) -> Any:
    return await world.http("POST", "/api/graphql", json={"query": query}, headers=headers)


def _headers(style: str, token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if style == "bearer" else {"PRIVATE-TOKEN": token}


async def _token_expired_yesterday(world: World, user: User) -> str:
    raw = new_token()
    now = datetime.now(UTC)
    async with world.db.transaction() as conn:
        await users_repo.create_token(
            conn,
            user_id=user.id,
            name="old",
            digest=token_digest(raw, SECRET),
            scope=Scope.API,
            expires_at=now - timedelta(days=1),
            now=now - timedelta(days=30),
        )
    return raw


@pytest.mark.parametrize("style", ["bearer", "private-token"])
async def test_bearer_and_private_token_headers_both_authenticate(world: World, style: str) -> None:
    alice = await world.user("alice")
    token = await world.token(alice)
    response = await _post(world, WHO, _headers(style, token))
    assert response.status_code == 200
    assert response.json() == {"data": {"currentUser": {"username": "alice"}}}


async def test_token_with_future_expiry_authenticates(world: World) -> None:
    alice = await world.user("alice")
    token = await world.token(alice, expires_at=datetime.now(UTC) + timedelta(days=1))
    assert (await world.gql(WHO, token=token)).data == {"currentUser": {"username": "alice"}}


@pytest.mark.parametrize("style", ["bearer", "private-token"])
@pytest.mark.parametrize("kind", ["unknown", "expired", "revoked"])
async def test_unusable_token_gets_401_invalid_token(world: World, kind: str, style: str) -> None:
    alice = await world.user("alice")
    if kind == "unknown":
        token = new_token()
    elif kind == "expired":
        token = await _token_expired_yesterday(world, alice)
    else:
        token = await world.token(alice)
        assert (await world.gql(WHO, token=token)).status == 200
        await revoke_token(world.db, token=token, secret=SECRET, now=datetime.now(UTC))
    response = await _post(world, WHO, _headers(style, token))
    assert response.status_code == 401
    assert response.content == INVALID_TOKEN_BODY


async def test_revoking_one_token_leaves_the_others_working(world: World) -> None:
    alice = await world.user("alice")
    first, second = await world.token(alice), await world.token(alice)
    await revoke_token(world.db, token=first, secret=SECRET, now=datetime.now(UTC))
    assert (await world.gql(WHO, token=first)).status == 401
    assert (await world.gql(WHO, token=second)).data == {"currentUser": {"username": "alice"}}


async def test_no_token_is_anonymous(world: World) -> None:
    response = await world.gql(WHO)
    assert response.status == 200
    assert response.data == {"currentUser": None}


# ------------------------------------------------------------------ read-only callers


async def _seeded(world: World) -> tuple[User, str]:
    """acme/web with one issue, owned by alice; returns alice and the issue's GID."""
    alice = await world.user("alice")
    await world.user("bob")
    acme = await world.group("acme")
    await world.member(acme, alice, AccessLevel.OWNER)
    web = await world.project(acme, "web")
    issue = await world.issue(web, alice, "Original")
    return alice, f"gid://gitlab/Issue/{issue.id}"


MUTATIONS = {
    "groupCreate": 'groupCreate(input: {path: "new", name: "New"}) { errors }',
    "groupUpdate": 'groupUpdate(input: {fullPath: "acme", name: "Renamed"}) { errors }',
    "groupMemberSet": (
        'groupMemberSet(input: {fullPath: "acme", username: "bob", accessLevel: GUEST}) { errors }'
    ),
    "projectCreate": 'projectCreate(input: {groupPath: "acme", path: "api", name: "A"}) { errors }',
    "createIssue": 'createIssue(input: {projectPath: "acme/web", title: "New"}) { errors }',
    "updateIssue": (
        'updateIssue(input: {projectPath: "acme/web", iid: "1", title: "Changed"}) { errors }'
    ),
    "createNote": 'createNote(input: {noteableId: "ISSUE", body: "Hello"}) { errors }',
}


async def _snapshot(world: World) -> dict[str, Any]:
    async with world.db.connect() as conn:
        counts = {
            table.name: (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            for table in (
                tables.groups,
                tables.projects,
                tables.group_members,
                tables.issues,
                tables.notes,
            )
        }
        names = (await conn.execute(select(tables.groups.c.name))).scalars().all()
        titles = (await conn.execute(select(tables.issues.c.title))).scalars().all()
    return {"counts": counts, "group names": sorted(names), "issue titles": sorted(titles)}


@pytest.mark.parametrize("caller", ["read_api", "anonymous"])
async def test_read_only_callers_cannot_mutate_and_nothing_changes(
    world: World, caller: str
) -> None:
    alice, issue_gid = await _seeded(world)
    token = None if caller == "anonymous" else await world.token(alice, scope=Scope.READ_API)
    before = await _snapshot(world)
    for mutation, text in MUTATIONS.items():
        response = await world.gql(
            f"mutation {{ {text.replace('ISSUE', issue_gid)} }}", token=token
        )
        assert response.status == 200
        assert response.data == {mutation: None}
        assert response.error_messages == [RESOURCE_NOT_AVAILABLE], mutation
        assert await _snapshot(world) == before, mutation


async def test_read_api_token_can_query(world: World) -> None:
    alice, _ = await _seeded(world)
    token = await world.token(alice, scope=Scope.READ_API)
    response = await world.gql(
        '{ currentUser { username } project(fullPath: "acme/web") { issues { nodes { title } } } }',
        token=token,
    )
    assert response.data == {
        "currentUser": {"username": "alice"},
        "project": {"issues": {"nodes": [{"title": "Original"}]}},
    }


async def test_anonymous_reads_nothing_private(world: World) -> None:
    _, issue_gid = await _seeded(world)
    response = await world.gql(
        'query($id: IssueID!) { group(fullPath: "acme") { id } '
        'project(fullPath: "acme/web") { id } issue(id: $id) { id } }',
        {"id": issue_gid},
    )
    assert response.data == {"group": None, "project": None, "issue": None}


async def test_token_table_stores_only_a_digest(world: World) -> None:
    alice = await world.user("alice")
    raw = [await world.token(alice), await world.token(alice, scope=Scope.READ_API)]
    async with world.db.connect() as conn:
        rows = (await conn.execute(select(tables.personal_access_tokens))).all()
    assert len(rows) == 2
    stored = [str(value) for row in rows for value in row]
    for token in raw:
        secret_part = token.removeprefix("crmpat-")
        assert not any(secret_part in value for value in stored)
    assert sorted(row.token_digest for row in rows) == sorted(
        token_digest(token, SECRET) for token in raw
    )
    assert all(len(row.token_digest) == 64 for row in rows)
