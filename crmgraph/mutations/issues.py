"""Creating and updating issues; quick actions in the description (spec §7).

The payloads of createIssue and updateIssue have no ``quickActionsStatus`` (GitLab's
contract); GitLab drops what its commands could not do. crmgraph reports those error
messages in ``errors`` and still returns the issue, which was created or changed.
"""

from __future__ import annotations

from typing import Any

from crmgraph.authz.abilities import Ability
from crmgraph.authz.policy import can_update_issue
from crmgraph.context import RequestContext
from crmgraph.domain.errors import ResourceNotAvailable
from crmgraph.domain.issues import Issue, IssueState, description_errors, title_errors
from crmgraph.domain.quick_actions import ParseResult, parse_quick_actions
from crmgraph.mutations.lookups import project_with, readable_issue
from crmgraph.mutations.outcome import Outcome
from crmgraph.mutations.quick_actions import (
    QuickActionsOutcome,
    announce_quick_actions,
    authorize_for_new_issue,
    authorize_quick_actions,
    run_quick_actions,
)
from crmgraph.persistence import issues as issues_repo

CLOSE = "CLOSE"
REOPEN = "REOPEN"


async def create_issue(
    ctx: RequestContext,
    *,
    project_path: str,
    title: str,
    description: str | None,
    confidential: bool,
) -> Outcome[Issue]:
    ctx.require_writer()
    project, level = await project_with(ctx, project_path, Ability.CREATE_ISSUE)
    errors = title_errors(title) + description_errors(description)
    if errors:
        return Outcome.failed(errors)
    parsed = parse_quick_actions(description or "")
    plan = await authorize_for_new_issue(ctx, project, level, parsed)
    assert ctx.actor.user_id is not None
    async with ctx.db.transaction() as conn:
        issue = await issues_repo.create_issue(
            conn,
            project_id=project.id,
            title=title.strip(),
            description=_stored(description, parsed),
            confidential=confidential,
            author_id=ctx.actor.user_id,
            now=ctx.now(),
        )
        ran = await run_quick_actions(ctx, conn, issue, plan)
    return _finish(ctx, issue, ran)


async def update_issue(
    ctx: RequestContext, *, project_path: str, iid: str, changes: dict[str, Any]
) -> Outcome[Issue]:
    """Title, description, confidentiality, close/reopen; only the keys the client sent."""
    ctx.require_writer()
    issue, level = await readable_issue(ctx, project_path, iid)
    if not can_update_issue(ctx.actor, level, issue):
        raise ResourceNotAvailable()
    values: dict[str, Any] = {}
    errors: list[str] = []
    # No description sent: no commands (the stored description has none left).
    parsed = ParseResult(text="", commands=[])
    if "title" in changes:
        title = changes["title"] or ""
        errors += title_errors(title)
        values["title"] = title.strip()
    if "description" in changes:
        errors += description_errors(changes["description"])
        parsed = parse_quick_actions(changes["description"] or "")
        values["description"] = _stored(changes["description"], parsed)
    if changes.get("confidential") is not None:
        values["confidential"] = bool(changes["confidential"])
    event = changes.get("state_event")
    now = ctx.now()
    if event == CLOSE and issue.state is IssueState.OPENED:
        values.update(state=IssueState.CLOSED.value, closed_at=now)
    elif event == REOPEN and issue.state is IssueState.CLOSED:
        values.update(state=IssueState.OPENED.value, closed_at=None)
    if errors:
        return Outcome.failed(errors, issue)
    if not values:
        return Outcome(issue)
    plan = await authorize_quick_actions(ctx, issue, level, parsed)
    async with ctx.db.transaction() as conn:
        updated = await issues_repo.update_issue(conn, issue.id, values, now)
        ran = await run_quick_actions(ctx, conn, updated, plan)
    return _finish(ctx, updated, ran)


def _stored(description: str | None, parsed: ParseResult) -> str | None:
    """The description without its command lines; untouched when it has none."""
    return parsed.text if parsed.commands else description


def _finish(ctx: RequestContext, issue: Issue, ran: QuickActionsOutcome) -> Outcome[Issue]:
    """After commit: announce, prime the loader with the issue as it now stands."""
    announce_quick_actions(ctx, ran)
    final = ran.issue or issue
    ctx.loaders.prime(ctx.loaders.issues, final.id, final)
    if ran.errors:
        return Outcome.failed(ran.errors, final)
    return Outcome(final)
