"""Running quick actions (spec §7) through the use-case of ``issueSetCrmContacts``.

The steps mirror ``issue_contacts``, so that the text's commands share the transaction
of the mutation that carries them (createNote, createIssue, updateIssue):

1. ``authorize_quick_actions`` (or ``authorize_for_new_issue``), before the transaction:
   the checks that read through loaders;
2. ``run_quick_actions``, on the mutation's own connection inside its transaction;
3. ``announce_quick_actions``, after the commit.

Decisions where the spec leaves room:

- Emails of all ``/add_contacts`` lines are applied as one APPEND, then those of all
  ``/remove_contacts`` lines as one REMOVE (GitLab's order: adding and removing one
  contact in the same text leaves it unlinked).
- Each email is judged on its own: an unknown (``No contact found for …``) or inactive
  contact is reported and skipped, the others are still applied. Only the limit refuses
  every addition, because "6 at a time" is about the whole request.
- The limit counts every email given to ``/add_contacts``, repeated or unknown ones
  included, as APPEND counts every id given (spec §6).
- Emails match the CRM group's contacts ignoring case, for removals too (GitLab's
  removal is case-sensitive). Messages quote the email as it was written.
- Messages report what changed (``Added 2 contacts.``, ``Removed 1 contact.``); commands
  that change nothing and fail nowhere say ``Nothing to change.``, so that a note made of
  commands never answers with silence.
- Parse errors (``Command.error``) come first in ``error_messages``; the emails that were
  readable on such a line are still applied.
- No ``set_issue_crm_contacts``, or CRM switched off: no contact command runs and one
  message says why (the mutation itself still succeeds).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from crmgraph.context import RequestContext
from crmgraph.domain.contacts import Contact
from crmgraph.domain.crm import INSUFFICIENT, MAX_CONTACTS_PER_CALL, TOO_MANY, OperationMode
from crmgraph.domain.errors import FeatureDisabled
from crmgraph.domain.groups import Group, Project
from crmgraph.domain.issues import Issue
from crmgraph.domain.quick_actions import Command, ParseResult, only_commands
from crmgraph.mutations.issue_contacts import (
    ContactChangeResult,
    announce_contact_change,
    apply_contact_change,
    crm_group_for_project,
    may_set_contacts,
)
from crmgraph.persistence import contacts as contacts_repo

ADD = "add_contacts"
REMOVE = "remove_contacts"
CRM_DISABLED = "Contacts cannot be changed: customer relations are disabled for this issue."
NOTHING_TO_CHANGE = "Nothing to change."


def not_found(email: str) -> str:
    return f"No contact found for {email}."


def inactive(email: str) -> str:
    return f"{email} is inactive and cannot be added."


@dataclass(frozen=True, slots=True)
class QuickActionsStatus:
    """What the quick actions of one text did, for ``createNote.quickActionsStatus``."""

    messages: list[str]
    error_messages: list[str]
    command_names: list[str]
    commands_only: bool


@dataclass(frozen=True, slots=True)
class QuickActionPlan:
    """The commands to run and what the checks before the transaction decided.

    ``crm`` is set when the contact commands may run; ``refusal`` says why they may not.
    """

    commands: list[Command]
    commands_only: bool
    crm: Group | None = None
    refusal: str | None = None


@dataclass(frozen=True, slots=True)
class QuickActionsOutcome:
    """``status`` is None when the text held no commands; ``change`` is what to announce."""

    status: QuickActionsStatus | None
    change: ContactChangeResult | None = None

    @property
    def errors(self) -> list[str]:
        return [] if self.status is None else self.status.error_messages

    @property
    def issue(self) -> Issue | None:
        """The issue after the commands, when they reached the issue at all."""
        return None if self.change is None else self.change.issue


async def authorize_quick_actions(
    ctx: RequestContext, issue: Issue, project_level: int, parsed: ParseResult
) -> QuickActionPlan:
    """Before the transaction: may the actor's contact commands on ``issue`` run?

    ``project_level`` is the actor's level in the issue's project; reading the issue is
    the caller's check, as for ``may_set_contacts``.
    """
    return await _authorize(
        ctx, issue.project_id, project_level, parsed.commands, only_commands(parsed)
    )


async def authorize_for_new_issue(
    ctx: RequestContext, project: Project, project_level: int, parsed: ParseResult
) -> QuickActionPlan:
    """As ``authorize_quick_actions``, for the description of an issue not created yet.

    ``/remove_contacts`` is dropped: a new issue has nothing to remove (spec §7).
    """
    commands = [c for c in parsed.commands if c.name != REMOVE]
    return await _authorize(ctx, project.id, project_level, commands, False)


async def _authorize(
    ctx: RequestContext,
    project_id: int,
    project_level: int,
    commands: list[Command],
    commands_only: bool,
) -> QuickActionPlan:
    # Commands without a readable email only produce their parse error: no check needed.
    if not any(c.args for c in commands):
        return QuickActionPlan(commands, commands_only)
    try:
        crm = await crm_group_for_project(ctx, project_id)
    except FeatureDisabled:
        return QuickActionPlan(commands, commands_only, refusal=CRM_DISABLED)
    if not await may_set_contacts(ctx, crm, project_level):
        return QuickActionPlan(commands, commands_only, refusal=INSUFFICIENT)
    return QuickActionPlan(commands, commands_only, crm=crm)


async def run_quick_actions(
    ctx: RequestContext, conn: AsyncConnection, issue: Issue, plan: QuickActionPlan
) -> QuickActionsOutcome:
    """Apply ``plan`` to ``issue`` on ``conn``, inside the caller's transaction.

    Writes only through ``apply_contact_change``; the caller commits, then calls
    ``announce_quick_actions``.
    """
    if not plan.commands:
        return QuickActionsOutcome(status=None)
    errors = [c.error for c in plan.commands if c.error is not None]
    change = None
    if plan.refusal is not None:
        errors.append(plan.refusal)
    elif plan.crm is not None:
        change = await _change_contacts(ctx, conn, issue, plan.crm, plan.commands, errors)
    messages = _messages(change)
    if not messages and not errors:
        messages = [NOTHING_TO_CHANGE]
    status = QuickActionsStatus(
        messages=messages,
        error_messages=errors,
        # As GitLab: one name per command line, in the order written.
        command_names=[c.name for c in plan.commands],
        commands_only=plan.commands_only,
    )
    return QuickActionsOutcome(status, change)


async def _change_contacts(
    ctx: RequestContext,
    conn: AsyncConnection,
    issue: Issue,
    crm: Group,
    commands: Sequence[Command],
    errors: list[str],
) -> ContactChangeResult | None:
    """Resolve the emails, append and remove; refusals go to ``errors`` in input order."""
    adds = [email for c in commands if c.name == ADD for email in c.args]
    removes = [email for c in commands if c.name == REMOVE for email in c.args]
    if len(adds) > MAX_CONTACTS_PER_CALL:
        errors.append(TOO_MANY)
        adds = []
    wanted = adds + removes
    found = await contacts_repo.contacts_by_emails(conn, crm.id, wanted) if wanted else {}
    add_ids = _ids(adds, found, errors, adding=True)
    remove_ids = _ids(removes, found, errors, adding=False)
    results: list[ContactChangeResult] = []
    for ids, mode in ((add_ids, OperationMode.APPEND), (remove_ids, OperationMode.REMOVE)):
        if ids:
            current = results[-1].issue if results else issue
            result = await apply_contact_change(ctx, conn, current, crm, ids, mode)
            # Only a race (a contact changed since it was looked up) gets here with errors.
            errors.extend(result.errors)
            results.append(result)
    if not results:
        return None
    return ContactChangeResult(
        issue=results[-1].issue,
        added=sum(r.added for r in results),
        removed=sum(r.removed for r in results),
    )


def _ids(
    emails: Iterable[str], found: dict[str, Contact], errors: list[str], *, adding: bool
) -> list[int]:
    ids: list[int] = []
    seen: set[str] = set()
    for email in emails:
        key = email.lower()
        if key in seen:
            continue
        seen.add(key)
        contact = found.get(key)
        if contact is None:
            errors.append(not_found(email))
        elif adding and not contact.active:
            errors.append(inactive(email))
        else:
            ids.append(contact.id)
    return ids


def _messages(change: ContactChangeResult | None) -> list[str]:
    if change is None:
        return []
    messages = []
    if change.added:
        messages.append(f"Added {_contacts(change.added)}.")
    if change.removed:
        messages.append(f"Removed {_contacts(change.removed)}.")
    return messages


def _contacts(count: int) -> str:
    return f"{count} contact" if count == 1 else f"{count} contacts"


def announce_quick_actions(ctx: RequestContext, outcome: QuickActionsOutcome) -> None:
    """After commit (never before): refresh loaders and tell subscribers, once per text."""
    if outcome.change is not None:
        announce_contact_change(ctx, outcome.change)
