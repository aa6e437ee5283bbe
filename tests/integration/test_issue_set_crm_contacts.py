"""Setting an issue's contacts through the use-case (spec §6), on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update

from crmgraph.authz.actor import Actor
from crmgraph.context import RequestContext
from crmgraph.domain.contacts import Contact
from crmgraph.domain.crm import INSUFFICIENT, TOO_MANY, OperationMode, contact_inactive
from crmgraph.domain.crm import contact_not_found as not_found
from crmgraph.domain.errors import FeatureDisabled, ReadOnlyToken, ResourceNotAvailable
from crmgraph.domain.groups import Group, Project
from crmgraph.domain.issues import Issue
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import Scope, User
from crmgraph.events import ISSUE_CRM_CONTACTS_UPDATED
from crmgraph.mutations.issue_contacts import set_issue_contacts
from crmgraph.mutations.outcome import Outcome
from crmgraph.persistence import contacts as contacts_repo
from crmgraph.persistence import groups as groups_repo
from crmgraph.persistence import issue_contacts as links_repo
from crmgraph.persistence import issues as issues_repo
from crmgraph.persistence.tables import groups, issue_contacts, notes
from crmgraph.persistence.unit_of_work import Database
from tests.world import World

REPLACE, APPEND, REMOVE = OperationMode.REPLACE, OperationMode.APPEND, OperationMode.REMOVE


@pytest.fixture(autouse=True)
async def _detach_groups(db: Database) -> AsyncIterator[None]:
    """The harness deletes all groups in one statement, which SQLite refuses while groups
    still point at each other (ON DELETE RESTRICT is not deferred); cut those links first."""
    yield
    async with db.transaction() as conn:
        await conn.execute(update(groups).values(parent_id=None, crm_source_group_id=None))


@dataclass
class Crm:
    """acme (root, CRM group) ⊃ project acme/web with issue #1; contacts c[0..7] in acme,
    one inactive acme contact, one contact of the root group ``other``."""

    world: World
    acme: Group
    other: Group
    web: Project
    issue: Issue
    users: dict[str, User]
    c: list[Contact]
    inactive: Contact
    foreign: Contact

    def ctx(self, who: str, *, scope: Scope = Scope.API) -> RequestContext:
        ctx = RequestContext.build(
            self.world.db, Actor(user=self.users[who], scopes=frozenset({scope}))
        )
        ctx.clock = self.world.now
        return ctx

    async def change(
        self,
        ids: list[int],
        mode: OperationMode = REPLACE,
        *,
        who: str = "planner",
        project: str = "acme/web",
        iid: str = "1",
        ctx: RequestContext | None = None,
    ) -> Outcome[Issue]:
        return await set_issue_contacts(
            ctx or self.ctx(who), project_path=project, iid=iid, contact_ids=ids, mode=mode
        )

    def ids(self, *indexes: int) -> list[int]:
        return [self.c[i].id for i in indexes]

    async def links(self, issue: Issue | None = None) -> set[int]:
        async with self.world.db.connect() as conn:
            return await links_repo.linked_contact_ids(conn, (issue or self.issue).id)

    async def link(self, ids: list[int]) -> None:
        async with self.world.db.transaction() as conn:
            await links_repo.link(conn, self.issue.id, ids, self.world.now())

    async def notes(self) -> list[tuple[str, bool, int]]:
        stmt = (
            select(notes.c.body, notes.c.system, notes.c.author_id)
            .where(notes.c.issue_id == self.issue.id)
            .order_by(notes.c.id)
        )
        async with self.world.db.connect() as conn:
            return [tuple(row) for row in (await conn.execute(stmt)).all()]

    async def stored_issue(self) -> Issue:
        async with self.world.db.connect() as conn:
            found = await issues_repo.issues_by_ids(conn, [self.issue.id])
        return found[self.issue.id]

    async def update_group(self, group: Group, **values: Any) -> None:
        async with self.world.db.transaction() as conn:
            await groups_repo.update_group(conn, group.id, values, self.world.now())


async def _contact(world: World, group: Group, name: str, *, active: bool = True) -> Contact:
    values = {"first_name": name.title(), "last_name": "Doe", "email": f"{name}@example.com"}
    async with world.db.transaction() as conn:
        return await contacts_repo.create_contact(
            conn, group_id=group.id, values={**values, "active": active}, now=world.now()
        )


@pytest.fixture
async def crm(world: World) -> Crm:
    acme = await world.group("acme")
    other = await world.group("other")
    web = await world.project(acme, "web")
    users: dict[str, User] = {}
    for role in ("owner", "reporter", "planner", "guest"):
        users[role] = await world.user(role)
        await world.member(acme, users[role], AccessLevel[role.upper()])
    users["stranger"] = await world.user("stranger")
    users["project_reporter"] = await world.user("project_reporter")
    await world.member(web, users["project_reporter"], AccessLevel.REPORTER)
    issue = await world.issue(web, users["owner"])
    contacts = [await _contact(world, acme, f"c{i}") for i in range(8)]
    inactive = await _contact(world, acme, "sleepy", active=False)
    foreign = await _contact(world, other, "foreign")
    return Crm(world, acme, other, web, issue, users, contacts, inactive, foreign)


# ------------------------------------------------------------------ modes


async def test_replace_links_exactly_the_given_contacts(crm: Crm) -> None:
    await crm.link(crm.ids(0, 1))
    outcome = await crm.change(crm.ids(1, 2, 3))
    assert outcome.errors == []
    assert outcome.value is not None and outcome.value.id == crm.issue.id
    assert await crm.links() == set(crm.ids(1, 2, 3))


async def test_replace_with_an_empty_list_removes_every_contact(crm: Crm) -> None:
    await crm.link(crm.ids(0, 1))
    outcome = await crm.change([])
    assert outcome.errors == []
    assert await crm.links() == set()
    assert (await crm.notes())[-1][0] == "removed 2 contacts"


async def test_append_adds_to_the_existing_contacts(crm: Crm) -> None:
    await crm.link(crm.ids(0))
    outcome = await crm.change(crm.ids(1, 2), APPEND)
    assert outcome.errors == []
    assert await crm.links() == set(crm.ids(0, 1, 2))


async def test_remove_unlinks_only_the_given_contacts(crm: Crm) -> None:
    await crm.link(crm.ids(0, 1, 2))
    outcome = await crm.change(crm.ids(0, 2), REMOVE)
    assert outcome.errors == []
    assert await crm.links() == set(crm.ids(1))


async def test_removing_unknown_foreign_or_unlinked_ids_is_a_silent_no_op(crm: Crm) -> None:
    await crm.link(crm.ids(0))
    outcome = await crm.change([crm.foreign.id, 999_999, crm.c[5].id], REMOVE)
    assert outcome.errors == []
    assert await crm.links() == set(crm.ids(0))
    assert await crm.notes() == []


async def test_removing_a_linked_contact_that_became_inactive_works(crm: Crm) -> None:
    async with crm.world.db.transaction() as conn:
        await links_repo.link(conn, crm.issue.id, [crm.inactive.id], crm.world.now())
    outcome = await crm.change([crm.inactive.id], REMOVE)
    assert outcome.errors == []
    assert await crm.links() == set()


# ------------------------------------------------------------------ limit


async def test_replace_with_seven_new_contacts_is_refused(crm: Crm) -> None:
    outcome = await crm.change(crm.ids(0, 1, 2, 3, 4, 5, 6))
    assert outcome.errors == [TOO_MANY]
    assert outcome.value is not None
    assert await crm.links() == set()


async def test_replace_with_six_new_contacts_is_accepted(crm: Crm) -> None:
    outcome = await crm.change(crm.ids(0, 1, 2, 3, 4, 5))
    assert outcome.errors == []
    assert await crm.links() == set(crm.ids(0, 1, 2, 3, 4, 5))


async def test_replace_counts_only_contacts_not_linked_yet(crm: Crm) -> None:
    await crm.link(crm.ids(0, 1))
    outcome = await crm.change(crm.ids(0, 1, 2, 3, 4, 5, 6, 7))
    assert outcome.errors == []
    assert await crm.links() == set(crm.ids(0, 1, 2, 3, 4, 5, 6, 7))


async def test_append_counts_repeated_ids_against_the_limit(crm: Crm) -> None:
    outcome = await crm.change([crm.c[0].id] * 7, APPEND)
    assert outcome.errors == [TOO_MANY]
    assert await crm.links() == set()


async def test_removals_are_not_limited(crm: Crm) -> None:
    await crm.link(crm.ids(0, 1, 2, 3, 4, 5, 6, 7))
    outcome = await crm.change(crm.ids(0, 1, 2, 3, 4, 5, 6, 7), REMOVE)
    assert outcome.errors == []
    assert await crm.links() == set()


# ------------------------------------------------------------------ refused contacts


async def test_contact_of_another_root_group_is_not_found(crm: Crm) -> None:
    outcome = await crm.change([crm.foreign.id], APPEND)
    assert outcome.errors == [
        f"Issue customer relations contacts {crm.foreign.id}: The resource that you are "
        "attempting to access does not exist or you don't have permission to perform this action"
    ]
    assert await crm.links() == set()


async def test_inactive_contact_cannot_be_added(crm: Crm) -> None:
    outcome = await crm.change([crm.inactive.id], APPEND)
    assert outcome.errors == [
        f"Issue customer relations contacts {crm.inactive.id}: "
        "inactive contacts cannot be added to issues"
    ]


async def test_several_bad_ids_give_one_message_each_in_input_order_and_change_nothing(
    crm: Crm,
) -> None:
    await crm.link(crm.ids(0))
    before = await crm.stored_issue()
    ids = [crm.inactive.id, crm.c[1].id, 999_999, crm.foreign.id, 999_999]
    outcome = await crm.change(ids)
    assert outcome.errors == [
        contact_inactive(crm.inactive.id),
        not_found(999_999),
        not_found(crm.foreign.id),
    ]
    assert outcome.value == before
    assert await crm.links() == set(crm.ids(0))
    assert await crm.notes() == []
    assert (await crm.stored_issue()).updated_at == before.updated_at


# ------------------------------------------------------------------ notes and updatedAt


async def test_no_op_changes_write_no_note_and_keep_updated_at(crm: Crm) -> None:
    await crm.link(crm.ids(0, 1))
    before = await crm.stored_issue()
    for ids, mode in [
        (crm.ids(0, 1), REPLACE),
        (crm.ids(0, 0, 1), APPEND),
        (crm.ids(4), REMOVE),
        ([], APPEND),
    ]:
        outcome = await crm.change(ids, mode)
        assert outcome.errors == []
        assert outcome.value == before
    assert await crm.notes() == []
    assert await crm.stored_issue() == before


@pytest.mark.parametrize(
    ("linked", "wanted", "mode", "note"),
    [
        ([], [0], APPEND, "added 1 contact"),
        ([], [0, 1, 2, 2], APPEND, "added 3 contacts"),
        ([0, 1, 2], [0, 2], REMOVE, "removed 2 contacts"),
        ([0], [1], REPLACE, "added 1 contact and removed 1 contact"),
    ],
)
async def test_a_change_writes_a_system_note_counting_contacts(
    crm: Crm, linked: list[int], wanted: list[int], mode: OperationMode, note: str
) -> None:
    await crm.link(crm.ids(*linked))
    outcome = await crm.change(crm.ids(*wanted), mode)
    assert outcome.errors == []
    assert await crm.notes() == [(note, True, crm.users["planner"].id)]


async def test_a_change_moves_updated_at(crm: Crm) -> None:
    before = await crm.stored_issue()
    outcome = await crm.change(crm.ids(0))
    assert outcome.value is not None
    assert outcome.value.updated_at > before.updated_at
    assert (await crm.stored_issue()).updated_at == outcome.value.updated_at


async def test_the_change_primes_the_issue_loader_with_the_updated_issue(crm: Crm) -> None:
    ctx = crm.ctx("planner")
    assert await ctx.loaders.issue(crm.issue.id) == crm.issue
    outcome = await crm.change(crm.ids(0), ctx=ctx)
    assert await ctx.loaders.issue(crm.issue.id) == outcome.value != crm.issue


async def test_a_change_is_published_to_subscribers(crm: Crm) -> None:
    ctx = crm.ctx("planner")
    async with ctx.events.subscribe(ISSUE_CRM_CONTACTS_UPDATED, crm.issue.id) as queue:
        await crm.change(crm.ids(0), ctx=ctx)
        assert queue.get_nowait() == crm.issue.id
        await crm.change(crm.ids(0), ctx=ctx)
        assert queue.empty()


# ------------------------------------------------------------------ CRM switched off


async def test_crm_off_for_the_projects_group_is_feature_disabled(crm: Crm) -> None:
    await crm.update_group(crm.acme, crm_enabled=False)
    with pytest.raises(FeatureDisabled, match="Feature disabled"):
        await crm.change(crm.ids(0))
    assert await crm.links() == set()


async def test_crm_off_in_the_crm_group_above_a_subgroup_is_feature_disabled(crm: Crm) -> None:
    support = await crm.world.group("support", crm.acme)
    desk = await crm.world.project(support, "desk")
    await crm.world.issue(desk, crm.users["owner"])
    await crm.update_group(crm.acme, crm_enabled=False)
    with pytest.raises(FeatureDisabled):
        await crm.change(crm.ids(0), project="acme/support/desk")


async def test_subgroup_with_a_contact_source_takes_contacts_from_the_source(crm: Crm) -> None:
    support = await crm.world.group("support", crm.acme)
    desk = await crm.world.project(support, "desk")
    issue = await crm.world.issue(desk, crm.users["owner"])
    await crm.world.member(crm.other, crm.users["planner"], AccessLevel.PLANNER)
    await crm.update_group(support, crm_source_group_id=crm.other.id)
    outcome = await crm.change([crm.foreign.id, crm.c[0].id], project="acme/support/desk")
    assert outcome.errors == [not_found(crm.c[0].id)]
    outcome = await crm.change([crm.foreign.id], project="acme/support/desk")
    assert outcome.errors == []
    assert await crm.links(issue) == {crm.foreign.id}


# ------------------------------------------------------------------ who may


@pytest.mark.parametrize("who", ["planner", "reporter", "owner"])
async def test_planner_and_above_may_set_contacts(crm: Crm, who: str) -> None:
    outcome = await crm.change(crm.ids(0), who=who)
    assert outcome.errors == []
    assert await crm.links() == set(crm.ids(0))


async def test_guest_gets_insufficient_permissions_and_the_unchanged_issue(crm: Crm) -> None:
    outcome = await crm.change(crm.ids(0), who="guest")
    assert outcome.errors == [INSUFFICIENT]
    assert outcome.value == crm.issue
    assert await crm.links() == set()


async def test_project_only_reporter_without_crm_group_membership_is_refused(crm: Crm) -> None:
    outcome = await crm.change(crm.ids(0), who="project_reporter")
    assert outcome.errors == [INSUFFICIENT]
    assert await crm.links() == set()


async def test_non_member_gets_the_resource_error(crm: Crm) -> None:
    with pytest.raises(ResourceNotAvailable):
        await crm.change(crm.ids(0), who="stranger")


@pytest.mark.parametrize(
    ("project", "iid"), [("acme/web", "2"), ("acme/nope", "1"), ("acme/web", "x")]
)
async def test_missing_issue_gets_the_resource_error(crm: Crm, project: str, iid: str) -> None:
    with pytest.raises(ResourceNotAvailable):
        await crm.change(crm.ids(0), project=project, iid=iid)


async def test_confidential_issue_is_hidden_from_a_planner_who_is_not_the_author(
    crm: Crm,
) -> None:
    await crm.world.issue(crm.web, crm.users["owner"], confidential=True)
    with pytest.raises(ResourceNotAvailable):
        await crm.change(crm.ids(0), iid="2")
    outcome = await crm.change(crm.ids(0), iid="2", who="reporter")
    assert outcome.errors == []


async def test_read_api_token_may_not_set_contacts(crm: Crm) -> None:
    with pytest.raises(ReadOnlyToken):
        await crm.change(crm.ids(0), ctx=crm.ctx("owner", scope=Scope.READ_API))
    assert await crm.links() == set()


# ------------------------------------------------------------------ concurrency


async def test_concurrent_appends_of_different_contacts_all_land_once(
    crm: Crm, world: World
) -> None:
    extra = [await _contact(world, crm.acme, f"extra{i}") for i in range(2)]
    ids = [c.id for c in [*crm.c, *extra]]
    outcomes = await asyncio.gather(*(crm.change([cid], APPEND) for cid in ids))
    assert [o.errors for o in outcomes] == [[]] * 10
    async with world.db.connect() as conn:
        rows = (await conn.execute(select(issue_contacts.c.contact_id))).scalars()
        assert sorted(rows) == sorted(ids)
    assert [body for body, _, _ in await crm.notes()] == ["added 1 contact"] * 10


async def test_concurrent_appends_of_one_contact_link_it_once_with_one_note(crm: Crm) -> None:
    outcomes = await asyncio.gather(*(crm.change(crm.ids(0), APPEND) for _ in range(8)))
    assert [o.errors for o in outcomes] == [[]] * 8
    assert await crm.links() == set(crm.ids(0))
    assert [body for body, _, _ in await crm.notes()] == ["added 1 contact"]


async def test_concurrent_replaces_take_turns_and_leave_exactly_one_contact(crm: Crm) -> None:
    outcomes = await asyncio.gather(*(crm.change(crm.ids(i)) for i in range(8)))
    assert [o.errors for o in outcomes] == [[]] * 8
    assert len(await crm.links()) == 1
    bodies = [body for body, _, _ in await crm.notes()]
    assert bodies == ["added 1 contact"] + ["added 1 contact and removed 1 contact"] * 7
