"""Quick actions run through the issueSetCrmContacts use-case (spec §7), on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select, update

from crmgraph.authz.actor import Actor
from crmgraph.context import RequestContext
from crmgraph.domain.contacts import Contact
from crmgraph.domain.crm import INSUFFICIENT, TOO_MANY
from crmgraph.domain.groups import Group, Project
from crmgraph.domain.issues import Issue
from crmgraph.domain.quick_actions import parse_quick_actions
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import Scope, User
from crmgraph.events import ISSUE_CRM_CONTACTS_UPDATED
from crmgraph.mutations import quick_actions
from crmgraph.mutations.issue_contacts import apply_contact_change
from crmgraph.mutations.issues import create_issue, update_issue
from crmgraph.mutations.notes import NoteOutcome, create_note
from crmgraph.mutations.quick_actions import (
    CRM_DISABLED,
    NOTHING_TO_CHANGE,
    QuickActionsStatus,
    authorize_quick_actions,
    run_quick_actions,
)
from crmgraph.persistence import issue_contacts as links_repo
from crmgraph.persistence import issues as issues_repo
from crmgraph.persistence.tables import groups, issue_contacts, issues, notes
from crmgraph.persistence.unit_of_work import Database
from tests.world import World

DONE_WHEN = (
    "Called the customer.\n/add_contacts [contact:ANN@example.com] [contact:nobody@example.com]"
)


@pytest.fixture(autouse=True)
async def _detach_groups(db: Database) -> AsyncIterator[None]:
    """SQLite refuses to delete groups that still point at each other: cut those links."""
    yield
    async with db.transaction() as conn:
        await conn.execute(update(groups).values(parent_id=None, crm_source_group_id=None))


@dataclass
class Desk:
    """acme (root, CRM group) ⊃ project acme/web with issue #1; contacts ann, bob and
    c0..c6 in acme, the inactive sleepy, and foreign in the root group ``other``."""

    world: World
    acme: Group
    web: Project
    issue: Issue
    users: dict[str, User]
    contacts: dict[str, Contact]

    def ctx(self, who: str) -> RequestContext:
        actor = Actor(user=self.users[who], scopes=frozenset({Scope.API}))
        ctx = RequestContext.build(self.world.db, actor)
        ctx.clock = self.world.now
        return ctx

    def ids(self, *names: str) -> set[int]:
        return {self.contacts[name].id for name in names}

    async def note(self, body: str, who: str = "reporter", **kw: Any) -> NoteOutcome:
        ctx = kw.pop("ctx", None) or self.ctx(who)
        return await create_note(ctx, issue_id=self.issue.id, body=body)

    async def links(self, issue: Issue | None = None) -> set[int]:
        async with self.world.db.connect() as conn:
            return await links_repo.linked_contact_ids(conn, (issue or self.issue).id)

    async def link(self, *names: str) -> None:
        await self.world.link(self.issue, *(self.contacts[name] for name in names))

    async def notes(self) -> list[tuple[str, bool]]:
        stmt = select(notes.c.body, notes.c.system).order_by(notes.c.id)
        async with self.world.db.connect() as conn:
            return [(row.body, row.system) for row in (await conn.execute(stmt)).all()]

    async def issue_count(self) -> int:
        async with self.world.db.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(issues))).scalar_one())


def status(
    messages: list[str] | None = None,
    errors: list[str] | None = None,
    names: list[str] | None = None,
    *,
    only: bool = False,
) -> QuickActionsStatus:
    return QuickActionsStatus(
        messages=messages or [],
        error_messages=errors or [],
        command_names=names or ["add_contacts"],
        commands_only=only,
    )


@pytest.fixture
async def desk(world: World) -> Desk:
    acme = await world.group("acme")
    other = await world.group("other")
    web = await world.project(acme, "web")
    users: dict[str, User] = {}
    for role in ("owner", "reporter", "planner", "guest"):
        users[role] = await world.user(role)
        await world.member(acme, users[role], AccessLevel[role.upper()])
    users["project_reporter"] = await world.user("project_reporter")
    await world.member(web, users["project_reporter"], AccessLevel.REPORTER)
    issue = await world.issue(web, users["owner"])
    contacts: dict[str, Contact] = {}
    for name in ["ann", "bob", *(f"c{i}" for i in range(7))]:
        contacts[name] = await world.contact(acme, name.title(), "Doe", f"{name}@example.com")
    contacts["sleepy"] = await world.contact(acme, "S", "Doe", "sleepy@example.com", active=False)
    contacts["foreign"] = await world.contact(other, "F", "Doe", "foreign@example.com")
    return Desk(world, acme, web, issue, users, contacts)


# ------------------------------------------------------------------ createNote


async def test_a_reporters_note_links_ann_and_names_the_unknown_email(desk: Desk) -> None:
    outcome = await desk.note(DONE_WHEN)
    assert outcome.errors == []
    assert outcome.note is not None and outcome.note.body == "Called the customer."
    assert outcome.quick_actions == status(
        ["Added 1 contact."], ["No contact found for nobody@example.com."]
    )
    assert await desk.links() == desk.ids("ann")
    assert await desk.notes() == [("Called the customer.", False), ("added 1 contact", True)]


@pytest.mark.parametrize("fence", ["```", "~~~"])
async def test_the_same_line_inside_a_fenced_code_block_does_nothing(
    desk: Desk, fence: str
) -> None:
    body = f"{fence}\n{DONE_WHEN}\n{fence}"
    outcome = await desk.note(body)
    assert outcome.quick_actions is None
    assert outcome.note is not None and outcome.note.body == body
    assert await desk.links() == set()
    assert await desk.notes() == [(body, False)]


async def test_a_note_made_only_of_commands_is_not_stored(desk: Desk) -> None:
    outcome = await desk.note("\n/add_contacts ann@example.com\n\n/add_contacts bob@example.com\n")
    assert outcome.note is None and outcome.errors == []
    assert outcome.quick_actions == status(
        ["Added 2 contacts."], names=["add_contacts", "add_contacts"], only=True
    )
    assert await desk.links() == desk.ids("ann", "bob")
    assert await desk.notes() == [("added 2 contacts", True)]


async def test_a_note_without_commands_is_stored_verbatim_with_no_status(desk: Desk) -> None:
    body = "  Line one\r\n\r\n/unknown stays\n"
    outcome = await desk.note(body)
    assert outcome.note is not None and outcome.note.body == body
    assert outcome.quick_actions is None


@pytest.mark.parametrize("body", ["", " \n\t"])
async def test_a_blank_note_is_still_refused(desk: Desk, body: str) -> None:
    assert await desk.note(body) == NoteOutcome(errors=["Note can't be blank"])


# ------------------------------------------------------------------ matching and accumulating


async def test_emails_match_ignoring_case_when_adding_and_removing(desk: Desk) -> None:
    await desk.link("bob")
    outcome = await desk.note("/add_contacts Ann@EXAMPLE.com\n/remove_contacts BOB@example.COM")
    assert outcome.quick_actions == status(
        ["Added 1 contact.", "Removed 1 contact."],
        names=["add_contacts", "remove_contacts"],
        only=True,
    )
    assert await desk.links() == desk.ids("ann")


async def test_several_command_lines_accumulate_into_one_change(desk: Desk) -> None:
    body = (
        "/add_contacts ann@example.com\nText between.\n/ADD_CONTACTS c0@example.com c1@example.com"
    )
    outcome = await desk.note(body)
    assert outcome.note is not None and outcome.note.body == "Text between."
    assert outcome.quick_actions == status(
        ["Added 3 contacts."], names=["add_contacts", "add_contacts"]
    )
    assert await desk.links() == desk.ids("ann", "c0", "c1")
    assert await desk.notes() == [("Text between.", False), ("added 3 contacts", True)]


async def test_every_contact_form_of_the_spec_is_understood(desk: Desk) -> None:
    body = (
        '/add_contacts [contact:ann@example.com] ["contact:"bob@example.com"] '
        '[contact:"c0@example.com"] c1@example.com'
    )
    outcome = await desk.note(body)
    assert outcome.quick_actions == status(["Added 4 contacts."], only=True)
    assert await desk.links() == desk.ids("ann", "bob", "c0", "c1")


async def test_adding_and_removing_one_contact_adds_first_then_removes(desk: Desk) -> None:
    outcome = await desk.note("/remove_contacts ann@example.com\n/add_contacts ann@example.com")
    assert outcome.quick_actions is not None
    assert outcome.quick_actions.messages == ["Added 1 contact.", "Removed 1 contact."]
    assert await desk.links() == set()


async def test_commands_that_change_nothing_say_so(desk: Desk) -> None:
    await desk.link("ann")
    outcome = await desk.note("/add_contacts ann@example.com\n/remove_contacts bob@example.com")
    assert outcome.quick_actions == status(
        [NOTHING_TO_CHANGE], names=["add_contacts", "remove_contacts"], only=True
    )
    assert await desk.notes() == []


# ------------------------------------------------------------------ refused contacts


async def test_unknown_emails_are_named_in_order_once_each_and_the_rest_applies(
    desk: Desk,
) -> None:
    body = (
        "/add_contacts zed@example.com ann@example.com foreign@example.com ZED@example.com\n"
        "/remove_contacts gone@example.com"
    )
    outcome = await desk.note(body)
    assert outcome.quick_actions is not None
    assert outcome.quick_actions.messages == ["Added 1 contact."]
    assert outcome.quick_actions.error_messages == [
        "No contact found for zed@example.com.",
        "No contact found for foreign@example.com.",
        "No contact found for gone@example.com.",
    ]
    assert await desk.links() == desk.ids("ann")


async def test_an_inactive_contact_is_named_and_not_added(desk: Desk) -> None:
    outcome = await desk.note("/add_contacts Sleepy@example.com ann@example.com")
    assert outcome.quick_actions == status(
        ["Added 1 contact."], ["Sleepy@example.com is inactive and cannot be added."], only=True
    )
    assert await desk.links() == desk.ids("ann")


async def test_a_linked_contact_that_became_inactive_can_be_removed(desk: Desk) -> None:
    await desk.link("sleepy")
    outcome = await desk.note("/remove_contacts sleepy@example.com")
    assert outcome.quick_actions is not None
    assert outcome.quick_actions.messages == ["Removed 1 contact."]
    assert await desk.links() == set()


async def test_more_than_six_to_add_adds_none_but_removals_still_apply(desk: Desk) -> None:
    await desk.link("c6")
    seven = " ".join(f"{n}@example.com" for n in ["ann", "bob", "c0", "c1", "c2", "c3", "c4"])
    outcome = await desk.note(f"/add_contacts {seven}\n/remove_contacts c6@example.com")
    assert outcome.quick_actions == status(
        ["Removed 1 contact."], [TOO_MANY], names=["add_contacts", "remove_contacts"], only=True
    )
    assert await desk.links() == set()


async def test_the_limit_counts_across_lines_and_six_are_accepted(desk: Desk) -> None:
    six = "/add_contacts ann@example.com bob@example.com c0@example.com\n" * 2
    outcome = await desk.note(six)
    assert outcome.quick_actions == status(
        ["Added 3 contacts."], names=["add_contacts"] * 2, only=True
    )
    assert await desk.links() == desk.ids("ann", "bob", "c0")
    outcome = await desk.note(six + "/add_contacts c1@example.com")
    assert outcome.quick_actions is not None
    assert outcome.quick_actions.error_messages == [TOO_MANY]
    assert await desk.links() == desk.ids("ann", "bob", "c0")


async def test_parse_errors_are_reported_and_the_readable_emails_still_apply(desk: Desk) -> None:
    outcome = await desk.note("/add_contacts ann@example.com not-an-email\n/remove_contacts")
    assert outcome.quick_actions is not None
    assert outcome.quick_actions.messages == ["Added 1 contact."]
    assert outcome.quick_actions.error_messages == [
        'Could not parse "not-an-email" in /add_contacts: write each contact as '
        "[contact:ann@example.com] or as a plain email address.",
        "/remove_contacts needs at least one contact, e.g. /remove_contacts "
        "[contact:ann@example.com]",
    ]
    assert await desk.links() == desk.ids("ann")


# ------------------------------------------------------------------ who may, CRM off


@pytest.mark.parametrize("who", ["guest", "project_reporter"])
async def test_without_permission_the_commands_are_ignored_and_the_note_kept(
    desk: Desk, who: str
) -> None:
    outcome = await desk.note(DONE_WHEN, who=who)
    assert outcome.note is not None and outcome.note.body == "Called the customer."
    assert outcome.quick_actions == status([], [INSUFFICIENT])
    assert await desk.links() == set()
    assert await desk.notes() == [("Called the customer.", False)]


async def test_with_crm_switched_off_the_commands_are_refused_with_a_message(
    desk: Desk,
) -> None:
    await desk.world.set_group(desk.acme, crm_enabled=False)
    outcome = await desk.note(DONE_WHEN)
    assert outcome.note is not None
    assert outcome.quick_actions == status([], [CRM_DISABLED])
    assert await desk.links() == set()


# ------------------------------------------------------------------ one transaction


async def test_a_failure_after_the_commands_rolls_back_note_and_links(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def apply_then_fail(*args: Any, **kwargs: Any) -> Any:
        await apply_contact_change(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(quick_actions, "apply_contact_change", apply_then_fail)
    ctx = desk.ctx("reporter")
    async with ctx.events.subscribe(ISSUE_CRM_CONTACTS_UPDATED, desk.issue.id) as queue:
        with pytest.raises(RuntimeError, match="disk full"):
            await desk.note(DONE_WHEN, ctx=ctx)
        assert queue.empty()
    assert await desk.links() == set()
    assert await desk.notes() == []


async def test_the_executor_writes_on_the_callers_connection(desk: Desk) -> None:
    ctx = desk.ctx("reporter")
    plan = await authorize_quick_actions(
        ctx, desk.issue, AccessLevel.REPORTER, parse_quick_actions(DONE_WHEN)
    )
    with pytest.raises(LookupError):
        async with desk.world.db.transaction() as conn:
            ran = await run_quick_actions(ctx, conn, desk.issue, plan)
            assert ran.change is not None and ran.change.added == 1
            assert await links_repo.linked_contact_ids(conn, desk.issue.id) == desk.ids("ann")
            raise LookupError("the caller fails later")
    assert await desk.links() == set()


async def test_one_text_is_announced_once_after_commit(desk: Desk) -> None:
    await desk.link("bob")
    ctx = desk.ctx("reporter")
    async with ctx.events.subscribe(ISSUE_CRM_CONTACTS_UPDATED, desk.issue.id) as queue:
        await desk.note("/add_contacts ann@example.com\n/remove_contacts bob@example.com", ctx=ctx)
        assert queue.get_nowait() == desk.issue.id
        assert queue.empty()


# ------------------------------------------------------------------ createIssue, updateIssue


async def test_create_issue_applies_additions_ignores_removals_and_strips_commands(
    desk: Desk,
) -> None:
    description = (
        "Customer called.\n/add_contacts ann@example.com\n/remove_contacts bob@example.com"
    )
    outcome = await create_issue(
        desk.ctx("reporter"),
        project_path="acme/web",
        title="Call back",
        description=description,
        confidential=False,
    )
    assert outcome.errors == []
    assert outcome.value is not None and outcome.value.description == "Customer called."
    assert await desk.links(outcome.value) == desk.ids("ann")


async def test_create_issue_reports_quick_action_errors_and_still_creates(desk: Desk) -> None:
    outcome = await create_issue(
        desk.ctx("guest"),
        project_path="acme/web",
        title="Call back",
        description="/add_contacts ann@example.com",
        confidential=False,
    )
    assert outcome.errors == [INSUFFICIENT]
    assert outcome.value is not None and outcome.value.description == ""
    assert await desk.links(outcome.value) == set()


async def test_a_failing_create_issue_leaves_no_issue_and_no_links(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(quick_actions, "apply_contact_change", fail)
    with pytest.raises(RuntimeError):
        await create_issue(
            desk.ctx("reporter"),
            project_path="acme/web",
            title="Call back",
            description="/add_contacts ann@example.com",
            confidential=False,
        )
    assert await desk.issue_count() == 1
    async with desk.world.db.connect() as conn:
        assert (await conn.execute(select(issue_contacts.c.id))).all() == []


async def test_update_issue_runs_commands_only_in_a_sent_description(desk: Desk) -> None:
    ctx = desk.ctx("reporter")
    outcome = await update_issue(
        ctx,
        project_path="acme/web",
        iid="1",
        changes={"description": "Notes.\n/add_contacts ann@example.com bob@example.com"},
    )
    assert outcome.errors == []
    assert outcome.value is not None and outcome.value.description == "Notes."
    assert await desk.links() == desk.ids("ann", "bob")
    async with desk.world.db.connect() as conn:
        stored = await issues_repo.issues_by_ids(conn, [desk.issue.id])
    assert outcome.value == stored[desk.issue.id]
    assert await ctx.loaders.issue(desk.issue.id) == outcome.value
    outcome = await update_issue(
        desk.ctx("reporter"), project_path="acme/web", iid="1", changes={"title": "Renamed"}
    )
    assert outcome.errors == []
    assert await desk.links() == desk.ids("ann", "bob")


async def test_update_issue_removes_and_reports_unknown_emails(desk: Desk) -> None:
    await desk.link("ann", "bob")
    outcome = await update_issue(
        desk.ctx("reporter"),
        project_path="acme/web",
        iid="1",
        changes={"description": "/remove_contacts ANN@example.com nobody@example.com"},
    )
    assert outcome.errors == ["No contact found for nobody@example.com."]
    assert outcome.value is not None and outcome.value.description == ""
    assert await desk.links() == desk.ids("bob")


async def test_concurrent_notes_with_commands_on_one_issue_all_succeed(desk: Desk) -> None:
    # Each note insert holds a key-share lock on the issue before the commands lock it:
    # the commands' lock must not conflict with it, or concurrent notes deadlock.
    names = [f"c{i}" for i in range(7)]
    outcomes = await asyncio.gather(
        *(desk.note(f"Call {name}.\n/add_contacts {name}@example.com") for name in names)
    )
    assert [o.errors for o in outcomes] == [[]] * len(names)
    assert all(
        o.quick_actions and o.quick_actions.messages == ["Added 1 contact."] for o in outcomes
    )
    assert await desk.links() == desk.ids(*names)
