"""Tokens: keyed digests, a constant-time comparison, expiry to the second, read-only scopes."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import graphql
import pytest
from sqlalchemy import func, select

from crmgraph.app import schema
from crmgraph.context import authenticate
from crmgraph.domain.errors import RESOURCE_NOT_AVAILABLE
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import Scope, token_digest
from crmgraph.persistence import users as users_repo
from crmgraph.persistence.tables import metadata
from tests.world import SECRET, World

CONTACT = "gid://gitlab/CustomerRelations::Contact/1"
ORGANIZATION = "gid://gitlab/CustomerRelations::Organization/1"
#: One call of every mutation, with arguments that an ``api`` token could use.
EVERY_MUTATION = {
    "groupCreate": '{path: "new", name: "New"}',
    "groupUpdate": '{fullPath: "acme", name: "Renamed"}',
    "groupMemberSet": '{fullPath: "acme", username: "bob", accessLevel: GUEST}',
    "groupMemberRemove": '{fullPath: "acme", username: "alice"}',
    "projectCreate": '{groupPath: "acme", path: "api", name: "Api"}',
    "projectMemberSet": '{fullPath: "acme/web", username: "bob", accessLevel: GUEST}',
    "createIssue": '{projectPath: "acme/web", title: "New"}',
    "updateIssue": '{projectPath: "acme/web", iid: "1", title: "Changed"}',
    "createNote": '{noteableId: "gid://gitlab/Issue/1", body: "Hello"}',
    "customerRelationsContactCreate": '{groupId: "gid://gitlab/Group/1", firstName: "A", '
    'lastName: "B"}',
    "contactCreate": '{groupId: "gid://gitlab/Group/1", firstName: "A", lastName: "B"}',
    "customerRelationsContactUpdate": f'{{id: "{CONTACT}", firstName: "Z"}}',
    "contactUpdate": f'{{id: "{CONTACT}", firstName: "Z"}}',
    "customerRelationsOrganizationCreate": '{groupId: "gid://gitlab/Group/1", name: "New"}',
    "organizationCreate": '{groupId: "gid://gitlab/Group/1", name: "New"}',
    "customerRelationsOrganizationUpdate": f'{{id: "{ORGANIZATION}", name: "Z"}}',
    "organizationUpdate": f'{{id: "{ORGANIZATION}", name: "Z"}}',
    "issueSetCrmContacts": f'{{projectPath: "acme/web", iid: "1", contactIds: ["{CONTACT}"]}}',
    "issueMove": '{projectPath: "acme/web", iid: "1", targetProjectPath: "acme/api"}',
    "groupTransfer": '{fullPath: "acme/sub", newParentPath: null}',
    "projectTransfer": '{fullPath: "acme/web", newGroupPath: "acme/sub"}',
}


async def _seeded(world: World) -> Any:
    alice = await world.user("alice")
    await world.user("bob")
    acme = await world.group("acme")
    await world.group("sub", acme)
    await world.member(acme, alice, AccessLevel.OWNER)
    web = await world.project(acme, "web")
    await world.project(acme, "api")
    await world.issue(web, alice)
    await world.organization(acme, "Initech")
    await world.contact(acme, "Ann", "Lee", "ann@example.com")
    return alice


async def _everything(world: World) -> list[Any]:
    """Every row of every table: a mutation that slipped through shows here."""
    rows = []
    async with world.db.connect() as conn:
        for table in metadata.sorted_tables:
            count = (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            found = (await conn.execute(select(table).order_by(*table.primary_key))).all()
            rows.append((table.name, count, [tuple(r) for r in found]))
    return rows


def test_the_list_names_every_mutation_of_the_schema() -> None:
    built = graphql.build_schema(schema().as_str())
    assert built.mutation_type is not None
    assert set(built.mutation_type.fields) == set(EVERY_MUTATION)


@pytest.mark.parametrize("caller", ["read_api", "anonymous"])
async def test_no_mutation_runs_for_a_read_only_caller(world: World, caller: str) -> None:
    alice = await _seeded(world)
    token = None if caller == "anonymous" else await world.token(alice, scope=Scope.READ_API)
    api = await world.token(alice)
    before = await _everything(world)
    for name, arguments in EVERY_MUTATION.items():
        query = f"mutation {{ {name}(input: {arguments}) {{ errors }} }}"
        response = await world.gql(query, token=token)
        assert response.status == 200, name
        assert response.body["data"] == {name: None}, (name, response.body)
        assert response.error_messages == [RESOURCE_NOT_AVAILABLE], name
    assert await _everything(world) == before
    # The same calls are not refused for what they ask: an api token gets further.
    response = await world.gql(
        f"mutation {{ createIssue(input: {EVERY_MUTATION['createIssue']}) {{ errors }} }}",
        token=api,
    )
    assert response.data == {"createIssue": {"errors": []}}


def test_the_digest_is_keyed_by_the_server_secret() -> None:
    token = "crmpat-example"
    plain = hashlib.sha256(token.encode()).hexdigest()
    assert token_digest(token, SECRET) != plain
    assert token_digest(token, SECRET) != token_digest(token, "another secret")
    assert (
        token_digest(token, SECRET)
        == hmac.new(SECRET.encode(), token.encode(), hashlib.sha256).hexdigest()
    )


async def test_a_token_does_not_work_under_another_server_secret(world: World) -> None:
    token = await world.token(await world.user("alice"))
    now = datetime.now(UTC)
    assert await authenticate(world.db, SECRET, token, now) is not None
    assert await authenticate(world.db, "another secret", token, now) is None


async def test_the_stored_digest_is_compared_in_constant_time(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await world.token(await world.user("alice"))
    compared: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(stored: str, computed: str) -> bool:
        compared.append((stored, computed))
        return real(stored, computed)

    monkeypatch.setattr(users_repo.hmac, "compare_digest", spy)
    assert await authenticate(world.db, SECRET, token, datetime.now(UTC)) is not None
    digest = token_digest(token, SECRET)
    assert compared == [(digest, digest)]
    # Its answer decides: a row the database matched but the comparison refuses is no match.
    monkeypatch.setattr(users_repo.hmac, "compare_digest", lambda stored, computed: False)
    assert await authenticate(world.db, SECRET, token, datetime.now(UTC)) is None


async def test_expiry_is_enforced_to_the_instant(world: World) -> None:
    expires = datetime.now(UTC) + timedelta(days=1)
    token = await world.token(await world.user("alice"), expires_at=expires)
    before = await authenticate(world.db, SECRET, token, expires - timedelta(microseconds=1))
    assert before is not None
    assert await authenticate(world.db, SECRET, token, expires) is None
    assert await authenticate(world.db, SECRET, token, expires + timedelta(days=365)) is None
