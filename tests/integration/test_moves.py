"""Moving issues, projects and groups through the use-cases (spec §9), on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from crmgraph.authz.actor import Actor
from crmgraph.context import RequestContext
from crmgraph.domain.errors import ReadOnlyToken, ResourceNotAvailable
from crmgraph.domain.groups import Group, Project
from crmgraph.domain.issues import Issue
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import Scope, User
from crmgraph.mutations import moves, moves_group, moves_issue
from crmgraph.mutations.groups import PATH_TAKEN
from crmgraph.mutations.moves_group import (
    ALREADY_ROOT,
    CRM_REFUSED,
    INTO_ITSELF,
    PATH_CLASH,
    SAME_PARENT,
)
from crmgraph.mutations.outcome import Outcome
from crmgraph.persistence import issues as issues_repo
from crmgraph.persistence import moves as moves_repo
from crmgraph.persistence import moves_crm as crm_moves_repo
from crmgraph.persistence.tables import (
    contacts,
    group_members,
    groups,
    issue_contacts,
    issues,
    notes,
    organizations,
    projects,
)
from tests.world import World

OWNER, MAINTAINER, DEVELOPER = AccessLevel.OWNER, AccessLevel.MAINTAINER, AccessLevel.DEVELOPER
REPORTER, GUEST = AccessLevel.REPORTER, AccessLevel.GUEST
Rows = dict[str, list[tuple[Any, ...]]]


class Moves:
    """Runs the three moves as a named user and reads back what they changed."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.users: dict[str, User] = {}

    async def user(self, name: str, *memberships: tuple[Group | Project, AccessLevel]) -> User:
        user = await self.world.user(name)
        for where, level in memberships:
            await self.world.member(where, user, level)
        self.users[name] = user
        return user

    def ctx(self, who: str, *, scope: Scope = Scope.API) -> RequestContext:
        ctx = RequestContext.build(
            self.world.db, Actor(user=self.users[who], scopes=frozenset({scope}))
        )
        ctx.clock = self.world.now
        return ctx

    async def move_issue(self, who: str, issue: Issue, target: str) -> Outcome[Issue]:
        project = await self.project_path(issue.project_id)
        return await moves_issue.move_issue(
            self.ctx(who), project_path=project, iid=str(issue.iid), target_project_path=target
        )

    async def transfer_project(self, who: str, path: str, target: str) -> Outcome[Project]:
        return await moves.transfer_project(self.ctx(who), full_path=path, new_group_path=target)

    async def transfer_group(self, who: str, path: str, parent: str | None) -> Outcome[Group]:
        return await moves_group.transfer_group(
            self.ctx(who), full_path=path, new_parent_path=parent
        )

    async def _all(self, stmt: Any) -> list[tuple[Any, ...]]:
        async with self.world.db.connect() as conn:
            return [tuple(row) for row in (await conn.execute(stmt)).all()]

    async def snapshot(self) -> Rows:
        """Every row a move may touch, to show that a refused or failed move changed nothing."""
        tables = (groups, projects, group_members, issues, notes, contacts, organizations)
        rows = {t.name: await self._all(select(t).order_by(t.c.id)) for t in tables}
        rows["links"] = await self._all(select(issue_contacts).order_by(issue_contacts.c.id))
        return rows

    async def project_path(self, project_id: int) -> str:
        stmt = select(projects.c.full_path).where(projects.c.id == project_id)
        return str((await self._all(stmt))[0][0])

    async def paths(self) -> set[str]:
        found = await self._all(select(groups.c.full_path))
        found += await self._all(select(projects.c.full_path))
        return {path for (path,) in found}

    async def issue(self, issue: Issue) -> tuple[Any, ...]:
        """(project path, iid, title, description) of the stored issue."""
        stmt = (
            select(projects.c.full_path, issues.c.iid, issues.c.title, issues.c.description)
            .join(projects, projects.c.id == issues.c.project_id)
            .where(issues.c.id == issue.id)
        )
        return (await self._all(stmt))[0]

    async def notes(self, issue: Issue) -> list[str]:
        stmt = select(notes.c.body).where(notes.c.issue_id == issue.id).order_by(notes.c.id)
        return [body for (body,) in await self._all(stmt)]

    async def linked(self, issue: Issue) -> list[tuple[str, str]]:
        """The issue's contacts as (CRM group path, first name), sorted."""
        stmt = (
            select(groups.c.full_path, contacts.c.first_name)
            .select_from(issue_contacts)
            .join(contacts, contacts.c.id == issue_contacts.c.contact_id)
            .join(groups, groups.c.id == contacts.c.group_id)
            .where(issue_contacts.c.issue_id == issue.id)
        )
        return sorted(await self._all(stmt))

    async def link_ids(self, issue: Issue) -> set[int]:
        stmt = select(issue_contacts.c.contact_id).where(issue_contacts.c.issue_id == issue.id)
        return {contact_id for (contact_id,) in await self._all(stmt)}

    async def contacts(self, group: Group) -> list[tuple[Any, ...]]:
        """(first name, email, state, organization name) of the group's contacts, sorted."""
        stmt = (
            select(contacts.c.first_name, contacts.c.email, contacts.c.state, organizations.c.name)
            .select_from(contacts)
            .outerjoin(organizations, organizations.c.id == contacts.c.organization_id)
            .where(contacts.c.group_id == group.id)
        )
        return sorted(await self._all(stmt), key=lambda row: ["" if v is None else v for v in row])

    async def organizations(self, group: Group) -> list[tuple[Any, ...]]:
        """(name, state, default rate as text) of the group's organizations, sorted."""
        stmt = select(
            organizations.c.name, organizations.c.state, organizations.c.default_rate
        ).where(organizations.c.group_id == group.id)
        return sorted((n, s, None if r is None else str(r)) for n, s, r in await self._all(stmt))


@pytest.fixture
def mv(world: World) -> Moves:
    return Moves(world)


# ================================================================== issueMove


@pytest.fixture
async def two_roots(world: World, mv: Moves) -> dict[str, Any]:
    """acme (projects web, api; api holds 2 issues) and beta (project app); issue acme/web#1
    with a note and contacts ann and bob of acme. boss: Reporter in acme and beta."""
    acme, beta = await world.group("acme"), await world.group("beta")
    web, api = await world.project(acme, "web"), await world.project(acme, "api")
    app = await world.project(beta, "app")
    owner = await mv.user("owner", (acme, OWNER), (beta, OWNER))
    await mv.user("boss", (acme, REPORTER), (beta, REPORTER))
    for title in ("first", "second"):
        await world.issue(api, owner, title)
    issue = await world.issue(web, owner, "Printer on fire")
    ann = await world.contact(acme, "Ann", "Lee", "ann@example.com")
    bob = await world.contact(acme, "Bob", "Ray", "bob@example.com")
    await world.link(issue, ann, bob)
    async with world.db.transaction() as conn:
        await issues_repo.create_note(
            conn,
            issue_id=issue.id,
            author_id=owner.id,
            body="a note",
            system=False,
            now=world.now(),
        )
    return {"acme": acme, "beta": beta, "web": web, "api": api, "app": app, "issue": issue}


async def test_issue_moved_within_its_crm_group_keeps_contacts_and_notes_with_the_next_iid(
    mv: Moves, two_roots: dict[str, Any]
) -> None:
    issue = two_roots["issue"]
    before = await mv.link_ids(issue)
    outcome = await mv.move_issue("boss", issue, "acme/api")
    assert outcome.errors == []
    assert outcome.value is not None and outcome.value.id == issue.id
    assert outcome.value.iid == 3
    assert await mv.issue(issue) == ("acme/api", 3, "Printer on fire", None)
    assert await mv.link_ids(issue) == before
    assert await mv.notes(issue) == ["a note", "moved from acme/web#1"]


async def test_issue_moved_to_another_root_loses_its_contacts_with_a_note(
    mv: Moves, two_roots: dict[str, Any]
) -> None:
    issue = two_roots["issue"]
    outcome = await mv.move_issue("boss", issue, "beta/app")
    assert outcome.errors == [] and outcome.value is not None
    assert (outcome.value.project_id, outcome.value.iid) == (two_roots["app"].id, 1)
    assert await mv.link_ids(issue) == set()
    assert await mv.notes(issue) == ["a note", "moved from acme/web#1", "removed 2 contacts"]


async def test_issue_moved_into_a_subgroup_with_another_contact_source_loses_its_contacts(
    world: World, mv: Moves, two_roots: dict[str, Any]
) -> None:
    sub = await world.group("sub", two_roots["acme"])
    await world.set_group(sub, crm_source_group_id=two_roots["beta"].id)
    await world.project(sub, "desk")
    outcome = await mv.move_issue("boss", two_roots["issue"], "acme/sub/desk")
    assert outcome.errors == []
    assert await mv.link_ids(two_roots["issue"]) == set()
    assert (await mv.notes(two_roots["issue"]))[-1] == "removed 2 contacts"


async def test_issue_moved_to_another_root_using_the_same_contact_source_keeps_contacts(
    world: World, mv: Moves, two_roots: dict[str, Any]
) -> None:
    team = await world.group("team", two_roots["beta"])
    await world.set_group(team, crm_source_group_id=two_roots["acme"].id, crm_enabled=False)
    await world.project(team, "desk")
    before = await mv.link_ids(two_roots["issue"])
    outcome = await mv.move_issue("boss", two_roots["issue"], "beta/team/desk")
    assert outcome.errors == []
    assert await mv.link_ids(two_roots["issue"]) == before


async def test_issue_without_contacts_moved_across_roots_gets_no_removal_note(
    world: World, mv: Moves, two_roots: dict[str, Any]
) -> None:
    plain = await world.issue(two_roots["web"], mv.users["owner"], "plain")
    assert (await mv.move_issue("boss", plain, "beta/app")).errors == []
    assert await mv.notes(plain) == [f"moved from acme/web#{plain.iid}"]


async def test_issue_cannot_move_to_its_own_project(mv: Moves, two_roots: dict[str, Any]) -> None:
    before = await mv.snapshot()
    outcome = await mv.move_issue("boss", two_roots["issue"], "acme/web")
    assert outcome.errors == [moves_issue.SAME_PROJECT] and outcome.value is None
    assert await mv.snapshot() == before


@pytest.mark.parametrize(
    ("source_level", "target_level"),
    [(GUEST, REPORTER), (REPORTER, GUEST), (REPORTER, None), (None, REPORTER)],
)
async def test_moving_an_issue_needs_reporter_in_both_projects(
    mv: Moves,
    two_roots: dict[str, Any],
    source_level: AccessLevel | None,
    target_level: AccessLevel | None,
) -> None:
    memberships = [(two_roots["web"], source_level), (two_roots["app"], target_level)]
    await mv.user("mover", *((where, lvl) for where, lvl in memberships if lvl is not None))
    before = await mv.snapshot()
    with pytest.raises(ResourceNotAvailable):
        await mv.move_issue("mover", two_roots["issue"], "beta/app")
    assert await mv.snapshot() == before


async def test_a_read_only_token_moves_nothing(mv: Moves, two_roots: dict[str, Any]) -> None:
    with pytest.raises(ReadOnlyToken):
        await moves_issue.move_issue(
            mv.ctx("boss", scope=Scope.READ_API),
            project_path="acme/web",
            iid="1",
            target_project_path="beta/app",
        )


async def test_a_failed_issue_move_changes_nothing(
    world: World, mv: Moves, two_roots: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    before = await mv.snapshot()
    monkeypatch.setattr(moves_issue.issues_repo, "create_note", broken)
    with pytest.raises(RuntimeError):
        await mv.move_issue("boss", two_roots["issue"], "beta/app")
    # Also the target's iid counter: the next issue there is still #1.
    assert await mv.snapshot() == before
    monkeypatch.undo()
    assert (await world.issue(two_roots["app"], mv.users["owner"])).iid == 1


# ================================================================== projectTransfer


@pytest.fixture
async def shop(world: World, mv: Moves) -> dict[str, Any]:
    """acme ⊃ acme/sub and project acme/web with issues #1 (contacts ann, bob), #2 (ann)
    and #3 (none); root beta. boss: Owner of acme, Maintainer of beta."""
    acme, beta = await world.group("acme"), await world.group("beta")
    sub = await world.group("sub", acme)
    web = await world.project(acme, "web")
    owner = await mv.user("boss", (acme, OWNER), (beta, MAINTAINER))
    ann = await world.contact(acme, "Ann", "Lee", "ann@example.com")
    bob = await world.contact(acme, "Bob", "Ray", "bob@example.com")
    found = [await world.issue(web, owner, f"issue {n}") for n in (1, 2, 3)]
    await world.link(found[0], ann, bob)
    await world.link(found[1], ann)
    return {"acme": acme, "beta": beta, "sub": sub, "web": web, "issues": found}


async def test_project_moved_within_its_crm_group_keeps_its_links(
    mv: Moves, shop: dict[str, Any]
) -> None:
    links = [await mv.link_ids(issue) for issue in shop["issues"]]
    outcome = await mv.transfer_project("boss", "acme/web", "acme/sub")
    assert outcome.errors == []
    assert outcome.value is not None and outcome.value.full_path == "acme/sub/web"
    assert outcome.value.group_id == shop["sub"].id
    assert [await mv.link_ids(issue) for issue in shop["issues"]] == links
    assert [await mv.notes(issue) for issue in shop["issues"]] == [[], [], []]


async def test_project_moved_to_another_crm_group_drops_every_link_with_notes(
    mv: Moves, shop: dict[str, Any]
) -> None:
    outcome = await mv.transfer_project("boss", "acme/web", "beta")
    assert outcome.errors == []
    assert outcome.value is not None and outcome.value.full_path == "beta/web"
    assert [await mv.link_ids(issue) for issue in shop["issues"]] == [set(), set(), set()]
    assert [await mv.notes(issue) for issue in shop["issues"]] == [
        ["removed 2 contacts"],
        ["removed 1 contact"],
        [],
    ]
    assert (await mv.issue(shop["issues"][0]))[:2] == ("beta/web", 1)


async def test_project_moved_into_a_crm_disabled_group_of_the_same_source_keeps_links(
    world: World, mv: Moves, shop: dict[str, Any]
) -> None:
    team = await world.group("team", shop["beta"])
    await world.set_group(team, crm_source_group_id=shop["acme"].id, crm_enabled=False)
    links = [await mv.link_ids(issue) for issue in shop["issues"]]
    assert (await mv.transfer_project("boss", "acme/web", "beta/team")).errors == []
    assert [await mv.link_ids(issue) for issue in shop["issues"]] == links


async def test_project_moved_into_a_crm_disabled_root_drops_links(
    world: World, mv: Moves, shop: dict[str, Any]
) -> None:
    await world.set_group(shop["beta"], crm_enabled=False)
    assert (await mv.transfer_project("boss", "acme/web", "beta")).errors == []
    assert await mv.link_ids(shop["issues"][0]) == set()


@pytest.mark.parametrize(
    ("target", "message"), [("acme", moves.ALREADY_IN_GROUP), ("beta", PATH_TAKEN)]
)
async def test_project_transfer_refusals_change_nothing(
    world: World, mv: Moves, shop: dict[str, Any], target: str, message: str
) -> None:
    await world.project(shop["beta"], "WEB")
    before = await mv.snapshot()
    outcome = await mv.transfer_project("boss", "acme/web", target)
    assert outcome.errors == [message] and outcome.value is None
    assert await mv.snapshot() == before


@pytest.mark.parametrize(
    ("acme_level", "beta_level"), [(MAINTAINER, MAINTAINER), (OWNER, DEVELOPER), (OWNER, None)]
)
async def test_transferring_a_project_needs_owner_of_its_group_and_maintainer_of_the_target(
    mv: Moves,
    shop: dict[str, Any],
    acme_level: AccessLevel,
    beta_level: AccessLevel | None,
) -> None:
    levels = [(shop["acme"], acme_level)] + ([(shop["beta"], beta_level)] if beta_level else [])
    await mv.user("mover", *levels)
    before = await mv.snapshot()
    with pytest.raises(ResourceNotAvailable):
        await mv.transfer_project("mover", "acme/web", "beta")
    assert await mv.snapshot() == before


async def test_a_project_owner_who_does_not_own_the_group_cannot_transfer_it(
    mv: Moves, shop: dict[str, Any]
) -> None:
    await mv.user("lead", (shop["web"], OWNER), (shop["beta"], OWNER))
    with pytest.raises(ResourceNotAvailable):
        await mv.transfer_project("lead", "acme/web", "beta")


async def test_a_failed_project_transfer_changes_nothing(
    mv: Moves, shop: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    before = await mv.snapshot()
    monkeypatch.setattr(moves_repo, "add_system_notes", broken)
    with pytest.raises(RuntimeError):
        await mv.transfer_project("boss", "acme/web", "beta")
    assert await mv.snapshot() == before


# ================================================================== groupTransfer


@pytest.fixture
async def crm(world: World, mv: Moves) -> dict[str, Any]:
    """Two trees with CRM records that overlap.

    acme (root; organizations Initech, Umbrella (inactive); contacts ann@ (Initech), Bob
    without email (Umbrella), cy@ (inactive), dee@ (unlinked), Eve without email)
      acme/web            project; issue "web" → ann
      acme/support        subgroup
        acme/support/desk project; issue "desk" → ann, bob, cy
    beta (root; organization INITECH (rate 9.50); contacts ANN@ (inactive), Bob without email)
      beta/inbox          subgroup
    boss: Owner of acme and beta.
    """
    acme, beta = await world.group("acme"), await world.group("beta")
    support = await world.group("support", acme)
    inbox = await world.group("inbox", beta)
    web = await world.project(acme, "web")
    desk = await world.project(support, "desk")
    boss = await mv.user("boss", (acme, OWNER), (beta, OWNER))
    initech = await world.organization(acme, "Initech", default_rate="12.50")
    umbrella = await world.organization(acme, "Umbrella", active=False)
    ann = await world.contact(acme, "Ann", "Lee", "ann@example.com", organization=initech)
    bob = await world.contact(acme, "Bob", "Ray", organization=umbrella, phone="555")
    cy = await world.contact(acme, "Cy", "Doe", "cy@example.com", active=False)
    await world.contact(acme, "Dee", "Doe", "dee@example.com")
    await world.contact(acme, "Eve", "Doe")
    await world.organization(beta, "INITECH", default_rate="9.50")
    await world.contact(beta, "Annie", "Lee", "ANN@example.com", active=False)
    await world.contact(beta, "Bob", "Ray")
    web_issue = await world.issue(web, boss, "web")
    desk_issue = await world.issue(desk, boss, "desk")
    await world.link(web_issue, ann)
    await world.link(desk_issue, ann, bob, cy)
    return {
        "acme": acme,
        "beta": beta,
        "support": support,
        "inbox": inbox,
        "desk": desk,
        "web_issue": web_issue,
        "desk_issue": desk_issue,
        "ann": ann,
    }


async def test_subgroup_moved_within_its_root_changes_paths_only(
    world: World, mv: Moves, crm: dict[str, Any]
) -> None:
    await world.group("teams", crm["acme"])
    records = (await mv.contacts(crm["acme"]), await mv.organizations(crm["acme"]))
    links = await mv.link_ids(crm["desk_issue"])
    outcome = await mv.transfer_group("boss", "acme/support", "acme/teams")
    assert outcome.errors == []
    assert outcome.value is not None and outcome.value.full_path == "acme/teams/support"
    assert {"acme/teams/support", "acme/teams/support/desk"} <= await mv.paths()
    assert not {"acme/support", "acme/support/desk"} & await mv.paths()
    assert await mv.link_ids(crm["desk_issue"]) == links
    assert (await mv.contacts(crm["acme"]), await mv.organizations(crm["acme"])) == records


async def test_subgroup_moved_to_another_root_takes_only_the_contacts_its_issues_use(
    mv: Moves, crm: dict[str, Any]
) -> None:
    acme_records = (await mv.contacts(crm["acme"]), await mv.organizations(crm["acme"]))
    outcome = await mv.transfer_group("boss", "acme/support", "beta")
    assert outcome.errors == []
    assert {"beta/support", "beta/support/desk"} <= await mv.paths()
    # ann → beta's ANN@ (email match, stays inactive); bob and cy copied; Umbrella copied
    # for bob; Initech not needed (ann was matched), dee and eve not used by the subtree.
    assert await mv.contacts(crm["beta"]) == [
        ("Annie", "ANN@example.com", "inactive", None),
        ("Bob", None, "active", None),
        ("Bob", None, "active", "Umbrella"),
        ("Cy", "cy@example.com", "inactive", None),
    ]
    assert await mv.organizations(crm["beta"]) == [
        ("INITECH", "active", "9.50"),
        ("Umbrella", "inactive", None),
    ]
    assert await mv.linked(crm["desk_issue"]) == [
        ("beta", "Annie"),
        ("beta", "Bob"),
        ("beta", "Cy"),
    ]
    # The old root keeps everything, and its own issue keeps its link (Better than GitLab).
    assert (await mv.contacts(crm["acme"]), await mv.organizations(crm["acme"])) == acme_records
    assert await mv.linked(crm["web_issue"]) == [("acme", "Ann")]


async def test_root_group_moved_under_another_root_moves_all_its_records(
    mv: Moves, crm: dict[str, Any]
) -> None:
    outcome = await mv.transfer_group("boss", "acme", "beta/inbox")
    assert outcome.errors == []
    assert outcome.value is not None and outcome.value.parent_id == crm["inbox"].id
    assert {
        "beta/inbox/acme",
        "beta/inbox/acme/web",
        "beta/inbox/acme/support",
        "beta/inbox/acme/support/desk",
    } <= await mv.paths()
    # Duplicates reuse beta's records (ANN@ for ann, INITECH for Initech); contacts
    # without email are all copied; states and organizations are carried over.
    assert await mv.contacts(crm["beta"]) == [
        ("Annie", "ANN@example.com", "inactive", None),
        ("Bob", None, "active", None),
        ("Bob", None, "active", "Umbrella"),
        ("Cy", "cy@example.com", "inactive", None),
        ("Dee", "dee@example.com", "active", None),
        ("Eve", None, "active", None),
    ]
    assert await mv.organizations(crm["beta"]) == [
        ("INITECH", "active", "9.50"),
        ("Umbrella", "inactive", None),
    ]
    assert await mv.contacts(crm["acme"]) == []
    assert await mv.organizations(crm["acme"]) == []
    assert await mv.linked(crm["web_issue"]) == [("beta", "Annie")]
    assert await mv.linked(crm["desk_issue"]) == [
        ("beta", "Annie"),
        ("beta", "Bob"),
        ("beta", "Cy"),
    ]


async def test_copied_contacts_point_at_the_existing_organization_of_the_same_name(
    world: World, mv: Moves, crm: dict[str, Any]
) -> None:
    gamma = await world.group("gamma")
    await world.member(gamma, mv.users["boss"], OWNER)
    await world.organization(gamma, "initech")
    assert (await mv.transfer_group("boss", "acme", "gamma")).errors == []
    assert ("Ann", "ann@example.com", "active", "initech") in await mv.contacts(gamma)
    assert [name for name, _, _ in await mv.organizations(gamma)] == ["Umbrella", "initech"]


async def test_root_still_named_as_a_contact_source_keeps_its_records(
    world: World, mv: Moves, crm: dict[str, Any]
) -> None:
    gamma = await world.group("gamma")
    team = await world.group("team", gamma)
    await world.set_group(team, crm_source_group_id=crm["acme"].id)
    user = await world.issue(await world.project(team, "p"), mv.users["boss"], "outside")
    await world.link(user, crm["ann"])
    records = await mv.contacts(crm["acme"])
    assert (await mv.transfer_group("boss", "acme", "beta")).errors == []
    assert await mv.contacts(crm["acme"]) == records
    assert await mv.linked(user) == [("beta/acme", "Ann")]
    assert await mv.linked(crm["desk_issue"]) == [
        ("beta", "Annie"),
        ("beta", "Bob"),
        ("beta", "Cy"),
    ]


async def test_group_naming_a_contact_source_moves_without_touching_crm(
    world: World, mv: Moves, crm: dict[str, Any]
) -> None:
    gamma = await world.group("gamma")
    gus = await world.contact(gamma, "Gus", "Doe", "gus@example.com")
    await world.set_group(crm["support"], crm_source_group_id=gamma.id)
    async with world.db.transaction() as conn:
        await moves_repo.drop_links(
            conn, [link.id for link in await moves_repo.links_of_project(conn, crm["desk"].id)]
        )
    await world.link(crm["desk_issue"], gus)
    # No CRM right in beta is needed when nothing moves: its CRM is even off.
    await world.set_group(crm["beta"], crm_enabled=False)
    before = (await mv.contacts(crm["beta"]), await mv.contacts(gamma))
    assert (await mv.transfer_group("boss", "acme/support", "beta")).errors == []
    assert (await mv.contacts(crm["beta"]), await mv.contacts(gamma)) == before
    assert await mv.linked(crm["desk_issue"]) == [("gamma", "Gus")]


async def test_subgroups_with_their_own_contact_source_keep_their_links_and_records(
    world: World, mv: Moves, crm: dict[str, Any]
) -> None:
    """Inside the moved subtree: vip names gamma as its source (its issue links gamma's
    Gus); hub is the contact source of gamma/team (whose issue links hub's Hal)."""
    gamma = await world.group("gamma")
    gus = await world.contact(gamma, "Gus", "Doe", "gus@example.com")
    vip = await world.group("vip", crm["support"])
    await world.set_group(vip, crm_source_group_id=gamma.id)
    vip_issue = await world.issue(await world.project(vip, "p"), mv.users["boss"], "vip")
    await world.link(vip_issue, gus)
    hub = await world.group("hub", crm["support"])
    team = await world.group("team", gamma)
    await world.set_group(team, crm_source_group_id=hub.id)
    hal = await world.contact(hub, "Hal", "Doe", "hal@example.com")
    team_issue = await world.issue(await world.project(team, "p"), mv.users["boss"], "team")
    await world.link(team_issue, hal)

    assert (await mv.transfer_group("boss", "acme/support", "beta")).errors == []
    assert await mv.linked(vip_issue) == [("gamma", "Gus")]
    assert await mv.linked(team_issue) == [("beta/support/hub", "Hal")]
    assert await mv.contacts(hub) == [("Hal", "hal@example.com", "active", None)]
    assert await mv.linked(crm["desk_issue"]) == [
        ("beta", "Annie"),
        ("beta", "Bob"),
        ("beta", "Cy"),
    ]


async def test_subgroup_made_a_root_takes_its_contacts_and_an_owner(
    world: World, mv: Moves, crm: dict[str, Any]
) -> None:
    outcome = await mv.transfer_group("boss", "acme/support", None)
    assert outcome.errors == []
    assert outcome.value is not None and outcome.value.full_path == "support"
    assert outcome.value.is_root
    assert await mv.contacts(crm["support"]) == [
        ("Ann", "ann@example.com", "active", "Initech"),
        ("Bob", None, "active", "Umbrella"),
        ("Cy", "cy@example.com", "inactive", None),
    ]
    assert await mv.linked(crm["desk_issue"]) == [
        ("support", "Ann"),
        ("support", "Bob"),
        ("support", "Cy"),
    ]
    stmt = select(group_members.c.user_id, group_members.c.access_level).where(
        group_members.c.group_id == crm["support"].id
    )
    assert await mv._all(stmt) == [(mv.users["boss"].id, OWNER)]


async def test_lacking_crm_admin_rights_in_the_new_crm_group_refuses_the_whole_transfer(
    world: World, mv: Moves, crm: dict[str, Any]
) -> None:
    """Maintainer of beta/inbox may create subgroups there, but has no role in beta."""
    await mv.user("mover", (crm["acme"], OWNER), (crm["inbox"], MAINTAINER))
    before = await mv.snapshot()
    for path in ("acme/support", "acme"):
        outcome = await mv.transfer_group("mover", path, "beta/inbox")
        assert outcome.errors == [CRM_REFUSED] and outcome.value is None
    assert await mv.snapshot() == before


async def test_a_developer_of_the_new_crm_group_may_bring_crm_data(
    world: World, mv: Moves, crm: dict[str, Any]
) -> None:
    await mv.user("mover", (crm["acme"], OWNER), (crm["beta"], DEVELOPER), (crm["inbox"], OWNER))
    assert (await mv.transfer_group("mover", "acme/support", "beta/inbox")).errors == []


async def test_moving_a_group_with_no_crm_data_needs_no_crm_rights(
    world: World, mv: Moves, crm: dict[str, Any]
) -> None:
    await world.group("quiet", crm["acme"])
    await mv.user("mover", (crm["acme"], OWNER), (crm["inbox"], MAINTAINER))
    assert (await mv.transfer_group("mover", "acme/quiet", "beta/inbox")).errors == []
    assert "beta/inbox/quiet" in await mv.paths()


async def test_moving_crm_data_into_a_crm_group_with_crm_disabled_is_refused(
    world: World, mv: Moves, crm: dict[str, Any]
) -> None:
    await world.set_group(crm["beta"], crm_enabled=False)
    before = await mv.snapshot()
    for path in ("acme/support", "acme"):
        outcome = await mv.transfer_group("boss", path, "beta/inbox")
        assert outcome.errors == [CRM_REFUSED]
    assert await mv.snapshot() == before


async def test_crm_disabled_on_the_new_parent_alone_does_not_stop_the_move(
    world: World, mv: Moves, crm: dict[str, Any]
) -> None:
    await world.set_group(crm["inbox"], crm_enabled=False)
    assert (await mv.transfer_group("boss", "acme/support", "beta/inbox")).errors == []
    assert await mv.linked(crm["desk_issue"]) == [
        ("beta", "Annie"),
        ("beta", "Bob"),
        ("beta", "Cy"),
    ]


@pytest.mark.parametrize(
    ("path", "parent", "message"),
    [
        ("acme", None, ALREADY_ROOT),
        ("acme/support", "acme", SAME_PARENT),
        ("acme", "acme", INTO_ITSELF),
        ("acme", "acme/support", INTO_ITSELF),
        ("acme/support", "beta", PATH_CLASH),
        ("acme/support", "beta/inbox", PATH_CLASH),
    ],
)
async def test_group_transfer_refusals_change_nothing(
    world: World, mv: Moves, crm: dict[str, Any], path: str, parent: str | None, message: str
) -> None:
    await world.group("Support", crm["beta"])
    await world.project(crm["inbox"], "support")
    before = await mv.snapshot()
    outcome = await mv.transfer_group("boss", path, parent)
    assert outcome.errors == [message] and outcome.value is None
    assert await mv.snapshot() == before


@pytest.mark.parametrize(
    ("acme_level", "beta_level"), [(MAINTAINER, OWNER), (OWNER, DEVELOPER), (OWNER, None)]
)
async def test_transferring_a_group_needs_owner_of_it_and_maintainer_of_the_new_parent(
    mv: Moves, crm: dict[str, Any], acme_level: AccessLevel, beta_level: AccessLevel | None
) -> None:
    levels = [(crm["acme"], acme_level)] + ([(crm["beta"], beta_level)] if beta_level else [])
    await mv.user("mover", *levels)
    before = await mv.snapshot()
    with pytest.raises(ResourceNotAvailable):
        await mv.transfer_group("mover", "acme/support", "beta")
    assert await mv.snapshot() == before


async def test_a_failed_group_transfer_changes_nothing(
    mv: Moves, crm: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    before = await mv.snapshot()
    # The last write of the move: paths, copies and links are already written by then.
    monkeypatch.setattr(crm_moves_repo, "delete_crm_records", broken)
    with pytest.raises(RuntimeError):
        await mv.transfer_group("boss", "acme", "beta")
    assert await mv.snapshot() == before


def test_a_link_to_a_contact_the_issue_already_has_is_dropped_not_duplicated() -> None:
    links = [
        moves_repo.Link(1, issue_id=10, contact_id=100),
        moves_repo.Link(2, issue_id=10, contact_id=900),
        moves_repo.Link(3, issue_id=11, contact_id=100),
    ]
    changes, drops = moves_group.link_changes(links, {100: 900})
    assert changes == {3: 900}
    assert drops == [1]
