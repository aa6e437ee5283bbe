"""Setting an issue's contacts (spec §6): the GraphQL mutation and quick actions share it.

The work is split so that a caller with its own transaction (the quick-action executor)
can reuse it:

1. ``crm_group_for_change`` and ``may_set_contacts``: checks made before any transaction;
2. ``apply_contact_change``: everything that reads current links and writes, on the
   caller's connection, inside the caller's transaction;
3. ``announce_contact_change``: what must happen only after that transaction committed.

``set_issue_contacts`` is those three steps in one transaction of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from crmgraph.authz.abilities import Ability, allowed
from crmgraph.context import RequestContext
from crmgraph.domain.contacts import Contact
from crmgraph.domain.crm import (
    INSUFFICIENT,
    TOO_MANY,
    OperationMode,
    contact_inactive,
    contact_not_found,
    plan_contact_change,
    system_note,
    too_many_to_add,
)
from crmgraph.domain.errors import FeatureDisabled, ResourceNotAvailable
from crmgraph.domain.groups import Group
from crmgraph.domain.issues import Issue
from crmgraph.events import ISSUE_CRM_CONTACTS_UPDATED
from crmgraph.mutations.lookups import readable_issue
from crmgraph.mutations.outcome import Outcome
from crmgraph.persistence import contacts as contacts_repo
from crmgraph.persistence import issue_contacts as links_repo
from crmgraph.persistence import issues as issues_repo


@dataclass(frozen=True, slots=True)
class ContactChangeResult:
    """What ``apply_contact_change`` did.

    ``issue`` is the issue as it stands in the transaction afterwards (updated when links
    changed). With ``errors`` nothing was written and ``added``/``removed`` are 0.
    """

    issue: Issue
    errors: list[str] = field(default_factory=list)
    added: int = 0
    removed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


async def crm_group_for_change(ctx: RequestContext, issue: Issue) -> Group:
    """The CRM group whose contacts ``issue`` may take.

    Raises FeatureDisabled when CRM is off for the project's group or for the CRM group:
    with either off the issue cannot use contacts at all (spec §2), which is not a
    permission question.
    """
    return await crm_group_for_project(ctx, issue.project_id)


async def crm_group_for_project(ctx: RequestContext, project_id: int) -> Group:
    """As ``crm_group_for_change``, for the issues of a project (also one not created yet)."""
    project = await ctx.loaders.project(project_id)
    if project is None:
        raise FeatureDisabled()
    # The chain starts at the project's group; ctx.crm_group reuses the cached chain.
    chain = await ctx.loaders.group_chain(project.group_id)
    if not chain or not chain[0].crm_enabled:
        raise FeatureDisabled()
    crm = await ctx.crm_group(project.group_id)
    if crm is None or not crm.crm_enabled:
        raise FeatureDisabled()
    return crm


async def may_set_contacts(ctx: RequestContext, crm: Group, project_level: int) -> bool:
    """``set_issue_crm_contacts``: Planner+ on the project and read_crm_contact in ``crm``.

    Reading the issue (confidentiality) is the caller's check; it comes first because an
    unreadable issue is a top-level error, not a payload message.
    """
    if not allowed(project_level, Ability.SET_ISSUE_CRM_CONTACTS):
        return False
    crm_level = await ctx.crm_level(crm)
    return allowed(crm_level, Ability.READ_CRM_CONTACT, crm_enabled=crm.crm_enabled)


async def apply_contact_change(
    ctx: RequestContext,
    conn: AsyncConnection,
    issue: Issue,
    crm: Group,
    contact_ids: Sequence[int],
    mode: OperationMode,
) -> ContactChangeResult:
    """Check and apply one change of links, on ``conn`` inside the caller's transaction.

    The caller has already checked permissions (``may_set_contacts``). Every check runs
    before the first write, so a result with errors has written nothing and the caller
    may still commit its other work. The caller runs ``announce_contact_change`` after
    its commit.
    """
    # The row lock (PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes writers)
    # makes concurrent calls on one issue take turns, so the links read next are the
    # ones this change applies to: no lost APPEND, no duplicate-key failure.
    locked = await issues_repo.lock_issue(conn, issue.id)
    if locked is None:
        raise ResourceNotAvailable()
    current = await links_repo.linked_contact_ids(conn, locked.id)
    if too_many_to_add(contact_ids, current, mode):
        return ContactChangeResult(locked, [TOO_MANY])
    change = plan_contact_change(current, contact_ids, mode)
    # Only additions are checked: removing an unknown, foreign or unlinked id is a no-op,
    # and a link to a contact that became inactive may still be removed (spec §6).
    found = await contacts_repo.contacts_by_ids(conn, change.to_add) if change.to_add else {}
    errors = addition_errors(change.to_add, found, crm.id)
    if errors:
        return ContactChangeResult(locked, errors)
    if not change.changed:
        # No note and no new updatedAt: GitLab stays silent on a no-op too.
        return ContactChangeResult(locked)
    now = ctx.now()
    await links_repo.unlink(conn, locked.id, change.to_remove)
    await links_repo.link(conn, locked.id, change.to_add, now)
    updated = await issues_repo.update_issue(conn, locked.id, {}, now)
    body = system_note(len(change.to_add), len(change.to_remove))
    assert body is not None and ctx.actor.user_id is not None
    await issues_repo.create_note(
        conn, issue_id=locked.id, author_id=ctx.actor.user_id, body=body, system=True, now=now
    )
    return ContactChangeResult(updated, [], len(change.to_add), len(change.to_remove))


def addition_errors(to_add: Sequence[int], found: Mapping[int, Contact], crm_id: int) -> list[str]:
    """One message per refused id, in input order.

    A contact of another CRM group gets the same message as a missing one, so that ids
    of groups the actor cannot read reveal nothing.
    """
    errors = []
    for contact_id in to_add:
        contact = found.get(contact_id)
        if contact is None or contact.group_id != crm_id:
            errors.append(contact_not_found(contact_id))
        elif not contact.active:
            errors.append(contact_inactive(contact_id))
    return errors


def announce_contact_change(ctx: RequestContext, result: ContactChangeResult) -> None:
    """After commit: refresh this request's loaders and tell subscribers.

    Never call it before the commit: a subscriber that reads at once would see old links,
    and a rolled-back change must not be announced.
    """
    ctx.loaders.prime(ctx.loaders.issues, result.issue.id, result.issue)
    if result.changed:
        # Pages are keyed by (issue, page shape); dropping them all is simpler than
        # finding every shape this request has asked for.
        ctx.loaders.issue_contacts.clear_all()
        ctx.events.publish(ISSUE_CRM_CONTACTS_UPDATED, result.issue.id)


async def set_issue_contacts(
    ctx: RequestContext,
    *,
    project_path: str,
    iid: str,
    contact_ids: list[int],
    mode: OperationMode,
) -> Outcome[Issue]:
    """``issueSetCrmContacts``: the whole call is one transaction; on error nothing changes."""
    ctx.require_writer()
    issue, project_level = await readable_issue(ctx, project_path, iid)
    crm = await crm_group_for_change(ctx, issue)
    if not await may_set_contacts(ctx, crm, project_level):
        return Outcome.failed([INSUFFICIENT], issue)

    async def change(conn: AsyncConnection) -> ContactChangeResult:
        return await apply_contact_change(ctx, conn, issue, crm, contact_ids, mode)

    # Run again whole on a conflict: the links are read afresh inside each attempt.
    result = await ctx.db.run_in_transaction(change)
    announce_contact_change(ctx, result)
    if result.errors:
        return Outcome.failed(result.errors, result.issue)
    return Outcome(result.issue)
