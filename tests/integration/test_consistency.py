"""The consistency checker accepts what the use-cases build and names what they never would."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import insert, update

from crmgraph.authz.actor import Actor
from crmgraph.context import RequestContext
from crmgraph.domain.crm import OperationMode
from crmgraph.domain.groups import Group, Project
from crmgraph.domain.issues import Issue
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import Scope, User
from crmgraph.mutations.issue_contacts import set_issue_contacts
from crmgraph.mutations.issues import create_issue
from crmgraph.mutations.moves_group import transfer_group
from crmgraph.persistence import tables as t
from crmgraph.persistence.unit_of_work import Database
from tests.consistency import Inconsistent, check_consistency, consistency_problems
from tests.world import World


@pytest.fixture(autouse=True)
async def _detach_groups(db: Database) -> AsyncIterator[None]:
    """SQLite refuses the harness's one-statement delete while groups point at each other."""
    yield
    async with db.transaction() as conn:
        await conn.execute(update(t.groups).values(parent_id=None, crm_source_group_id=None))


@dataclass
class Two:
    world: World
    owner: User
    acme: Group
    support: Group
    other: Group
    web: Project
    issue: Issue

    def ctx(self) -> RequestContext:
        ctx = RequestContext.build(
            self.world.db, Actor(user=self.owner, scopes=frozenset({Scope.API}))
        )
        ctx.clock = self.world.now
        return ctx


@pytest.fixture
async def two(world: World) -> Two:
    """Root groups acme (with subgroup support and its project web) and other."""
    owner = await world.user("owner")
    acme = await world.group("acme")
    support = await world.group("support", acme)
    other = await world.group("other")
    for group in (acme, other):
        await world.member(group, owner, AccessLevel.OWNER)
    web = await world.project(support, "web")
    issue = await world.issue(web, owner)
    return Two(world, owner, acme, support, other, web, issue)


async def test_a_world_built_by_the_use_cases_is_consistent(two: Two) -> None:
    world = two.world
    contacts = [
        await world.contact(two.acme, f"C{i}", "Doe", f"c{i}@example.com") for i in range(3)
    ]
    outcome = await set_issue_contacts(
        two.ctx(),
        project_path="acme/support/web",
        iid="1",
        contact_ids=[c.id for c in contacts],
        mode=OperationMode.APPEND,
    )
    assert outcome.errors == []
    created = await create_issue(
        two.ctx(),
        project_path="acme/support/web",
        title="Second",
        description="/add_contacts c0@example.com",
        confidential=False,
    )
    assert created.errors == []
    await check_consistency(world.db)


async def test_links_stay_in_the_crm_group_across_a_transfer(two: Two) -> None:
    contact = await two.world.contact(two.acme, "Ann", "Lee", "ann@example.com")
    await two.world.link(two.issue, contact)
    outcome = await transfer_group(two.ctx(), full_path="acme/support", new_parent_path="other")
    assert outcome.errors == []
    await check_consistency(two.world.db)


Breakage = Callable[[Two], Awaitable[None]]


async def _link_across_roots(two: Two) -> None:
    foreign = await two.world.contact(two.other, "Far", "Away", "far@example.com")
    await two.world.link(two.issue, foreign)


async def _iid_beyond_the_counter(two: Two) -> None:
    async with two.world.db.transaction() as conn:
        await conn.execute(update(t.issues).values(iid=7).where(t.issues.c.id == two.issue.id))


async def _wrong_full_path(two: Two) -> None:
    async with two.world.db.transaction() as conn:
        await conn.execute(
            update(t.groups).values(full_path="elsewhere").where(t.groups.c.id == two.support.id)
        )


async def _organization_of_another_group(two: Two) -> None:
    organization = await two.world.organization(two.other, "Globex")
    await two.world.contact(two.acme, "Org", "Hopper", organization=organization)


async def _unknown_system_note(two: Two) -> None:
    async with two.world.db.transaction() as conn:
        await conn.execute(
            insert(t.notes).values(
                issue_id=two.issue.id,
                author_id=two.owner.id,
                body="added Ann Lee",
                system=True,
                created_at=two.world.now(),
                updated_at=two.world.now(),
            )
        )


async def _closed_without_time(two: Two) -> None:
    async with two.world.db.transaction() as conn:
        await conn.execute(
            update(t.issues).values(state="closed").where(t.issues.c.id == two.issue.id)
        )


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        pytest.param(_link_across_roots, "but its CRM group is", id="cross-root link"),
        pytest.param(_iid_beyond_the_counter, "project's last iid is 1", id="iid"),
        pytest.param(_wrong_full_path, "has full path 'elsewhere'", id="full path"),
        pytest.param(_organization_of_another_group, "of another group", id="organization"),
        pytest.param(_unknown_system_note, "system note", id="system note"),
        pytest.param(_closed_without_time, "'closed' with closed_at None", id="closed"),
    ],
)
async def test_the_checker_names_what_the_use_cases_never_build(
    two: Two, breakage: Breakage, expected: str
) -> None:
    assert await consistency_problems(two.world.db) == []
    await breakage(two)
    problems = await consistency_problems(two.world.db)
    assert problems and any(expected in problem for problem in problems), problems
    with pytest.raises(Inconsistent, match="database is inconsistent"):
        await check_consistency(two.world.db)
