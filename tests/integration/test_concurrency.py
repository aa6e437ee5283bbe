"""Concurrent writers on one issue, and the retry of conflicting transactions (both databases).

The race: 36 clients, each its own user, send one ``issueSetCrmContacts`` APPEND or REMOVE
to the same issue at once. Each change that did something wrote one system note by its
author, and on one issue changes take turns (a row lock on PostgreSQL, BEGIN IMMEDIATE
on SQLite), so the notes in id order are the commit order. Replaying the operations in
that order from the initial links must explain every note's text and end in the stored
links; an operation without a note must have been a no-op at some point of that order.

The retry: a unit of work that loses a conflict (SQLSTATE 40001 or 40P01: the database
rolled it back) is run again whole by ``Database.run_in_transaction``. Injected and real
conflicts show that it is retried, applied once, and that a conflict that never clears
reaches the client as a plain message, never as a database error.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from crmgraph.authz.actor import Actor
from crmgraph.context import RequestContext
from crmgraph.domain.contacts import Contact, ContactFields
from crmgraph.domain.crm import OperationMode, system_note
from crmgraph.domain.groups import Project
from crmgraph.domain.ids import to_gid
from crmgraph.domain.issues import Issue
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import Scope, User
from crmgraph.mutations import contacts as contacts_use_case
from crmgraph.mutations import issue_contacts as issue_contacts_use_case
from crmgraph.mutations.contacts import create_contact
from crmgraph.mutations.issue_contacts import set_issue_contacts
from crmgraph.mutations.notes import create_note
from crmgraph.persistence import issue_contacts as links_repo
from crmgraph.persistence.tables import issues, notes
from crmgraph.persistence.unit_of_work import WRITE_CONFLICT, Database, RetryPolicy
from tests.consistency import check_consistency
from tests.world import World

CLIENTS = 36
SET_CONTACTS = """mutation($input: IssueSetCrmContactsInput!) {
  issueSetCrmContacts(input: $input) { errors issue { id } } }"""
LEAKS = ("deadlock", "serializ", "could not", "internal server error", "sqlstate")


@dataclass(frozen=True)
class Op:
    user: User
    token: str
    mode: OperationMode
    ids: frozenset[int]

    def effect(self, links: frozenset[int]) -> tuple[frozenset[int], frozenset[int]]:
        """(added, removed) if applied to ``links``."""
        if self.mode is OperationMode.APPEND:
            return self.ids - links, frozenset()
        return frozenset(), self.ids & links


@dataclass
class Race:
    world: World
    project: Project
    issue: Issue
    contacts: list[Contact]
    users: list[User]

    def ctx(self, user: User) -> RequestContext:
        ctx = RequestContext.build(self.world.db, Actor(user=user, scopes=frozenset({Scope.API})))
        ctx.clock = self.world.now
        return ctx

    async def links(self) -> frozenset[int]:
        async with self.world.db.connect() as conn:
            return frozenset(await links_repo.linked_contact_ids(conn, self.issue.id))

    async def system_notes(self) -> list[Any]:
        stmt = (
            select(notes.c.id, notes.c.author_id, notes.c.body)
            .where(notes.c.issue_id == self.issue.id, notes.c.system)
            .order_by(notes.c.id)
        )
        async with self.world.db.connect() as conn:
            return list((await conn.execute(stmt)).all())


@pytest.fixture
async def race(world: World) -> Race:
    acme = await world.group("acme")
    web = await world.project(acme, "web")
    users = []
    for i in range(CLIENTS):
        user = await world.user(f"client{i}")
        await world.member(acme, user, AccessLevel.REPORTER)
        users.append(user)
    issue = await world.issue(web, users[0])
    contacts = [await world.contact(acme, f"C{i}", "Doe", f"c{i}@example.com") for i in range(8)]
    return Race(world, web, issue, contacts, users)


async def test_concurrent_appends_and_removes_end_in_the_state_their_order_implies(
    race: Race,
) -> None:
    world = race.world
    await world.link(race.issue, *race.contacts[4:])
    initial = await race.links()
    rng = random.Random(6)
    ops = []
    for user in race.users:
        mode = rng.choice([OperationMode.APPEND, OperationMode.REMOVE])
        ids = frozenset(c.id for c in rng.sample(race.contacts, rng.choice([1, 1, 2])))
        ops.append(Op(user, await world.token(user), mode, ids))

    async def send(op: Op) -> Any:
        variables = {
            "input": {
                "projectPath": "acme/web",
                "iid": "1",
                "operationMode": op.mode.name,
                "contactIds": [to_gid("CustomerRelations::Contact", i) for i in sorted(op.ids)],
            }
        }
        return await world.gql(SET_CONTACTS, variables, token=op.token)

    responses = await asyncio.wait_for(asyncio.gather(*(send(op) for op in ops)), 120)

    for response in responses:
        text_of_errors = str(response.body).lower()
        assert not any(word in text_of_errors for word in LEAKS), response.body
        assert response.status == 200 and response.error_messages == [], response.body
        assert response.data["issueSetCrmContacts"]["errors"] == []
    by_author = {op.user.id: op for op in ops}
    states = [initial]
    noted = set()
    for note in await race.system_notes():
        op = by_author[note.author_id]
        assert op.user.id not in noted, "one operation wrote two notes"
        noted.add(op.user.id)
        added, removed = op.effect(states[-1])
        assert note.body == system_note(len(added), len(removed)), (note.body, op)
        states.append((states[-1] | added) - removed)
    assert await race.links() == states[-1]
    for op in ops:
        if op.user.id not in noted:
            assert any(op.effect(state) == (frozenset(), frozenset()) for state in states), op
    assert len(noted) >= 2, "the race exercised nothing"
    await check_consistency(world.db)


async def test_concurrent_notes_with_quick_actions_all_apply(race: Race) -> None:
    """Comments that carry /add_contacts, racing: every comment and every link lands once."""

    async def comment(i: int) -> None:
        contact = race.contacts[i % len(race.contacts)]
        outcome = await create_note(
            race.ctx(race.users[i]),
            issue_id=race.issue.id,
            body=f"Comment {i}\n/add_contacts {contact.email}",
        )
        assert outcome.errors == [] and outcome.note is not None
        assert outcome.quick_actions is not None
        assert outcome.quick_actions.error_messages == []

    await asyncio.wait_for(asyncio.gather(*(comment(i) for i in range(16))), 120)
    assert await race.links() == frozenset(c.id for c in race.contacts)
    bodies = [n.body for n in await race.system_notes()]
    assert bodies == ["added 1 contact"] * len(race.contacts)
    await check_consistency(race.world.db)


# ------------------------------------------------------------------ the retry itself


class _Conflict(Exception):
    """What a driver raises for SQLSTATE 40001 (psycopg's SerializationFailure has it)."""

    sqlstate = "40001"


@pytest.fixture
def fast_retries(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setattr(db, "retry", RetryPolicy(attempts=3, base_delay=0.001))
    return db


def _fail_first_link(
    monkeypatch: pytest.MonkeyPatch, fail: Callable[[AsyncConnection], Awaitable[None]]
) -> list[int]:
    """Make the first ``link`` of the issue use-case fail with ``fail``; count the calls."""
    real = links_repo.link
    calls: list[int] = []

    async def link(conn: AsyncConnection, issue_id: int, *args: Any) -> None:
        calls.append(issue_id)
        if len(calls) == 1:
            await fail(conn)
        await real(conn, issue_id, *args)

    monkeypatch.setattr(issue_contacts_use_case.links_repo, "link", link)
    return calls


async def _injected_conflict(conn: AsyncConnection) -> None:
    raise OperationalError("INSERT INTO issue_customer_relations_contacts", {}, _Conflict())


async def test_a_serialization_failure_is_retried_and_applies_once(
    race: Race, fast_retries: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await race.world.link(race.issue, race.contacts[0])
    calls = _fail_first_link(monkeypatch, _injected_conflict)
    before = fast_retries.retries
    outcome = await set_issue_contacts(
        race.ctx(race.users[0]),
        project_path="acme/web",
        iid="1",
        contact_ids=[race.contacts[1].id],
        mode=OperationMode.REPLACE,
    )
    assert outcome.errors == []
    assert len(calls) == 2 and fast_retries.retries == before + 1
    # The first attempt had already unlinked contact 0: that was rolled back and redone.
    assert await race.links() == {race.contacts[1].id}
    bodies = [n.body for n in await race.system_notes()]
    assert bodies == ["added 1 contact and removed 1 contact"]


@pytest.mark.postgres_only
async def test_a_real_serialization_failure_from_postgresql_is_retried(
    race: Race, fast_retries: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if fast_retries.dialect != "postgresql":
        pytest.skip("SQLSTATE 40001 is PostgreSQL's")

    async def server_conflict(conn: AsyncConnection) -> None:
        await conn.execute(
            text(
                "DO $$ BEGIN RAISE EXCEPTION 'injected' "
                "USING ERRCODE = 'serialization_failure'; END $$"
            )
        )

    calls = _fail_first_link(monkeypatch, server_conflict)
    outcome = await set_issue_contacts(
        race.ctx(race.users[0]),
        project_path="acme/web",
        iid="1",
        contact_ids=[race.contacts[2].id],
        mode=OperationMode.APPEND,
    )
    assert outcome.errors == [] and len(calls) == 2
    assert await race.links() == {race.contacts[2].id}


@pytest.mark.postgres_only
async def test_a_real_deadlock_is_retried_until_both_transactions_commit(
    race: Race, db: Database
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite's writers never deadlock: BEGIN IMMEDIATE serializes them")
    other = await race.world.issue(race.project, race.users[0])
    both_hold_one = asyncio.Barrier(2)

    def work(first: int, second: int, title: str) -> Callable[[AsyncConnection], Awaitable[str]]:
        attempts = 0

        async def run(conn: AsyncConnection) -> str:
            nonlocal attempts
            attempts += 1
            # The test runs as a superuser, who may shorten the wait before the check.
            await conn.execute(text("SET LOCAL deadlock_timeout = '20ms'"))
            await conn.execute(update(issues).where(issues.c.id == first).values(title=title))
            if attempts == 1:
                await asyncio.wait_for(both_hold_one.wait(), 5)
            await conn.execute(update(issues).where(issues.c.id == second).values(title=title))
            return title

        return run

    before = db.retries
    done = await asyncio.wait_for(
        asyncio.gather(
            db.run_in_transaction(work(race.issue.id, other.id, "A")),
            db.run_in_transaction(work(other.id, race.issue.id, "B")),
        ),
        30,
    )
    assert sorted(done) == ["A", "B"]
    assert db.retries > before
    async with db.connect() as conn:
        titles = set((await conn.execute(select(issues.c.title))).scalars())
    assert len(titles) == 1 and titles <= {"A", "B"}


async def test_a_conflict_that_never_clears_reaches_the_client_as_a_plain_message(
    race: Race, fast_retries: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def always(conn: AsyncConnection, *args: Any) -> None:
        await _injected_conflict(conn)

    monkeypatch.setattr(issue_contacts_use_case.links_repo, "link", always)
    before = fast_retries.retries
    token = await race.world.token(race.users[0])
    variables = {
        "input": {
            "projectPath": "acme/web",
            "iid": "1",
            "contactIds": [to_gid("CustomerRelations::Contact", race.contacts[0].id)],
        }
    }
    response = await race.world.gql(SET_CONTACTS, variables, token=token)
    assert response.error_messages == [WRITE_CONFLICT]
    assert not any(word in str(response.body).lower() for word in LEAKS)
    assert fast_retries.retries == before + 2  # three attempts in all
    assert await race.links() == frozenset()
    assert await race.system_notes() == []


async def test_other_database_errors_are_not_retried(db: Database) -> None:
    calls = 0

    async def duplicate(conn: AsyncConnection) -> None:
        nonlocal calls
        calls += 1
        raise IntegrityError("INSERT", {}, Exception("duplicate key value"))

    before = db.retries
    with pytest.raises(IntegrityError):
        await db.run_in_transaction(duplicate)
    assert calls == 1 and db.retries == before


async def test_work_is_run_afresh_on_every_attempt(
    fast_retries: Database, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A contact create that conflicts once reports its validation errors once, not twice."""
    owner = await world.user("owner")
    acme = await world.group("acme")
    sub = await world.group("sub", acme)
    await world.member(acme, owner, AccessLevel.OWNER)
    ctx = RequestContext.build(world.db, Actor(user=owner, scopes=frozenset({Scope.API})))
    real = contacts_use_case._group_refusal
    attempts = 0

    async def refusal_then_conflict(conn: AsyncConnection, *args: Any) -> list[str]:
        nonlocal attempts
        attempts += 1
        found = await real(conn, *args)
        if attempts == 1:
            await _injected_conflict(conn)
        return found

    monkeypatch.setattr(contacts_use_case, "_group_refusal", refusal_then_conflict)
    outcome = await create_contact(
        ctx, group_id=sub.id, fields=ContactFields(first_name="", last_name="Lee")
    )
    assert attempts == 2
    assert outcome.errors == [
        "First name can't be blank",
        "contacts can only be added to root groups and groups configured as CRM targets",
    ]
